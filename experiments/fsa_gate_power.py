"""A, with power: does the number of gates change how well an FSA can be extracted from an RNN?

Claim under test (Hou & Zhou, arXiv 1810.10708, the gate figure): FSAs learned from RNNs with fewer
gates are better; MGU (1 gate) best, then GRU (2), then LSTM (3); gates matter (0 gates worse).

What changed against ``fsa_gate_study.py`` (which picked k on the test set, had 2 seeds and mostly
ceiling grammars):

* k is chosen on a separate **validation** draw (lengths as the test's, never the test strings) with
  :func:`neurograph.automata.select.select_k`: the smallest k whose FSA agrees with the RNN's own
  predictions on the validation strings as well as any candidate (``--tol``);
* **10 seeds** per (cell, language), and **two training budgets** from one run: the model is evaluated
  after ``budget[0]`` epochs and again after training on to ``budget[1]`` (a fresh Adam for the rest);
* **languages not at ceiling**: Tomita 5 and 6 (the only grammars where some cell failed in the old
  study: 1, 2, 4 were exact for every cell and 3, 7 nearly so; 6 is the mod-3 counter that failed at 20
  epochs and was exact at 60), counting the 1s mod 3 ("ones_mod3") and "3rd symbol from the end is 1"
  ("last3", minimal DFA of 8 states) from ``neurograph.datasets.regular`` (also there: ones_mod5, last4);
* every extracted FSA is checked against the **network itself** with
  :func:`neurograph.automata.counterexample.network_counterexample` (W-method and random words);
* **paired tests** over the (language, seed) blocks: Friedman across the four cells and Wilcoxon
  signed-rank for each pair of cells (Holm-adjusted), for FSA test accuracy and for exact recovery of
  the minimal DFA;
* beside it, AALpy's L* on a few networks (``--lstar``; skipped when aalpy is not installed).

**The seeds of one (language, cell) are trained at once**, as one
:class:`~neurograph.models.recurrent_ensemble.RecurrentEnsemble` with
:func:`~neurograph.models.recurrent_ensemble.train_classifier_ensemble` (each seed keeps its own data
draw, initialisation ``torch.manual_seed(seed)`` and shuffling seed), which equals one
``train_classifier`` run per seed to float rounding; every member is then evaluated as an ordinary
``RecurrentClassifier``, seed by seed as before. All ensembles are trained first, then the seeds are
evaluated (``--max-minutes`` cuts the evaluation). ``train_s`` in ``rows.csv`` is the ensemble's
training time divided by the number of seeds (cumulative over the budgets).

    python experiments/fsa_gate_power.py             # full run (one process, one thread): 208 s
    python experiments/fsa_gate_power.py --quick     # 2 languages, 2 seeds, 2 cells: 18 s
    python experiments/fsa_gate_power.py --summarize # tables and tests from an existing rows.csv
    # the earlier README run (networks trained one at a time): two shards, then merged
    python experiments/fsa_gate_power.py --summarize --inputs .../fsa_gate_power_a,.../fsa_gate_power_b

Times on the shared 2-core machine, one thread, load average 3-6 from other jobs: the full run took
3.5 min wall (training all 160 networks to 60 epochs as 16 ensembles: about 75 s; the evaluations
the rest), against 15.3 min wall (two one-thread shards at once, about 30 CPU-min) when every network
was trained alone. The rows after the first budget equal the earlier run's exactly; after the second,
24 of 160 networks differ in test accuracy (mostly Tomita 6 seeds still learning, where float rounding
of 1e-6 grows over 40 more epochs), 9 in FSA accuracy and none in DFA recovery.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from neurograph.automata.counterexample import network_counterexample
from neurograph.automata.select import select_k
from neurograph.datasets.regular import REGULAR_LANGUAGES, make_regular
from neurograph.datasets.tomita import make_tomita
from neurograph.io.atomic import atomic_path, write_csv
from neurograph.models.recurrent import CELL_TYPES
from neurograph.models.recurrent_ensemble import RecurrentEnsemble, stack_padded, train_classifier_ensemble
from neurograph.recording.states import record_states

CELLS = ("rnn", "mgu", "gru", "lstm")
PAPER_RANK = {"mgu": 1, "gru": 2, "lstm": 3, "rnn": 4}   # the claim as an order (0 gates: "gates matter")
METRICS = (("fsa_acc", "FSA test accuracy"), ("equiv", "minimal DFA recovered"))


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=None, help="result folder (default experiments/results/fsa_gate_power, "
                   "with --quick the same + '_quick')")
    p.add_argument("--langs", default="tomita5,tomita6,ones_mod3,last3")
    p.add_argument("--cells", default=",".join(CELLS))
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--budgets", default="20,60", help="epochs: evaluate after the first, train on to the second")
    p.add_argument("--n-train", type=int, default=448)
    p.add_argument("--n-val", type=int, default=300)
    p.add_argument("--n-test", type=int, default=500)
    p.add_argument("--train-len", default="0,12")
    p.add_argument("--test-len", default="13,26", help="lengths of the validation and the test strings")
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--ks", default="2,3,4,5,6,8,10,12")
    p.add_argument("--tol", type=float, default=0.004, help="k: smallest within tol of the best validation fidelity")
    p.add_argument("--trace-n", type=int, default=300, help="training strings whose states are clustered")
    p.add_argument("--n-random", type=int, default=500, help="random words of the network check")
    p.add_argument("--depth", type=int, default=2, help="middle length of the W-method words")
    p.add_argument("--lstar", type=int, default=1, help="seeds per cell and L*-language run through AALpy's L*")
    p.add_argument("--lstar-langs", default="tomita6,ones_mod3")
    p.add_argument("--lstar-seconds", type=int, default=15)
    p.add_argument("--max-minutes", type=float, default=0,
                   help="stop evaluating after the seed that passes this time (all training comes first)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--summarize", action="store_true", help="only read rows.csv and print the tables")
    p.add_argument("--inputs", default=None, help="with --summarize: comma-separated result folders to merge")
    args = p.parse_args(argv)
    if args.quick:
        args.langs, args.cells, args.seeds, args.budgets = "tomita5,ones_mod3", "mgu,lstm", 2, "5,15"
        args.n_train, args.n_test, args.n_val, args.ks, args.n_random = 256, 300, 200, "2,3,4,6", 300
        args.batch, args.lstar_langs, args.lstar_seconds = 128, "ones_mod3", 5
    if args.out is None:   # a folder the user names is used as named
        args.out = "experiments/results/fsa_gate_power" + ("_quick" if args.quick else "")
    return args


def ints(text):
    return [int(x) for x in text.split(",") if x]


def make_data(lang, seed, args, *, n_train, n_test, which):
    lo, hi = ints(args.train_len)
    tlo, thi = ints(args.test_len)
    s = seed if which == "main" else 100_000 + seed
    if lang.startswith("tomita"):
        return make_tomita(int(lang[len("tomita"):]), n_train=n_train, n_test=n_test, train_lengths=(lo, hi),
                           test_lengths=(tlo, thi), seed=s)
    if lang in REGULAR_LANGUAGES:
        return make_regular(lang, n_train=n_train, n_test=n_test, train_lengths=(lo, hi), test_lengths=(tlo, thi),
                            seed=s)
    raise SystemExit(f"unknown language {lang!r}")


def evaluate(model, data, val, args, base):
    """Choose k on validation, extract, score on test, check against the network."""
    t0 = time.perf_counter()
    n = min(args.trace_n, data.tokens_train.shape[0])
    trace = record_states(model, data.tokens_train[:n], data.lengths_train[:n])
    val_pred = record_states(model, val.tokens_test, val.lengths_test).predictions
    test = record_states(model, data.tokens_test, data.lengths_test)
    rnn_acc = float(np.mean(test.predictions == data.y_test.numpy()))
    sel = select_k(trace, ints(args.ks), val.tokens_test, val_pred, val.lengths_test, tol=args.tol,
                   accept="readout", readout=model.readout, seed=base["seed"], n_threads=1)
    fsa = sel.fsa
    small = fsa.minimize()
    check = network_counterexample(fsa, model, [0, 1], max_len=ints(args.test_len)[1], n_random=args.n_random,
                                   depth=args.depth, seed=base["seed"])
    # the paper's second, sequence-aware clustering (our reading: k-medoids on [state, position]), k on validation
    t1 = time.perf_counter()
    med = select_k(trace, ints(args.ks), val.tokens_test, val_pred, val.lengths_test, tol=args.tol,
                   method="kmedoids_position", accept="readout", readout=model.readout, seed=base["seed"])
    kmed = {"kmed_k": med.k, "kmed_fsa_acc": med.fsa.accuracy(data.tokens_test, data.y_test, data.lengths_test),
            "kmed_fidelity": med.fsa.fidelity(data.tokens_test, test.predictions, data.lengths_test),
            "kmed_equiv": int(med.fsa.minimize() == data.dfa), "kmed_s": time.perf_counter() - t1}
    return {**base, **kmed, "rnn_acc": rnn_acc, "k": sel.k, "val_fid": float(sel.table.loc[sel.table["chosen"], "score"].iloc[0]),
            "fsa_acc": fsa.accuracy(data.tokens_test, data.y_test, data.lengths_test),
            "fidelity": fsa.fidelity(data.tokens_test, test.predictions, data.lengths_test),
            "n_min": small.n_states, "true_n": data.dfa.n_states, "equiv": int(small == data.dfa),
            "net_agrees": int(check.agrees), "net_disagree": check.disagreement, "net_queries": check.n_queries,
            "cex_len": np.nan if check.counterexample is None else len(check.counterexample),
            "cex_source": check.source or "", "eval_s": time.perf_counter() - t0, "_fsa": fsa}


def train_seeds(lang, cell, seeds, args, budgets):
    """Train one network per seed (each on its own data draw) as one RecurrentEnsemble.

    Member k is what ``torch.manual_seed(seed); RecurrentClassifier(...)`` and ``train_classifier(...,
    seed=seed)`` (then ``seed + 1000`` for the second budget, a fresh Adam) give alone, to float rounding.
    Returns the data and validation draws per seed and, per budget, ``(epochs, train_s, members)``:
    ``train_s`` is the ensemble's training time so far divided by the number of seeds.
    """
    datas = [make_data(lang, seed, args, n_train=args.n_train, n_test=args.n_test, which="main") for seed in seeds]
    vals = [make_data(lang, seed, args, n_train=2, n_test=args.n_val, which="val") for seed in seeds]
    X = stack_padded([d.tokens_train for d in datas], pad=2)
    y = torch.stack([d.y_train for d in datas])
    ens = RecurrentEnsemble.from_seeds(seeds, 3, 2, cell=cell, embedding_dim=4, hidden_size=args.hidden, padding_idx=2)
    snaps, done, train_s = [], 0, 0.0
    for i, epochs in enumerate(budgets):
        fit = train_classifier_ensemble(ens, X, y, epochs=epochs - done, lr=args.lr, batch_size=args.batch,
                                        seeds=[seed + 1000 * i for seed in seeds])
        train_s += fit.seconds / len(seeds)
        done = epochs
        snaps.append((epochs, train_s, ens.members()))
    return datas, vals, snaps


def evaluate_seed(lang, cell, j, seed, trained, args):
    """Rows (one per budget) of member ``j`` (seed ``seed``) of :func:`train_seeds`' output."""
    datas, vals, snaps = trained
    rows = []
    for epochs, train_s, members in snaps:
        base = {"lang": lang, "cell": cell, "gates": CELL_TYPES[cell], "seed": seed, "epochs": epochs,
                "train_s": train_s}
        rows.append(evaluate(members[j], datas[j], vals[j], args, base))
    fsa = rows[-1]["_fsa"]
    for r in rows:
        r.pop("_fsa")
    return rows, snaps[-1][2][j], datas[j], fsa


def run_one(lang, cell, seed, args, budgets):
    """One seed alone (an ensemble of one): rows, the trained model, its data and last FSA."""
    return evaluate_seed(lang, cell, 0, seed, train_seeds(lang, cell, [seed], args, budgets), args)


# ---------------------------------------------------------------------- L* beside it
class _Timeout(Exception):
    pass


def lstar_row(model, data, lang, cell, seed, epochs, args, extracted):
    from aalpy.learning_algs import run_Lstar
    from aalpy.oracles import RandomWordEqOracle

    from neurograph.automata.aalpy import classifier_sul, from_aalpy

    sul = classifier_sul(model)
    thi = ints(args.test_len)[1]
    oracle = RandomWordEqOracle([0, 1], sul, num_walks=500, min_walk_len=1, max_walk_len=thi)

    def alarm(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(args.lstar_seconds)
    t0 = time.perf_counter()
    try:
        learned = run_Lstar([0, 1], sul, oracle, automaton_type="dfa", max_learning_rounds=20, print_level=0)
        status = "done"
    except _Timeout:
        learned, status = None, f"timeout {args.lstar_seconds} s"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    secs = time.perf_counter() - t0
    row = {"lang": lang, "cell": cell, "seed": seed, "epochs": epochs, "lstar": status, "lstar_s": secs,
           "membership_queries": sul.num_queries}
    if learned is not None:
        fsa = from_aalpy(learned).minimize()
        check = network_counterexample(fsa, model, [0, 1], max_len=thi, n_random=args.n_random, depth=args.depth,
                                       seed=seed)
        row.update(lstar_states=fsa.n_states, lstar_acc=fsa.accuracy(data.tokens_test, data.y_test, data.lengths_test),
                   lstar_equiv=int(fsa == data.dfa), lstar_net_agrees=int(check.agrees),
                   same_as_extracted=int(fsa == extracted))
    return row


# ---------------------------------------------------------------------- statistics
def holm(pvals):
    p = np.asarray(pvals, float)
    order = np.argsort(p)
    adj = np.empty_like(p)
    running = 0.0
    for r, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - r) * p[i]))
        adj[i] = running
    return adj


def paired_tests(rows: pd.DataFrame, metric: str, cells):
    """Friedman across cells and Holm-adjusted Wilcoxon for every pair, blocks = (language, seed)."""
    wide = rows.pivot_table(index=["lang", "seed"], columns="cell", values=metric).dropna()
    wide = wide[[c for c in cells if c in wide.columns]]
    out = {"blocks": len(wide)}
    if wide.shape[1] >= 3 and len(wide) >= 2:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)     # all blocks tied: 0 / 0
                chi2, p = stats.friedmanchisquare(*[wide[c] for c in wide.columns])
        except ValueError:
            chi2, p = 0.0, 1.0
        # every block tied: no evidence of any difference
        out["friedman_chi2"], out["friedman_p"] = (0.0, 1.0) if not np.isfinite(p) else (float(chi2), float(p))
        ranks = wide.rank(axis=1, ascending=False).mean()
        out["mean_rank"] = ranks.to_dict()
    gated = [c for c in ("lstm", "gru", "mgu") if c in wide.columns]
    if len(gated) == 3 and len(wide) >= 2:
        # the paper's order as a one-sided trend among the gated cells: lstm < gru < mgu
        g = wide[gated]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fr = stats.friedmanchisquare(*[g[c] for c in gated]) if (g.nunique(axis=1) > 1).any() else None
        out["gated_friedman_p"] = 1.0 if fr is None or not np.isfinite(fr.pvalue) else float(fr.pvalue)
        page = stats.page_trend_test(g.to_numpy(), method="asymptotic") if (g.nunique(axis=1) > 1).any() else None
        out["page_L"] = np.nan if page is None else float(page.statistic)
        out["page_p"] = 1.0 if page is None else float(page.pvalue)
    pairs, raw = [], []
    for a, b in itertools.combinations(wide.columns, 2):
        d = wide[a] - wide[b]
        if (d != 0).sum() == 0:
            p = 1.0
        else:
            p = float(stats.wilcoxon(wide[a], wide[b], zero_method="wilcox").pvalue)
        pairs.append((a, b, float(d.mean()), int((d > 0).sum()), int((d < 0).sum())))
        raw.append(p)
    adj = holm(raw) if raw else []
    out["pairs"] = [{"a": a, "b": b, "mean_diff": m, "a_better": w, "b_better": l, "p": p, "p_holm": q}
                    for (a, b, m, w, l), p, q in zip(pairs, raw, adj)]
    return out


def per_cell(rows: pd.DataFrame) -> pd.DataFrame:
    g = rows.groupby(["epochs", "cell", "gates"])
    return g.agg(runs=("fsa_acc", "size"), rnn_acc=("rnn_acc", "mean"), fsa_acc=("fsa_acc", "mean"),
                 fidelity=("fidelity", "mean"), k=("k", "mean"), equiv=("equiv", "mean"),
                 net_agrees=("net_agrees", "mean"), net_disagree=("net_disagree", "mean")
                 ).reset_index().sort_values(["epochs", "gates"])


def per_lang(rows: pd.DataFrame) -> pd.DataFrame:
    g = rows.groupby(["epochs", "lang", "cell", "gates"])
    return g.agg(rnn_acc=("rnn_acc", "mean"), fsa_acc=("fsa_acc", "mean"), k=("k", "mean"),
                 n_min=("n_min", "mean"), true_n=("true_n", "first"), equiv=("equiv", "sum"),
                 runs=("equiv", "size"), net_agrees=("net_agrees", "sum")
                 ).reset_index().sort_values(["epochs", "lang", "gates"])


def clustering_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per budget and cell (and all cells): FSA test accuracy, DFA recovery and k of k-means and of the
    position-aware k-medoids, with the paired Wilcoxon p of the accuracy difference over the networks."""
    out = []
    groups = [*rows.groupby(["epochs", "cell"]), *(((e, "all"), part) for e, part in rows.groupby("epochs"))]
    for (epochs, cell), part in groups:
        d = part["fsa_acc"] - part["kmed_fsa_acc"]
        p = float(stats.wilcoxon(part["fsa_acc"], part["kmed_fsa_acc"]).pvalue) if (d != 0).any() else 1.0
        out.append({"epochs": epochs, "cell": cell, "networks": len(part), "kmeans_acc": part["fsa_acc"].mean(),
                    "kmedoids_acc": part["kmed_fsa_acc"].mean(), "kmeans_better": int((d > 0).sum()),
                    "kmedoids_better": int((d < 0).sum()), "wilcoxon_p": p, "kmeans_equiv": part["equiv"].mean(),
                    "kmedoids_equiv": part["kmed_equiv"].mean(), "kmeans_k": part["k"].mean(),
                    "kmedoids_k": part["kmed_k"].mean()})
    return pd.DataFrame(out)


def report(rows: pd.DataFrame, lstar: pd.DataFrame | None, cells, total_s: float | None) -> str:
    lines = []
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    fmt = lambda x: f"{x:.3f}"
    lines.append("== per language and cell (means over seeds; equiv, net_agrees: runs out of `runs`)")
    lines.append(per_lang(rows).to_string(index=False, float_format=fmt))
    table = per_cell(rows)
    lines.append("\n== per cell, all languages, beside the paper's claim (rank 1 = best)")
    verdict = []
    for epochs, t in table.groupby("epochs"):
        sub = rows[rows["epochs"] == epochs]
        tests = {m: paired_tests(sub, m, cells) for m, _ in METRICS}
        t = t.copy()
        t["rank_acc"] = t["cell"].map(tests["fsa_acc"].get("mean_rank", {}))
        t["rank_equiv"] = t["cell"].map(tests["equiv"].get("mean_rank", {}))
        t["paper_rank"] = t["cell"].map(PAPER_RANK)
        lines.append(f"-- after {epochs} epochs")
        lines.append(t.drop(columns="epochs").to_string(index=False, float_format=fmt))
        for m, label in METRICS:
            r = tests[m]
            if "friedman_p" in r:
                lines.append(f"   {label}: Friedman over {r['blocks']} (language, seed) blocks: "
                             f"chi2 = {r['friedman_chi2']:.2f}, p = {r['friedman_p']:.3g}")
            if "page_p" in r:
                lines.append(f"   {label}, gated cells only: Friedman p = {r['gated_friedman_p']:.3g}; Page's trend "
                             f"test for the paper's order LSTM < GRU < MGU: L = {r['page_L']:.1f}, p = {r['page_p']:.3g}")
            for pr in r["pairs"]:
                lines.append(f"     {pr['a']:>4s} vs {pr['b']:<4s}: mean diff {pr['mean_diff']:+.3f}, "
                             f"{pr['a']} better in {pr['a_better']}, {pr['b']} in {pr['b_better']}; "
                             f"Wilcoxon p = {pr['p']:.3g} (Holm {pr['p_holm']:.3g})")
        verdict.append(_verdict(epochs, t, tests))
    if "kmed_fsa_acc" in rows:
        lines.append("\n== k-means against the sequence-aware k-medoids (state + position), both with k chosen on "
                     "validation; paired over every network")
        lines.append(clustering_table(rows).to_string(index=False, float_format=fmt))
    if lstar is not None and len(lstar):
        lines.append("\n== AALpy L* on the same networks (last budget; random-word equivalence oracle, 500 words)")
        lines.append(lstar.to_string(index=False, float_format=fmt))
    lines.append("\n== verdict")
    lines += verdict
    if total_s is not None:
        lines.append(f"\nwhole run: {total_s:.0f} s")
    return "\n".join(lines)


def _verdict(epochs, t, tests):
    acc = dict(zip(t["cell"], t["fsa_acc"]))
    eq = dict(zip(t["cell"], t["equiv"]))
    best_acc = max(acc, key=acc.get)
    best_eq = max(eq, key=eq.get)
    fa, fe = tests["fsa_acc"], tests["equiv"]
    mgu = [p for p in fa["pairs"] if "mgu" in (p["a"], p["b"])]
    mgu_txt = "; ".join(f"MGU vs {p['b'] if p['a'] == 'mgu' else p['a']}: "
                        f"{(p['mean_diff'] if p['a'] == 'mgu' else -p['mean_diff']):+.3f}, p_Holm = {p['p_holm']:.3g}"
                        for p in mgu)
    holds = best_acc == "mgu" and all(p["p_holm"] < 0.05 and ((p["mean_diff"] > 0) == (p["a"] == "mgu"))
                                      for p in mgu)
    return (f"After {epochs} epochs ({fa['blocks']} paired blocks): best FSA test accuracy {best_acc} "
            f"({acc[best_acc]:.3f}; " + ", ".join(f"{c} {v:.3f}" for c, v in acc.items()) + "), "
            f"Friedman p = {fa.get('friedman_p', float('nan')):.3g}; minimal DFA recovered most often by {best_eq} "
            f"(" + ", ".join(f"{c} {v:.2f}" for c, v in eq.items()) + f"), Friedman p = "
            f"{fe.get('friedman_p', float('nan')):.3g}. {mgu_txt}. Page's trend test for LSTM < GRU < MGU: p = "
            f"{fa.get('page_p', float('nan')):.3g} (accuracy), {fe.get('page_p', float('nan')):.3g} (recovery). "
            f"The paper's 'fewer gates, MGU best' "
            + ("is supported here." if holds else "is not supported here (MGU is not significantly better than "
               "every other cell)."))


def main(argv=None) -> int:
    args = parse(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cells = args.cells.split(",")
    if args.summarize:
        dirs = [Path(d) for d in args.inputs.split(",")] if args.inputs else [out]
        rows = pd.concat([pd.read_csv(d / "rows.csv") for d in dirs], ignore_index=True)
        ls = [pd.read_csv(d / "lstar.csv") for d in dirs if (d / "lstar.csv").exists()]
        lstar = pd.concat(ls, ignore_index=True) if ls else None
        print(report(rows, lstar, cells, None))
        return 0
    budgets = ints(args.budgets)
    try:
        import aalpy  # noqa: F401
        have_aalpy = True
    except ImportError:
        have_aalpy = False
        print("aalpy not installed (pip install aalpy): L* comparison skipped", flush=True)
    rows, lstar = [], []
    start = time.perf_counter()
    seeds = list(range(args.seeds))
    # all seeds of one (language, cell) are trained at once, as one ensemble (equal to separate runs)
    trained = {}
    for lang in args.langs.split(","):
        for cell in cells:
            t0 = time.perf_counter()
            trained[lang, cell] = train_seeds(lang, cell, seeds, args, budgets)
            print(f"trained {lang} {cell}: {len(seeds)} seeds as one ensemble in {time.perf_counter() - t0:.1f} s",
                  flush=True)
    train_total = time.perf_counter() - start
    # seeds outermost: a run cut short (--max-minutes) still holds complete paired blocks
    for j, seed in enumerate(seeds):
        for lang in args.langs.split(","):
            for cell in cells:
                r, model, data, fsa = evaluate_seed(lang, cell, j, seed, trained[lang, cell], args)
                rows += r
                if have_aalpy and seed < args.lstar and lang in args.lstar_langs.split(","):
                    lstar.append(lstar_row(model, data, lang, cell, seed, budgets[-1], args, fsa))
                write_csv(pd.DataFrame(rows), out / "rows.csv")
                if lstar:
                    write_csv(pd.DataFrame(lstar), out / "lstar.csv")
        last = [x for x in rows if x["seed"] == seed and x["epochs"] == budgets[-1]]
        print(f"seed {seed}: mean FSA acc {np.mean([x['fsa_acc'] for x in last]):.3f}, DFA recovered "
              f"{sum(x['equiv'] for x in last)}/{len(last)} ({time.perf_counter() - start:.0f} s)", flush=True)
        if args.max_minutes and time.perf_counter() - start > 60 * args.max_minutes:
            print(f"stopping after seed {seed}: --max-minutes {args.max_minutes} reached", flush=True)
            break
    print(f"training (all networks, as {len(trained)} ensembles): {train_total:.0f} s; evaluation: "
          f"{time.perf_counter() - start - train_total:.0f} s", flush=True)
    total = time.perf_counter() - start
    rows = pd.DataFrame(rows)
    lstar_df = pd.DataFrame(lstar) if lstar else None
    text = report(rows, lstar_df, cells, total)
    with atomic_path(out / "report.txt", suffix=".txt") as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
