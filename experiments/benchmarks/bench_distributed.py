"""Distributed recording: 2 gloo processes vs 1 process on the same data, same results.

Both sides go through ``neurograph.distributed.spawn_local`` (fresh processes, gloo group on
127.0.0.1) and call ``record(..., distributed=True)`` on their shard (``X[rank::world]``); the
single process is a group of one. Times: ``record`` is the slowest rank's record + all-reduce
(measured inside the ranks), ``wall`` includes starting the processes.

    python experiments/benchmarks/bench_distributed.py [--n 40000] [--width 1024] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _child import load_note  # noqa: E402


def work(rank, world, n, width, batch_size):
    import time

    import torch

    from neurograph.models import MLP
    from neurograph.recording.recorder import record

    torch.manual_seed(0)
    model = MLP(128, hidden=(width, width)).eval()
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, 128, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    t = time.perf_counter()
    stats = record(model, (X[rank::world], y[rank::world]), model.activation_layers(), batch_size=batch_size,
                   patterns=True, distributed=True)
    return time.perf_counter() - t, stats


def main() -> None:
    from neurograph.recording.distributed import spawn_local

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40_000)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=512)
    args = ap.parse_args()
    print(f"# {load_note()} at start; torch threads per process: {args.threads}")
    res = {}
    for world in (1, 2):
        t = time.perf_counter()
        out = spawn_local(work, world, args=(args.n, args.width, args.batch_size), timeout=1800,
                          threads=args.threads)
        res[world] = (time.perf_counter() - t, max(o[0] for o in out), [o[1] for o in out])
    single = res[1][2][0]
    print(f"MLP 128-{args.width}-{args.width}-10, d = {2 * args.width}, N = {args.n}, patterns counted too")
    print(f"{'processes':>9s} {'record s':>9s} {'wall s':>7s} {'speed-up':>8s} equal to 1 process (every rank)")
    for world, (wall, rec, stats) in res.items():
        equal = all(s == single for s in stats)
        print(f"{world:9d} {rec:9.2f} {wall:7.2f} {res[1][1] / rec:8.2f} {equal}")
    print(f"# {load_note()} at end")


if __name__ == "__main__":
    main()
