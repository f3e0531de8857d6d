"""Attractor dimension of text-classification RNNs with the paper's own measures, seeds and controls.

Aitken et al. (ICLR 2021) report that N unordered classes give an (N - 1)-dimensional attractor
manifold, measured by PCA (the number of components explaining 95% of the variance of the visited
states), with as many slow Jacobian modes at the fixed points, and that word-count statistics of the
data predict it. ``dynamics_integration.py`` found N - 1 with an after-the-fact elbow (gap) rule. This
script reports, for N = 2..5 and several seeds of a GRU on the unordered evidence task
(:mod:`neurograph.datasets.evidence`):

* all three dimension measures of the final hidden states: the 95%-variance count (the paper's),
  the participation ratio, and the gap (elbow) count;
* the number of slow modes (time constant >= 10 steps, ``FixedPoints.n_slow_modes``) at the stable
  fixed points of the zero-input dynamics, median over points;
* the word-count predictor (``predict_dimension``) with the true labels and with shuffled labels;

with two controls: the same network **untrained** (random weights), and one **trained on shuffled
labels** (no class structure to integrate). The prediction "N - 1" is supported only where trained
networks show it and the controls do not. A natural-text task (3 and 5 categories of Debian's
``fortunes``, installed offline) is run beside the synthetic one when present.

**Training.** For each task the 2S trained networks (S seeds on the true labels and S on shuffled
labels) are trained at once as one :class:`~neurograph.models.recurrent_ensemble.RecurrentEnsemble`
(:func:`~neurograph.models.recurrent_ensemble.train_classifier_ensemble`, per-member labels; on the
synthetic task each seed also has its own data draw), which equals ``train_classifier`` run on each
network alone (initial weights ``torch.manual_seed(seed)``, lr 1e-2, batch 64, shuffling seed
``seed``) to float rounding; the untrained networks are the ensemble's members before training. Each
member is then analysed as an ordinary ``RecurrentClassifier``, as before. ``seconds`` in the table is
the analysis time plus the ensemble's training time divided by 2S (trained and shuffled rows).

    python experiments/dynamics_dimension.py [--seeds 3] [--out DIR]     # 3 seeds: 197 s
    python experiments/dynamics_dimension.py --seeds 10 --no-text         # 10 seeds, synthetic only
    python experiments/dynamics_dimension.py --quick                      # N = 3, 1 seed: 7 s

Times on the shared 2-core machine, one thread, load average 6-8 from other jobs: the default run
(3 seeds, with the two fortunes tasks) took 197 s wall (training: 15 s per synthetic N for its 6
networks; the fixed-point analyses are now most of the time), against 1,299 s when every network was
trained alone. Its summary table equals the earlier one up to float rounding (a few shuffled-label and
text networks differ in the second decimal).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, os.path.dirname(__file__))
from dynamics_integration import NOISE_SD, OUTLIER, SLOW_Q, UNIQUE_TOL, flat_states  # noqa: E402

from neurograph.datasets.evidence import make_evidence_task, predict_dimension  # noqa: E402
from neurograph.dynamics.fixed_points import attractor_dimension, find_fixed_points, sample_initial_states  # noqa: E402
from neurograph.io.atomic import write_csv  # noqa: E402
from neurograph.models.recurrent_ensemble import (  # noqa: E402
    RecurrentEnsemble, stack_padded, train_classifier_ensemble)
from neurograph.recording.states import record_states  # noqa: E402
from neurograph.zoo.training import accuracy  # noqa: E402

FIXED_Q = 1e-8
SLOW_TAU = 10.0  # steps: a mode at least this slow counts as a slow mode


def measures(model, tokens, lengths, labels, seed: int, n_fp: int) -> dict:
    """Dimension of the final states (three measures) and slow modes at the stable fixed points."""
    trace = record_states(model, tokens, lengths, labels=labels)
    dim = attractor_dimension(trace.final_states.astype(np.float64))
    pool = flat_states(model, tokens, lengths)
    init = sample_initial_states(pool, n_fp, noise_sd=NOISE_SD, seed=seed)
    found = find_fixed_points(model.rnn.step, torch.zeros(model.rnn.input_size), init, max_q=SLOW_Q,
                              unique_tol=None, outlier_distance=OUTLIER, max_iters=1500, seed=seed)
    fixed = found[found.q <= FIXED_Q].unique(UNIQUE_TOL)
    stable = fixed[fixed.is_stable] if len(fixed) else fixed
    slow = stable.n_slow_modes(SLOW_TAU) if len(stable) else np.zeros(0)
    return {"n95": dim.n_components, "pr": round(dim.participation_ratio, 2), "gap": dim.gap_components,
            "n_stable_fp": len(stable), "slow_modes": float(np.median(slow)) if len(slow) else float("nan")}


def train_conditions(tokens_tr, y_tr, n, vocab, seeds, args):
    """The three networks of every seed: trained, trained on shuffled labels, untrained.

    The 2S trained networks (true and shuffled labels) are trained at once as one RecurrentEnsemble;
    member k equals ``torch.manual_seed(seed); RecurrentClassifier(...)`` trained alone by ``train``
    (``train_classifier``, lr 1e-2, batch 64, shuffling seed ``seed``) to float rounding. ``tokens_tr``
    (n_tr, T) is shared by the seeds or (S, n_tr, T) one draw each; ``y_tr`` (n_tr,) or (S, n_tr).
    Returns ``{condition: [model per seed]}``, ``{condition: (S, n_tr) labels fitted}`` and the
    ensemble's training seconds per trained network.
    """
    s = len(seeds)
    y_true = y_tr if y_tr.dim() == 2 else y_tr.expand(s, -1)
    y_shuf = torch.stack([y_true[k][torch.from_numpy(np.random.default_rng(seed).permutation(y_true.shape[1]))]
                          for k, seed in enumerate(seeds)])
    ens = RecurrentEnsemble.from_seeds(seeds + seeds, vocab, n, cell="gru", embedding_dim=16, hidden_size=args.hidden,
                                       padding_idx=0)
    untrained = ens.members()
    X = tokens_tr if tokens_tr.dim() == 2 else torch.cat([tokens_tr, tokens_tr])
    fit = train_classifier_ensemble(ens, X, torch.cat([y_true, y_shuf]), epochs=args.epochs, lr=1e-2, batch_size=64,
                                    seeds=seeds + seeds)
    members = ens.members()
    models = {"trained": members[:s], "shuffled": members[s:], "untrained": untrained}
    return models, {"trained": y_true, "shuffled": y_shuf, "untrained": y_true}, fit.seconds / (2 * s)


def analyse_one(model, tokens_tr, y_fit, len_tr, tokens_te, y_te, len_te, n, vocab, cond, seed, args) -> dict:
    row = {"condition": cond, "seed": seed, "acc": round(accuracy(model, tokens_te, y_te), 3)}
    row.update(measures(model, tokens_te, len_te, y_te, seed, args.n_fp))
    pred = predict_dimension(tokens_tr, y_fit, lengths=len_tr, n_classes=n, vocab_size=vocab)
    row["predicted"] = pred.n_components
    return row


def synthetic(args) -> list[dict]:
    rows = []
    seeds = list(range(args.seeds))
    for n in args.classes:
        tasks = [make_evidence_task(n, ordered=False, n_train=args.n_train, n_test=args.n_test, seed=seed)
                 for seed in seeds]
        t0 = time.perf_counter()
        models, fitted, train_s = train_conditions(stack_padded([t.tokens_train for t in tasks], pad=0),
                                                   torch.stack([t.y_train for t in tasks]), n, tasks[0].vocab_size,
                                                   seeds, args)
        print(f"N = {n}: {len(seeds)} seeds x (trained, shuffled) as one ensemble in {time.perf_counter() - t0:.1f} s",
              flush=True)
        for k, (seed, task) in enumerate(zip(seeds, tasks)):
            for cond in ("trained", "shuffled", "untrained"):
                t0 = time.perf_counter()
                row = {"data": "evidence", "N": n, "expected": n - 1}
                row.update(analyse_one(models[cond][k], task.tokens_train, fitted[cond][k], task.lengths_train,
                                       task.tokens_test, task.y_test, task.lengths_test, n, task.vocab_size, cond,
                                       seed, args))
                row["seconds"] = round(time.perf_counter() - t0 + (train_s if cond != "untrained" else 0.0), 1)
                rows.append(row)
                print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return rows


def fortunes(args) -> list[dict]:
    from neurograph.datasets.text import encode_text_task, load_fortunes

    rows = []
    seeds = list(range(args.text_seeds))
    for cats in (["computers", "definitions", "songs-poems"],
                 ["computers", "definitions", "songs-poems", "linux", "science"]):
        try:
            data = load_fortunes(categories=cats)
        except (FileNotFoundError, ValueError) as exc:
            print(f"note: fortunes ({len(cats)} categories) skipped: {exc}", flush=True)
            continue
        task = encode_text_task(data, test_fraction=0.2, max_len=40, min_count=2, max_vocab=5000, seed=0)
        keep = task.lengths_train > 0
        te = task.lengths_test > 0
        tok_tr, y_tr, len_tr = task.tokens_train[keep], task.y_train[keep], task.lengths_train[keep]
        tok_te, y_te, len_te = (task.tokens_test[te][: args.n_test], task.y_test[te][: args.n_test],
                                task.lengths_test[te][: args.n_test])
        t0 = time.perf_counter()
        models, fitted, train_s = train_conditions(tok_tr, y_tr, task.n_classes, task.vocab_size, seeds, args)
        print(f"fortunes{len(cats)}: {len(seeds)} seeds x (trained, shuffled) as one ensemble in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        for k, seed in enumerate(seeds):
            for cond in ("trained", "shuffled", "untrained"):
                t0 = time.perf_counter()
                row = {"data": f"fortunes{len(cats)}", "N": task.n_classes, "expected": task.n_classes - 1}
                row.update(analyse_one(models[cond][k], tok_tr, fitted[cond][k], len_tr, tok_te, y_te, len_te,
                                       task.n_classes, task.vocab_size, cond, seed, args))
                row["seconds"] = round(time.perf_counter() - t0 + (train_s if cond != "untrained" else 0.0), 1)
                rows.append(row)
                print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return rows


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per data set, N and condition: how often each measure equals N - 1, and its mean."""
    g = table.groupby(["data", "N", "condition"], sort=False)
    out = g.agg(seeds=("seed", "size"), acc=("acc", "mean"), n95=("n95", "mean"), pr=("pr", "mean"),
                gap=("gap", "mean"), slow_modes=("slow_modes", "mean"), predicted=("predicted", "mean")).reset_index()
    for m in ("n95", "gap", "slow_modes", "predicted"):
        out[f"{m}==N-1"] = g.apply(lambda d, m=m: int((d[m] == d["expected"]).sum()), include_groups=False).values
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("experiments/results/dynamics_dimension"))
    p.add_argument("--classes", type=int, nargs="+", default=[2, 3, 4, 5])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--text-seeds", type=int, default=2)
    p.add_argument("--n-train", type=int, default=3000)
    p.add_argument("--n-test", type=int, default=500)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--n-fp", type=int, default=256)
    p.add_argument("--no-text", action="store_true")
    p.add_argument("--quick", action="store_true", help="N = 3, one seed, small data, no text")
    args = p.parse_args(argv)
    if args.quick:
        args.classes, args.seeds, args.n_train, args.n_test, args.epochs, args.n_fp, args.no_text = \
            [3], 1, 600, 200, 3, 64, True
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = synthetic(args)
    if not args.no_text:
        rows += fortunes(args)
    table = pd.DataFrame(rows)
    write_csv(table, args.out / "dimension.csv")
    summ = summary(table)
    write_csv(summ, args.out / "dimension_summary.csv")
    pd.set_option("display.width", 200)
    print("\nAttractor dimension by measure (mean over seeds; '==N-1': seeds where the measure equals N - 1)")
    print(summ.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("\npaper (Aitken et al.): N unordered classes -> dimension N - 1 by the 95%-variance PCA count, with "
          "N - 1 slow modes; predicted from word counts")
    print(f"total {time.perf_counter() - start:.0f} s; dimension.csv and dimension_summary.csv in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
