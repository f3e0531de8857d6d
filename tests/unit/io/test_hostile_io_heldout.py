"""Held-out hostile checks of the report, the writers and the names (beyond test_hostile_io.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from neurograph.errors import FileFormatError
from neurograph.io.report import write_report


def _run(tmp_path: Path, tasks=("t",) * 4) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    n = len(tasks)
    pd.DataFrame({"run": [f"r{i}" for i in range(n)], "task": list(tasks),
                  "test_accuracy": [0.1 + 0.8 * i / n for i in range(n)],
                  "modularity": [(0.3 * i) % 0.7 for i in range(n)]}).to_csv(run / "scores.csv", index=False)
    return run


# ---------------------------------------------------------------------- the report folder
def test_figures_folder_that_is_a_link_out_is_refused_before_any_write(tmp_path):
    run = _run(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (run / "figures").symlink_to(outside)
    with pytest.raises(FileFormatError, match=r"figures.*symbolic link"):
        write_report(run, n_boot=0)
    assert list(outside.iterdir()) == [] and sorted(p.name for p in run.iterdir()) == ["figures", "scores.csv"]


def test_figures_folder_linked_inside_the_run_is_refused_too(tmp_path):
    run = _run(tmp_path)
    (run / "sub").mkdir()
    (run / "figures").symlink_to("sub")
    with pytest.raises(FileFormatError, match="symbolic link"):
        write_report(run, n_boot=0)
    assert list((run / "sub").iterdir()) == []


@pytest.mark.parametrize("name", ["report.html", "correlations.csv", "ranking.csv"])
def test_a_linked_output_is_refused_before_figures_are_drawn(tmp_path, name):
    run = _run(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (run / name).symlink_to(victim)
    with pytest.raises(FileFormatError, match=rf"{name}.*symbolic link"):
        write_report(run, n_boot=0)
    assert victim.read_text() == "precious"
    assert sorted(p.name for p in run.iterdir()) == sorted(["scores.csv", name])  # no figures/ either


def test_tasks_whose_names_differ_only_in_unsafe_characters_get_their_own_figures(tmp_path):
    run = _run(tmp_path, tasks=["a/b"] * 3 + ["a_b"] * 3 + ["a?b"] * 3)
    res = write_report(run, n_boot=0)
    scatter = {k: v for k, v in res.figures.items() if k.startswith("scatter_")}
    assert set(scatter) == {"scatter_a/b", "scatter_a_b", "scatter_a?b"}
    assert len({Path(v) for v in scatter.values()}) == 3  # three files, none drawn over another
    assert len({Path(v).read_bytes() for v in scatter.values()}) == 3
    assert all(Path(v).parent == run / "figures" for v in res.figures.values())
