"""The ``neurograph demo`` pipeline on built-in data (scikit-learn's digits and a generated task).

Trains a small MLP and a small CNN, records their hidden layers on the test
split, builds co-activation graphs, finds communities, scores modularity against
a rewired null and neuron entropy, and writes every graph, table and figure.
Then it trains a small model zoo (:data:`DEMO_ZOO`: MLPs of several widths and
depths, with and without dropout and label noise, checkpointed along training, on
digits and on the generated blobs task), scores every checkpoint, correlates the
scores with test accuracy, writes the dynamic GEXF of one run along training and
the HTML report page.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .._validate import check_seed
from ..datasets import load_digits
from ..io.atomic import write_csv
from ..io.report import write_report
from ..models import MLP, SmallCNN
from ..recording.recorder import record
from ..scoring.pipeline import analyze, write_analysis
from ..scoring.twin import untrained_twin
from .config import FiringRule, ZooConfig, parse_zoo_config
from .runs import run_zoo
from .training import accuracy, train_classifier

__all__ = ["DEMO_ZOO", "DemoResult", "run_demo"]

#: The zoo ``neurograph demo`` trains (the parsed form of a TOML config, see :mod:`neurograph.zoo.config`):
#: 12 digits MLPs and 12 blobs MLPs, each saved after 1, 4 and all epochs (72 models).
DEMO_ZOO: dict = {
    "name": "demo zoo",
    "score": {"n_null": 10},
    "family": [
        {"task": "digits", "hidden": [[16], [64], [64, 32]], "dropout": [0.0, 0.5], "label_noise": [0.0, 0.4],
         "epochs": 15, "checkpoints": [1, 4]},
        {"task": "blobs", "hidden": [[8], [32], [32, 16]], "label_noise": [0.0, 0.4], "seeds": [0, 1],
         "epochs": 10, "checkpoints": [1, 3]},
    ],
}

log = logging.getLogger(__name__)

#: Scores of the reference models' untrained twins kept in ``summary.csv`` (as ``<score>_untrained``).
_TWIN_COLUMNS = ("modularity", "modularity_z", "mean_entropy", "mean_mutual_info")


@dataclass(frozen=True, eq=False)
class DemoResult:
    """What :func:`run_demo` wrote: the summary table (one row per model) and every path."""

    summary: pd.DataFrame
    paths: dict
    seconds: float
    zoo: pd.DataFrame | None = None
    correlations: pd.DataFrame | None = None
    rankings: pd.DataFrame | None = None
    report: Path | None = None


def run_demo(out_dir: str | os.PathLike, *, seed: int = 0, n_null: int = 20, epochs: int = 40,
             zoo: ZooConfig | None = None, n_boot: int = 1000, num_threads: int | None = 1,
             progress: bool = False) -> DemoResult:
    """Run the whole pipeline on digits for an MLP and a CNN, then a model zoo; write results into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder for the results (created if missing).
    seed : int
        Seeds the split, the initial weights, training order and community detection.
    n_null : int
        Rewired null graphs per model for the modularity z-score.
    epochs : int
        Training epochs of the MLP and CNN.
    zoo : ZooConfig, optional
        The zoo to train and correlate (default :data:`DEMO_ZOO`, about a minute on two
        cores); its files (``scores.csv``, ``checkpoints/``, ``timeline.gexf``, ...) go
        into ``out_dir`` too, and ``report.html`` covers all.
    n_boot : int
        Bootstrap resamples for the correlation intervals.
    num_threads : int or None
        torch intra-op threads during the demo (restored on exit; None keeps the current
        setting). One thread is the fastest for these small models.
    progress : bool
        Show progress bars.

    Returns
    -------
    DemoResult
        ``summary`` has one row per reference model: test accuracy, modularity, its null
        z-score, entropy and mutual information scores (see :meth:`Analysis.summary`), and
        the same for the model's untrained twin on the same data (``test_accuracy_untrained``,
        ``modularity_untrained``, ``modularity_z_untrained``, ``mean_entropy_untrained``,
        ``mean_mutual_info_untrained``; the twin's full row is in ``NAME_untrained.csv``);
        ``zoo`` one row per zoo checkpoint; ``correlations`` and ``rankings`` as in
        :func:`neurograph.io.write_report`; ``report`` the page's path.
    """
    check_seed("seed", seed)  # before anything is written: torch.manual_seed takes at most 2**64 - 1
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    try:
        return _run_demo(Path(out_dir), seed=seed, n_null=n_null, epochs=epochs, zoo=zoo, n_boot=n_boot,
                         progress=progress)
    finally:
        torch.set_num_threads(threads)


def _run_demo(out: Path, *, seed: int, n_null: int, epochs: int, zoo: ZooConfig | None, n_boot: int,
              progress: bool) -> DemoResult:
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    flat = load_digits(seed=seed)
    image = load_digits(seed=seed, image=True)
    # The CNN's channels are valued by their spatial mean; "positive" would call almost
    # every channel always-on (a mean of ReLU outputs is nearly always > 0), so the
    # CNN fires a channel when its mean is half a standard deviation above its own mean.
    specs = [
        ("mlp", lambda: MLP(64, hidden=(128, 64), n_classes=10), flat, FiringRule("positive")),
        ("cnn", lambda: SmallCNN(1, n_classes=10, channels=(16, 32), image_size=8), image,
         FiringRule("zscore", z=0.5, spatial="mean")),
    ]
    rows, paths = [], {}
    for name, build, data, firing in specs:
        torch.manual_seed(seed)
        model = build()
        log.info("training %s", name)
        train_classifier(model, data.X_train, data.y_train, epochs=epochs, lr=3e-3, seed=seed, progress=progress)
        acc = accuracy(model, data.X_test, data.y_test)
        reading = dict(patterns=True, progress=progress, rule=firing.rule, z=firing.z, threshold=firing.threshold,
                       spatial=firing.spatial)
        stats = record(model, (data.X_test, data.y_test), model.activation_layers(), **reading)
        # the untrained twin (reset_parameters under the seed: the model's own initial weights) on the same data
        twin = untrained_twin(model, seed=seed)
        twin_stats = record(twin, (data.X_test, data.y_test), twin.activation_layers(), **reading)
        result = analyze(stats, n_null=n_null, seed=seed, baseline=twin_stats)
        paths[name] = write_analysis(result, out, name=name, title=f"{name} on digits (test acc {acc:.3f})")
        summary = result.summary()
        rows.append({"model": name, "test_accuracy": acc, "layers": " ".join(stats.layers), "rule": stats.rule,
                     **{k: v for k, v in summary.items() if not k.endswith(("_untrained", "_delta"))},
                     "test_accuracy_untrained": accuracy(twin, data.X_test, data.y_test),
                     **{f"{k}_untrained": summary[f"{k}_untrained"] for k in _TWIN_COLUMNS}})
    summary = pd.DataFrame(rows)
    paths["summary"] = write_csv(summary, out / "summary.csv")
    log.info("training the model zoo")
    zres = run_zoo(zoo if zoo is not None else parse_zoo_config(DEMO_ZOO, source="DEMO_ZOO"), out,
                   num_threads=None, progress=progress)
    paths["zoo"] = {k: v for k, v in zres.paths.items() if not isinstance(v, dict)}
    rep = write_report(out, n_boot=n_boot, seed=seed, title="neurograph demo: structure vs accuracy",
                       wall_time=time.perf_counter() - t0)
    paths["report"] = rep.path
    return DemoResult(summary=summary, paths=paths, seconds=time.perf_counter() - t0, zoo=zres.table,
                      correlations=rep.correlations, rankings=rep.rankings, report=rep.path)
