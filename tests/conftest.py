"""Shared test settings."""

import os

import matplotlib
import torch

matplotlib.use("Agg")

# Under pytest-xdist each worker gets one core's worth of torch threads, so two
# workers on a 2-core machine do not oversubscribe it (that made runs 10x slower).
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
