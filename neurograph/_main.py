"""Command line: ``neurograph demo | graph | score | zoo | correlate | report`` (thin: parse, call, write).

Errors: every failure caused by the input (a bad option value, a missing, unreadable or
malformed file, a folder given for a file or a file for a folder, an output that cannot be
written) ends the command with exit status 2 and exactly one line on stderr,
``neurograph <command>: error: <message>``, the message naming the argument at fault
(``--out``, ``STATS``, ...). ``--verbose`` (before or after the command) prints the
traceback above that line. Usage errors found by argparse are one line too (exit 2).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from .errors import NeurographError, OptionError

__all__ = ["main"]

_FLOAT = lambda v: f"{v:.3f}"  # noqa: E731


class _CliError(NeurographError):
    """An input error found by the command line itself; the message already names the argument."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


_VERBOSE_HELP = "on an error, also print the full traceback"


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="neurograph", description="Graph-analytic interpretability of PyTorch "
                                "classifiers: co-activation graphs, communities, entropy, Gephi export, and "
                                "structure scores related to test accuracy across many models.")
    p.add_argument("--verbose", action="store_true", help=_VERBOSE_HELP)
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
    g.add_argument("stats", metavar="STATS", help="a .npz file written by CoactivationStats.save")
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
                   help="e.g. mypackage.models:build, from an installed package or a folder named by "
                        "--factory-path (standard-library modules are refused)")
    s.add_argument("--factory-path", action="append", default=None, metavar="DIR",
                   help="folder to import the factory's module from (repeatable); the current folder is not "
                        "searched unless named here")
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
    z.add_argument("config", metavar="CONFIG", help="zoo configuration (TOML)")
    z.add_argument("--out", required=True, help="output folder")
    z.add_argument("--n-boot", type=int, default=1000)
    z.add_argument("--no-report", action="store_true", help="skip correlations and report.html")
    z.add_argument("--quiet", action="store_true", help="no progress bars")
    z.add_argument("--factory-path", action="append", default=None, metavar="DIR",
                   help="folder to import [[custom]] factories from (repeatable); never the config's own folder "
                        "unless named here")
    z.add_argument("--executor", choices=("inprocess", "process", "ray"), default="process",
                   help="where the runs are trained and scored: this process, a local process pool (default) or "
                        "a Ray cluster; the tables are the same whatever runs them")
    z.add_argument("--workers", type=int, default=None,
                   help="processes of the pool / CPUs of a local Ray instance (default: all cores)")
    z.add_argument("--address", default=None, help="Ray cluster address, e.g. HOST:6379 (with --executor ray)")
    c = sub.add_parser("correlate", help="correlate score columns of a CSV table with test accuracy",
                       description="Pearson, Spearman and Kendall correlations with p-values, bootstrap CIs and "
                                   "partial correlations, for score columns of TABLE.csv (one row per model).")
    c.add_argument("table", metavar="TABLE", help="CSV file, e.g. scores.csv of a zoo")
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
    r.add_argument("dir", metavar="DIR", help="folder with scores.csv")
    r.add_argument("--title", default="")
    r.add_argument("--target", default="test_accuracy")
    r.add_argument("--covariate", default="n_params")
    r.add_argument("--n-boot", type=int, default=1000)
    r.add_argument("--seed", type=int, default=0)
    for command in sub.choices.values():
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP)
    p.commands = sub.choices  # the sub-command parsers, to name arguments in error messages
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success, 2 on bad input).

    Every error caused by the input (a :class:`~neurograph.errors.NeurographError`, an
    ``OSError``, a file that does not parse) is reported as one line on stderr,
    ``neurograph <command>: error: <message>`` naming the argument at fault, with exit
    status 2; ``--verbose`` prints the traceback first. Usage errors exit through
    ``SystemExit(2)`` after one line.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _COMMANDS[args.command](args)
    except Exception as exc:  # noqa: BLE001 - input errors become one line; anything else propagates
        if not _is_input_error(exc):
            raise
        if getattr(args, "verbose", False):
            traceback.print_exc(file=sys.stderr)
        message = _name_argument(_one_line(exc), args, parser.commands[args.command])
        print(f"neurograph {args.command}: error: {message}", file=sys.stderr)
        return 2


# ---------------------------------------------------------------------------- error reporting
#: Arguments whose values name things (paths, layers, columns): a message quoting such a value is
#: blamed on that argument (first match in this order).
_VALUE_ARGS = ("stats", "config", "table", "dir", "checkpoint", "data", "zoo", "out", "layers", "metrics",
               "target", "covariate", "groups")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERRNO = re.compile(r"^\[Errno \d+\] ")


def _is_input_error(exc: BaseException) -> bool:
    """True for errors caused by the input: neurograph's own, OS/file errors, files that do not parse."""
    import pickle
    import tomllib
    import zipfile

    if isinstance(exc, (NeurographError, OSError, EOFError, UnicodeError, zipfile.BadZipFile,
                        pickle.UnpicklingError, json.JSONDecodeError, tomllib.TOMLDecodeError)):
        return True
    return type(exc).__module__.startswith("pandas.errors")  # ParserError, EmptyDataError, ...


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line: no colour codes, no ``[Errno n]``, torch's
    multi-paragraph ``weights_only`` refusal reduced to its cause."""
    text = _ANSI.sub("", str(exc))
    if "Weights only load failed" in text:
        cause = re.search(r"WeightsUnpickler error: (.*?)(?: Please use|\n|$)", text)
        head = text.split("Weights only load failed")[0].rstrip(" :")
        text = (f"{head + ': ' if head else ''}torch.load(weights_only=True) refused it"
                f"{' (' + cause.group(1).strip().rstrip('.') + ')' if cause else ''}; "
                "save a state_dict (torch.save(model.state_dict(), path)), not a pickled object")
    text = " ".join(text.split())
    if isinstance(exc, OSError) and not isinstance(exc, NeurographError):
        text = _ERRNO.sub("", text)
    return text or type(exc).__name__


def _name_argument(message: str, args, sub: argparse.ArgumentParser) -> str:
    """``message`` naming the command-line argument at fault (unchanged if it names one already).

    A leading option name (``top_k must ...``) becomes the flag (``--top-k must ...``); else a
    message quoting the value of a path, layer or column argument is prefixed with that
    argument (``STATS: ...``, ``--metrics: ...``); else a message starting with the name of a
    positional argument (``stats has ...``) is prefixed with it (``STATS: stats has ...``).
    """
    names = {}
    for action in sub._actions:
        if action.dest in ("help", "verbose"):
            continue
        if action.option_strings:
            names[action.dest] = max(action.option_strings, key=len)
        else:
            names[action.dest] = action.metavar or action.dest.upper()
    if any(re.search(rf"(^|[\s'`(]){re.escape(flag)}(?![\w-])", message) for flag in names.values()
           if flag.startswith("-")) or any(message.startswith(f"{flag}:") for flag in names.values()):
        return message
    first = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?=[\s:=\[])", message)
    lead = names.get(first.group(1)) if first else None
    if lead and lead.startswith("-"):
        return lead + message[first.end():]
    found = []  # (position in the message, order in _VALUE_ARGS, argument)
    for k, dest in enumerate(_VALUE_ARGS):
        value = getattr(args, dest, None)
        for v in (value if isinstance(value, list) else [value]):
            if not isinstance(v, str) or not v:
                continue
            at = [i for i in (message.find(f"'{v}"), message.find(f'"{v}')) if i >= 0]
            at += [0] if message.startswith(f"{v}:") else []
            if at:
                found.append((min(at), k, names.get(dest, dest)))
    if found:
        return f"{min(found)[2]}: {message}"
    return f"{lead}: {message}" if lead else message


# ---------------------------------------------------------------------------- argument checks
def _input_file(flag: str, path) -> Path:
    """``path`` as a Path if it is a readable, non-empty file; else a one-line error naming ``flag``."""
    p = Path(path)
    if p.is_dir():
        raise _CliError(f"{flag}: {str(p)!r} is a folder, not a file")
    if not p.exists():
        raise _CliError(f"{flag}: {str(p)!r} does not exist")
    if not p.is_file():
        raise _CliError(f"{flag}: {str(p)!r} is not a regular file")
    if not os.access(p, os.R_OK):
        raise _CliError(f"{flag}: {str(p)!r} is not readable (permission denied)")
    if p.stat().st_size == 0:
        raise _CliError(f"{flag}: {str(p)!r} is empty")
    return p


def _input_dir(flag: str, path) -> Path:
    p = Path(path)
    if not p.exists():
        raise _CliError(f"{flag}: folder {str(p)!r} does not exist")
    if not p.is_dir():
        raise _CliError(f"{flag}: {str(p)!r} is a file, not a folder")
    return p


def _output_dir(flag: str, path) -> Path:
    """Check that folder ``path`` exists or can be made (nothing is created here)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise _CliError(f"{flag}: {str(p)!r} exists and is a file, not a folder")
    parent = p
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise _CliError(f"{flag}: cannot make folder {str(p)!r}: {str(parent)!r} is a file")
    if not os.access(parent if parent.exists() else Path.cwd(), os.W_OK):
        raise _CliError(f"{flag}: cannot write in {str(parent)!r} (permission denied)")
    return p


def _output_file(flag: str, path, *, make_parent: bool) -> Path:
    """Check that file ``path`` can be written: not a folder, its folder a folder (or makeable)."""
    p = Path(path)
    if p.is_dir():
        raise _CliError(f"{flag}: {str(p)!r} is a folder, not a file")
    if make_parent:
        _output_dir(flag, p.parent)
    elif not p.parent.is_dir():
        raise _CliError(f"{flag}: cannot write {str(p)!r}: folder {str(p.parent)!r} does not exist")
    return p


def _count(flag: str, value: int, minimum: int, *, also: tuple = ()) -> int:
    if value < minimum and value not in also:
        alt = "".join(f"{a} or " for a in also)
        raise OptionError(f"{flag} must be {alt}>= {minimum}, got {value}")
    return value


def _demo(args) -> int:
    from .scoring.correlation import correlation_table
    from .zoo.config import load_zoo_config
    from .zoo.demo import run_demo
    _output_dir("--out", args.out)
    _count("--epochs", args.epochs, 1)
    _count("--n-null", args.n_null, 2, also=(0,))
    _count("--n-boot", args.n_boot, 0)
    zoo = load_zoo_config(_input_file("--zoo", args.zoo)) if args.zoo else None
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

    from .io.atomic import write_csv
    from .scoring.pipeline import analyze, write_analysis
    from .stats import CoactivationStats
    _input_file("STATS", args.stats)
    _output_dir("--out", args.out)
    _count("--n-null", args.n_null, 2, also=(0,))
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
    from .io.atomic import write_csv
    from .errors import ConfigError
    from .zoo.checkpoints import score_checkpoints
    from .zoo.config import CustomSpec
    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--kwargs is not valid JSON: {exc}") from exc
    if not isinstance(kwargs, dict):
        raise ConfigError(f"--kwargs must be a JSON object, got {args.kwargs!r}")
    # the factory, --data and --checkpoint files are checked by score_checkpoints, in that order
    if args.out:
        _output_file("--out", args.out, make_parent=True)
    _count("--n-null", args.n_null, 2, also=(0,))
    spec = CustomSpec(name=args.name, factory=args.factory, kwargs=kwargs,
                      checkpoints=tuple(Path(p) for p in args.checkpoint), data=Path(args.data),
                      layers=tuple(args.layers), rule=args.rule, z=args.z, threshold=args.threshold,
                      spatial=args.spatial)
    res = score_checkpoints(spec, n_null=args.n_null, method=args.method, seed=args.seed, search_path=args.factory_path)
    cols = [c for c in ("checkpoint", "test_accuracy", "modularity", "modularity_z", "n_communities",
                        "mean_entropy", "mean_mutual_info", "pattern_entropy", "dead_fraction") if c in res.table]
    print(res.table[cols].to_string(index=False, float_format=_FLOAT))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        print(f"wrote {write_csv(res.table, out)}")
    return 0


def _zoo(args) -> int:
    from .io.report import write_report
    from .scoring.correlation import correlation_table
    from .zoo.config import load_zoo_config
    from .zoo.runs import run_zoo
    _input_file("CONFIG", args.config)
    _output_dir("--out", args.out)
    _count("--n-boot", args.n_boot, 0)
    from .zoo.executors import Executor
    executor = Executor(args.executor, workers=args.workers, address=args.address)
    config = load_zoo_config(args.config)
    res = run_zoo(config, args.out, progress=not args.quiet, search_path=args.factory_path, executor=executor)
    print(f"trained and scored {len(res.table)} checkpoints in {res.seconds:.1f} s; table: {res.paths['scores']}")
    if not args.no_report:
        rep = write_report(args.out, n_boot=args.n_boot, title=f"neurograph zoo: {config.name}",
                           wall_time=res.seconds)
        print(correlation_table(rep.correlations).to_string(index=False))
        print(f"report: {rep.path.resolve()}")
    return 0


def _correlate(args) -> int:
    from .io.atomic import read_csv, write_csv
    from .scoring.correlation import correlate
    from .errors import DataError
    from .scoring.comparison import DEFAULT_METRICS
    from .scoring.correlation import correlation_table
    path = _input_file("TABLE", args.table)
    if args.out:
        _output_file("--out", args.out, make_parent=False)
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
    from .io.report import write_report
    from .scoring.correlation import correlation_table
    _input_dir("DIR", args.dir)
    rep = write_report(args.dir, target=args.target, covariate=args.covariate or None, n_boot=args.n_boot,
                       seed=args.seed, title=args.title)
    print(correlation_table(rep.correlations).to_string(index=False))
    print(f"report: {rep.path.resolve()}")
    return 0


_COMMANDS = {"demo": _demo, "graph": _graph, "score": _score, "zoo": _zoo, "correlate": _correlate,
             "report": _report}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
