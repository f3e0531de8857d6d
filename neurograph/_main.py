"""Command line: ``neurograph demo | graph | score | zoo | correlate | report`` (thin: parse, call, write)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import NeurographError

__all__ = ["main"]

_FLOAT = lambda v: f"{v:.3f}"  # noqa: E731


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="neurograph", description="Graph-analytic interpretability of PyTorch "
                                "classifiers: co-activation graphs, communities, entropy, Gephi export, and "
                                "structure scores related to test accuracy across many models.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the whole pipeline and a small model zoo on built-in data",
                       description="Train a small MLP and CNN on scikit-learn's digits, record their hidden "
                                   "layers, and write graphs (GEXF, GraphML), tables (CSV) and figures (PNG); "
                                   "then train a small model zoo (digits and a generated task), score every "
                                   "checkpoint, correlate the scores with test accuracy and write report.html "
                                   "and a dynamic GEXF (timeline.gexf).")
    d.add_argument("--out", default="neurograph-demo", help="output folder (default: %(default)s)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--n-null", type=int, default=20, help="rewired null graphs for the MLP/CNN z-score")
    d.add_argument("--epochs", type=int, default=40, help="training epochs of the MLP and CNN")
    d.add_argument("--zoo", default=None, metavar="CONFIG.toml",
                   help="zoo to train instead of the built-in demo zoo (see `neurograph zoo --help`)")
    d.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the correlation CIs")
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
    s = sub.add_parser("score", help="structure scores (and accuracy) of your own model checkpoints",
                       description="Build a model with FACTORY, load each checkpoint (a state_dict, read with "
                                   "weights_only=True), record LAYERS on the data file and print one row of "
                                   "scores per checkpoint (test accuracy when the data has labels y).")
    s.add_argument("--factory", required=True, metavar="MODULE:FUNCTION",
                   help="e.g. mypackage.models:build (imported from the current folder too)")
    s.add_argument("--kwargs", default="{}", help="JSON object of keyword arguments for the factory")
    s.add_argument("--checkpoint", required=True, nargs="+", help="state_dict file(s)")
    s.add_argument("--data", required=True, help=".npz with arrays X (and y), or .pt dict of tensors {X, y}")
    s.add_argument("--layers", required=True, nargs="+", help="module names to record (glob patterns allowed)")
    s.add_argument("--name", default="model", help="run name in the table (default: %(default)s)")
    s.add_argument("--rule", default="positive", choices=["positive", "threshold", "quantile", "zscore"])
    s.add_argument("--z", type=float, default=1.0, help="z of the zscore rule")
    s.add_argument("--threshold", type=float, default=0.0, help="threshold of the threshold rule")
    s.add_argument("--spatial", default="mean", choices=["mean", "max", "any"])
    s.add_argument("--n-null", type=int, default=10)
    s.add_argument("--method", default="leiden", choices=["leiden", "multilevel", "louvain", "networkx"])
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default=None, help="write the table to this CSV file (e.g. DIR/scores.csv, "
                                               "then `neurograph report DIR`)")
    z = sub.add_parser("zoo", help="train, checkpoint and score a model zoo described by a TOML file",
                       description="Train every run of CONFIG.toml (see the neurograph.zoo module docstring for "
                                   "the format), save state_dict checkpoints, score every checkpoint, and write "
                                   "scores.csv, neurons.csv, timeline.gexf, correlations and report.html.")
    z.add_argument("config", help="zoo configuration (TOML)")
    z.add_argument("--out", required=True, help="output folder")
    z.add_argument("--n-boot", type=int, default=1000)
    z.add_argument("--no-report", action="store_true", help="skip correlations and report.html")
    z.add_argument("--quiet", action="store_true", help="no progress bars")
    c = sub.add_parser("correlate", help="correlate score columns of a CSV table with test accuracy",
                       description="Pearson, Spearman and Kendall correlations with p-values, bootstrap CIs and "
                                   "partial correlations, for score columns of TABLE.csv (one row per model).")
    c.add_argument("table", help="CSV file, e.g. scores.csv of a zoo")
    c.add_argument("--metrics", nargs="+", default=None, help="columns to correlate (default: the standard "
                                                             "scores present)")
    c.add_argument("--target", default="test_accuracy")
    c.add_argument("--covariate", default=None, help="column to control for (partial correlation)")
    c.add_argument("--groups", default=None, help="column whose groups are resampled together (e.g. run)")
    c.add_argument("--n-boot", type=int, default=1000)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", default=None, help="write the full table to this CSV file")
    r = sub.add_parser("report", help="write report.html for a folder holding scores.csv",
                       description="Correlations, label-free ranking, figures and a self-contained HTML page "
                                   "for DIR/scores.csv (written by `neurograph zoo`, `demo` or `score --out`).")
    r.add_argument("dir", help="folder with scores.csv")
    r.add_argument("--title", default="")
    r.add_argument("--target", default="test_accuracy")
    r.add_argument("--covariate", default="n_params")
    r.add_argument("--n-boot", type=int, default=1000)
    r.add_argument("--seed", type=int, default=0)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success, 2 on bad input)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _COMMANDS[args.command](args)
    except (NeurographError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        print(f"neurograph {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _demo(args) -> int:
    from .demo import run_demo
    from .report import correlation_table
    from .zoo import load_zoo_config
    zoo = load_zoo_config(args.zoo) if args.zoo else None
    result = run_demo(args.out, seed=args.seed, n_null=args.n_null, epochs=args.epochs, zoo=zoo,
                      n_boot=args.n_boot, progress=not args.quiet)
    cols = ["model", "test_accuracy", "n_nodes", "n_edges", "modularity", "modularity_z",
            "n_communities", "mean_entropy", "mean_mutual_info", "dead_fraction"]
    print(result.summary[cols].to_string(index=False, float_format=_FLOAT))
    print(f"\nmodel zoo: {len(result.zoo)} checkpoints of {result.zoo['run'].nunique()} runs; "
          "correlation with test accuracy (r [95% bootstrap CI]):")
    print(correlation_table(result.correlations).to_string(index=False))
    print("\nlabel-free ranking (Spearman of predicted vs true accuracy, held-out runs):")
    print(result.rankings.drop(columns="features").to_string(index=False, float_format=_FLOAT))
    print(f"\nwrote results to {Path(args.out).resolve()} in {result.seconds:.1f} s:")
    for model, files in result.paths.items():
        if isinstance(files, dict):
            for kind, path in files.items():
                print(f"  {model:4s} {kind:17s} {path}")
        else:
            print(f"  {model}: {files}")
    print("open the .gexf files in Gephi (File > Open); colours are communities; timeline.gexf has a timeline.")
    print(f"report: {result.report.resolve()}")
    return 0


def _graph(args) -> int:
    import pandas as pd

    from ._io import write_csv
    from .pipeline import analyze, write_analysis
    from .stats import CoactivationStats
    stats = CoactivationStats.load(args.stats)
    name = args.name or Path(args.stats).stem
    result = analyze(stats, weight=args.weight, threshold=args.threshold, top_k=args.top_k,
                     alpha=args.alpha, method=args.method, resolution=args.resolution,
                     n_null=args.n_null, seed=args.seed)
    paths = write_analysis(result, args.out, name=name)
    paths["summary"] = write_csv(pd.DataFrame([{"name": name, **result.summary()}]),
                                 Path(args.out) / f"{name}_summary.csv")
    for kind, path in paths.items():
        print(f"{kind:17s} {path}")
    return 0


def _score(args) -> int:
    from ._io import write_csv
    from .checkpoints import ConfigError, CustomSpec, score_checkpoints
    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--kwargs is not valid JSON: {exc}") from exc
    if not isinstance(kwargs, dict):
        raise ConfigError(f"--kwargs must be a JSON object, got {args.kwargs!r}")
    spec = CustomSpec(name=args.name, factory=args.factory, kwargs=kwargs,
                      checkpoints=tuple(Path(p) for p in args.checkpoint), data=Path(args.data),
                      layers=tuple(args.layers), rule=args.rule, z=args.z, threshold=args.threshold,
                      spatial=args.spatial)
    res = score_checkpoints(spec, n_null=args.n_null, method=args.method, seed=args.seed, search_path=Path.cwd())
    cols = [c for c in ("checkpoint", "test_accuracy", "modularity", "modularity_z", "n_communities",
                        "mean_entropy", "mean_mutual_info", "pattern_entropy", "dead_fraction") if c in res.table]
    print(res.table[cols].to_string(index=False, float_format=_FLOAT))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        print(f"wrote {write_csv(res.table, out)}")
    return 0


def _zoo(args) -> int:
    from .report import correlation_table, write_report
    from .zoo import load_zoo_config, run_zoo
    config = load_zoo_config(args.config)
    res = run_zoo(config, args.out, progress=not args.quiet)
    print(f"trained and scored {len(res.table)} checkpoints in {res.seconds:.1f} s; table: {res.paths['scores']}")
    if not args.no_report:
        rep = write_report(args.out, n_boot=args.n_boot, title=f"neurograph zoo: {config.name}",
                           wall_time=res.seconds)
        print(correlation_table(rep.correlations).to_string(index=False))
        print(f"report: {rep.path.resolve()}")
    return 0


def _correlate(args) -> int:
    from ._io import read_csv, write_csv
    from .correlation import correlate
    from .errors import DataError
    from .report import DEFAULT_METRICS, correlation_table
    path = Path(args.table)
    if not path.is_file():
        raise FileNotFoundError(f"table {str(path)!r} does not exist")
    table = read_csv(path)
    metrics = args.metrics or [m for m in DEFAULT_METRICS if m in table.columns]
    if not metrics:
        raise DataError(f"{str(path)!r} has none of the standard score columns; name them with --metrics")
    res = correlate(table, metrics, args.target, args.covariate, n_boot=args.n_boot, seed=args.seed,
                    groups=args.groups)
    print(correlation_table(res).to_string(index=False))
    if args.out:
        print(f"wrote {write_csv(res, args.out)}")
    return 0


def _report(args) -> int:
    from .report import correlation_table, write_report
    rep = write_report(args.dir, target=args.target, covariate=args.covariate or None, n_boot=args.n_boot,
                       seed=args.seed, title=args.title)
    print(correlation_table(rep.correlations).to_string(index=False))
    print(f"report: {rep.path.resolve()}")
    return 0


_COMMANDS = {"demo": _demo, "graph": _graph, "score": _score, "zoo": _zoo, "correlate": _correlate,
             "report": _report}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
