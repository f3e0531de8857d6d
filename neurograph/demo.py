"""The ``neurograph demo`` pipeline on built-in data (scikit-learn's digits; nothing downloads).

Trains a small MLP and a small CNN, records their hidden layers on the test
split, builds co-activation graphs, finds communities, scores modularity against
a rewired null and neuron entropy, and writes every graph, table and figure.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .datasets import load_digits
from .models import MLP, SmallCNN
from ._io import write_csv
from .pipeline import analyze, write_analysis
from .record import record
from .train import accuracy, train_classifier

__all__ = ["DemoResult", "run_demo"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class DemoResult:
    """What :func:`run_demo` wrote: the summary table (one row per model) and every path."""

    summary: pd.DataFrame
    paths: dict
    seconds: float


def run_demo(out_dir: str | os.PathLike, *, seed: int = 0, n_null: int = 20, epochs: int = 40,
             progress: bool = False) -> DemoResult:
    """Run the whole pipeline on digits for an MLP and a CNN; write results into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder for the results (created if missing).
    seed : int
        Seeds the split, the initial weights, training order and community detection.
    n_null : int
        Rewired null graphs per model for the modularity z-score.
    epochs : int
        Training epochs per model.
    progress : bool
        Show progress bars.

    Returns
    -------
    DemoResult
        ``summary`` has one row per model: test accuracy, modularity, its null z-score,
        entropy and mutual information scores (see :meth:`Analysis.summary`).
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flat = load_digits(seed=seed)
    image = load_digits(seed=seed, image=True)
    # The CNN's channels are valued by their spatial mean; "positive" would call almost
    # every channel always-on (a mean of ReLU outputs is nearly always > 0), so the
    # CNN fires a channel when its mean is half a standard deviation above its own mean.
    specs = [
        ("mlp", lambda: MLP(64, hidden=(128, 64), n_classes=10), flat, {"rule": "positive"}),
        ("cnn", lambda: SmallCNN(1, n_classes=10, channels=(16, 32), image_size=8), image,
         {"rule": "zscore", "z": 0.5, "spatial": "mean"}),
    ]
    rows, paths = [], {}
    for name, build, data, rule in specs:
        torch.manual_seed(seed)
        model = build()
        log.info("training %s", name)
        train_classifier(model, data.X_train, data.y_train, epochs=epochs, lr=3e-3, seed=seed, progress=progress)
        acc = accuracy(model, data.X_test, data.y_test)
        stats = record(model, (data.X_test, data.y_test), model.activation_layers(), patterns=True,
                       progress=progress, **rule)
        result = analyze(stats, n_null=n_null, seed=seed)
        paths[name] = write_analysis(result, out, name=name, title=f"{name} on digits (test acc {acc:.3f})")
        rows.append({"model": name, "test_accuracy": acc, "layers": " ".join(stats.layers), "rule": stats.rule,
                     **result.summary()})
    summary = pd.DataFrame(rows)
    paths["summary"] = write_csv(summary, out / "summary.csv")
    return DemoResult(summary=summary, paths=paths, seconds=time.perf_counter() - t0)
