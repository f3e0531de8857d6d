"""Shared test settings and markers.

Tests are split by cost: ``tests/unit`` (one module or concept, small generated data, mirrors the
package layout) and ``tests/integration`` (end to end: the CLI and demo, the HTML report in a headless
browser, the README's code, several processes, model zoos). Markers:

* ``integration``: every test under ``tests/integration`` (added here); ``-m "not integration"`` runs
  the unit tests alone;
* ``slow``: slower tests, still run in CI;
* ``hf``: tests on Hugging Face ``transformers`` models built from configs (skip without the package).

Skips are reported with their reasons (``-rs`` in pyproject's addopts). Where ``CI`` is set, a skip
whose reason names something ``.ci/run`` installs (see :data:`CI_INSTALLS`) is a failure: in CI a
missing optional package, a failed ``apt-get`` or a Chromium that crashes must not pass as a skip.
"""

import os
import re
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

# Tests run torch on one thread: the models are tiny, and two intra-op threads per
# pytest-xdist worker on a 2-core machine oversubscribe it (small convs ran 10-100x slower).
torch.set_num_threads(1)


_INTEGRATION = Path(__file__).parent / "integration"

# What .ci/run installs, as the words a skip reason uses for it (keep in step with .ci/run).
CI_INSTALLS = ("transformers", "lxml", "ray", "weightwatcher", "aalpy", "scattertext", "chromium", "fortunes",
               "fashion-mnist", "fashion_mnist")
_CI_DEPENDENCY = re.compile(r"\b(" + "|".join(re.escape(w) for w in CI_INSTALLS) + r")\b", re.IGNORECASE)


def ci_dependency_skip(reason: str) -> bool:
    """Whether a skip ``reason`` names something ``.ci/run`` installs."""
    return bool(_CI_DEPENDENCY.search(reason))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:      # (path, line, "Skipped: reason")
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("CI")) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if ci_dependency_skip(reason):
        report.outcome = "failed"
        report.longrepr = (f"skipped in CI, where .ci/run installs what this test needs: {reason} "
                           "(install it, or fix what failed to run)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _INTEGRATION in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
