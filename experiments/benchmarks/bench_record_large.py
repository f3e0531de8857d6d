"""record() with d = 16,384 recorded neurons over 100,000 samples: wall time and peak memory.

The model is an MLP 64-8192-64-8192-10 whose two 8192-wide ReLU layers are recorded (cheap to
run, so the count kernel dominates). Each side runs in a fresh subprocess on the same seeded
model and data; peak memory is getrusage's max RSS (it sees torch's allocations too):

* ``forward`` - the plain forward pass over the data, for scale;
* ``record``  - ``neurograph.recording.recorder(model, (X, y), layers, batch_size=...)``.

The memory budget printed is the O(d^2) term of record: 12 d^2 bytes (int32 partial sums,
then the int64 counts) plus the 64 MiB row buffer.

    python experiments/benchmarks/bench_record_large.py [--n 100000] [--width 8192] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _child import emit, load_note, rss_now_mb, rss_peak_mb, run_child  # noqa: E402


def child(variant: str, n: int, width: int, threads: int, batch_size: int) -> None:
    import numpy as np
    import torch
    from torch import nn

    from neurograph.recording.recorder import record

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 64), nn.ReLU(),
                          nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10)).eval()
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, 64, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    base = rss_now_mb()
    t0 = time.perf_counter()
    extra = {}
    if variant == "forward":
        with torch.no_grad():
            for i in range(0, n, batch_size):
                model(X[i:i + batch_size])
    else:
        stats = record(model, (X, y), ["1", "5"], batch_size=batch_size)
        extra = {"d": stats.n_neurons, "p": float(stats.fire_prob.mean()),
                 "symmetric": bool(np.array_equal(stats.cofire_counts, stats.cofire_counts.T)),
                 "classes_ok": bool(stats.class_fire_counts.sum(0).tolist() == stats.fire_counts.tolist())}
    emit({"seconds": time.perf_counter() - t0, "base_mb": base, "peak_mb": rss_peak_mb(), **extra})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--width", type=int, default=8192, help="two recorded layers of this width: d = 2 * width")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.n, args.width, args.threads, args.batch_size)
        return
    print(f"# {load_note()} at start; torch threads: {args.threads}")
    common = ["--n", str(args.n), "--width", str(args.width), "--threads", str(args.threads),
              "--batch-size", str(args.batch_size)]
    fwd = run_child(__file__, ["--child", "forward", *common])
    rec = run_child(__file__, ["--child", "record", *common])
    d = 2 * args.width
    budget = (12 * d * d + (64 << 20)) / 2**20
    print(f"{'variant':>8s} {'N':>7s} {'d':>6s} {'seconds':>8s} {'x forward':>9s} {'peak MiB':>9s} "
          f"{'extra MiB':>9s} {'budget MiB':>10s}")
    for name, r in (("forward", fwd), ("record", rec)):
        print(f"{name:>8s} {args.n:7d} {d:6d} {r['seconds']:8.1f} {r['seconds'] / fwd['seconds']:9.2f} "
              f"{r['peak_mb']:9.0f} {r['peak_mb'] - r['base_mb']:9.0f} {budget:10.0f}")
    print(f"# mean firing probability {rec['p']:.3f}; counts symmetric: {rec['symmetric']}; "
          f"class counts add up: {rec['classes_ok']}")
    print(f"# {load_note()} at end. extra MiB = peak RSS - RSS after building model and data; "
          f"budget = 12 d^2 bytes + 64 MiB buffer")


if __name__ == "__main__":
    main()
