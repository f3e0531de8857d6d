"""analyze/write_analysis, the command line (in-process), and the public surface."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import neurograph
from neurograph._main import main
from neurograph.pipeline import analyze, write_analysis

ROOT = Path(__file__).resolve().parents[1]


def _stats(seed=0, n=300):
    """Two planted groups of neurons that fire together, plus a dead neuron."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base = np.where(y[:, None] == 1, 0.8, 0.1)
    group_a = rng.random((n, 5)) < base
    group_b = rng.random((n, 5)) < 0.9 - base
    dead = np.zeros((n, 1), bool)
    return neurograph.CoactivationStats.from_binary(np.hstack([group_a, group_b, dead]), y)


def test_analyze_finds_planted_groups_and_counts_dead():
    a = analyze(_stats(), n_null=5, seed=1)
    s = a.summary()
    assert s["n_neurons"] == 11 and s["n_nodes"] == 10 and s["dead_fraction"] == pytest.approx(1 / 11)
    comm = a.neurons["community"].to_numpy()
    assert comm[10] == -1 and not a.neurons["in_graph"][10]
    assert len(set(comm[:5])) == 1 and len(set(comm[5:10])) == 1 and comm[0] != comm[5]
    assert s["modularity"] > 0.3 and s["modularity_z"] > 3
    assert s["mean_mutual_info"] > 0.1


def test_write_analysis_files_open(tmp_path):
    a = analyze(_stats(), n_null=3)
    paths = write_analysis(a, tmp_path, name="m")
    g = nx.read_gexf(paths["gexf"])
    assert g.number_of_nodes() == 10 and g.number_of_edges() == a.graph.n_edges
    assert {d["community"] for _, d in g.nodes(data=True)} == set(range(a.partition.n_communities))
    assert nx.read_graphml(paths["graphml"]).number_of_nodes() == 10
    assert pd.read_csv(paths["neurons"]).shape[0] == 11
    assert neurograph.CoactivationStats.load(paths["stats"]) == a.stats
    for key in ("coactivation_png", "entropy_png"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_cli_graph_and_errors(tmp_path, capsys):
    path = _stats().save(tmp_path / "s.npz")
    assert main(["graph", str(path), "--out", str(tmp_path / "out"), "--n-null", "2"]) == 0
    summary = pd.read_csv(tmp_path / "out" / "s_summary.csv")
    assert summary.loc[0, "n_nodes"] == 10
    assert main(["graph", str(tmp_path / "nope.npz"), "--out", str(tmp_path / "o2")]) == 2
    assert "nope.npz" in capsys.readouterr().err
    (tmp_path / "bad.npz").write_text("garbage")
    assert main(["graph", str(tmp_path / "bad.npz"), "--out", str(tmp_path / "o3")]) == 2
    assert "bad.npz" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["graph", str(path), "--out", str(tmp_path), "--method", "magic"])


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "4", "--n-null", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary["model"].tolist() == ["mlp", "cnn"]
    assert (summary["test_accuracy"] > 0.5).all()
    for name in ("mlp", "cnn"):
        for suffix in (".gexf", ".graphml", "_neurons.csv", "_layers.csv", "_stats.npz", "_coactivation.png",
                       "_entropy.png"):
            assert (tmp_path / f"{name}{suffix}").stat().st_size > 0
        assert nx.read_gexf(tmp_path / f"{name}.gexf").number_of_nodes() > 0


def test_public_names_are_exported_and_sorted():
    assert neurograph.__all__ == sorted(neurograph.__all__)
    for name in neurograph.__all__:
        assert getattr(neurograph, name) is not None
    for mod in ("communities", "entropy", "errors", "export", "graph", "pipeline", "plots", "record", "stats"):
        module = importlib.import_module(f"neurograph.{mod}")
        assert module.__all__ == sorted(module.__all__), mod
        for name in module.__all__:
            assert name in neurograph.__all__ or name.isupper(), f"{mod}.{name} is not exported"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", readme, flags=re.S)
    test_cmd = next(line for b in blocks for line in b.splitlines() if "pytest" in line)
    assert test_cmd.strip() in ci
    assert "neurograph demo" in blocks[0]
