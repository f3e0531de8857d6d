"""The gating view of ReLU networks at small scale: DNN vs DGN vs DLGN, NPK kernel machines, gate graphs.

Lakshminarayanan & Singh (arXiv 2110.03403) report that a deep linearly gated
network (DLGN) recovers more than 83.5% of the accuracy of state-of-the-art DNNs
on CIFAR-10/100, and that "learning in the gates" is what matters: given the
gates, learning the weights is characterised by the neural path kernel (NPK).
This script trains DNN, DGN and DLGN (fully connected, residual and - on digits -
circular-convolutional with global average pooling) on scikit-learn's digits, on
a Fashion-MNIST subset (Debian's ``dataset-fashion-mnist``; skipped with a note
if absent) and on a generated task, xor20 (label = XOR of the signs of the first
two of 20 Gaussian coordinates: the other 18 are noise), and prints three tables:

1. accuracy of each model (soft gates as trained, and hard gates), mean ± sd over
   seeds, and the ratio DLGN / DNN beside the paper's 0.835;
2. kernel machines (SVC and kernel ridge, precomputed cosine-normalised NPK) built
   from the trained gates vs the random gates of the same network at
   initialisation, vs the trained network; also the "gates only" NPK (value input
   of ones) and a value network retrained from scratch on the frozen hard gates;
3. structure of each model's gate graph (neurograph.pipeline.analyze on the gates
   recorded with rule "positive" on the test split): modularity Q, its z-score
   against rewired nulls, communities, entropy, mutual information.

    python experiments/gating_dlgn.py [--out DIR] [--seeds 2] [--fashion-train 5000] [--fashion-test 2000]
    python experiments/gating_dlgn.py --quick      # a smoke run of a few seconds

Everything runs on one CPU thread (about 5 CPU-minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.kernel_ridge import KernelRidge
from sklearn.svm import SVC

from neurograph.io.atomic import write_csv
from neurograph.datasets import DigitsData, load_digits
from neurograph.datasets.fashion import load_fashion_mnist
from neurograph.errors import DataError
from neurograph.models.gated import DGN, gated_model, hard_gates
from neurograph.gating.npk import gate_patterns, path_kernel, record_gates
from neurograph.scoring.pipeline import analyze
from neurograph.zoo.training import accuracy, train_classifier

PAPER_RATIO = 0.835
SVC_C = 10.0
KRR_ALPHA = 1e-2
CONV_TOP_K = 10
CONV_N_NULL = 3


def xor_in_noise(n_train: int, n_test: int) -> DigitsData:
    """Generated task: label = XOR of the signs of the first 2 of 20 standard normal coordinates."""
    parts = []
    for n, seed in ((n_train, 0), (n_test, 1)):
        X = np.random.default_rng(seed).standard_normal((n, 20)).astype(np.float32)
        parts += [torch.from_numpy(X), torch.from_numpy(((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64))]
    return DigitsData(*parts, n_classes=2, input_shape=(20,), name="xor20")


def build(kind: str, data, arch: str, seed: int, hidden: tuple[int, ...]):
    """A fresh model; ``kind`` 'dlgn-ones' is a DLGN whose value network is fed ones."""
    torch.manual_seed(seed)
    base, _, tail = kind.partition("-")
    conv = arch == "conv"
    in_features = data.input_shape[0] if conv else int(np.prod(data.input_shape))
    return gated_model(base, in_features=in_features, hidden=hidden, n_classes=data.n_classes, conv=conv,
                       residual=arch == "residual", value_input="ones" if tail == "ones" else "x")


def fit(model, data, cfg: dict, seed: int):
    train_classifier(model, data.X_train, data.y_train, epochs=cfg["epochs"], lr=cfg["lr"], seed=seed)
    return model


def accuracies(model, data) -> tuple[float, float]:
    soft = accuracy(model, data.X_test, data.y_test)
    with hard_gates(model):
        hard = accuracy(model, data.X_test, data.y_test)
    return soft, hard


# --------------------------------------------------------------------------- kernel machines

def normalised(K: np.ndarray, d_rows: np.ndarray, d_cols: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(K / np.sqrt(np.outer(d_rows, d_cols)), nan=0.0, posinf=0.0, neginf=0.0)


def kernel_scores(Xtr, gtr, Xte, gte, ytr, yte, n_classes: int) -> tuple[float, float]:
    """Test accuracy of SVC and one-vs-all kernel ridge on the cosine-normalised NPK."""
    Ktr = path_kernel(Xtr, gtr)
    Kte = path_kernel(Xte, gte, Xtr, gtr)
    dtr = np.diag(Ktr)
    dte = (Xte.reshape(len(Xte), -1) ** 2).sum(1)
    for g in gte:
        dte = dte * g.reshape(len(g), -1).sum(1)          # K(x, x) = |x|^2 prod_l |G_l(x)|
    Ktr, Kte = normalised(Ktr, dtr, dtr), normalised(Kte, dte, dtr)
    svc = SVC(kernel="precomputed", C=SVC_C).fit(Ktr, ytr).score(Kte, yte)
    krr = KernelRidge(kernel="precomputed", alpha=KRR_ALPHA).fit(Ktr, np.eye(n_classes)[ytr]).predict(Kte)
    return float(svc), float((krr.argmax(1) == yte).mean())


def frozen_gates_accuracy(source, data, cfg: dict, seed: int) -> float:
    """Train a fresh value network on ``source``'s gating network, frozen, with hard gates."""
    torch.manual_seed(seed + 1000)
    kw = dict(hidden=source.hidden, n_classes=source.n_classes)
    if source.kind == "dnn":  # a DNN's gates are its own pre-activations: a bias-free ReLU gating net
        model = DGN(source.in_features, gate_bias=False, **kw)
        with torch.no_grad():
            for g, v in zip(model.gating, source.value):
                g.weight.copy_(v.weight)
    else:
        model = gated_model(source.kind, in_features=source.in_features, value_input=source.value_input, **kw)
        model.gating.load_state_dict(source.gating.state_dict())
    model.gating.requires_grad_(False)
    model.set_gate_mode("hard")
    fit(model, data, cfg, seed)
    return accuracy(model, data.X_test, data.y_test)


def kernel_table(name, data, cfg, trained: dict, random: dict) -> list[dict]:
    Xtr = data.X_train.numpy().astype(np.float64).reshape(data.n_train, -1)
    Xte = data.X_test.numpy().astype(np.float64).reshape(data.n_test, -1)
    ytr, yte = data.y_train.numpy(), data.y_test.numpy()
    rows = []
    lin_svc = SVC(kernel="precomputed", C=SVC_C).fit(normalised(Xtr @ Xtr.T, (Xtr**2).sum(1), (Xtr**2).sum(1)), ytr)
    lin = lin_svc.score(normalised(Xte @ Xtr.T, (Xte**2).sum(1), (Xtr**2).sum(1)), yte)
    for kind in ("dnn", "dgn", "dlgn"):
        row = {"data": name, "model": kind, "net": accuracy(trained[kind], data.X_test, data.y_test),
               "input_gram_svc": float(lin)}
        for which, model in (("trained", trained[kind]), ("random", random[kind])):
            gtr, gte = gate_patterns(model, data.X_train), gate_patterns(model, data.X_test)
            row[f"npk_svc_{which}"], row[f"npk_krr_{which}"] = kernel_scores(Xtr, gtr, Xte, gte, ytr, yte,
                                                                              data.n_classes)
            row[f"gates_only_svc_{which}"], _ = kernel_scores(np.ones_like(Xtr), gtr, np.ones_like(Xte), gte,
                                                              ytr, yte, data.n_classes)
            row[f"frozen_gates_net_{which}"] = frozen_gates_accuracy(model, data, cfg, seed=0)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="experiments/results/gating_dlgn")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--fashion-train", type=int, default=5000)
    ap.add_argument("--fashion-test", type=int, default=2000)
    ap.add_argument("--n-null", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="tiny smoke run (1 seed, few epochs, small subsets)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    seeds = range(1 if quick else args.seeds)
    t_start = time.perf_counter()

    tasks = []  # (name, arch, data, cfg)
    tasks.append(("xor20", "fc", xor_in_noise(200 if quick else 1000, 200 if quick else 1000),
                  {"epochs": 3 if quick else 30, "lr": 1e-2, "hidden": (32, 32)}))
    digits_cfg = {"epochs": 3 if quick else 40, "lr": 3e-3, "hidden": (64, 64)}
    if not quick:
        digits_cfg["hidden"] = (128, 128)
    d_flat, d_img = load_digits(seed=0), load_digits(seed=0, image=True)
    tasks.append(("digits", "fc", d_flat, digits_cfg))
    tasks.append(("digits", "residual", d_flat, {**digits_cfg, "hidden": (digits_cfg["hidden"][0],) * 3}))
    tasks.append(("digits", "conv", d_img, {**digits_cfg, "hidden": (8, 8) if quick else (16, 16, 16)}))
    try:
        fashion = load_fashion_mnist(n_train=500 if quick else args.fashion_train,
                                     n_test=300 if quick else args.fashion_test, seed=0)
        f_cfg = {"epochs": 3 if quick else 20, "lr": 1e-3, "hidden": (64, 64) if quick else (128, 128)}
        tasks.append(("fashion", "fc", fashion, f_cfg))
        tasks.append(("fashion", "residual", fashion, {**f_cfg, "hidden": (f_cfg["hidden"][0],) * 3}))
    except DataError as exc:
        print(f"note: Fashion-MNIST skipped: {exc}", file=sys.stderr)

    acc_rows, trained, random = [], {}, {}
    for name, arch, data, cfg in tasks:
        kinds = ["dnn", "dgn", "dlgn"] + (["dlgn-ones"] if arch == "fc" else [])
        for kind in kinds:
            for seed in seeds:
                model = build(kind, data, arch, seed, cfg["hidden"])
                if seed == 0:
                    random[(name, arch, kind)] = build(kind, data, arch, seed, cfg["hidden"])
                t = time.perf_counter()
                fit(model, data, cfg, seed)
                soft, hard = accuracies(model, data)
                acc_rows.append({"data": name, "arch": arch, "model": kind, "seed": seed, "acc_soft": soft,
                                 "acc_hard": hard, "train_s": time.perf_counter() - t})
                if seed == 0:
                    trained[(name, arch, kind)] = model
    acc = pd.DataFrame(acc_rows)
    write_csv(acc, out / "accuracy.csv")
    summary = (acc.groupby(["data", "arch", "model"], sort=False)
               .agg(acc=("acc_soft", "mean"), sd=("acc_soft", "std"), acc_hard=("acc_hard", "mean"),
                    train_s=("train_s", "mean")).reset_index())
    dnn = summary[summary.model == "dnn"].set_index(["data", "arch"])["acc"]
    summary["ratio_to_dnn"] = [r.acc / dnn[(r.data, r.arch)] for r in summary.itertuples()]
    summary["paper_dlgn_ratio"] = np.where(summary.model.str.startswith("dlgn"), f"> {PAPER_RATIO}", "")
    write_csv(summary, out / "accuracy_summary.csv")
    print(f"\n== 1. test accuracy (mean over {len(seeds)} seed(s); acc = soft gates as trained, acc_hard = "
          f"hard gates)")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    km_rows = []
    for name, arch, data, cfg in tasks:
        if arch != "fc":
            continue
        km_rows += kernel_table(name, data, cfg, {k: trained[(name, arch, k)] for k in ("dnn", "dgn", "dlgn")},
                                {k: random[(name, arch, k)] for k in ("dnn", "dgn", "dlgn")})
    km = pd.DataFrame(km_rows)
    write_csv(km, out / "kernel_machines.csv")
    print("\n== 2. kernel machines on the NPK (test accuracy; trained gates vs random gates at initialisation)")
    print(km.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    graph_rows = []
    for name, arch, data, cfg in tasks:
        if arch == "residual":
            continue
        conv = arch == "conv"  # one neuron per (channel, position) gate; sparsified, fewer nulls (cost)
        for kind in ("dnn", "dgn", "dlgn"):
            for which, model in (("trained", trained[(name, arch, kind)]), ("random", random[(name, arch, kind)])):
                stats = record_gates(model, data.test, per_position=conv)
                s = analyze(stats, top_k=CONV_TOP_K if conv else None, n_null=min(args.n_null, CONV_N_NULL)
                            if conv else args.n_null, seed=0).summary()
                graph_rows.append({"data": name, "arch": arch, "model": kind, "gates": which,
                                   **{k: s[k] for k in ("n_neurons", "n_nodes", "n_edges", "modularity",
                                                        "modularity_z", "n_communities", "mean_entropy",
                                                        "mean_mutual_info", "dead_fraction", "always_on_fraction")}})
    graphs = pd.DataFrame(graph_rows)
    write_csv(graphs, out / "gate_graphs.csv")
    print("\n== 3. gate graphs (record_gates on the test split -> analyze: npmi graph, Leiden, "
          f"{args.n_null} rewired nulls; conv: a neuron per (channel, position) gate, top-{CONV_TOP_K} edges "
          f"per node, {min(args.n_null, CONV_N_NULL)} nulls)")
    print(graphs.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nwrote {out}/accuracy.csv, accuracy_summary.csv, kernel_machines.csv, gate_graphs.csv "
          f"({time.perf_counter() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
