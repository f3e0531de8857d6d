"""Figure properties on small synthetic tables: axis limits, colour bars, notes, clipped markers, legends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurograph.io.palette import community_color_hex
from neurograph.io.plots import (
    plot_coactivation,
    plot_entropy,
    plot_ranking,
    plot_score_grid,
    plot_score_vs_accuracy,
    plot_training_curves,
)


def _zoo(n_runs=4, epochs=(1, 5, 10), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_runs):
        for e in epochs:
            rows.append({"task": "t", "run": f"r{r}", "epoch": e, "modularity": rng.random(),
                         "dead_fraction": 0.0, "test_accuracy": 0.5 + 0.1 * r + 0.01 * e})
    return pd.DataFrame(rows)


def _notes(ax):
    return [t.get_text() for t in ax.texts if t.get_gid() == "note"]


def test_accuracy_axis_is_a_fraction():
    table = _zoo()
    ax = plot_score_vs_accuracy(table, "modularity").axes[0]
    assert tuple(ax.get_ylim()) == pytest.approx((-0.02, 1.02))
    # a small table (where autoscaling used to run to -0.5..2.0) too
    small = pd.DataFrame({"m": [0.1, 0.4], "test_accuracy": [0.5, 0.6]})
    assert tuple(plot_score_vs_accuracy(small, "m").axes[0].get_ylim()) == pytest.approx((-0.02, 1.02))
    # a target that is not a fraction keeps its autoscaled axis
    other = table.assign(loss=table["test_accuracy"] * 10)
    assert plot_score_vs_accuracy(other, "modularity", "loss").axes[0].get_ylim()[1] > 2


def test_points_of_one_run_are_linked():
    table = _zoo(n_runs=3)
    ax = plot_score_vs_accuracy(table, "modularity").axes[0]
    links = [ln for ln in ax.lines if ln.get_gid() == "run-link"]
    assert len(links) == 3
    for ln, (_, run) in zip(links, table.groupby("run", sort=False)):
        run = run.sort_values("epoch")
        assert ln.get_linewidth() <= 0.6
        np.testing.assert_allclose(ln.get_xdata(), run["modularity"])
        np.testing.assert_allclose(ln.get_ydata(), run["test_accuracy"])
    # without a run column, nothing is linked
    ax = plot_score_vs_accuracy(table.drop(columns="run"), "modularity").axes[0]
    assert not [ln for ln in ax.lines if ln.get_gid() == "run-link"]


def test_constant_score_gets_a_note_not_a_line():
    fig = plot_score_grid(_zoo(), ["modularity", "dead_fraction"])
    live, dead = fig.axes
    assert _notes(dead) == ["constant: 0.00\n(12 models)"]
    assert not dead.collections and not dead.lines  # no scatter, no fit
    assert _notes(live) == [] and live.collections


def test_training_curves_have_a_colour_bar():
    fig = plot_training_curves(_zoo(), ("modularity", "test_accuracy"))
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylabel() == "final test_accuracy"
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert tuple(panels[1].get_ylim()) == pytest.approx((-0.02, 1.02))
    assert panels[0].get_ylim() != pytest.approx((-0.02, 1.02))  # modularity keeps its own scale


def test_ranking_clips_and_marks_impossible_predictions():
    p = pd.DataFrame({"true": [0.5, 0.7, 0.9, 0.95], "predicted": [0.55, 0.65, 1.3, -0.2]})
    ax = plot_ranking(p, spearman=0.8).axes[0]
    assert tuple(ax.get_ylim()) == pytest.approx((-0.02, 1.02))
    clipped = [c for c in ax.collections if c.get_gid() == "clipped"]
    assert len(clipped) == 2
    ys = sorted(float(y) for c in clipped for y in c.get_offsets()[:, 1])
    assert ys == [0.0, 1.0]
    assert all(c.get_label().startswith("clipped to [0, 1]") for c in clipped)
    assert "2 clipped" in ax.get_title()
    # nothing to clip: no markers; clip=False keeps the raw values
    ok = plot_ranking(p.assign(predicted=[0.5, 0.6, 0.7, 0.8])).axes[0]
    assert not [c for c in ok.collections if c.get_gid() == "clipped"]
    raw = plot_ranking(p, clip=False).axes[0]
    assert raw.get_ylim()[1] > 1.2


def test_entropy_groups_side_by_side_with_legend():
    t = pd.DataFrame({"layer": ["conv1"] * 6 + ["conv2"] * 4, "entropy": np.linspace(0, 1, 10)})
    ax = plot_entropy(t).axes[0]
    bars = {}
    for patch in ax.patches:
        bars.setdefault(patch.get_facecolor()[:3], []).append((patch.get_x(), patch.get_width()))
    assert len(bars) == 2
    first, second = bars.values()
    # in each bin the second layer's bar starts where the first one's ends: nothing hidden
    for (x1, w1), (x2, _) in zip(first, second):
        assert x2 == pytest.approx(x1 + w1)
    labels = [tx.get_text() for tx in ax.get_legend().get_texts()]
    assert labels[0].startswith("conv1") and labels[1].startswith("conv2")
    assert ax.patches[0].get_facecolor()[:3] == pytest.approx(
        tuple(int(community_color_hex(0)[i:i + 2], 16) / 255 for i in (1, 3, 5)))


def test_entropy_says_when_tasks_are_pooled_or_splits_them():
    t = pd.DataFrame({"accuracy band": ["low", "high"] * 4, "entropy": np.linspace(0, 1, 8),
                      "task": ["a"] * 4 + ["b"] * 4})
    fig = plot_entropy(t, by="accuracy band", title="by tercile")
    assert "pooled over 2 tasks" in fig.axes[0].get_title()
    fig = plot_entropy(t, by="accuracy band", title="by tercile", per="task")
    assert [ax.get_title() for ax in fig.axes] == ["task = a", "task = b"]
    assert "pooled" not in fig._suptitle.get_text()
    assert "pooled" not in plot_entropy(t[t.task == "a"], by="accuracy band").axes[0].get_title()


def test_coactivation_layer_strip_has_a_legend_and_no_title_clash():
    n = 6
    fig = plot_coactivation(np.eye(n), np.array([0, 0, 1, 1, 2, 2]), labels=pd.Series(["fc1"] * 3 + ["fc2"] * 3),
                            title="mlp")
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["fc1", "fc2"]
    strips = fig.axes[0].child_axes
    assert {s.get_label() for s in strips} == {"community", "layer"}
    assert all(s.get_title() == "" and s.get_xlabel() == s.get_label() for s in strips)
    assert fig.axes[0].get_title() == "mlp"
