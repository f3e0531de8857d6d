"""The experiments' ``--quick`` variants run end to end (small data, seconds each): the scripts cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("script, extra", [
    ("dynamics_dimension.py", []),
    ("gating_off_ceiling.py", []),
    ("fsa_gate_power.py", ["--lstar", "0"]),
])
def test_quick_experiment_runs(script, extra, tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "experiments" / script), "--quick", "--out", str(tmp_path / "o"),
                          *extra], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "total" in out.stdout or "verdict" in out.stdout.lower() or len(out.stdout) > 200


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
