"""Shared test settings and markers.

Tests are split by cost: ``tests/unit`` (one module or concept, small generated data, mirrors the
package layout) and ``tests/integration`` (end to end: the CLI and demo, the HTML report in a headless
browser, the README's code, several processes, model zoos). Markers:

* ``integration``: every test under ``tests/integration`` (added here); ``-m "not integration"`` runs
  the unit tests alone;
* ``slow``: slower tests, still run in CI;
* ``hf``: tests on Hugging Face ``transformers`` models built from configs (skip without the package).
"""

from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

# Tests run torch on one thread: the models are tiny, and two intra-op threads per
# pytest-xdist worker on a 2-core machine oversubscribe it (small convs ran 10-100x slower).
torch.set_num_threads(1)


_INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _INTEGRATION in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
