"""Gate-count study: FSAs extracted from RNNs with 0, 1, 2, 3 gates (vanilla RNN, MGU, GRU, LSTM).

Claim under test (Hou & Zhou, arXiv 1810.10708): an FSA learned from an RNN's hidden states can
stand in for the RNN, and gates matter but fewer are better (MGU's FSAs best).

For each Tomita grammar (1-7) and the text tasks, for each cell and seed: train a small
RecurrentClassifier, record its hidden states on (up to --trace-n) training sequences, extract FSAs
with both clustering methods ("kmeans", "transition") for every k in --ks (readout acceptance), and
measure on the test split: FSA accuracy, fidelity to the RNN, minimised state count, equivalence with
the grammar's minimal DFA, FSA graph scores. Tables are printed and written with plots under --out.

    python experiments/fsa_gate_study.py                      # full run (several minutes on 2 cores)
    python experiments/fsa_gate_study.py --quick              # grammars 1, 2, 4, one seed, no Rotten Tomatoes
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from neurograph.io.atomic import write_csv
from neurograph.datasets.text import encode_text_task, load_rotten_tomatoes, make_sentiment_text
from neurograph.datasets.tomita import make_tomita
from neurograph.automata.extract import METHODS, extract_fsa
from neurograph.automata.structure import fsa_scores, state_words
from neurograph.models.recurrent import CELL_TYPES, RecurrentClassifier
from neurograph.io.plots import save_figure
from neurograph.recording.states import record_states
from neurograph.zoo.training import accuracy, train_classifier

CELLS = ("rnn", "mgu", "gru", "lstm")


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="experiments/results/fsa_gate_study")
    p.add_argument("--grammars", default="1,2,3,4,5,6,7")
    p.add_argument("--cells", default=",".join(CELLS))
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--ks", default="2,3,4,5,6,8,12,16")
    p.add_argument("--text-ks", default="2,4,8,16")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--n-train", type=int, default=1000)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--trace-n", type=int, default=600, help="training sequences whose states are clustered")
    p.add_argument("--rt", choices=["on", "off"], default="on", help="also run Rotten Tomatoes (1 seed)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.grammars, args.seeds, args.rt = "1,2,4", 1, "off"
    return args


def ints(text):
    return [int(x) for x in text.split(",") if x]


def extract_rows(model, trace, test_tokens, test_lengths, test_y, rnn_test_pred, ks, base, true_dfa=None,
                 symbol_names=None):
    rows = []
    for method in METHODS:
        for k in ks:
            t0 = time.perf_counter()
            fsa = extract_fsa(trace, k, method, seed=base["seed"], accept="readout", readout=model.readout,
                              symbol_names=symbol_names)
            secs = time.perf_counter() - t0
            small = fsa.minimize()
            scores = fsa_scores(fsa, seed=0)
            rows.append({**base, "method": method, "k": k, "fsa_acc": fsa.accuracy(test_tokens, test_y, test_lengths),
                         "fidelity": fsa.fidelity(test_tokens, rnn_test_pred, test_lengths),
                         "n_min": small.n_states, "true_n": None if true_dfa is None else true_dfa.n_states,
                         "equivalent": None if true_dfa is None else bool(small == true_dfa),
                         "extract_s": secs, "n_steps": int(trace.lengths.sum()),
                         "modularity": scores["fsa_modularity"],
                         "transition_entropy": scores["fsa_transition_entropy"],
                         "nondeterminism": scores["fsa_nondeterminism"]})
    return rows


def train_run(task, vocab_size, cell, seed, *, epochs, hidden, emb, lr, n_classes=2, pad):
    torch.manual_seed(seed)
    model = RecurrentClassifier(vocab_size, n_classes, cell=cell, embedding_dim=emb, hidden_size=hidden,
                                padding_idx=pad)
    t0 = time.perf_counter()
    train_classifier(model, task.tokens_train, task.y_train, epochs=epochs, lr=lr, batch_size=64, seed=seed)
    return model, time.perf_counter() - t0


def run_tomita(g, cell, seed, args):
    data = make_tomita(g, n_train=args.n_train, n_test=1000, seed=seed)
    model, secs = train_run(data, data.vocab_size, cell, seed, epochs=args.epochs, hidden=args.hidden, emb=4,
                            lr=1e-2, pad=data.pad)
    n = min(args.trace_n, data.tokens_train.shape[0])
    trace = record_states(model, data.tokens_train[:n], data.lengths_train[:n])
    test = record_states(model, data.tokens_test, data.lengths_test)
    base = {"task": f"tomita{g}", "cell": cell, "gates": CELL_TYPES[cell], "seed": seed,
            "rnn_acc": accuracy(model, data.tokens_test, data.y_test), "train_s": secs}
    return extract_rows(model, trace, data.tokens_test, data.lengths_test, data.y_test, test.predictions,
                        ints(args.ks), base, true_dfa=data.dfa)


def run_text(name, task, cell, seed, args, *, epochs, hidden, words_out):
    model, secs = train_run(task, task.vocab_size, cell, seed, epochs=epochs, hidden=hidden, emb=32, lr=3e-3,
                            pad=task.pad)
    n = min(1000, task.tokens_train.shape[0])
    trace = record_states(model, task.tokens_train[:n], task.lengths_train[:n])
    test = record_states(model, task.tokens_test, task.lengths_test)
    base = {"task": name, "cell": cell, "gates": CELL_TYPES[cell], "seed": seed,
            "rnn_acc": accuracy(model, task.tokens_test, task.y_test), "train_s": secs}
    rows = extract_rows(model, trace, task.tokens_test, task.lengths_test, task.y_test, test.predictions,
                        ints(args.text_ks), base, symbol_names=task.vocab.words)
    if seed == 0:
        k = 4 if name == "sentiment" else 8
        fsa = extract_fsa(trace, k, "kmeans", seed=0, accept="readout", readout=model.readout)
        words = state_words(fsa, trace, task.vocab, top=6)
        words.insert(0, "cell", cell)
        words.insert(0, "task", name)
        words_out.append(words)
    return rows


def k_min_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per run and method: smallest k whose FSA test accuracy reaches the RNN's, and what it gives."""
    out = []
    for key, g in rows.groupby(["task", "cell", "gates", "seed", "method"], sort=False):
        g = g.sort_values("k")
        hit = g[g["fsa_acc"] >= g["rnn_acc"] - 1e-12]
        eq = g[g["equivalent"] == True]  # noqa: E712 - object column with None
        first = hit.iloc[0] if len(hit) else None
        out.append(dict(zip(["task", "cell", "gates", "seed", "method"], key),
                        rnn_acc=g["rnn_acc"].iloc[0], best_fsa_acc=g["fsa_acc"].max(),
                        best_fidelity=g["fidelity"].max(), k_min=np.nan if first is None else first["k"],
                        fid_at_k_min=np.nan if first is None else first["fidelity"],
                        n_min_at_k_min=np.nan if first is None else first["n_min"],
                        true_n=g["true_n"].iloc[0], k_equiv=eq["k"].min() if len(eq) else np.nan))
    return pd.DataFrame(out)


def summary(per_run: pd.DataFrame) -> pd.DataFrame:
    """Per task, cell and method: means over seeds (k_min over runs that reach the RNN's accuracy)."""
    agg = per_run.groupby(["task", "cell", "gates", "method"], sort=False).agg(
        rnn_acc=("rnn_acc", "mean"), best_fsa_acc=("best_fsa_acc", "mean"), best_fid=("best_fidelity", "mean"),
        reached=("k_min", lambda s: f"{int(s.notna().sum())}/{len(s)}"), k_min=("k_min", "mean"),
        fid_k_min=("fid_at_k_min", "mean"), n_min=("n_min_at_k_min", "mean"), true_n=("true_n", "first"),
        equiv=("k_equiv", lambda s: f"{int(s.notna().sum())}/{len(s)}"), k_equiv=("k_equiv", "min"))
    return agg.reset_index()


def by_cell(per_run: pd.DataFrame) -> pd.DataFrame:
    """Over all Tomita runs: per cell and method, how often and how cheaply the FSA matches the RNN."""
    t = per_run[per_run["task"].str.startswith("tomita")]
    return t.groupby(["cell", "gates", "method"]).agg(
        runs=("k_min", "size"), rnn_acc=("rnn_acc", "mean"), best_fsa_acc=("best_fsa_acc", "mean"),
        reach_rnn=("k_min", lambda s: float(s.notna().mean())), k_min=("k_min", "mean"),
        n_min_minus_true=("n_min_at_k_min", lambda s: float(np.nanmean(s - t.loc[s.index, "true_n"]))
                          if s.notna().any() else np.nan),
        equivalent=("k_equiv", lambda s: float(s.notna().mean()))).reset_index().sort_values(["method", "gates"])


def plot_task(rows: pd.DataFrame, task: str, out: Path):
    import matplotlib.pyplot as plt

    g = rows[rows["task"] == task]
    fig, axes = plt.subplots(2, len(METHODS), figsize=(5 * len(METHODS), 7), sharex=True, sharey="row",
                             squeeze=False)
    colors = dict(zip(CELLS, plt.get_cmap("tab10").colors))
    for col, method in enumerate(METHODS):
        m = g[g["method"] == method]
        for cell, c in m.groupby("cell"):
            mean = c.groupby("k")[["fsa_acc", "fidelity"]].mean()
            axes[0, col].plot(mean.index, mean["fsa_acc"], "o-", color=colors.get(cell), label=cell)
            axes[0, col].axhline(c["rnn_acc"].mean(), color=colors.get(cell), ls=":", lw=1)
            axes[1, col].plot(mean.index, mean["fidelity"], "o-", color=colors.get(cell), label=cell)
        axes[0, col].set_title(f"{task}: {method}")
        axes[1, col].set_xlabel("k (clusters)")
    axes[0, 0].set_ylabel("FSA test accuracy (dotted: RNN)")
    axes[1, 0].set_ylabel("fidelity to the RNN")
    axes[0, 0].legend()
    for ax in axes.ravel():
        ax.set_xscale("log", base=2)
    fig.tight_layout()
    save_figure(fig, out / f"fsa_vs_k_{task}.png")
    plt.close(fig)


def main(argv=None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, words = [], []
    start = time.perf_counter()
    with threadpool_limits(1):
        for g in ints(args.grammars):
            for cell in args.cells.split(","):
                for seed in range(args.seeds):
                    rows += run_tomita(g, cell, seed, args)
            print(f"tomita {g} done ({time.perf_counter() - start:.0f} s)", flush=True)
        sent = encode_text_task(make_sentiment_text(3000, seed=0), max_len=16, min_count=1, seed=0)
        for cell in args.cells.split(","):
            for seed in range(args.seeds):
                rows += run_text("sentiment", sent, cell, seed, args, epochs=6, hidden=32, words_out=words)
        print(f"sentiment done ({time.perf_counter() - start:.0f} s)", flush=True)
        if args.rt == "on":
            try:
                rt = encode_text_task(load_rotten_tomatoes(), max_len=20, min_count=3, max_vocab=4000, seed=0)
            except FileNotFoundError as exc:
                print(f"Rotten Tomatoes skipped: {exc}")
            else:
                for cell in args.cells.split(","):
                    rows += run_text("rotten_tomatoes", rt, cell, 0, args, epochs=3, hidden=32, words_out=words)
                print(f"rotten tomatoes done ({time.perf_counter() - start:.0f} s)", flush=True)
    total = time.perf_counter() - start
    rows = pd.DataFrame(rows)
    per_run = k_min_table(rows)
    table = summary(per_run)
    cells = by_cell(per_run)
    write_csv(rows, out / "rows.csv")
    write_csv(per_run, out / "per_run.csv")
    write_csv(table, out / "summary.csv")
    write_csv(cells, out / "by_cell.csv")
    if words:
        write_csv(pd.concat(words), out / "state_words.csv")
    for task in rows["task"].unique():
        plot_task(rows, task, out)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    print("\n== per task, cell and method (means over seeds; k_min = smallest k with FSA acc >= RNN acc)")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("\n== Tomita 1-7, all seeds: per cell and method")
    print(cells.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if words:
        w = pd.concat(words)
        print("\n== words leading into each state (k-means FSA, seed 0; k=4 sentiment, k=8 Rotten Tomatoes)")
        for (task, cell, state), g in w.groupby(["task", "cell", "state"], sort=False):
            print(f"{task:16s} {cell:5s} state {state:2d} (output {g['output'].iloc[0]}): {', '.join(g['word'])}")
    big = rows.loc[rows["extract_s"].idxmax()]
    print(f"\nlargest extraction: {big['task']} {big['cell']} {big['method']} k={big['k']} on {big['n_steps']} "
          f"states: {big['extract_s']:.2f} s; whole study {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
