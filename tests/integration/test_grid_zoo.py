"""PGDL-shaped grid zoos: training and scoring cached per model, the same table whatever the executor."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from neurograph.errors import OptionError
from neurograph.zoo.executors import Executor, run_tasks
from neurograph.zoo.grid import GridSpec, default_grid, run_grid


def _tiny(task="digits", **kw):
    opts = dict(seeds=(0, 1), epochs=2, n_train=300, n_test=100, score_samples=120, n_null=0, lr=1e-2,
                baselines=("distance_from_init", "log_prod_of_spec", "output_margin", "disagreement",
                           "natekar_sharma"))
    opts.update(kw)
    if task in ("tomita", "sentiment"):
        return GridSpec(task, (("cell", ("rnn", "gru")), ("hidden", (6,))), **opts)
    return GridSpec(task, (("width", (4, 8)), ("depth", (1,))), **opts)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    cols = [c for c in a.columns if c != "train_s"]
    pd.testing.assert_frame_equal(a[cols].sort_values("model").reset_index(drop=True),
                                  b[cols].sort_values("model").reset_index(drop=True), check_exact=True)


def test_run_tasks_keeps_order_on_every_local_executor():
    tasks = [4.0, 9.0, 16.0, 25.0]
    assert run_tasks(math.sqrt, tasks, Executor("inprocess")) == [2.0, 3.0, 4.0, 5.0]
    assert run_tasks(math.sqrt, tasks, Executor("process", workers=2)) == [2.0, 3.0, 4.0, 5.0]
    assert run_tasks(math.sqrt, [], Executor("process")) == []


def test_executor_and_grid_options_are_checked():
    with pytest.raises(OptionError, match="executor"):
        Executor("dask")
    with pytest.raises(OptionError, match="address"):
        Executor("process", address="h:1")
    with pytest.raises(OptionError, match="workers"):
        Executor("process", workers=0)
    with pytest.raises(OptionError, match="'cell' is not a hyper-parameter of task 'digits'"):
        GridSpec("digits", (("cell", ("gru",)),))
    with pytest.raises(OptionError, match="distinct"):
        GridSpec("digits", (("width", (8, 8)),))
    with pytest.raises(OptionError, match="task"):
        GridSpec("cifar", (("width", (8,)),))
    spec = default_grid("fashion")
    assert len(spec.cells()) == 243 and spec.hparams == ["width", "depth", "weight_decay", "train_fraction"]
    assert len(default_grid("sentiment").cells()) == 108


def test_grid_is_cached_and_equal_in_process_and_in_a_pool(tmp_path):
    spec = _tiny()
    a = run_grid(spec, tmp_path / "a", Executor("inprocess"))
    assert len(a) == 4 and set(a["seed"]) == {0, 1}
    assert {"train_acc", "test_acc", "gap", "ng_modularity", "bl_distance_from_init", "bl_disagreement"} <= set(a)
    assert np.allclose(a["gap"], a["train_acc"] - a["test_acc"])
    assert a["bl_disagreement"].notna().all()  # every model has its seed twin
    # each model keeps its initial and final weights
    folders = list((tmp_path / "a" / "models" / "digits").iterdir())
    assert len(folders) == 4 and all((f / "init.pt").is_file() and (f / "final.pt").is_file() for f in folders)
    stamps = {f: os.stat(f / "train.json").st_mtime_ns for f in folders}
    again = run_grid(spec, tmp_path / "a", Executor("inprocess"))  # cached: nothing is retrained
    assert {f: os.stat(f / "train.json").st_mtime_ns for f in folders} == stamps
    _same(a, again)
    b = run_grid(spec, tmp_path / "b", Executor("process", workers=2))
    _same(a, b)


def test_recurrent_grid_has_fsa_scores(tmp_path):
    table = run_grid(_tiny("tomita", n_train=200, n_test=100, score_samples=80), tmp_path, Executor("inprocess"))
    assert len(table) == 4
    assert {"fsa_accuracy", "fsa_fidelity", "fsa_extra_states", "fsa_k", "ng_modularity@first", "ng_modularity@last"} <= set(table)
    assert table["fsa_k"].isin([2, 4, 8, 16]).all()


def test_ray_executor_gives_the_same_table(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'neurograph[ray]')")
    spec = GridSpec("digits", (("width", (4,)), ("depth", (1,))), seeds=(0, 1), epochs=2, n_train=200, n_test=100,
                    score_samples=80, n_null=0, lr=1e-2, baselines=("distance_from_init", "disagreement"))
    a = run_grid(spec, tmp_path / "local", Executor("inprocess"))
    b = run_grid(spec, tmp_path / "ray", Executor("ray", workers=2))  # a local Ray instance, 2 CPUs
    _same(a, b)
