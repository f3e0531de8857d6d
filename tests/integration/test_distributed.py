"""Distributed recording: two gloo processes give exactly the single-process statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from neurograph.recording.distributed import all_reduce_stats, spawn_local
from neurograph.errors import IncompatibleStatsError, NeurographError
from neurograph.recording.recorder import calibrate, record
from neurograph.stats import CoactivationStats

N = 120


def _setup():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 24), nn.ReLU(), nn.Linear(24, 20), nn.Tanh(), nn.Linear(20, 3))
    g = torch.Generator().manual_seed(1)
    X = torch.randn(N, 6, generator=g)
    # the first half has classes {0, 1}, the second {1, 2}: ranks see different class sets
    y = torch.cat([torch.arange(N // 2) % 2, 1 + torch.arange(N // 2) % 2])
    return net, X, y


def _shard(rank, world, X, y):
    rows = slice(rank * N // world, (rank + 1) * N // world)
    return X[rows], y[rows]


def _work(rank, world):
    net, X, y = _setup()
    Xs, ys = _shard(rank, world, X, y)
    out = {}
    out["full"] = record(net, (Xs, ys), ["1", "3"], distributed=True, patterns=True, moments=True, batch_size=20)
    out["zscore"] = record(net, (Xs, ys), "3", rule="zscore", z=0.3, distributed=True)
    out["zcut"] = calibrate(net, (Xs, ys), "3", "zscore", z=0.3, distributed=True)
    # a rank with no data: every rank raises instead of waiting for the others
    try:
        record(net, (Xs[:0] if rank == 1 else Xs, ys[:0] if rank == 1 else ys), "1", distributed=True)
    except NeurographError as exc:
        out["empty"] = f"{type(exc).__name__}: {exc}"
    # different rules on the ranks: both refuse
    local = record(net, (Xs, ys), "1", rule="threshold" if rank else "positive")
    try:
        all_reduce_stats(local)
    except IncompatibleStatsError as exc:
        out["rules"] = str(exc)
    out["method"] = record(net, (Xs, ys), "1").all_reduce()
    return out


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process_exactly():
    a, b = spawn_local(_work, 2, timeout=180)
    net, X, y = _setup()
    # batches of 20 split both shards (60 rows) and the whole alike: bitwise the same activations
    single = record(net, (X, y), ["1", "3"], patterns=True, moments=True, batch_size=20)
    for r in (a, b):
        got = r["full"]
        assert got == single  # counts exactly, moments to float64 rounding
        assert got.classes.tolist() == [0, 1, 2] and got.class_counts.tolist() == [30, 60, 30]
        assert got.pattern_counts == single.pattern_counts
        assert got.moments.isclose(single.moments, rtol=1e-12)
        # z-score thresholds come from all ranks' values, merged exactly
        assert np.allclose(r["zcut"], calibrate(net, (X, y), "3", "zscore", z=0.3), rtol=1e-12, atol=1e-12)
        same_rule = record(net, (X, y), "3", rule="threshold", threshold=r["zcut"])
        assert np.array_equal(r["zscore"].cofire_counts, same_rule.cofire_counts)
        assert r["method"] == record(net, (X, y), "1")
        assert "rules" in r and "different firing rules" in r["rules"]
    assert np.array_equal(a["full"].moments.comoment, b["full"].moments.comoment)  # identical on every rank
    assert "empty" in a["empty"] and "rank 1" in a["empty"]   # told which rank failed
    assert "empty" in b["empty"]


def test_all_reduce_without_a_process_group_raises():
    s = CoactivationStats.from_binary(np.eye(3))
    with pytest.raises(NeurographError, match="init_process_group"):
        s.all_reduce()
    with pytest.raises(ValueError, match="world_size"):
        spawn_local(_work, 0)
