"""analyze/write_analysis, the command line (in-process), and the public surface."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

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
    # the untrained twin of each reference model, on the same data, beside it
    assert (summary["test_accuracy_untrained"] < summary["test_accuracy"]).all()
    assert summary[["modularity_untrained", "modularity_z_untrained", "mean_entropy_untrained"]].notna().all().all()
    for name in ("mlp", "cnn"):
        twin = pd.read_csv(out / f"{name}_untrained.csv").set_index("score")
        assert twin.loc["modularity_z", "untrained"] == pytest.approx(
            summary.set_index("model").loc[name, "modularity_z_untrained"])
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
    assert main(["score", "--factory", "ufac_cli_test:build", "--factory-path", str(tmp_path),
                 "--checkpoint", str(out / row["checkpoint"]), "--data", str(tmp_path / "test.npz"),
                 "--layers", "layers.1", "--n-null", "2", "--out", str(tmp_path / "mine" / "scores.csv")]) == 0
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
    (["record", "--factory", "nocolon", "{tmp}/t.csv", "--layers", "l", "--out", "{tmp}/o"], "package.module:function"),
    (["record", "--factory", "os:system", "{tmp}/t.csv", "--layers", "l", "--out", "{tmp}/o"], "refused"),
    (["record", "--factory", "neurograph.models:MLP", "{tmp}/none.npz", "--layers", "l", "--out", "{tmp}/o"],
     "DATA: "),
    (["record", "--factory", "neurograph.models:MLP", "--checkpoint", "{tmp}/none.pt", "{tmp}/t.csv", "--layers", "l",
      "--out", "{tmp}/o"], "--checkpoint: "),
    (["record", "--factory", "neurograph.models:MLP", "{tmp}/t.csv", "--out", "{tmp}/o"], "--layers"),
    (["record", "--factory", "neurograph.models:MLP", "{tmp}/t.csv", "--layers", "l"], "--out"),
    (["record", "--factory", "neurograph.models:MLP", "--layers", "l", "--out", "{tmp}/o"], "DATA: "),
    (["record", "--factory", "neurograph.models:MLP", "{tmp}/t.csv", "--layers", "l", "--out", "{tmp}/o",
      "--memory-limit", "12X"], "--memory-limit"),
    (["record", "--factory", "neurograph.models:MLP", "{tmp}/t.csv", "--layers", "l", "--out", "{tmp}/o",
      "--neuron-axis", "a=b"], "--neuron-axis"),
    (["record", "--factory", "neurograph.models:MLP", "{tmp}/t.csv", "--layers", "l", "--out", "{tmp}/t.csv"],
     "--out: "),
    (["correlate", "{tmp}/t.csv", "--out", "{tmp}/t.csv/x"], "--out"),
    (["report", "{tmp}/empty"], "scores.csv"),
    (["report", "{tmp}", "--out", "{tmp}/t.csv"], "--out"),
])
def test_cli_errors_exit_2_with_one_line(tmp_path, capsys, argv, match):
    (tmp_path / "bad.toml").write_text("[[family]]\ncolour = 1\n")
    (tmp_path / "empty").mkdir()
    pd.DataFrame({"test_accuracy": [0.1, 0.2, 0.3], "m": [1, 2, 3]}).to_csv(tmp_path / "t.csv", index=False)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"neurograph {argv[0]}: error:") and match in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["demo", "record", "graph", "score", "zoo", "correlate", "report"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"usage: neurograph {command}" in capsys.readouterr().out
    from neurograph._main import _parser
    sub = _parser().commands[command]
    assert sub.description
    for action in sub._actions:  # every flag and argument says what it is for
        assert action.help, f"{command} {action.option_strings or action.dest} has no help text"
    out = [a for a in sub._actions if a.dest == "out"]
    assert not out or out[0].metavar == "DIR"  # --out is a folder in every command


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"neurograph {neurograph.__version__}"


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
            if info.name.startswith("_"):  # private modules offer nothing themselves
                continue
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


TINY_FACTORY = """
from torch import nn


def build(hidden=12):
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 3))
"""


def _user_model(tmp_path):
    """A user's own model as files: a factory module, two state_dicts (trained, untrained) and a data file."""
    import torch

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "my_cli_models.py").write_text(TINY_FACTORY)
    import importlib.util

    spec = importlib.util.spec_from_file_location("my_cli_models_here", tmp_path / "code" / "my_cli_models.py")
    factory_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(factory_module)  # the same factory, not left in sys.modules
    g = torch.Generator().manual_seed(0)
    X = torch.randn(240, 4, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()
    torch.manual_seed(0)
    model = factory_module.build()
    torch.save(model.state_dict(), tmp_path / "untrained.pt")
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    torch.save(model.state_dict(), tmp_path / "trained.pt")
    np.savez(tmp_path / "test.npz", X=X.numpy(), y=y.numpy())
    torch.save(model, tmp_path / "whole_model.pt")  # a pickled model: refused, with the way out
    return ["--factory", "my_cli_models:build", "--factory-path", str(tmp_path / "code")]


def test_record_graph_report_a_users_checkpoint_end_to_end(tmp_path, capsys):
    factory = _user_model(tmp_path)
    data, out = str(tmp_path / "test.npz"), tmp_path / "out"
    # dry runs: the module list, then the plan; nothing written
    assert main(["record", *factory, "--checkpoint", str(tmp_path / "trained.pt"), data, "--dry-run"]) == 0
    assert "Linear" in capsys.readouterr().out
    assert main(["record", *factory, "--checkpoint", str(tmp_path / "trained.pt"), data, "--layers", "1", "3",
                 "--out", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "24 neurons" in printed and "GiB" in printed and "nothing written" in printed and not out.exists()
    # --device: a device this machine lacks, or no device at all, is one line naming --device; nothing written
    bad = ["nonsense"] + ([] if torch.cuda.is_available() else ["cuda"])
    for device in bad:
        assert main(["record", *factory, data, "--layers", "1", "--out", str(out), "--device", device]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("neurograph record: error: --device") and len(err.splitlines()) == 1
    assert not out.exists()
    # record both checkpoints, then graph them into the same folder
    for ckpt in ("trained", "untrained"):
        assert main(["record", *factory, "--checkpoint", str(tmp_path / f"{ckpt}.pt"), data, "--layers", "1", "3",
                     "--out", str(out), "--quiet", "--device", "cpu"]) == 0
        printed = capsys.readouterr().out
        assert f"{ckpt}: 240 samples, rule positive" in printed and "test accuracy" in printed
        assert str(out / f"{ckpt}_stats.npz") in printed and "always on" in printed
        stats = neurograph.CoactivationStats.load(out / f"{ckpt}_stats.npz")
        assert stats.n_neurons == 24 and stats.meta["source"]["checkpoint"].endswith(f"{ckpt}.pt")
        assert main(["graph", str(out / f"{ckpt}_stats.npz"), "--out", str(out), "--n-null", "2"]) == 0
        printed = capsys.readouterr().out
        assert "communities" in printed and str(out / f"{ckpt}.gexf") in printed
    assert not list(out.glob("*_stats_stats.npz"))  # no doubled suffix
    accuracy = {n: pd.read_csv(out / f"{n}_summary.csv").loc[0, "test_accuracy"] for n in ("trained", "untrained")}
    assert accuracy["trained"] > 0.8 > accuracy["untrained"]
    # the report of the graph folder: one model per graph
    assert main(["report", str(out), "--n-boot", "20"]) == 0
    printed = capsys.readouterr().out
    assert "2 model(s) (one per graph)" in printed and str(out / "report.html") in printed
    scores = pd.read_csv(out / "scores.csv")
    assert sorted(scores["run"]) == ["trained", "untrained"] and "summary_file" in scores
    assert "trained_coactivation" in (out / "report.html").read_text()
    # a graph added later is in the next report; --out writes elsewhere and leaves the folder as it was
    assert main(["record", *factory, "--checkpoint", str(tmp_path / "trained.pt"), "--layers", "3", data,
                 "--name", "late", "--out", str(out / "late_stats.npz"), "--quiet"]) == 0
    assert main(["graph", str(out / "late_stats.npz"), "--out", str(out), "--n-null", "0"]) == 0
    before = sorted(p.name for p in out.iterdir())
    assert main(["report", str(out), "--n-boot", "20", "--out", str(tmp_path / "page")]) == 0
    assert sorted(p.name for p in out.iterdir()) == before
    assert (tmp_path / "page" / "report.html").is_file()
    assert len(pd.read_csv(tmp_path / "page" / "scores.csv")) == 3
    capsys.readouterr()
    # a pickled whole model is refused, saying how to save it instead
    assert main(["record", *factory, "--checkpoint", str(tmp_path / "whole_model.pt"), data, "--layers", "1",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurograph record: error: --checkpoint") and "state_dict()" in err
    assert len(err.splitlines()) == 1


def test_score_and_correlate_write_into_folders(tmp_path, capsys):
    factory = _user_model(tmp_path)
    assert main(["score", *factory, "--checkpoint", str(tmp_path / "trained.pt"), str(tmp_path / "untrained.pt"),
                 "--data", str(tmp_path / "test.npz"), "--layers", "1", "3", "--n-null", "0", "--quiet",
                 "--out", str(tmp_path / "scored")]) == 0
    printed = capsys.readouterr().out
    assert "scored 2 checkpoint(s)" in printed and str(tmp_path / "scored" / "scores.csv") in printed
    scores = pd.read_csv(tmp_path / "scored" / "scores.csv")
    assert scores["checkpoint_index"].tolist() == [0, 1] and "epoch" not in scores
    assert scores["checkpoint"].str.endswith(".pt").all()
    assert "checkpoint_index" in pd.read_csv(tmp_path / "scored" / "neurons.csv")
    assert scores["run"].tolist() == ["model", "model"]          # default: stages of one run
    # --runs each: every checkpoint is its own run (named by its file), in scores and neurons alike
    assert main(["score", *factory, "--checkpoint", str(tmp_path / "trained.pt"), str(tmp_path / "untrained.pt"),
                 "--data", str(tmp_path / "test.npz"), "--layers", "1", "--n-null", "0", "--quiet", "--runs", "each",
                 "--out", str(tmp_path / "each")]) == 0
    assert pd.read_csv(tmp_path / "each" / "scores.csv")["run"].tolist() == ["trained", "untrained"]
    assert sorted(set(pd.read_csv(tmp_path / "each" / "neurons.csv")["run"])) == ["trained", "untrained"]
    # correlate: per task when the table has one (as the report), pooled on request; --out is a folder
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"task": ["a"] * 8 + ["b"] * 8, "test_accuracy": rng.random(16),
                          "modularity": rng.random(16)})
    table.to_csv(tmp_path / "t.csv", index=False)
    assert main(["correlate", str(tmp_path / "t.csv"), "--n-boot", "20", "--out", str(tmp_path / "c")]) == 0
    c = pd.read_csv(tmp_path / "c" / "correlations.csv")
    assert sorted(set(c["task"])) == ["a", "b"] and (c["n"] == 8).all()
    assert "per task (2)" in capsys.readouterr().out
    assert main(["correlate", str(tmp_path / "t.csv"), "--n-boot", "20", "--pool",
                 "--out", str(tmp_path / "pooled.csv")]) == 0
    pooled = pd.read_csv(tmp_path / "pooled.csv")
    assert "task" not in pooled and (pooled["n"] == 16).all()


def test_score_baseline_untrained_end_to_end(tmp_path, capsys):
    factory = _user_model(tmp_path)
    common = [*factory, "--checkpoint", str(tmp_path / "trained.pt"), "--data", str(tmp_path / "test.npz"),
              "--layers", "1", "3", "--n-null", "2", "--quiet"]
    assert main(["score", *common, "--baseline", "untrained", "--out", str(tmp_path / "fresh")]) == 0
    printed = capsys.readouterr().out
    assert "modularity_z_untrained" in printed
    fresh = pd.read_csv(tmp_path / "fresh" / "scores.csv")
    for col in ("modularity_untrained", "modularity_z_untrained", "modularity_z_delta", "mean_entropy_delta",
                "test_accuracy_untrained", "modularity_untrained@1"):
        assert col in fresh, col
    assert fresh.loc[0, "modularity_delta"] == pytest.approx(fresh.loc[0, "modularity"]
                                                             - fresh.loc[0, "modularity_untrained"])
    # the run's own epoch-0 checkpoint as the baseline: its untrained figures are that checkpoint's scores
    assert main(["score", *common, "--baseline", str(tmp_path / "untrained.pt"), "--out", str(tmp_path / "e0")]) == 0
    assert main(["score", *factory, "--checkpoint", str(tmp_path / "untrained.pt"), "--data",
                 str(tmp_path / "test.npz"), "--layers", "1", "3", "--n-null", "2", "--quiet",
                 "--out", str(tmp_path / "e0_alone")]) == 0
    e0 = pd.read_csv(tmp_path / "e0" / "scores.csv")
    alone = pd.read_csv(tmp_path / "e0_alone" / "scores.csv")
    assert e0.loc[0, "modularity_z_untrained"] == pytest.approx(alone.loc[0, "modularity_z"])
    # the report shows trained beside untrained
    assert main(["report", str(tmp_path / "fresh"), "--n-boot", "10"]) == 0
    page = (tmp_path / "fresh" / "report.html").read_text()
    assert 'id="untrained"' in page and "Against the untrained twin" in page
    # a missing baseline file: one line, exit 2, nothing written
    capsys.readouterr()
    assert main(["score", *common, "--baseline", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert "nope.pt" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "bad" / "scores.csv").exists()


def test_graph_baseline_statistics(tmp_path, capsys):
    factory = _user_model(tmp_path)
    data, out = str(tmp_path / "test.npz"), tmp_path / "out"
    for ckpt in ("trained", "untrained"):
        assert main(["record", *factory, "--checkpoint", str(tmp_path / f"{ckpt}.pt"), data, "--layers", "1", "3",
                     "--out", str(out), "--quiet"]) == 0
    assert main(["graph", str(out / "untrained_stats.npz"), "--out", str(out / "alone"), "--n-null", "2"]) == 0
    capsys.readouterr()
    assert main(["graph", str(out / "trained_stats.npz"), "--baseline", str(out / "untrained_stats.npz"),
                 "--out", str(out / "g"), "--n-null", "2"]) == 0
    assert "untrained: modularity" in capsys.readouterr().out
    row = pd.read_csv(out / "g" / "trained_summary.csv").iloc[0]
    alone = pd.read_csv(out / "alone" / "untrained_summary.csv").iloc[0]
    assert row["modularity_z_untrained"] == pytest.approx(alone["modularity_z"])
    assert row["modularity_delta"] == pytest.approx(row["modularity"] - alone["modularity"])
    assert (out / "g" / "trained_untrained.csv").is_file()
    assert main(["graph", str(out / "trained_stats.npz"), "--baseline", str(tmp_path / "none.npz"),
                 "--out", str(out / "bad")]) == 2
    err = capsys.readouterr().err
    assert "--baseline" in err and "none.npz" in err and not (out / "bad").exists()
