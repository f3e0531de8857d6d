"""record() on an MLP with d = 4096 recorded neurons vs the bound and the usual hand-written ways.

Each variant runs in a fresh subprocess (so its peak memory, read with ``getrusage`` max RSS,
is its own and includes torch's allocations) on the same seeded model and data:

* ``bound``  – hand-written lower bound: plain forward pass, ``B = [h1 > 0, h2 > 0]`` as int8 and
  one exact int8 product per ``--bound-rows`` rows (default 4,000), ``acc32 += torch._int_mm(B.T, B)``
  (int64 at the end);
* ``record`` – ``neurograph.recording.recorder(model, (X, y), layers, batch_size=...)`` (also counts classes);
* ``naive``  – forward hooks and a float32 ``b.T @ b`` per batch, the way a user writes it;
* ``cache``  – hooks keep every activation, then numpy ``B.T @ B`` in float32 at the end.

All four give identical counts (checked: the ``same`` column). Ratios are times of the same run.

    python experiments/benchmarks/bench_record_scale.py [--n 20000] [--batch-sizes 1000] [--threads 1]

The line to read is ``record``'s ``bound/x``: the fraction of the bound's speed that record reaches
(target >= 0.8), measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _child import emit, load_note, rss_now_mb, rss_peak_mb, run_child  # noqa: E402

VARIANTS = ("bound", "record", "naive", "cache")


def child(variant: str, n: int, batch_size: int, threads: int, d_in: int, width: int, bound_rows: int) -> None:
    import numpy as np
    import torch

    from neurograph.models import MLP
    from neurograph.recording.recorder import record

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MLP(d_in, hidden=(width, width)).eval()
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, d_in, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    layers = model.activation_layers()
    mods = [model.layers[1], model.layers[4]]
    d = 2 * width
    with torch.no_grad():  # warm up kernels once, outside the timing
        model(X[:batch_size])
        torch._int_mm(torch.ones(64, 64, dtype=torch.int8), torch.ones(64, 64, dtype=torch.int8))
    base = rss_now_mb()
    t0 = time.perf_counter()
    if variant == "record":
        counts = record(model, (X, y), layers, batch_size=batch_size).cofire_counts
    elif variant == "bound":
        lin1, lin2, head = model.layers[0], model.layers[3], model.layers[6]
        acc = torch.zeros((d, d), dtype=torch.int32)
        pending: list = []
        with torch.no_grad():
            for i in range(0, n, batch_size):
                h1 = torch.relu(lin1(X[i:i + batch_size]))
                h2 = torch.relu(lin2(h1))
                head(h2)
                pending.append(torch.cat([h1 > 0, h2 > 0], dim=1).to(torch.int8))
                if sum(p.shape[0] for p in pending) >= bound_rows or i + batch_size >= n:
                    b = torch.cat(pending)
                    pending.clear()
                    acc += torch._int_mm(b.T.contiguous(), b)
        counts = acc.to(torch.int64).numpy()
    else:
        outs: list = []
        handles = [m.register_forward_hook(lambda mod, i, o: outs.append(o)) for m in mods]
        try:
            with torch.no_grad():
                if variant == "naive":
                    acc = torch.zeros((d, d), dtype=torch.float32)
                    for i in range(0, n, batch_size):
                        outs.clear()
                        model(X[i:i + batch_size])
                        b = torch.cat([o > 0 for o in outs], dim=1).float()
                        acc += b.T @ b
                    counts = acc.round().to(torch.int64).numpy()
                else:
                    for i in range(0, n, batch_size):
                        model(X[i:i + batch_size])
                    per_layer = [torch.cat(outs[k::2]).numpy() for k in range(2)]
                    b = (np.concatenate(per_layer, axis=1) > 0).astype(np.float32)
                    counts = np.rint(b.T @ b).astype(np.int64)
        finally:
            for h in handles:
                h.remove()
    seconds = time.perf_counter() - t0
    digest = hashlib.sha1(np.ascontiguousarray(counts, dtype=np.int64).tobytes()).hexdigest()[:12]
    p = float(np.diag(counts).mean() / n)
    emit({"seconds": seconds, "base_mb": base, "peak_mb": rss_peak_mb(), "digest": digest, "p": p})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--batch-sizes", default="1000")
    ap.add_argument("--bound-rows", type=int, default=4000, help="rows per int8 product in the bound")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--d-in", type=int, default=256)
    ap.add_argument("--width", type=int, default=2048, help="two hidden layers of this width: d = 2 * width")
    ap.add_argument("--repeats", type=int, default=1, help="runs per variant (fresh process each; best kept)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS))
    ap.add_argument("--child", nargs=2, metavar=("VARIANT", "BATCH"))
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.n, int(args.child[1]), args.threads, args.d_in, args.width, args.bound_rows)
        return
    print(f"# {load_note()} at start; torch threads per process: {args.threads}")
    print(f"# MLP {args.d_in}-{args.width}-{args.width}-10, d = {2 * args.width} recorded neurons, N = {args.n}")
    print(f"{'batch':>6s} {'variant':>8s} {'seconds':>8s} {'bound/x':>8s} {'x/record':>9s} {'peak MiB':>9s} "
          f"{'extra MiB':>9s} {'p fire':>7s} same")
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        res = {}
        variants = [v for v in VARIANTS if v in args.variants.split(",")]
        for v in variants:
            runs = [run_child(__file__, ["--child", v, str(bs), "--n", str(args.n), "--threads", str(args.threads),
                                         "--d-in", str(args.d_in), "--width", str(args.width),
                                         "--bound-rows", str(args.bound_rows)])
                    for _ in range(args.repeats)]
            res[v] = min(runs, key=lambda r: r["seconds"])
        ref = res["bound"]["digest"]
        for v in variants:
            r = res[v]
            print(f"{bs:6d} {v:>8s} {r['seconds']:8.2f} {res['bound']['seconds'] / r['seconds']:8.2f} "
                  f"{r['seconds'] / res['record']['seconds']:9.2f} {r['peak_mb']:9.0f} "
                  f"{r['peak_mb'] - r['base_mb']:9.0f} {r['p']:7.3f} {'yes' if r['digest'] == ref else 'NO'}")
    print(f"# {load_note()} at end")
    print("# bound/x: fraction of the bound's speed (>= 0.8 is the target for record); x/record: how many times "
          "slower than record; extra MiB: peak RSS minus RSS after building model and data")


if __name__ == "__main__":
    main()
