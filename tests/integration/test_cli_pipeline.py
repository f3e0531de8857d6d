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
from neurograph.scoring.pipeline import analyze, write_analysis

ROOT = Path(__file__).resolve().parents[2]


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


TINY_ZOO = """
name = "cli zoo"
[score]
n_null = 2
[blobs]
n_samples = 120
n_features = 5
n_classes = 3
[[family]]
task = "blobs"
hidden = [[4], [8]]
label_noise = [0.0, 0.5]
epochs = 2
checkpoints = [1]
lr = 0.02
"""


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, capsys):
    (tmp_path / "zoo.toml").write_text(TINY_ZOO)
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--epochs", "4", "--n-null", "2", "--quiet",
                 "--zoo", str(tmp_path / "zoo.toml"), "--n-boot", "50"]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "report: " in printed and "spearman" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert summary["model"].tolist() == ["mlp", "cnn"]
    assert (summary["test_accuracy"] > 0.5).all()
    for name in ("mlp", "cnn"):
        for suffix in (".gexf", ".graphml", "_neurons.csv", "_layers.csv", "_stats.npz", "_coactivation.png",
                       "_entropy.png"):
            assert (out / f"{name}{suffix}").stat().st_size > 0
        assert nx.read_gexf(out / f"{name}.gexf").number_of_nodes() > 0
    assert len(pd.read_csv(out / "scores.csv")) == 8
    assert nx.read_gexf(out / "timeline.gexf").graph["mode"] == "dynamic"
    page = (out / "report.html").read_text()
    assert 'id="correlation"' in page and "Reference models" in page and "mlp_coactivation" in page
    assert (out / "correlations.csv").stat().st_size > 0


@pytest.mark.slow
def test_cli_zoo_correlate_report_and_score(tmp_path, capsys):
    cfg = tmp_path / "zoo.toml"
    cfg.write_text(TINY_ZOO)
    out = tmp_path / "zoo"
    assert main(["zoo", str(cfg), "--out", str(out), "--quiet", "--n-boot", "50"]) == 0
    printed = capsys.readouterr().out
    assert "report: " in printed and "modularity" in printed
    assert (out / "report.html").is_file() and len(pd.read_csv(out / "scores.csv")) == 8
    # correlate a CSV, with a covariate and grouped bootstrap
    assert main(["correlate", str(out / "scores.csv"), "--metrics", "modularity", "mean_entropy",
                 "--covariate", "n_params", "--groups", "run", "--n-boot", "50",
                 "--out", str(tmp_path / "c.csv")]) == 0
    c = pd.read_csv(tmp_path / "c.csv")
    assert set(c["metric"]) == {"modularity", "mean_entropy"} and len(c) == 6 and "partial_r" in c
    assert "partial spearman | n_params" in capsys.readouterr().out
    # the report command rewrites the page
    (out / "report.html").unlink()
    assert main(["report", str(out), "--n-boot", "20", "--title", "again"]) == 0
    assert "<title>again</title>" in (out / "report.html").read_text()
    # score the zoo's own checkpoints as if they were the user's
    row = pd.read_csv(out / "scores.csv").iloc[0]
    (tmp_path / "ufac_cli_test.py").write_text(
        "from neurograph.models import MLP\n"
        f"def build():\n    return MLP(5, hidden=({row['hidden']},), n_classes=3)\n")
    from neurograph.datasets import make_blobs_task
    data = make_blobs_task(n_samples=120, n_features=5, n_classes=3, seed=0)
    np.savez(tmp_path / "test.npz", X=data.X_test.numpy(), y=data.y_test.numpy())
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        assert main(["score", "--factory", "ufac_cli_test:build", "--checkpoint", str(out / row["checkpoint"]),
                     "--data", str(tmp_path / "test.npz"), "--layers", "layers.1", "--n-null", "2",
                     "--out", str(tmp_path / "mine" / "scores.csv")]) == 0
    finally:
        sys.path.remove(str(tmp_path))
    mine = pd.read_csv(tmp_path / "mine" / "scores.csv")
    assert mine.loc[0, "test_accuracy"] == pytest.approx(row["test_accuracy"])
    assert mine.loc[0, "modularity"] == pytest.approx(row["modularity"], nan_ok=True)


@pytest.mark.parametrize("argv, match", [
    (["zoo", "{tmp}/missing.toml", "--out", "{tmp}/o"], "missing.toml"),
    (["zoo", "{tmp}/bad.toml", "--out", "{tmp}/o"], "unknown key"),
    (["correlate", "{tmp}/missing.csv"], "missing.csv"),
    (["correlate", "{tmp}/t.csv", "--metrics", "nope"], "'nope'"),
    (["report", "{tmp}/nodir"], "nodir"),
    (["report", "{tmp}"], "scores.csv"),
    (["score", "--factory", "nocolon", "--checkpoint", "x.pt", "--data", "d.npz", "--layers", "l"],
     "package.module:function"),
    (["score", "--factory", "neurograph.models:MLP", "--kwargs", "[1", "--checkpoint", "x.pt", "--data", "d.npz",
      "--layers", "l"], "JSON"),
    (["score", "--factory", "neurograph.models:MLP", "--checkpoint", "{tmp}/none.npz", "--data", "{tmp}/none.npz",
      "--layers", "l"], "none.npz"),
])
def test_cli_errors_exit_2_with_one_line(tmp_path, capsys, argv, match):
    (tmp_path / "bad.toml").write_text("[[family]]\ncolour = 1\n")
    pd.DataFrame({"test_accuracy": [0.1, 0.2, 0.3], "m": [1, 2, 3]}).to_csv(tmp_path / "t.csv", index=False)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"neurograph {argv[0]}: error:") and match in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["demo", "graph", "score", "zoo", "correlate", "report"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"usage: neurograph {command}" in capsys.readouterr().out


SUBPACKAGES = ("recording", "graph", "scoring", "automata", "dynamics", "gating", "zoo", "io")


def test_public_names_are_exported_and_sorted():
    assert neurograph.__all__ == sorted(neurograph.__all__)
    for name in neurograph.__all__:
        assert getattr(neurograph, name) is not None
    for pkg in SUBPACKAGES + ("errors", "stats", "moments"):
        package = importlib.import_module(f"neurograph.{pkg}")
        assert package.__all__ == sorted(package.__all__), pkg
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{pkg}.{name}"
    # every module of a subpackage lists its public names, and the subpackage offers them
    import pkgutil
    for pkg in SUBPACKAGES:
        package = importlib.import_module(f"neurograph.{pkg}")
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"neurograph.{pkg}.{info.name}")
            for name in getattr(module, "__all__", []):
                assert name in package.__all__, f"neurograph.{pkg}.{info.name}.{name} is not offered by {pkg}"


def test_old_import_paths_warn_and_still_work():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from neurograph.fsa_extract import extract_fsa  # noqa: F401
        import neurograph.record
    assert any(issubclass(w.category, DeprecationWarning) and "neurograph.automata" in str(w.message)
               for w in caught)
    assert callable(neurograph.record) and neurograph.record.__name__ == "neurograph.record"
    assert neurograph.record.record is neurograph.recording.record


def test_import_and_help_load_no_heavy_module():
    import subprocess
    import sys

    code = ("import sys, neurograph; from neurograph import _main; "
            "print(sorted(m for m in ('torch', 'scipy', 'matplotlib', 'pandas', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    help_out = subprocess.run([sys.executable, "-m", "neurograph", "--help"], capture_output=True, text=True)
    assert help_out.returncode == 0 and "demo" in help_out.stdout


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", readme, flags=re.S)
    test_cmd = next(line for b in blocks for line in b.splitlines() if "pytest" in line)
    assert test_cmd.strip() in ci
    assert "neurograph demo" in blocks[0]
