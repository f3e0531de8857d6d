"""record() against a plain forward pass on the demo's models (digits, MLP and CNN).

Both sides run in this process on the same data; the table prints the median of
``--repeats`` runs of each and their ratio (record time / forward time).

    python experiments/benchmarks/bench_record_demo.py [--repeats 7] [--copies 4]

``--copies`` stacks the digits test split that many times so each timing is long
enough to measure (the counts are still exact; only the data is repeated).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from neurograph import record
from neurograph.datasets import load_digits
from neurograph.models import MLP, SmallCNN
from neurograph.zoo.training import train_classifier


def _median_time(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=256)
    args = ap.parse_args()
    rows = []
    for name, build, image, kw in [
        ("mlp 64-128-64-10", lambda: MLP(64, hidden=(128, 64)), False, {"rule": "positive"}),
        ("cnn 16-32 ch", lambda: SmallCNN(1, channels=(16, 32)), True, {"rule": "zscore", "z": 0.5}),
    ]:
        data = load_digits(image=image)
        torch.manual_seed(0)
        model = build()
        train_classifier(model, data.X_train, data.y_train, epochs=5)
        X = torch.cat([data.X_test] * args.copies)
        y = torch.cat([data.y_test] * args.copies)
        model.eval()

        def forward():
            with torch.no_grad():
                for i in range(0, len(X), args.batch_size):
                    model(X[i:i + args.batch_size])

        def rec(patterns=False):
            record(model, (X, y), model.activation_layers(), batch_size=args.batch_size, patterns=patterns, **kw)

        t_fwd = _median_time(forward, args.repeats)
        t_rec = _median_time(rec, args.repeats)
        t_pat = _median_time(lambda: rec(True), args.repeats)
        d = record(model, (X[:8], y[:8]), model.activation_layers(), **kw).n_neurons
        rows.append((name, len(X), d, kw["rule"], t_fwd, t_rec, t_pat))
    print(f"{'model':18s} {'N':>6s} {'d':>4s} {'rule':>8s} {'forward ms':>10s} {'record ms':>10s} "
          f"{'ratio':>6s} {'+patterns ms':>12s} {'ratio':>6s}")
    for name, n, d, rule, f, r, p in rows:
        print(f"{name:18s} {n:6d} {d:4d} {rule:>8s} {f * 1e3:10.1f} {r * 1e3:10.1f} {r / f:6.2f} "
              f"{p * 1e3:12.1f} {p / f:6.2f}")
    print("ratio = record time / plain forward time, medians, same process and data."
          " zscore includes its calibration pass.")


if __name__ == "__main__":
    main()
