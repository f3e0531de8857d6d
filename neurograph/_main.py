"""Command line: ``neurograph demo`` and ``neurograph graph`` (thin: parse, call, write)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import NeurographError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="neurograph", description="Graph-analytic interpretability of PyTorch "
                                "classifiers: co-activation graphs, communities, entropy, Gephi export.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the whole pipeline on built-in data (digits) and write the results",
                       description="Train a small MLP and CNN on scikit-learn's digits, record their hidden "
                                   "layers, and write graphs (GEXF, GraphML), tables (CSV) and figures (PNG).")
    d.add_argument("--out", default="neurograph-demo", help="output folder (default: %(default)s)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--n-null", type=int, default=20, help="rewired null graphs for the modularity z-score")
    d.add_argument("--epochs", type=int, default=40)
    d.add_argument("--quiet", action="store_true", help="no progress bars")
    g = sub.add_parser("graph", help="graph, communities, entropy and Gephi files from saved statistics",
                       description="Read statistics saved by CoactivationStats.save and write the activation "
                                   "graph (GEXF, GraphML), per-neuron CSV, summary CSV and figures.")
    g.add_argument("stats", help="a .npz file written by CoactivationStats.save")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--name", default=None, help="file name prefix (default: the stats file's stem)")
    g.add_argument("--weight", default="npmi", choices=["count", "jaccard", "npmi", "phi"])
    g.add_argument("--threshold", type=float, default=0.0)
    g.add_argument("--top-k", type=int, default=None)
    g.add_argument("--alpha", type=float, default=None, help="keep edges significant at this FDR level")
    g.add_argument("--method", default="leiden", choices=["leiden", "multilevel", "louvain", "networkx"])
    g.add_argument("--resolution", type=float, default=1.0)
    g.add_argument("--n-null", type=int, default=20)
    g.add_argument("--seed", type=int, default=0)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success, 2 on bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "demo":
            from .demo import run_demo
            result = run_demo(args.out, seed=args.seed, n_null=args.n_null, epochs=args.epochs,
                              progress=not args.quiet)
            cols = ["model", "test_accuracy", "n_nodes", "n_edges", "modularity", "modularity_z",
                    "n_communities", "mean_entropy", "mean_mutual_info", "dead_fraction"]
            print(result.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            print(f"\nwrote results to {Path(args.out).resolve()} in {result.seconds:.1f} s:")
            for model, files in result.paths.items():
                if isinstance(files, dict):
                    for kind, path in files.items():
                        print(f"  {model:4s} {kind:17s} {path}")
                else:
                    print(f"  {model}: {files}")
            print("open the .gexf files in Gephi (File > Open); colours are communities.")
            return 0
        if args.command == "graph":
            from ._io import write_csv
            from .pipeline import analyze, write_analysis
            from .stats import CoactivationStats
            stats = CoactivationStats.load(args.stats)
            name = args.name or Path(args.stats).stem
            result = analyze(stats, weight=args.weight, threshold=args.threshold, top_k=args.top_k,
                             alpha=args.alpha, method=args.method, resolution=args.resolution,
                             n_null=args.n_null, seed=args.seed)
            paths = write_analysis(result, args.out, name=name)
            import pandas as pd
            paths["summary"] = write_csv(pd.DataFrame([{"name": name, **result.summary()}]),
                                         Path(args.out) / f"{name}_summary.csv")
            for kind, path in paths.items():
                print(f"{kind:17s} {path}")
            return 0
    except (NeurographError, FileNotFoundError) as exc:
        print(f"neurograph {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 1  # pragma: no cover - argparse guarantees a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
