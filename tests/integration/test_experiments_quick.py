"""The experiments' ``--quick`` variants run end to end (small data, seconds each): the scripts cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _table(path: Path, columns: set) -> pd.DataFrame:
    assert path.is_file(), f"{path.name} was not written"
    table = pd.read_csv(path)
    assert len(table) > 0 and columns <= set(table.columns), (path.name, sorted(table.columns))
    return table


def _check_dimension(out: Path, stdout: str) -> None:
    assert "Attractor dimension by measure" in stdout and "total" in stdout
    rows = _table(out / "dimension.csv", {"data", "N", "condition", "seed", "acc", "n95", "pr", "gap"})
    summ = _table(out / "dimension_summary.csv", {"data", "N", "condition", "seeds", "acc", "gap==N-1"})
    assert set(rows["N"]) == {3} and {"trained", "shuffled"} <= set(rows["condition"])
    assert rows["acc"].between(0, 1).all() and (rows["pr"] >= 1).all()
    assert len(summ) == rows.groupby(["data", "N", "condition"]).ngroups


def _check_off_ceiling(out: Path, stdout: str) -> None:
    assert "DLGN off the ceiling" in stdout and "total" in stdout
    summ = _table(out / "off_ceiling_summary.csv", {"task", "arch", "dnn", "dlgn", "dlgn/dnn", "gain_recovered"})
    assert summ[["dnn", "dlgn"]].stack().between(0, 1).all()
    ratio = summ["dlgn/dnn"]
    np.testing.assert_allclose(ratio, summ["dlgn"] / summ["dnn"], rtol=1e-6)


def _check_gate_power(out: Path, stdout: str) -> None:
    assert "== per cell, all languages" in stdout and "== verdict" in stdout
    rows = _table(out / "rows.csv", {"cell", "seed", "rnn_acc", "fsa_acc"})
    assert rows[["rnn_acc", "fsa_acc"]].stack().between(0, 1).all()
    assert set(rows["cell"]) == {"mgu", "lstm"} and rows["seed"].nunique() == 2


@pytest.mark.slow
@pytest.mark.parametrize("script, extra, check", [
    ("dynamics_dimension.py", [], _check_dimension),
    ("gating_off_ceiling.py", [], _check_off_ceiling),
    ("fsa_gate_power.py", ["--lstar", "0"], _check_gate_power),
])
def test_quick_experiment_runs(script, extra, check, tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "experiments" / script), "--quick", "--out", str(tmp_path / "o"),
                          *extra], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    check(tmp_path / "o", out.stdout)


@pytest.mark.slow
def test_set_controls_and_combined_rates(tmp_path):
    """The E study's negative control (untrained networks) and its rates table over several runs."""
    script = str(ROOT / "experiments" / "set_limit_cycle_ctrnn.py")
    run = lambda *a: subprocess.run([sys.executable, script, *a], capture_output=True, text=True, timeout=600,
                                    cwd=tmp_path)
    out = run("--untrained", "--members", "2", "--alphas", "0.5", "--out", str(tmp_path / "u"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "untrained control" in out.stdout and (tmp_path / "u" / "untrained_control.csv").is_file()
    for alpha in ("0.5", "1.0"):
        out = run("--quick", "--alphas", alpha, "--out", str(tmp_path / alpha))
        assert out.returncode == 0, out.stderr[-2000:]
    out = run("--combine", str(tmp_path / "0.5"), str(tmp_path / "1.0"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "a=0.5 gain=1 lr=0.003" in out.stdout and "a=1 gain=1 lr=0.003" in out.stdout and "all" in out.stdout
