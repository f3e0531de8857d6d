"""What a zoo produces: :class:`RunResult` per training run (or ``[[custom]]`` entry), :class:`ZooResult` for all.

:func:`neurograph.zoo.run_zoo` trains and scores every run into a :class:`RunResult` and
stacks them into a :class:`ZooResult`; :func:`neurograph.zoo.score_checkpoints` scores one
``[[custom]]`` entry the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..scoring.pipeline import Analysis
from ..scoring.scores import ModelScores

__all__ = ["RunResult", "ZooResult"]

#: Per-neuron columns of a scored checkpoint kept in ``neurons.csv`` (after ``run`` and ``epoch``).
NEURON_COLUMNS = ("layer", "unit", "fire_prob", "entropy", "mutual_info", "status", "community")


@dataclass(frozen=True, eq=False)
class RunResult:
    """The scored checkpoints of one training run (or one ``[[custom]]`` entry).

    Attributes
    ----------
    name : str
        The run's name.
    table : pandas.DataFrame
        One row per checkpoint: the run's description (``run``, ``task``, ``arch``, ...,
        ``epoch``, ``final``, ``checkpoint``) then every score of
        :func:`neurograph.scoring.score_model`.
    neurons : pandas.DataFrame
        One row per neuron per checkpoint: ``run``, ``epoch`` and :data:`NEURON_COLUMNS`.
    snapshots : tuple of (int, Analysis)
        ``(epoch, analysis)`` of each checkpoint, kept only for the run drawn as a timeline
        (empty otherwise).
    """

    name: str
    table: pd.DataFrame
    neurons: pd.DataFrame
    snapshots: tuple[tuple[int, Analysis], ...] = ()


@dataclass(frozen=True, eq=False)
class ZooResult:
    """What :func:`neurograph.zoo.run_zoo` (or :func:`neurograph.zoo.score_checkpoints`) produced.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per checkpoint of every run (``scores.csv``).
    neurons : pandas.DataFrame
        One row per neuron per checkpoint: entropy, mutual information, community (``neurons.csv``).
    paths : dict
        The files written, by kind (``scores``, ``neurons``, ``checkpoints``, ``timeline_gexf``,
        ``timeline_files``); empty when nothing was written.
    seconds : float
        Wall time.
    runs : tuple of RunResult
        The runs the tables stack, in order.
    """

    table: pd.DataFrame
    neurons: pd.DataFrame
    paths: dict
    seconds: float
    runs: tuple[RunResult, ...] = ()


def checkpoint_row(meta: dict, scores: ModelScores) -> dict:
    """One row of a run's table: the checkpoint's description ``meta`` then its scores."""
    return {**meta, **scores.values}


def neuron_rows(s: ModelScores, run: str, epoch: int) -> pd.DataFrame:
    """Per-neuron table of one scored checkpoint, with ``run`` and ``epoch`` columns first."""
    t = s.analysis.neurons[list(NEURON_COLUMNS)].copy()
    t.insert(0, "epoch", epoch)
    t.insert(0, "run", run)
    return t


def stack_runs(runs: Sequence[RunResult], *, paths: dict, seconds: float) -> ZooResult:
    """A :class:`ZooResult` stacking ``runs`` (their tables and neuron tables, in order)."""
    runs = tuple(runs)
    table = pd.DataFrame([row for r in runs for row in r.table.to_dict("records")])
    neurons = [r.neurons for r in runs if len(r.neurons.columns)]
    neuron_table = pd.concat(neurons, ignore_index=True) if neurons else pd.DataFrame()
    return ZooResult(table=table, neurons=neuron_table, paths=paths, seconds=seconds, runs=runs)
