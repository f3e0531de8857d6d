"""The benchmark script's --quick path is a smoke test: it runs the whole protocol and prints no verdict."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from neurograph.scoring.benchmark import SMOKE

ROOT = Path(__file__).resolve().parents[2]
WORDS = (" beats ", " matches ", " loses to ")


def _script():
    spec = importlib.util.spec_from_file_location("generalization_benchmark",
                                                  ROOT / "experiments" / "generalization_benchmark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _fake_run_grid(spec, out, executor=None, **kw):
    """A model table with the spec's grid and seeds (no training): a planted measure and noise."""
    rng = np.random.default_rng(0)
    rows = [{"model": f"{spec.task}_" + "_".join(f"{h}{v}" for h, v in zip(spec.hparams, combo)) + f"_s{s}",
             "seed": s, **dict(zip(spec.hparams, combo))}
            for combo in itertools.product(*[v for _, v in spec.grid]) for s in spec.seeds]
    t = pd.DataFrame(rows)
    t["gap"] = rng.uniform(0, 0.2, len(t))
    t["test_acc"] = 0.9 - t["gap"]
    t["train_acc"] = t["test_acc"] + t["gap"]
    t["n_params"] = 100
    t["ng_planted"] = t["gap"] + rng.normal(0, 1e-3, len(t))
    t["bl_noise"] = rng.normal(size=len(t))
    return t


def test_quick_run_prints_the_smoke_line_and_no_verdict(tmp_path, monkeypatch, capsys):
    mod = _script()
    monkeypatch.setattr(mod, "run_grid", _fake_run_grid)
    monkeypatch.setattr(mod, "write_report", lambda *a, **k: type("R", (), {"path": tmp_path / "report.html"})())
    mod.main(["--quick", "--tasks", "digits", "--out", str(tmp_path), "--executor", "inprocess", "--n-boot", "10",
              "--n-chance", "30"])
    text = capsys.readouterr().out
    assert SMOKE in text and "discovery / confirmation" in text
    assert not any(w in text for w in WORDS), [line for line in text.splitlines() if any(w in line for w in WORDS)]
    summary = pd.read_csv(tmp_path / "generalization_summary.csv")
    assert summary["verdict"].tolist() == [f"digits: {SMOKE}"]
    confirm = pd.read_csv(tmp_path / "generalization_confirm.csv")
    assert set(confirm["role"]) == {"discovery", "held-out"} and set(confirm["seed"]) == {0, 1}


def test_full_run_prints_verdicts(tmp_path, monkeypatch, capsys):
    mod = _script()
    monkeypatch.setattr(mod, "run_grid", _fake_run_grid)
    monkeypatch.setattr(mod, "write_report", lambda *a, **k: type("R", (), {"path": tmp_path / "report.html"})())
    monkeypatch.setattr(mod, "default_grid", lambda task, quick: _small(task))
    mod.main(["--tasks", "digits", "--out", str(tmp_path), "--executor", "inprocess", "--n-boot", "10",
              "--n-chance", "100"])
    text = capsys.readouterr().out
    assert SMOKE not in text
    assert "- digits: neurograph beats the baselines on every held-out seed" in text


def _small(task):
    from neurograph.zoo.grid import GridSpec
    return GridSpec(task, (("width", (8, 16, 32)), ("depth", (1, 2, 3)), ("weight_decay", (0.0, 1e-4))),
                    seeds=(0, 1, 2))
