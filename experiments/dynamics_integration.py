"""Geometry of integration in text-classification RNNs (Aitken et al., ICLR 2021) at small scale.

Claim: an RNN trained to classify text accumulates evidence on a low-dimensional
attractor manifold whose dimension is set by the data: N unordered classes give an
(N - 1)-dimensional manifold (a 2-D triangle for N = 3), ordered (rating-like) classes
fewer, and the dimension can be predicted from word counts of the training data.

For N = 2..5, GRU and LSTM, unordered and ordered synthetic tasks
(:mod:`neurograph.datasets.evidence`), this script trains a small
``RecurrentClassifier`` and reports

- test accuracy;
- the dimension found: PCA of the final hidden states of test sequences, as the number of
  components before the largest drop in variance (``gap_components``; the 95%-variance
  count and the share of variance in the top expected components are given too);
- points of the zero-input dynamics (``find_fixed_points`` from 512 visited states plus
  N(0, 0.4^2) noise, outliers beyond 1.5x the spread dropped, merged within 0.02): the
  number of fixed points (q <= 1e-8) and the share stable, the number of slow points
  (q <= 1e-3) and the dimension (gap) of the set they form;
- the dimension expected (N - 1 unordered; 1 ordered: one running sum decides it) and the
  one predicted from word counts alone (``predict_dimension``);

then does the same on natural text with step 4's offline loaders when installed: Rotten
Tomatoes (binary; expect a line attractor) and three categories of Debian's ``fortunes``.
Figures (final states by class with the fixed points, in the first two PCs) go to --out.

    python experiments/dynamics_integration.py [--out DIR] [--n-train 3000] [--epochs 10] [--hidden 32]
    python experiments/dynamics_integration.py --quick      # smoke run

One CPU thread; about 5 minutes on the 2-core dev machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from neurograph.io.atomic import write_csv
from neurograph.datasets.evidence import make_evidence_task, predict_dimension
from neurograph.dynamics.fixed_points import attractor_dimension, find_fixed_points, sample_initial_states
from neurograph.models.recurrent import RecurrentClassifier
from neurograph.io.plots import save_figure
from neurograph.recording.states import record_states
from neurograph.zoo.training import accuracy, train_classifier

FIXED_Q = 1e-8           # q below this: a fixed point
SLOW_Q = 1e-3            # q below this: a slow point (on an approximate attractor manifold)
UNIQUE_TOL = 0.02
NOISE_SD = 0.4
OUTLIER = 1.5


def flat_states(model: RecurrentClassifier, tokens: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
    """Every valid flat state ([h, c] for the LSTM) of the sequences, initial states included: (m, D)."""
    layer = model.rnn
    with torch.no_grad():
        x = model.input_vectors(tokens)
        z = torch.zeros(len(tokens), layer.state_size)
        out = [z]
        for t in range(tokens.shape[1]):
            z = torch.where((lengths > t)[:, None], layer.step(x[:, t], z), z)
            out.append(z)
    seq = torch.stack(out, 1).numpy()
    mask = np.arange(seq.shape[1])[None, :] <= lengths.numpy()[:, None]
    return seq[mask]


def analyse(model, tokens, lengths, labels, n_classes, expected, name, out: Path, seed: int, n_fp: int) -> dict:
    trace = record_states(model, tokens, lengths, labels=labels)
    final = trace.final_states.astype(np.float64)
    dim_final = attractor_dimension(final)
    pool = flat_states(model, tokens, lengths)
    init = sample_initial_states(pool, n_fp, noise_sd=NOISE_SD, seed=seed)
    x0 = torch.zeros(model.rnn.input_size)
    found = find_fixed_points(model.rnn.step, x0, init, max_q=SLOW_Q, unique_tol=None, outlier_distance=OUTLIER,
                              max_iters=1500, seed=seed)
    fixed = found[found.q <= FIXED_Q].unique(UNIQUE_TOL)
    slow = found.unique(UNIQUE_TOL)
    row = {"dim_final": dim_final.gap_components, "n95_final": dim_final.n_components,
           "var_top": round(float(dim_final.explained_variance_ratio[:expected].sum()), 2),
           "n_fixed": len(fixed), "stable": round(float(fixed.is_stable.mean()), 2) if len(fixed) else float("nan"),
           "n_slow": len(slow), "dim_slow": attractor_dimension(slow).gap_components if len(slow) >= 3 else 0}
    fig = Figure(figsize=(5.0, 4.4), layout="constrained")
    ax = fig.add_subplot()
    pts = dim_final.project(final, 2)
    for c in range(n_classes):
        sel = trace.labels == c
        ax.scatter(pts[sel, 0], pts[sel, 1], s=4, alpha=0.5, label=f"class {c}")
    H = model.rnn.hidden_size
    if len(slow):
        sp = dim_final.project(slow.states[:, :H], 2)
        ax.scatter(sp[:, 0], sp[:, 1], s=10, c="0.4", marker=".", label=f"slow points ({len(slow)})")
    if len(fixed):
        fp2 = dim_final.project(fixed.states[:, :H], 2)
        st = fixed.is_stable
        ax.scatter(fp2[st, 0], fp2[st, 1], s=24, c="k", marker="o", label=f"stable fp ({int(st.sum())})")
        ax.scatter(fp2[~st, 0], fp2[~st, 1], s=24, c="r", marker="x", label=f"unstable fp ({int((~st).sum())})")
    ax.set_xlabel(f"PC1 ({100 * dim_final.explained_variance_ratio[0]:.0f}%)")
    ax.set_ylabel(f"PC2 ({100 * dim_final.explained_variance_ratio[1]:.0f}%)")
    ax.set_title(name, fontsize=9)
    ax.legend(fontsize=6, markerscale=2)
    save_figure(fig, out / f"{name}.png")
    return row


def train(model, tokens, y, epochs, seed):
    return train_classifier(model, tokens, y, epochs=epochs, lr=1e-2, batch_size=64, seed=seed)


def synthetic_rows(args, out: Path) -> list[dict]:
    rows = []
    for cell in args.cells:
        for ordered in (False, True):
            for n in args.classes:
                t0 = time.perf_counter()
                task = make_evidence_task(n, ordered=ordered, n_train=args.n_train, n_test=args.n_test,
                                          seed=args.seed)
                torch.manual_seed(args.seed)
                model = RecurrentClassifier(task.vocab_size, n, cell=cell, embedding_dim=16,
                                            hidden_size=args.hidden, padding_idx=0)
                train(model, task.tokens_train, task.y_train, args.epochs, args.seed)
                acc = accuracy(model, task.tokens_test, task.y_test)
                pred = predict_dimension(task.tokens_train, task.y_train, lengths=task.lengths_train)
                name = f"{cell}_{'ordered' if ordered else 'unordered'}_N{n}"
                row = {"data": "ordered" if ordered else "unordered", "cell": cell, "N": n, "acc": round(acc, 3),
                       "expected": 1 if ordered else n - 1, "predicted": pred.n_components}
                row.update(analyse(model, task.tokens_test, task.lengths_test, task.y_test, n, row["expected"], name,
                                   out, args.seed, args.n_fp))
                row["seconds"] = round(time.perf_counter() - t0, 1)
                rows.append(row)
                print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return rows


def text_rows(args, out: Path) -> list[dict]:
    from neurograph.datasets.text import encode_text_task, load_fortunes, load_rotten_tomatoes

    rows = []
    sources = [("rotten_tomatoes", load_rotten_tomatoes, {}),
               ("fortunes3", load_fortunes, {"categories": ["computers", "definitions", "songs-poems"]})]
    for name, loader, kwargs in sources:
        try:
            data = loader(**kwargs)
        except FileNotFoundError as exc:
            print(f"note: {name} skipped: {exc}", flush=True)
            continue
        t0 = time.perf_counter()
        task = encode_text_task(data, test_fraction=0.2, max_len=40, min_count=2, max_vocab=5000, seed=args.seed)
        tr = slice(0, args.text_train)
        n = task.n_classes
        torch.manual_seed(args.seed)
        model = RecurrentClassifier(task.vocab_size, n, cell="gru", embedding_dim=32, hidden_size=args.hidden,
                                    padding_idx=0)
        keep = task.lengths_train[tr] > 0
        train(model, task.tokens_train[tr][keep], task.y_train[tr][keep], args.text_epochs, args.seed)
        te = task.lengths_test > 0
        acc = accuracy(model, task.tokens_test[te], task.y_test[te])
        pred = predict_dimension(task.tokens_train[tr], task.y_train[tr], lengths=task.lengths_train[tr],
                                 n_classes=n, vocab_size=task.vocab_size)
        row = {"data": name, "cell": "gru", "N": n, "acc": round(acc, 3), "expected": n - 1,
               "predicted": pred.n_components}
        row.update(analyse(model, task.tokens_test[te][: args.n_test], task.lengths_test[te][: args.n_test],
                           task.y_test[te][: args.n_test], n, n - 1, f"text_{name}", out, args.seed, args.n_fp))
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("experiments/results/dynamics_integration"))
    p.add_argument("--classes", type=int, nargs="+", default=[2, 3, 4, 5])
    p.add_argument("--cells", nargs="+", default=["gru", "lstm"])
    p.add_argument("--n-train", type=int, default=3000)
    p.add_argument("--n-test", type=int, default=500)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--n-fp", type=int, default=512, help="initial states of the fixed-point search")
    p.add_argument("--text-train", type=int, default=6000)
    p.add_argument("--text-epochs", type=int, default=4)
    p.add_argument("--no-text", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="smoke run: N = 3 only, GRU, small data")
    args = p.parse_args(argv)
    if args.quick:
        args.classes, args.cells, args.n_train, args.n_test, args.epochs = [3], ["gru"], 600, 200, 3
        args.n_fp, args.text_train, args.text_epochs, args.no_text = 64, 0, 0, True
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = synthetic_rows(args, args.out)
    if not args.no_text:
        rows += text_rows(args, args.out)
    table = pd.DataFrame(rows)
    write_csv(table, args.out / "integration.csv")
    print("\nAttractor dimension: found (PCA gap of final states; of slow points) vs expected and predicted "
          "from word counts")
    print(table.to_string(index=False))
    syn = table[table["data"].isin(["unordered", "ordered"])]
    if len(syn):
        print(f"\nfinal-state dimension == expected: {int((syn.dim_final == syn.expected).sum())}/{len(syn)}; "
              f"predicted == expected: {int((syn.predicted == syn.expected).sum())}/{len(syn)}; "
              f"slow-point dimension == expected: {int((syn.dim_slow == syn.expected).sum())}/{len(syn)}")
    print(f"total {time.perf_counter() - start:.0f} s; figures and integration.csv in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
