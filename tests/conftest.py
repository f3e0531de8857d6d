"""Shared test settings."""

import matplotlib
import torch

matplotlib.use("Agg")

# Tests run torch on one thread: the models are tiny, and two intra-op threads per
# pytest-xdist worker on a 2-core machine oversubscribe it (small convs ran 10-100x slower).
torch.set_num_threads(1)
