"""Command line: ``neurograph demo | record | graph | score | zoo | correlate | report`` (thin: parse, call, write).

Outputs: ``--out`` is always a folder; where a command writes one main file (``record``: the
statistics, ``score``: ``scores.csv``, ``correlate``: ``correlations.csv``) a path with that
file's suffix (``.npz``, ``.csv``) names the file itself. Every command ends with what it
wrote. Nothing heavy (torch, pandas) is imported until a command runs, so ``--help`` is fast.
An output that is one of the command's inputs (the same file, by inode), a link, a FIFO, a
device or a socket is refused before any work (:func:`~neurograph.io.atomic.check_not_input`,
:func:`~neurograph.io.atomic.check_writable_target`); ``graph DIR/NAME_stats.npz --out DIR``
leaves its input statistics as they are.

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

from ._limits import MAX_CSV_COLUMNS, MAX_EPOCHS, MAX_N_BOOT, MAX_N_NULL, MAX_WORKERS
from .errors import FileFormatError, NeurographError, OptionError
from .io.atomic import check_not_input, check_writable_target

__all__ = ["main"]

_FLOAT = lambda v: f"{v:.3f}"  # noqa: E731


class _CliError(NeurographError):
    """An input error found by the command line itself; the message already names the argument."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


_VERBOSE_HELP = "on an error, also print the full traceback"


_OUT_RULE = "--out is always a folder; a path ending in {suffix} names the one file instead"
_POSITIONS = ("all", "mean", "max", "any", "first", "last")  # neurograph.recording.reading.POSITIONS (no torch here)
_METHODS = ["leiden", "multilevel", "louvain", "networkx"]
_RULES = ["positive", "threshold", "quantile", "zscore"]


def _factory_args(s: argparse.ArgumentParser) -> None:
    """The options that build the user's model: --factory, --kwargs, --factory-path (record and score)."""
    s.add_argument("--factory", required=True, metavar="MODULE:FUNCTION",
                   help="function (or nn.Module class) that builds the model, e.g. mypackage.models:build, from "
                        "neurograph, torch (nn.Module classes), a folder named by --factory-path or a package "
                        "named by --allow-package; anything else is refused before it is imported")
    s.add_argument("--kwargs", default="{}", metavar="JSON",
                   help="JSON object of keyword arguments for the factory (default: %(default)s)")
    s.add_argument("--factory-path", action="append", default=None, metavar="DIR",
                   help="folder to import the factory's module from (repeatable); the current folder is not "
                        "searched unless named here")
    _allow_package_arg(s)


def _allow_package_arg(s: argparse.ArgumentParser) -> None:
    s.add_argument("--allow-package", action="append", default=[], metavar="NAME",
                   help="installed package whose functions may be the factory (repeatable), e.g. torchvision; "
                        "its code is then trusted (options that load code, such as trust_remote_code, are still "
                        "refused)")


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="neurograph", description="Graph-analytic interpretability of PyTorch "
                                "classifiers: co-activation graphs, communities, entropy, Gephi export, and "
                                "structure scores related to test accuracy across many models.",
                epilog="Your own model, from the shell: `neurograph record` (statistics of a checkpoint) -> "
                       "`neurograph graph` (Gephi files, scores) -> `neurograph report` (HTML page). --out is "
                       "always an output folder.")
    p.add_argument("--version", action="version", version=f"neurograph {__version__}",
                   help="print the version and exit")
    p.add_argument("--verbose", action="store_true", help=_VERBOSE_HELP)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", help="run the whole pipeline and a small model zoo on built-in data",
                       description="Train a small MLP and CNN on scikit-learn's digits, record their hidden "
                                   "layers, and write graphs (GEXF, GraphML), tables (CSV) and figures (PNG); "
                                   "then train a small model zoo (digits and a generated task), score every "
                                   "checkpoint, correlate the scores with test accuracy and write report.html "
                                   "and a dynamic GEXF (timeline.gexf).")
    d.add_argument("--out", default="neurograph-demo", metavar="DIR", help="output folder (default: %(default)s)")
    d.add_argument("--seed", type=int, default=0, help="random seed of data, training and scores (default: 0)")
    d.add_argument("--n-null", type=int, default=20, metavar="N",
                   help="rewired null graphs for the MLP/CNN modularity z-score, 0 or >= 2 (default: %(default)s)")
    d.add_argument("--epochs", type=int, default=40, metavar="N",
                   help="training epochs of the MLP and CNN (default: %(default)s)")
    d.add_argument("--zoo", default=None, metavar="CONFIG.toml",
                   help="zoo to train instead of the built-in demo zoo (see `neurograph zoo --help`)")
    d.add_argument("--n-boot", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for the correlation CIs (default: %(default)s)")
    d.add_argument("--quiet", action="store_true", help="no progress bars")
    r = sub.add_parser("record", help="record co-firing statistics of your own model (factory + state_dict)",
                       description="Build your model with --factory (called with --kwargs), load --checkpoint "
                                   "(a state_dict, read with torch.load(weights_only=True): neurograph never "
                                   "unpickles code, so a whole pickled model is refused; save "
                                   "model.state_dict() and name the function that builds the model), run it on "
                                   "DATA and count which neurons of --layers fire together. Writes "
                                   "OUT/NAME_stats.npz (read it with `neurograph graph` or "
                                   "CoactivationStats.load); with labels y also the test accuracy. --dry-run "
                                   "shows what would be recorded (per layer: output shape, neuron axis, "
                                   "neurons, positions, samples per input) and the memory, and writes nothing.")
    _factory_args(r)
    r.add_argument("--checkpoint", default=None, metavar="CKPT.pt",
                   help="state_dict file to load into the model (default: the factory's own weights)")
    r.add_argument("data", metavar="DATA", nargs="?", default=None,
                   help=".npz with arrays X (and y), or .pt dict of tensors {X, y}")
    r.add_argument("--layers", nargs="+", default=None, metavar="LAYER",
                   help="module names to record, as in model.named_modules() (glob patterns allowed); "
                        "with --dry-run and no --layers, the model's modules are listed")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="output folder; writes DIR/NAME_stats.npz (" + _OUT_RULE.format(suffix=".npz") + ")")
    r.add_argument("--name", default=None,
                   help="file name prefix (default: the checkpoint's stem, else the factory's name)")
    r.add_argument("--rule", default="positive", choices=_RULES,
                   help="when a neuron fires: value > 0, > --threshold, > its --quantile, or z-score > --z "
                        "(default: %(default)s)")
    r.add_argument("--threshold", type=float, default=0.0, help="threshold of the threshold rule (default: 0)")
    r.add_argument("--z", type=float, default=1.0, help="z of the zscore rule (default: 1)")
    r.add_argument("--quantile", type=float, default=0.9, help="quantile of the quantile rule (default: 0.9)")
    r.add_argument("--calibration-samples", type=int, default=10_000, metavar="N",
                   help="rows of DATA the quantile rule calibrates on (default: %(default)s)")
    r.add_argument("--positions", default=None, choices=_POSITIONS,
                   help="what every non-neuron axis (space, tokens, time) becomes: each position a sample "
                        "(all), one sample per input (mean, max, any, first, last); default: --spatial for conv "
                        "maps, --time for sequences")
    r.add_argument("--spatial", default="mean", choices=_POSITIONS,
                   help="positions of conv feature maps when --positions is not given (default: %(default)s)")
    r.add_argument("--time", default="all", choices=_POSITIONS,
                   help="positions of token and recurrent outputs when --positions is not given "
                        "(default: %(default)s)")
    r.add_argument("--neuron-axis", nargs="+", default=["auto"], metavar="AXIS",
                   help="axis of each layer output holding the neurons: auto, an int, or LAYER=INT pairs "
                        "(glob patterns) (default: auto)")
    r.add_argument("--batch-size", type=int, default=256, metavar="B", help="inputs per batch (default: 256)")
    r.add_argument("--patterns", action="store_true",
                   help="also count each layer's whole firing patterns (for pattern entropy)")
    r.add_argument("--moments", action="store_true",
                   help="also keep means and covariances of the raw activations (Pearson statistics)")
    r.add_argument("--device", default="cpu", metavar="DEVICE",
                   help="torch device to record on: cpu, cuda, cuda:1, mps (default: %(default)s); the inputs "
                        "follow the model there batch by batch")
    r.add_argument("--memory-limit", default=None, metavar="BYTES",
                   help="memory the recording may take, in bytes or with a unit (512M, 8G, 2GiB); default: the "
                        "memory available")
    r.add_argument("--no-accuracy", action="store_true",
                   help="do not measure the test accuracy (one more pass over DATA when it has labels)")
    r.add_argument("--dry-run", action="store_true",
                   help="show per layer what would be recorded and the memory it needs; write nothing")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    g = sub.add_parser("graph", help="graph, communities, entropy and Gephi files from saved statistics",
                       description="Read statistics written by `neurograph record` (or CoactivationStats.save) "
                                   "and write the activation graph (NAME.gexf, NAME.graphml), per-neuron and "
                                   "per-layer CSVs, NAME_summary.csv (one row of scores; the test accuracy when "
                                   "the statistics carry it) and figures into the --out folder. `neurograph "
                                   "report DIR` then makes an HTML page of every graph in the folder.")
    g.add_argument("stats", metavar="STATS", help="a .npz file written by `neurograph record` or CoactivationStats.save")
    g.add_argument("--out", required=True, metavar="DIR", help="output folder")
    g.add_argument("--baseline", default=None, metavar="STATS0",
                   help="statistics of the untrained network on the same data (e.g. `neurograph record` of the "
                        "epoch-0 checkpoint), analysed the same way: NAME_untrained.csv and <score>_untrained, "
                        "<score>_delta columns in NAME_summary.csv")
    g.add_argument("--name", default=None,
                   help="file name prefix (default: the stats file's stem without a trailing _stats)")
    g.add_argument("--weight", default="npmi", choices=["count", "jaccard", "npmi", "phi"],
                   help="edge weight (default: %(default)s)")
    g.add_argument("--threshold", type=float, default=0.0, help="keep edges of weight above this (default: 0)")
    g.add_argument("--top-k", type=int, default=None, metavar="K", help="keep each neuron's K strongest edges")
    g.add_argument("--alpha", type=float, default=None, help="keep edges significant at this FDR level")
    g.add_argument("--method", default="leiden", choices=_METHODS,
                   help="community detection (default: %(default)s)")
    g.add_argument("--resolution", type=float, default=1.0, help="modularity resolution (default: 1)")
    g.add_argument("--n-null", type=int, default=20, metavar="N",
                   help="rewired null graphs for the modularity z-score, 0 or >= 2 (default: %(default)s)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    g.add_argument("--quiet", action="store_true", help="no progress bar (over the null graphs)")
    s = sub.add_parser("score", help="structure scores (and accuracy) of your own model checkpoints",
                       description="Build a model with --factory, load each checkpoint (a state_dict, read with "
                                   "weights_only=True), record --layers on the data file and print one row of "
                                   "scores per checkpoint (test accuracy when the data has labels y). With --out "
                                   "DIR it writes DIR/scores.csv and DIR/neurons.csv; `neurograph report DIR` "
                                   "then writes the HTML page.")
    _factory_args(s)
    s.add_argument("--checkpoint", required=True, nargs="+", metavar="CKPT.pt", help="state_dict file(s)")
    s.add_argument("--data", required=True, help=".npz with arrays X (and y), or .pt dict of tensors {X, y}")
    s.add_argument("--layers", required=True, nargs="+", metavar="LAYER",
                   help="module names to record (glob patterns allowed)")
    s.add_argument("--name", default="model", help="run name in the table (default: %(default)s)")
    s.add_argument("--runs", default="one", choices=["one", "each"],
                   help="'one': the checkpoints are stages of one run named --name; 'each': every checkpoint is "
                        "its own run, named by its file name without suffix, so that the report ranks them as "
                        "separate models (default: %(default)s)")
    s.add_argument("--rule", default="positive", choices=_RULES, help="firing rule (default: %(default)s)")
    s.add_argument("--z", type=float, default=1.0, help="z of the zscore rule (default: 1)")
    s.add_argument("--threshold", type=float, default=0.0, help="threshold of the threshold rule (default: 0)")
    s.add_argument("--spatial", default="mean", choices=["mean", "max", "any"],
                   help="positions of conv feature maps (default: %(default)s)")
    s.add_argument("--n-null", type=int, default=10, metavar="N",
                   help="rewired null graphs for the modularity z-score (default: %(default)s)")
    s.add_argument("--method", default="leiden", choices=_METHODS, help="community detection (default: %(default)s)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    s.add_argument("--baseline", default=None, metavar="untrained|CKPT.pt",
                   help="also score the untrained network on the same data and add <score>_untrained and "
                        "<score>_delta columns: 'untrained' re-initialises a copy of the model (reset_parameters "
                        "under --seed), a state_dict file (e.g. the epoch-0 checkpoint) is loaded instead; "
                        "about doubles the time of one checkpoint")
    s.add_argument("--out", default=None, metavar="DIR",
                   help="output folder for scores.csv and neurons.csv (" + _OUT_RULE.format(suffix=".csv")
                        + ", the older spelling)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    z = sub.add_parser("zoo", help="train, checkpoint and score a model zoo described by a TOML file",
                       description="Train every run of CONFIG.toml (see the neurograph.zoo module docstring for "
                                   "the format), save state_dict checkpoints, score every checkpoint, and write "
                                   "scores.csv, neurons.csv, timeline.gexf, correlations and report.html.")
    z.add_argument("config", metavar="CONFIG", help="zoo configuration (TOML)")
    z.add_argument("--out", required=True, metavar="DIR", help="output folder")
    z.add_argument("--n-boot", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for the correlation CIs (default: %(default)s)")
    z.add_argument("--no-report", action="store_true", help="skip correlations and report.html")
    z.add_argument("--quiet", action="store_true", help="no progress bars")
    z.add_argument("--factory-path", action="append", default=None, metavar="DIR",
                   help="folder to import [[custom]] factories from (repeatable); never the config's own folder "
                        "unless named here")
    _allow_package_arg(z)
    z.add_argument("--executor", choices=("inprocess", "process", "ray"), default="process",
                   help="where the runs are trained and scored: this process, a local process pool (default) or "
                        "a Ray cluster; the tables are the same whatever runs them")
    z.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes of the pool / CPUs of a local Ray instance (default: all cores)")
    z.add_argument("--address", default=None, help="Ray cluster address, e.g. HOST:6379 (with --executor ray)")
    c = sub.add_parser("correlate", help="correlate score columns of a CSV table with test accuracy",
                       description="Pearson, Spearman and Kendall correlations with p-values, bootstrap CIs and "
                                   "partial correlations, for score columns of TABLE.csv (one row per model); "
                                   "per task when the table has a task column (as the report), unless --pool.")
    c.add_argument("table", metavar="TABLE", help="CSV file, e.g. scores.csv of a zoo")
    c.add_argument("--metrics", nargs="+", default=None, metavar="COLUMN",
                   help="columns to correlate (default: the standard scores present)")
    c.add_argument("--target", default="test_accuracy", metavar="COLUMN",
                   help="column to correlate with (default: %(default)s)")
    c.add_argument("--covariate", default=None, metavar="COLUMN", help="column to control for (partial correlation)")
    c.add_argument("--groups", default=None, metavar="COLUMN",
                   help="column whose groups are resampled together and counted as the independent runs of the "
                        "verdict (default: run, when the table has it; '' for none: every row is independent)")
    c.add_argument("--pool", action="store_true", help="pool the tasks of a table with a task column")
    c.add_argument("--n-boot", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for the CIs (default: %(default)s)")
    c.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    c.add_argument("--out", default=None, metavar="DIR",
                   help="output folder for correlations.csv (" + _OUT_RULE.format(suffix=".csv")
                        + ", the older spelling)")
    t = sub.add_parser("report", help="report.html for a folder of scores (zoo, score) or of graphs (graph)",
                       description="Correlations, label-free ranking, figures and a self-contained HTML page for "
                                   "DIR/scores.csv (written by `neurograph zoo`, `demo` or `score --out DIR`), or, "
                                   "in a folder of `neurograph graph` outputs without scores.csv, for its graphs "
                                   "(one row per NAME_summary.csv, collected into OUT/scores.csv).")
    t.add_argument("dir", metavar="DIR", help="folder with scores.csv, or with NAME_summary.csv files of `neurograph graph`")
    t.add_argument("--out", default=None, metavar="DIR",
                   help="output folder for report.html, its CSVs and figures (default: DIR itself); the inputs "
                        "are copied there")
    t.add_argument("--title", default="", help="page title (default: neurograph report: FOLDER NAME)")
    t.add_argument("--target", default="test_accuracy", metavar="COLUMN",
                   help="accuracy column (default: %(default)s)")
    t.add_argument("--covariate", default="n_params", metavar="COLUMN",
                   help="column partial correlations control for, '' for none (default: %(default)s)")
    t.add_argument("--n-boot", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for the CIs (default: %(default)s)")
    t.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
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
    for stream in (sys.stdout, sys.stderr):  # a path that is not UTF-8 (b"\xff") is printed as \udcff, not a crash
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
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


def _check_output(path, inputs: dict) -> None:
    """Before any work: refuse an output file that is one of the ``inputs`` (by inode), a link, a FIFO,
    a device or a socket (:func:`~neurograph.io.atomic.check_writable_target`), naming ``--out``."""
    check_not_input(path, inputs)
    if os.path.lexists(path) and Path(path).parent.is_dir():
        try:
            check_writable_target(path)
        except OSError as exc:
            err = type(exc)(f"--out: {exc}")
            err.errno = exc.errno
            raise err from None


def _check_subfolders(out, names) -> None:
    """Before any work: refuse a folder ``out/NAME`` the command writes into (``figures``, ...) that is a
    symbolic link or not a folder, naming ``--out`` (neurograph never writes through a link)."""
    for n in names:
        p = Path(out) / n
        if p.is_symlink():
            raise FileFormatError(f"--out: {str(p)!r} is a symbolic link (to {os.readlink(p)!r}); neurograph does "
                                  "not write through links: remove it or write elsewhere")
        if p.exists() and not p.is_dir():
            raise _CliError(f"--out: cannot write into {str(p)!r}: it is a file, not a folder")


def _count(flag: str, value: int, minimum: int, *, also: tuple = (), maximum: int | None = None) -> int:
    if value < minimum and value not in also:
        alt = "".join(f"{a} or " for a in also)
        raise OptionError(f"{flag} must be {alt}>= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise OptionError(f"{flag} must be <= {maximum:,} (neurograph's limit), got {value:,}")
    return value


def _demo(args) -> int:
    from .scoring.correlation import correlation_table
    from .zoo.config import load_zoo_config
    from .zoo.demo import run_demo
    _output_dir("--out", args.out)
    _count("--epochs", args.epochs, 1, maximum=MAX_EPOCHS)
    _count("--n-null", args.n_null, 2, also=(0,), maximum=MAX_N_NULL)
    _count("--n-boot", args.n_boot, 0, maximum=MAX_N_BOOT)
    for n in _REPORT_OUTPUTS + ("scores.csv", "neurons.csv", "summary.csv"):  # a link or FIFO: refused now
        _check_output(Path(args.out) / n, {"--zoo": args.zoo})
    _check_subfolders(args.out, ("figures", "timeline", "checkpoints"))
    zoo = load_zoo_config(_input_file("--zoo", args.zoo)) if args.zoo else None
    result = run_demo(args.out, seed=args.seed, n_null=args.n_null, epochs=args.epochs, zoo=zoo,
                      n_boot=args.n_boot, progress=_progress(args))
    cols = ["model", "test_accuracy", "n_nodes", "n_edges", "modularity", "modularity_z",
            "n_communities", "mean_entropy", "mean_mutual_info", "dead_fraction",
            "modularity_untrained", "modularity_z_untrained"]
    print(result.summary[[c for c in cols if c in result.summary]].to_string(index=False, float_format=_FLOAT))
    print(f"\nmodel zoo: {len(result.zoo)} checkpoints of {result.zoo['run'].nunique()} runs; "
          "correlation with test accuracy (r [95% bootstrap CI]):")
    print(correlation_table(result.correlations).to_string(index=False))
    print("\nlabel-free ranking (Spearman of predicted vs true accuracy, held-out runs):")
    print(result.rankings.drop(columns=["features", "n_dropped", "dropped_reason"], errors="ignore")
          .to_string(index=False, float_format=_FLOAT))
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


def _record(args) -> int:
    from dataclasses import replace

    from .errors import FileFormatError
    from .recording import list_layers, preview, record
    from .zoo.checkpoints import load_checkpoint, load_data_file
    from .zoo.factories import build_model, check_factory_allowed, load_factory
    _data_after_lists(args)
    kwargs = _json_kwargs(args.kwargs)
    check_factory_allowed(args.factory, factory_path=args.factory_path, allow_packages=args.allow_package)
    if args.checkpoint is not None:
        _input_file("--checkpoint", args.checkpoint)
    _input_file("DATA", args.data)
    if not args.dry_run:
        if args.layers is None:
            raise _CliError("--layers: name the modules to record (see them with `neurograph record ... --dry-run`)")
        if args.out is None:
            raise _CliError("--out: name the output folder (or STATS.npz file)")
    name = args.name or (Path(args.checkpoint).stem if args.checkpoint else args.factory.split(":")[1].split(".")[-1])
    out = None
    if args.out is not None and not args.dry_run:
        out = (_output_file("--out", args.out, make_parent=True) if args.out.endswith(".npz")
               else _output_dir("--out", args.out) / f"{_file_prefix(name)}_stats.npz")
        _check_output(out, {"DATA": args.data, "--checkpoint": args.checkpoint})
    _count("--batch-size", args.batch_size, 1)
    _count("--calibration-samples", args.calibration_samples, 1)
    neuron_axis = _neuron_axis(args.neuron_axis)
    memory_limit = _bytes("--memory-limit", args.memory_limit)
    device = _device("--device", args.device)
    X, y = load_data_file(args.data)
    model = build_model(load_factory(args.factory, factory_path=args.factory_path,
                                     allow_packages=args.allow_package), kwargs, args.factory)
    if args.checkpoint is not None:
        try:
            load_checkpoint(model, args.checkpoint)
        except FileFormatError as exc:
            if "holds Python objects" not in str(exc):
                raise
            text = f"--{exc}" if str(exc).startswith("checkpoint ") else f"--checkpoint: {exc}"
            raise FileFormatError(f"{text}; save the weights (torch.save(model.state_dict(), path)) and build the "
                                  "model with --factory") from exc
    model.to(device)
    reading = {"neuron_axis": neuron_axis, "positions": args.positions, "spatial": args.spatial, "time": args.time}
    if args.dry_run:
        if args.layers is None:
            print(list_layers(model).to_string(index=False))
            print(f"\n{type(model).__name__}: pass module names from the `name` column to --layers")
            return 0
        plan = preview(model, (X, y), args.layers, batch_size=args.batch_size, moments=args.moments,
                       memory_limit=memory_limit, **reading)
        print(plan)
        print(f"dry run: {len(X)} inputs in {args.data}; nothing written")
        return 0
    stats = record(model, (X, y), args.layers, args.rule, threshold=args.threshold, quantile=args.quantile, z=args.z,
                   batch_size=args.batch_size, patterns=args.patterns, moments=args.moments,
                   memory_limit=memory_limit, calibration_samples=args.calibration_samples,
                   progress=_progress(args), **reading)
    acc = None
    if y is not None and not args.no_accuracy:
        acc = _accuracy(model, X, y)
    source = {"factory": args.factory, "kwargs": kwargs, "data": str(args.data), "n_inputs": len(X)}
    if args.checkpoint is not None:
        source["checkpoint"] = str(args.checkpoint)
    if acc is not None:
        source["test_accuracy"] = acc
    stats = replace(stats, meta={**stats.meta, "source": source})
    out.parent.mkdir(parents=True, exist_ok=True)
    path = stats.save(out)
    _record_summary(stats, name=name, acc=acc, path=path)
    return 0


def _graph(args) -> int:
    import pandas as pd

    from .io.atomic import write_csv
    from .scoring.pipeline import analyze, write_analysis
    from .stats import CoactivationStats
    _input_file("STATS", args.stats)
    _output_dir("--out", args.out)
    _count("--n-null", args.n_null, 2, also=(0,), maximum=MAX_N_NULL)
    baseline = CoactivationStats.load(_input_file("--baseline", args.baseline)) if args.baseline else None
    stats = CoactivationStats.load(args.stats)
    name = args.name or _stats_name(args.stats)
    out_dir = Path(args.out)
    for suffix in (".gexf", ".graphml", "_neurons.csv", "_layers.csv", "_coactivation.png", "_entropy.png",
                   "_summary.csv", "_untrained.csv"):
        _check_output(out_dir / f"{name}{suffix}", {"STATS": args.stats, "--baseline": args.baseline})
    # `graph DIR/NAME_stats.npz --out DIR` is the usual flow: the statistics are not rewritten onto themselves
    same_stats = (out_dir / f"{name}_stats.npz").exists() and os.path.samefile(out_dir / f"{name}_stats.npz",
                                                                               args.stats)
    result = analyze(stats, weight=args.weight, threshold=args.threshold, top_k=args.top_k,
                     alpha=args.alpha, method=args.method, resolution=args.resolution,
                     n_null=args.n_null, seed=args.seed, progress=_progress(args), baseline=baseline)
    paths = write_analysis(result, args.out, name=name, write_stats=not same_stats)
    row = {"name": name}
    source = stats.meta.get("source") if isinstance(stats.meta.get("source"), dict) else {}
    if isinstance(source.get("test_accuracy"), (int, float)):
        row["test_accuracy"] = float(source["test_accuracy"])
    summary = result.summary()
    paths["summary"] = write_csv(pd.DataFrame([{**row, **summary}]), Path(args.out) / f"{name}_summary.csv")
    print(f"{name}: {summary['n_nodes']} of {summary['n_neurons']} neurons in the graph, {summary['n_edges']} edges, "
          f"{summary['n_communities']} communities, modularity {summary['modularity']:.3f} "
          f"(z {summary['modularity_z']:.2f}), mean entropy {summary['mean_entropy']:.3f}"
          + (f"; untrained: modularity {summary['modularity_untrained']:.3f} "
             f"(z {summary['modularity_z_untrained']:.2f})" if baseline is not None else "")
          + (f", test accuracy {row['test_accuracy']:.3f}" if "test_accuracy" in row else ""))
    _wrote(paths)
    print(f"open {paths['gexf']} in Gephi; `neurograph report {args.out}` for the HTML page")
    return 0


def _score(args) -> int:
    from .io.atomic import write_csv
    from .zoo.checkpoints import score_checkpoints
    from .zoo.config import CustomSpec
    kwargs = _json_kwargs(args.kwargs)
    # the factory, --data and --checkpoint files are checked by score_checkpoints, in that order
    out_file = out_dir = None
    if args.out and args.out.endswith(".csv"):
        out_file = _output_file("--out", args.out, make_parent=True)
    elif args.out:
        out_dir = _output_dir("--out", args.out)
    inputs = {"--data": args.data, "--checkpoint": list(args.checkpoint)}
    for target in ([out_file] if out_file is not None else [out_dir / "scores.csv", out_dir / "neurons.csv"]
                   if out_dir is not None else []):
        _check_output(target, inputs)
    _count("--n-null", args.n_null, 2, also=(0,), maximum=MAX_N_NULL)
    spec = CustomSpec(name=args.name, factory=args.factory, kwargs=kwargs,
                      checkpoints=tuple(Path(p) for p in args.checkpoint), data=Path(args.data),
                      layers=tuple(args.layers), rule=args.rule, z=args.z, threshold=args.threshold,
                      spatial=args.spatial)
    res = score_checkpoints(spec, n_null=args.n_null, method=args.method, seed=args.seed,
                            factory_path=args.factory_path, allow_packages=args.allow_package,
                            progress=_progress(args), baseline=args.baseline)
    # the position in --checkpoint is no epoch: name it for what it is
    table = res.table.rename(columns={"epoch": "checkpoint_index"})
    neurons = res.neurons.rename(columns={"epoch": "checkpoint_index"})
    if args.runs == "each":
        names = _run_names([Path(p) for p in args.checkpoint])
        table["run"] = [names[k] for k in table["checkpoint_index"]]
        neurons["run"] = [names[k] for k in neurons["checkpoint_index"]]
    cols = [c for c in ("checkpoint", "test_accuracy", "modularity", "modularity_z", "n_communities",
                        "mean_entropy", "mean_mutual_info", "pattern_entropy", "dead_fraction",
                        "modularity_untrained", "modularity_z_untrained", "mean_entropy_untrained") if c in table]
    print(table[cols].to_string(index=False, float_format=_FLOAT))
    paths = {}
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        paths["scores"] = write_csv(table, out_file)
    elif out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths["scores"] = write_csv(table, out_dir / "scores.csv")
        paths["neurons"] = write_csv(neurons, out_dir / "neurons.csv")
    print(f"\nscored {len(table)} checkpoint(s) in {res.seconds:.1f} s")
    _wrote(paths)
    if paths:
        print(f"`neurograph report {paths['scores'].parent}` for the HTML page")
    return 0


def _zoo(args) -> int:
    from .io.report import write_report
    from .scoring.correlation import correlation_table
    from .zoo.config import load_zoo_config
    from .zoo.runs import run_zoo
    _input_file("CONFIG", args.config)
    _output_dir("--out", args.out)
    for n in _REPORT_OUTPUTS + ("scores.csv", "neurons.csv"):
        _check_output(Path(args.out) / n, {"CONFIG": args.config})
    _check_subfolders(args.out, ("figures", "timeline", "checkpoints"))
    _count("--n-boot", args.n_boot, 0, maximum=MAX_N_BOOT)
    if args.workers is not None:
        _count("--workers", args.workers, 1, maximum=MAX_WORKERS)
    from .zoo.executors import Executor
    executor = Executor(args.executor, workers=args.workers, address=args.address)
    config = load_zoo_config(args.config)
    res = run_zoo(config, args.out, progress=_progress(args), factory_path=args.factory_path,
                  allow_packages=args.allow_package, executor=executor)
    print(f"trained and scored {len(res.table)} checkpoints in {res.seconds:.1f} s; table: {res.paths['scores']}")
    if not args.no_report:
        rep = write_report(args.out, n_boot=args.n_boot, title=f"neurograph zoo: {config.name}",
                           wall_time=res.seconds)
        print(correlation_table(rep.correlations).to_string(index=False))
        if rep.comparison is not None:
            _print_verdicts(rep.comparison)
        print(f"report: {rep.path.resolve()}")
    return 0


def _correlate(args) -> int:
    import pandas as pd

    from .errors import DataError
    from .io.atomic import read_csv, write_csv
    from .scoring.comparison import DEFAULT_METRICS
    from .scoring.correlation import correlate, correlation_table
    from .scoring.verdicts import calibrated_correlations
    path = _input_file("TABLE", args.table)
    out = None
    if args.out and args.out.endswith(".csv"):
        out = _output_file("--out", args.out, make_parent=False)
    elif args.out:
        out = _output_dir("--out", args.out) / "correlations.csv"
    if out is not None:
        _check_output(out, {"TABLE": path})
    _count("--n-boot", args.n_boot, 0, maximum=MAX_N_BOOT)
    _check_csv_width(path, "TABLE")
    table = read_csv(path)
    metrics = args.metrics or [m for m in DEFAULT_METRICS if m in table.columns]
    if not metrics:
        raise DataError(f"{str(path)!r} has none of the standard score columns; name them with --metrics")
    by_task = "task" in table.columns and not args.pool
    groups = args.groups if args.groups is not None else ("run" if "run" in table.columns else None)
    parts = []
    for task, sub in (table.groupby("task", sort=True) if by_task else [(None, table)]):
        res = correlate(sub, metrics, args.target, args.covariate, n_boot=args.n_boot, seed=args.seed,
                        groups=groups or None)
        if task is not None:
            res.insert(0, "task", task)
        parts.append(res)
    res = calibrated_correlations(pd.concat(parts, ignore_index=True))   # the numbers and words printed
    print(correlation_table(res).to_string(index=False))
    tasks = table["task"].nunique() if by_task else 1
    print(f"\n{len(metrics)} metric(s) against {args.target!r} over {len(table)} rows"
          + (f", per task ({tasks})" if by_task else (", tasks pooled" if "task" in table.columns else ""))
          + (f"; rows of one {groups!r} resampled together and counted as one run" if groups else ""))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        _wrote({"correlations": write_csv(res, out)})
    return 0


def _report(args) -> int:
    from .io.report import write_report
    from .scoring.correlation import correlation_table
    src = _input_dir("DIR", args.dir)
    out = _output_dir("--out", args.out) if args.out else src
    _count("--n-boot", args.n_boot, 0, maximum=MAX_N_BOOT)
    for table_file in sorted(src.glob("*.csv")):  # every table the report may read, before pandas parses one
        if table_file.is_file():
            _check_csv_width(table_file, "DIR")
    summaries = _graph_summaries(src)
    scores = src / "scores.csv"
    from_graphs = bool(summaries) and (not scores.is_file() or "summary_file" in _csv_columns(scores))
    if not from_graphs and not scores.is_file():
        raise _CliError(f"DIR: {str(scores)!r} does not exist: write it with `neurograph zoo`, `neurograph score "
                        f"--out {src}`, or put `neurograph graph --out {src}` outputs there")
    inputs = {"DIR": [src / n for n in _REPORT_INPUTS if not (from_graphs and n == "scores.csv")] + summaries}
    for n in _REPORT_OUTPUTS + (("scores.csv",) if from_graphs else ()):
        _check_output(out / n, inputs)
    _check_subfolders(out, ("figures", "timeline") if out.resolve() != src.resolve() else ("figures",))
    if out.resolve() != src.resolve():  # the copies too: a link or FIFO among them is refused before any copy
        copied = [n for n in _REPORT_INPUTS if (src / n).is_file()] + [p.name for p in src.glob("*_coactivation.png")]
        for n in copied:
            _check_output(out / n, {})
    table = _stack_summaries(summaries, target=args.target) if from_graphs else None
    out.mkdir(parents=True, exist_ok=True)
    if table is not None:
        from .io.atomic import write_csv
        write_csv(table, out / "scores.csv")
    if out.resolve() != src.resolve():
        _copy_report_inputs(src, out, skip_scores=from_graphs)
    rep = write_report(out, target=args.target, covariate=args.covariate or None, n_boot=args.n_boot,
                       seed=args.seed, title=args.title)
    print(correlation_table(rep.correlations).to_string(index=False))
    if rep.comparison is not None:
        _print_verdicts(rep.comparison)
    n = len(rep.comparison.table) if rep.comparison is not None else None
    print(f"\n{'' if n is None else n} model(s){' (one per graph)' if from_graphs else ''}, "
          f"{len(rep.figures)} figure(s)" + ("; correlations need 3 or more models" if n is not None and n < 3 else ""))
    _wrote({"report": rep.path, "scores": out / "scores.csv", "correlations": out / "correlations.csv",
            "ranking": out / "ranking.csv", "figures": out / "figures"})
    print(f"report: {rep.path.resolve()}")
    return 0


# ---------------------------------------------------------------------------- helpers of the commands
def _print_verdicts(comparison) -> None:
    """The verdict sentences of the report's summary (correlation of modularity, label-free ranking)."""
    v = comparison.verdicts
    v = v[(v["section"] == "ranking") | ((v["section"] == "correlation") & (v["metric"] == "modularity"))]
    if len(v):
        multi = v["task"].nunique() > 1
        print("\nverdicts:")
        for task, text in zip(v["task"], v["verdict"]):
            print(f"  {task + ': ' if multi else ''}{text}")


_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}


def _progress(args) -> bool:
    """Progress bars unless ``--quiet``, and only on a terminal: a log or a pipe gets the one-line errors alone."""
    return not args.quiet and sys.stderr.isatty()


def _data_after_lists(args) -> None:
    """``record --layers a b DATA``: argparse gives DATA to the list option before it; take it back."""
    if args.data is None:
        for dest in ("layers", "neuron_axis"):
            values = getattr(args, dest)
            if values and len(values) > 1 and Path(values[-1]).suffix in (".npz", ".pt", ".pth"):
                args.data = values.pop()
                return
        raise _CliError("DATA: name the data file (.npz with X and y, or .pt), e.g. `neurograph record ... test.npz`")


def _json_kwargs(text: str) -> dict:
    """``--kwargs``: a JSON object of plain data (:func:`neurograph.zoo.factories.check_factory_kwargs`)."""
    from .errors import ConfigError
    from .zoo.factories import check_factory_kwargs
    try:
        kwargs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--kwargs is not valid JSON: {exc}") from exc
    except RecursionError:
        raise ConfigError("--kwargs is nested too deeply to parse") from None
    except ValueError as exc:  # json's own limits (an integer of more than 4300 digits, ...)
        raise ConfigError(f"--kwargs is not valid JSON: {' '.join(str(exc).split())[:200]}") from exc
    if not isinstance(kwargs, dict):
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ConfigError(f"--kwargs must be a JSON object, got {shown!r}")
    return check_factory_kwargs(kwargs, "--kwargs")


def _device(flag: str, text: str):
    """A torch device that this machine has, or a one-line error naming ``flag``."""
    import torch
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError, ValueError):
        raise _CliError(f"{flag}: {text!r} is not a torch device (e.g. cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise _CliError(f"{flag}: {text!r} asked, but this torch build sees no CUDA device "
                            f"(torch {torch.__version__}, torch.cuda.is_available() is False)")
        if device.index is not None and device.index >= n:
            raise _CliError(f"{flag}: {text!r} asked, but there are only {n} CUDA device(s) (0..{n - 1})")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise _CliError(f"{flag}: {text!r} asked, but MPS is not available here")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise _CliError(f"{flag}: {text!r}: neurograph records on cpu, cuda or mps")
    return device


def _bytes(flag: str, text: str | None) -> int | None:
    """``"8G"``, ``"512MiB"``, ``"1000"`` as a number of bytes (None stays None)."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|[KMGT]B|B)?\s*", text, flags=re.IGNORECASE)
    unit = (m.group(2) or "").lower().rstrip("b") if m else ""
    unit = unit + "b" if unit.endswith("i") else unit
    value = float(m.group(1)) * _UNITS[unit] if m and unit in _UNITS else 0.0
    if not 1 <= value < 2**63:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise OptionError(f"{flag} must be a positive number of bytes below 2**63, optionally with a unit (512M, 8G, "
                          f"2GiB), got {shown!r}")
    return int(value)


def _neuron_axis(values: list[str]):
    """``--neuron-axis``: ``auto``, one int, or ``LAYER=INT`` pairs (a dict)."""
    if len(values) == 1 and "=" not in values[0]:
        v = values[0]
        if v == "auto":
            return v
        if re.fullmatch(r"-?\d{1,9}", v):
            return int(v)
    axes = {}
    for v in values:
        layer, _, axis = v.rpartition("=")
        if not layer or not re.fullmatch(r"-?\d{1,9}", axis):
            raise OptionError(f"--neuron-axis must be auto, an int, or LAYER=INT pairs, got {' '.join(values)!r}")
        if layer in axes and axes[layer] != int(axis):
            raise OptionError(f"--neuron-axis gives layer {layer!r} two axes ({axes[layer]} and {axis})")
        axes[layer] = int(axis)
    return axes


def _file_prefix(name: str) -> str:
    if not name or "/" in name or os.sep in name or name in (".", ".."):
        raise OptionError(f"--name must be a file name prefix without path separators, got {name!r}")
    return name


def _stats_name(path) -> str:
    """The default name of a statistics file: its stem without a trailing ``_stats`` (no ``NAME_stats_stats``)."""
    stem = Path(path).stem
    return stem[: -len("_stats")] if stem.endswith("_stats") and len(stem) > len("_stats") else stem


def _accuracy(model, X, y) -> float | None:
    """Test accuracy of a classifier's logits, or None (with a note) when its output is not (n, classes)."""
    import torch

    from .recording.batches import model_device_dtype
    from .zoo.training import accuracy
    with torch.no_grad():
        was = model.training
        model.eval()
        try:
            out = model(X[:2].to(model_device_dtype(model)[0]))
        finally:
            model.train(was)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[1] <= int(y.max()):
        print("note: no test accuracy (the model's output is not one logit per class)", file=sys.stderr)
        return None
    return float(accuracy(model, X, y))


def _record_summary(stats, *, name: str, acc: float | None, path: Path) -> None:
    import numpy as np

    n = max(stats.n_samples, 1)
    dead = stats.fire_counts == 0
    on = stats.fire_counts == stats.n_samples
    layers = stats.neurons["layer"].to_numpy()
    print(f"{'layer':24s} {'neurons':>8s} {'dead':>7s} {'always on':>10s}")
    for layer in dict.fromkeys(layers):
        k = layers == layer
        print(f"{layer!s:24s} {int(k.sum()):8d} {dead[k].mean():7.1%} {on[k].mean():10.1%}")
    print(f"{'all':24s} {stats.n_neurons:8d} {dead.mean():7.1%} {on.mean():10.1%}")
    fired = float(np.mean(stats.fire_counts / n))
    print(f"\n{name}: {stats.n_samples} samples, rule {stats.rule}, mean firing rate {fired:.3f}"
          + (f", test accuracy {acc:.3f}" if acc is not None else ""))
    _wrote({"stats": path})
    print(f"next: `neurograph graph {path} --out {path.parent}`")


def _run_names(paths: list[Path]) -> list[str]:
    """A run name per checkpoint file: its stem, or its path without suffix where two stems are the same."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [str(p.with_suffix("")) if stems.count(p.stem) > 1 else p.stem for p in paths]


def _wrote(paths: dict) -> None:
    """The files a command wrote, one per line (kind, path)."""
    if not paths:
        return
    print("wrote:")
    for kind, path in paths.items():
        print(f"  {kind:17s} {path}")


def _check_csv_width(path: Path, option: str) -> None:
    """DataError if the header of CSV ``path`` has more than MAX_CSV_COLUMNS fields, read in chunks before pandas
    parses anything (a 10 MB row of a million columns costs pandas seconds and about a gigabyte)."""
    from .errors import DataError
    commas = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 16):
                line_end = chunk.find(b"\n")
                commas += chunk.count(b",", 0, line_end if line_end >= 0 else len(chunk))
                if commas >= MAX_CSV_COLUMNS or line_end >= 0:
                    break
    except OSError:
        return  # read_csv reports it, naming the file
    if commas >= MAX_CSV_COLUMNS:
        raise DataError(f"{option}: CSV file {str(path)!r} has more than {MAX_CSV_COLUMNS:,} columns (neurograph's "
                        "limit of a table's columns); nothing was read")


def _csv_columns(path: Path) -> list[str]:
    from .io.atomic import read_csv
    return list(read_csv(path).columns)


def _graph_summaries(folder: Path) -> list[Path]:
    """The ``NAME_summary.csv`` files of `neurograph graph` in ``folder`` (by their columns)."""
    found = []
    for p in sorted(folder.glob("*_summary.csv")):
        try:
            cols = _csv_columns(p)
        except Exception:  # noqa: BLE001 - not a table of ours: not a graph summary
            cols = []
        if {"name", "n_nodes", "n_edges", "modularity"} <= set(cols):
            found.append(p)
    return found


def _stack_summaries(summaries: list[Path], *, target: str):
    """One row per graph (``run`` = NAME, ``task`` = ``graphs``) for the report, with ``summary_file``."""
    import pandas as pd

    from .errors import DataError
    from .io.atomic import read_csv
    rows = []
    for p in summaries:
        t = read_csv(p)
        t.insert(0, "summary_file", p.name)
        rows.append(t)
    table = pd.concat(rows, ignore_index=True)
    table.insert(0, "run", table.pop("name").astype(str))
    if "task" not in table:
        table.insert(1, "task", "graphs")
    if target not in table or table[target].isna().all():
        raise DataError(f"DIR: the graphs' summaries ({', '.join(p.name for p in summaries)}) have no {target!r}: "
                        "record with labelled data (`neurograph record` measures the test accuracy) or pass "
                        "--target COLUMN")
    missing = table[target].isna()
    if missing.any():
        print(f"note: left out of the report, without {target!r}: {', '.join(table.loc[missing, 'run'])}",
              file=sys.stderr)
    return table[~missing].reset_index(drop=True)


_REPORT_OUTPUTS = ("report.html", "correlations.csv", "ranking.csv", "ranking_predictions.csv")
_REPORT_INPUTS = ("scores.csv", "neurons.csv", "summary.csv", "generalization.csv", "generalization_summary.csv")


def _copy_report_inputs(src: Path, out: Path, *, skip_scores: bool) -> None:
    """Copy what the report reads from ``src`` into ``out`` (a report written elsewhere).

    Copies go through :func:`~neurograph.io.atomic.copy_file`: never onto a link in ``out`` (refused,
    naming it), never from a file that is a link to outside ``src`` (left out, with a note).
    """
    from .io.atomic import copy_file
    from .io.names import relative_href
    names = [n for n in _REPORT_INPUTS if not (skip_scores and n == "scores.csv")]
    files = [src / n for n in names if (src / n).is_file()]
    files += sorted(src.glob("*_coactivation.png"))
    for f in files:
        if not f.is_file():  # a FIFO would block the copy; the report skips it too
            print(f"note: not copied into the report folder: {str(f)!r} is not a regular file", file=sys.stderr)
            continue
        if relative_href(f.name, src) is None:
            print(f"note: not copied into the report folder: {str(f)!r} is a link to outside {str(src)!r}",
                  file=sys.stderr)
            continue
        copy_file(f, out / f.name)
    timeline = []
    for f in sorted(src.glob("timeline/*_coactivation.png")):
        if not f.is_file():
            print(f"note: not copied into the report folder: {str(f)!r} is not a regular file", file=sys.stderr)
        elif relative_href(Path("timeline") / f.name, src) is None:
            print(f"note: not copied into the report folder: {str(f)!r} is a link to outside {str(src)!r}",
                  file=sys.stderr)
        else:
            timeline.append(f)
    if timeline:
        (out / "timeline").mkdir(exist_ok=True)
        for f in timeline:
            copy_file(f, out / "timeline" / f.name)


_COMMANDS = {"demo": _demo, "record": _record, "graph": _graph, "score": _score, "zoo": _zoo,
             "correlate": _correlate, "report": _report}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
