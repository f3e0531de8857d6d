"""Exact B^T B kernels on one buffer of rows: which is fastest, and when sparse wins.

All kernels run in this process on the same 0/1 matrix B (rows x d); times are the best of
``--repeats``; every result is checked against the int8 one.

    python experiments/benchmarks/bench_kernels.py [--rows 4096] [--d 4096] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from _child import load_note  # noqa: E402

from neurograph.recording import kernels as _kernels  # noqa: E402


def best(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--d", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--p", default="0.3,0.03,0.01,0.003,0.001")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {load_note()}; torch threads {args.threads}; B is {args.rows} x {args.d}")
    print(f"{'p':>6s} {'kernel':>24s} {'seconds':>8s} {'vs int8 full':>12s} exact")
    for p in [float(x) for x in args.p.split(",")]:
        g = torch.Generator().manual_seed(0)
        b = torch.rand(args.rows, args.d, generator=g) < p
        ref = _kernels.gram_counts(b, kernel="int8")

        def acc(kernel):
            a = _kernels.GramAccumulator(args.d, kernel=kernel, buffer_bytes=args.rows * args.d)
            a.add(b)
            return a.result()

        bn = b.numpy().astype(np.float32)
        bt = b.to(torch.float32)
        rows = [("int8 _int_mm, full", lambda: _kernels.gram_counts(b, kernel="int8")),
                ("int8, upper blocks", lambda: acc("int8")),
                ("sparse (scipy CSR)", lambda: acc("sparse")),
                ("auto (GramAccumulator)", lambda: acc("auto")),
                ("numpy float32 syrk", lambda: torch.from_numpy(np.rint(bn.T @ bn).astype(np.int64))),
                ("torch float32", lambda: (bt.T @ bt).round().to(torch.int64))]
        if p < 0.1:
            rows = [r for r in rows if r[0] not in ("numpy float32 syrk", "torch float32")]
        base = None
        for name, fn in rows:
            t = best(fn, args.repeats)
            base = base or t
            print(f"{p:6.3f} {name:>24s} {t:8.3f} {base / t:12.2f} {bool(torch.equal(fn(), ref))}")
    print(f"# {load_note()} at end; 'vs int8 full' > 1 means faster than one whole int8 product")


if __name__ == "__main__":
    main()
