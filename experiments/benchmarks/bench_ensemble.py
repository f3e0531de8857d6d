"""S seeds trained one after another vs as one batched RecurrentEnsemble: the speed-up, and that they agree.

For each cell, hidden size and S, in this one process and on the same data (``--task tomita5``: 448
strings of length 0-12, embedding 4, as ``fsa_gate_power.py``; ``--task evidence3``: 3000 sequences
of length 40 of the unordered 3-class evidence task, embedding 16, as ``dynamics_dimension.py``): S
separate ``train_classifier`` runs (seed k: initial weights ``torch.manual_seed(k)``, shuffling seed
k) against one ``train_classifier_ensemble`` of the same S networks. Prints the ratio of the two wall
times (> 1: the ensemble is faster; the best of ``--repeats``) and the largest weight difference
between member k and run k (float rounding), with the load average before and after (the machine is
shared): ratios, not absolute times, are the result.

    python experiments/benchmarks/bench_ensemble.py [--S 10,30] [--hidden 16,32] [--cells gru] [--epochs 5]
    python experiments/benchmarks/bench_ensemble.py --task evidence3 --hidden 32 --S 6,20 --epochs 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _child import load_note  # noqa: E402

from neurograph.datasets.evidence import make_evidence_task  # noqa: E402
from neurograph.datasets.tomita import make_tomita  # noqa: E402
from neurograph.models.recurrent import RecurrentClassifier  # noqa: E402
from neurograph.models.recurrent_ensemble import RecurrentEnsemble, train_classifier_ensemble  # noqa: E402
from neurograph.zoo.training import train_classifier  # noqa: E402


def ints(text):
    return [int(v) for v in text.split(",") if v]


def task(name):
    """(tokens, labels, config of the classifier, description) of a benchmark task."""
    if name == "tomita5":
        data = make_tomita(5, n_train=448, n_test=10, train_lengths=(0, 12), test_lengths=(13, 14), seed=0)
        config = {"vocab_size": 3, "n_classes": 2, "embedding_dim": 4, "padding_idx": 2}
        return data.tokens_train, data.y_train, config, "Tomita 5, 448 strings of length 0-12"
    if name == "evidence3":
        data = make_evidence_task(3, ordered=False, n_train=3000, n_test=10, seed=0)
        config = {"vocab_size": data.vocab_size, "n_classes": 3, "embedding_dim": 16, "padding_idx": 0}
        return data.tokens_train, data.y_train, config, "evidence (3 unordered classes), 3000 sequences of length 40"
    raise SystemExit(f"unknown task {name!r}")


def separate(s, cell, hidden, data, args):
    X, y, config, _ = data
    nets = []
    t0 = time.perf_counter()
    for k in range(s):
        torch.manual_seed(k)
        net = RecurrentClassifier(**config, cell=cell, hidden_size=hidden)
        train_classifier(net, X, y, epochs=args.epochs, lr=1e-2, batch_size=args.batch, seed=k)
        nets.append(net)
    return time.perf_counter() - t0, nets


def together(s, cell, hidden, data, args):
    X, y, config, _ = data
    t0 = time.perf_counter()
    ens = RecurrentEnsemble.from_seeds(range(s), **config, cell=cell, hidden_size=hidden)
    train_classifier_ensemble(ens, X, y, epochs=args.epochs, lr=1e-2, batch_size=args.batch, seeds=list(range(s)))
    return time.perf_counter() - t0, ens


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", default="tomita5", choices=["tomita5", "evidence3"])
    ap.add_argument("--S", default="10,30", help="ensemble sizes")
    ap.add_argument("--hidden", default="16,32")
    ap.add_argument("--cells", default="gru")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = task(args.task)
    print(f"# {load_note()}; torch threads {args.threads}; {data[3]}, batch {args.batch}, {args.epochs} epochs",
          flush=True)
    print(f"{'cell':>5s} {'hidden':>6s} {'S':>4s} {'separate/ensemble':>18s} {'max |w_k - w_k alone|':>22s}")
    for cell in args.cells.split(","):
        for hidden in ints(args.hidden):
            for s in ints(args.S):
                t_sep, t_ens = float("inf"), float("inf")
                for _ in range(args.repeats):
                    t, nets = separate(s, cell, hidden, data, args)
                    t_sep = min(t_sep, t)
                    t, ens = together(s, cell, hidden, data, args)
                    t_ens = min(t_ens, t)
                with torch.no_grad():
                    diff = max(float((a - b).abs().max()) for k, net in enumerate(nets)
                               for a, b in zip(ens.member(k).parameters(), net.parameters()))
                print(f"{cell:>5s} {hidden:6d} {s:4d} {t_sep / t_ens:18.1f} {diff:22.1e}", flush=True)
    print(f"# {load_note()} at end; separate/ensemble > 1: the ensemble is that many times faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
