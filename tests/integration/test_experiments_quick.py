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
