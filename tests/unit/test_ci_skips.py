"""In CI a skip of a test whose dependency .ci/run installs is a failure; elsewhere it stays a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

PROBE = '''
import pytest

def test_chromium_crashed():
    pytest.skip("headless Chromium test skipped: chromium could not run (crashed)")

def test_missing_extra():
    pytest.importorskip("weightwatcher_not_a_real_module_name", reason="optional package weightwatcher not installed")

@pytest.mark.skipif(True, reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_data():
    pass

def test_not_ours_to_install():
    pytest.skip("torch._int_mm not available")

def test_passes():
    assert True
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "-c", str(tmp_path / "pytest.ini"), str(tmp_path / "test_probe.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_ci_turns_dependency_skips_into_failures(tmp_path):
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_probe.py").write_text(PROBE)
    ci = _run(tmp_path, "true")
    assert ci.returncode == 1, ci.stdout[-3000:]
    # a skip in the call is a failed test, a skipif mark (set-up) an error: both fail the run
    assert "2 failed, 1 passed, 1 skipped, 1 error" in ci.stdout, ci.stdout[-3000:]
    assert "skipped in CI, where .ci/run installs what this test needs" in ci.stdout
    assert "torch._int_mm not available" in ci.stdout          # the other skip, with its reason (-rs)
    local = _run(tmp_path, None)
    assert local.returncode == 0, local.stdout[-3000:]
    assert "1 passed, 4 skipped" in local.stdout
    assert "chromium could not run" in local.stdout            # reasons are printed, not hidden
