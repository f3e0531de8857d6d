"""Structure against its own baseline: every score of a trained model beside its untrained twin's, on the same data.

The modularity z-score compares a co-activation graph with degree-preserving rewirings of itself;
an untrained network's graph is already far from those nulls (the input's own correlations and the
architecture make communities), so z alone does not say that training made structure. This script
scores trained models with ``score_model(..., baseline=...)`` and prints the trained and untrained
figures side by side:

* the two models of ``neurograph demo`` (MLP 64-128-64-10, ``positive`` rule; SmallCNN, ``zscore``
  z = 0.5), trained as the demo trains them (seed 0, 40 epochs), scored on the digits test split with
  the demo's 20 null graphs; the twin is ``baseline="untrained"`` (``reset_parameters`` under seed 0,
  which for these models is exactly the demo's own initial weights);
* the same trained MLP and its twin fed uniform noise (on the range of the digits inputs) instead of
  digits; and the demo's two models at seeds 1 and 2 (``neurograph demo --seed``), to show how much
  the figures move between seeds;
* a few models of the benchmark's full grids (``neurograph.zoo.grid.default_grid``), trained with the
  grid's own code (``train_cell``) and scored as the grid scores them (``zscore`` z = 0.5 on a fixed
  subset of the training data, the grid's 5 null graphs); the twin is the grid's own epoch-0
  checkpoint (``init.pt``), passed as ``baseline=<path>``.

Run: ``PYTHONPATH=. python experiments/untrained_baseline.py [--out DIR] [--quick] [--no-grid]``
(trained grid models are cached under ``DIR/untrained_baseline_models/``; DIR defaults to
``experiments/results``). Writes ``DIR/untrained_baseline.csv``. ``--quick``: a smoke test (the demo's
models for 3 epochs with 2 nulls, one cell of each quick grid; seconds).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from neurograph.datasets import load_digits
from neurograph.errors import NeurographWarning
from neurograph.io.atomic import atomic_path
from neurograph.models import MLP, SmallCNN
from neurograph.scoring.scores import score_model
from neurograph.zoo import grid as G
from neurograph.zoo.training import train_classifier

OUT = Path(__file__).parent / "results"
COLUMNS = ["model", "data", "n_null", "acc", "acc_untrained", "Q", "Q_untrained", "Q_delta", "z", "z_untrained",
           "z_delta", "H", "H_untrained", "H_delta", "seconds"]


def row(model: str, data: str, s, n_null: int, seconds: float) -> dict:
    v = s.values
    return {"model": model, "data": data, "n_null": n_null,
            "acc": v["test_accuracy"], "acc_untrained": v["test_accuracy_untrained"],
            "Q": v["modularity"], "Q_untrained": v["modularity_untrained"], "Q_delta": v["modularity_delta"],
            "z": v["modularity_z"], "z_untrained": v["modularity_z_untrained"], "z_delta": v["modularity_z_delta"],
            "H": v["mean_entropy"], "H_untrained": v["mean_entropy_untrained"], "H_delta": v["mean_entropy_delta"],
            "seconds": round(seconds, 1)}


def demo_rows(n_null: int = 20, epochs: int = 40, seed: int = 0, noise: bool = True) -> list[dict]:
    flat, image = load_digits(seed=seed), load_digits(seed=seed, image=True)
    specs = [("demo mlp", lambda: MLP(64, hidden=(128, 64), n_classes=10), flat, {"rule": "positive"}),
             ("demo cnn", lambda: SmallCNN(1, n_classes=10, channels=(16, 32), image_size=8), image,
              {"rule": "zscore", "z": 0.5, "spatial": "mean"})]
    rows = []
    for name, build, data, firing in specs:
        t0 = time.perf_counter()
        torch.manual_seed(seed)
        model = build()
        train_classifier(model, data.X_train, data.y_train, epochs=epochs, lr=3e-3, seed=seed)
        s = score_model(model, (data.X_test, data.y_test), model.activation_layers(), n_null=n_null, seed=seed,
                        baseline="untrained", **firing)
        label = name if seed == 0 else f"{name} (seed {seed})"
        rows.append(row(label, "digits test", s, n_null, time.perf_counter() - t0))
        print(_fmt(rows[-1]), flush=True)
        if name == "demo mlp" and noise:
            t0 = time.perf_counter()
            X = data.X_test
            gen = torch.Generator().manual_seed(seed)
            noise = torch.rand(X.shape, generator=gen) * (X.max() - X.min()) + X.min()
            s = score_model(model, (noise, data.y_test), model.activation_layers(), n_null=n_null, seed=seed,
                            baseline="untrained", **firing)
            rows.append(row(name, "uniform noise", s, n_null, time.perf_counter() - t0))
            print(_fmt(rows[-1]), flush=True)
    return rows


GRID_CELLS = {
    "digits": [{"width": 8, "depth": 1, "weight_decay": 0.01, "train_fraction": 0.25},
               {"width": 16, "depth": 2, "weight_decay": 0.0, "train_fraction": 1.0},
               {"width": 32, "depth": 3, "weight_decay": 0.0, "train_fraction": 1.0}],
    "tomita": [{"cell": "gru", "hidden": 8, "epochs": 2}, {"cell": "gru", "hidden": 16, "epochs": 15},
               {"cell": "rnn", "hidden": 16, "epochs": 15}, {"cell": "lstm", "hidden": 32, "epochs": 15}],
}


QUICK_CELLS = {"digits": [{"width": 8, "depth": 1, "weight_decay": 0.0}],
               "tomita": [{"cell": "rnn", "hidden": 8, "epochs": 2}]}


def grid_rows(root: Path, quick: bool = False) -> list[dict]:
    rows = []
    for task, wanted in (QUICK_CELLS if quick else GRID_CELLS).items():
        spec = G.default_grid(task, quick=quick)
        for cell in spec.cells():
            if cell.seed != 0 or dict(cell.hparams) not in wanted:
                continue
            t0 = time.perf_counter()
            G.train_cell((cell, str(root)))
            data = G._data(cell)
            model = G._load(cell, str(root), "final")
            init = root / task / cell.key / "init.pt"
            # the grid's scoring subset and reading (as neurograph.zoo.grid.score_cell)
            n = int(data["y_train"].shape[0])
            rows_ = G._train_rows(cell, n) if not spec.recurrent else np.arange(n)
            rows_ = np.sort(rows_[np.random.default_rng(0).permutation(rows_.shape[0])[:spec.score_samples]])
            train = (G._inputs(data, "train", rows_), data["y_train"][rows_])
            if spec.recurrent:
                layers, opts = ["rnn"], {"rule": "zscore", "z": 0.5, "time": "all"}
            else:
                layers, opts = model.activation_layers(), {"rule": "zscore", "z": 0.5, "spatial": "mean"}
            s = score_model(model, train, layers, n_null=spec.n_null, seed=0, batch_size=256, baseline=init, **opts)
            label = f"grid {type(model).__name__} " + " ".join(f"{k}={v}" for k, v in cell.hparams)
            rows.append(row(label, f"{task} train subset", s, spec.n_null, time.perf_counter() - t0))
            print(_fmt(rows[-1]), flush=True)
    return rows


def _fmt(r: dict) -> str:
    return " | ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=OUT, help="output folder (default: experiments/results)")
    p.add_argument("--quick", action="store_true", help="smoke test: 3 epochs, 2 nulls, one quick-grid cell per task")
    p.add_argument("--no-grid", action="store_true", help="only the demo's models")
    args = p.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", NeurographWarning)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.quick:
        rows = demo_rows(n_null=2, epochs=3)
    else:
        rows = demo_rows()
        for seed in (1, 2):  # the demo's models at other seeds (its --seed): how much the figures move
            rows += demo_rows(seed=seed, noise=False)
    if not args.no_grid:
        rows += grid_rows(out / "untrained_baseline_models", quick=args.quick)
    table = pd.DataFrame(rows, columns=COLUMNS)
    with atomic_path(out / "untrained_baseline.csv", suffix=".csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\n{len(table)} rows in {time.perf_counter() - t0:.0f} s; wrote {out / 'untrained_baseline.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
