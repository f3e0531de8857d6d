"""CoactivationStats: exact merge, select, and files that fail loudly."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from neurograph.errors import IncompatibleStatsError, LayerError, StatsFileError
from neurograph.stats import FORMAT_VERSION, CoactivationStats


def _random(n=40, d=6, c=3, seed=0, p=0.4):
    rng = np.random.default_rng(seed)
    return (rng.random((n, d)) < p).astype(np.uint8), rng.integers(0, c, n)


def test_from_binary_matches_loops():
    fired, y = _random()
    s = CoactivationStats.from_binary(fired, y)
    n, d = fired.shape
    for i in range(d):
        assert s.fire_counts[i] == sum(fired[k, i] for k in range(n))
        for j in range(d):
            assert s.cofire_counts[i, j] == sum(fired[k, i] and fired[k, j] for k in range(n))
    for ci, c in enumerate(s.classes):
        assert s.class_counts[ci] == (y == c).sum()
        assert np.array_equal(s.class_fire_counts[ci], fired[y == c].sum(0))


@settings(max_examples=30, deadline=None)
@given(fired=arrays(np.uint8, st.tuples(st.integers(2, 30), st.just(4)), elements=st.integers(0, 1)),
       data=st.data())
def test_merge_of_any_split_equals_whole(fired, data):
    n = fired.shape[0]
    y = data.draw(arrays(np.int64, (n,), elements=st.integers(0, 4)))
    k = data.draw(st.integers(1, n - 1))
    whole = CoactivationStats.from_binary(fired, y)
    # the two halves may have seen different classes; the merge aligns them
    assert CoactivationStats.from_binary(fired[:k], y[:k]) + CoactivationStats.from_binary(fired[k:], y[k:]) == whole


def test_merge_rejects_different_neurons_and_rules():
    fired, y = _random()
    a = CoactivationStats.from_binary(fired, y)
    with pytest.raises(IncompatibleStatsError, match="different neurons"):
        a + CoactivationStats.from_binary(fired[:, :5], y)
    with pytest.raises(IncompatibleStatsError, match="firing rules"):
        a + CoactivationStats.from_binary(fired, y, rule="threshold(0.5)")
    with pytest.raises(TypeError):
        a + 3


def test_select_layers():
    fired, y = _random(d=6)
    import pandas as pd
    neurons = pd.DataFrame({"layer": ["a"] * 2 + ["b"] * 4, "unit": [0, 1, 0, 1, 2, 3]})
    s = CoactivationStats.from_binary(fired, y, neurons=neurons)
    b = s.select("b")
    assert b == CoactivationStats.from_binary(fired[:, 2:], y, neurons=neurons.iloc[2:].reset_index(drop=True))
    with pytest.raises(LayerError, match="'c'"):
        s.select(["c"])


def test_save_load_round_trip(tmp_path):
    fired, y = _random()
    s = CoactivationStats.from_binary(fired, y)
    s = CoactivationStats(**{**s.__dict__, "pattern_counts": {"layer": {2**63 + 5: 3, 7: 37}},
                             "meta": {"spatial": "mean"}})
    path = s.save(tmp_path / "s.npz")
    back = CoactivationStats.load(path)
    assert back == s and back.meta == {"spatial": "mean"} and back.rule == s.rule
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no temporary left behind


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(StatsFileError, match="missing.npz"):
        CoactivationStats.load(tmp_path / "missing.npz")
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(StatsFileError, match="corrupt.npz"):
        CoactivationStats.load(bad)
    fired, y = _random()
    path = CoactivationStats.from_binary(fired, y).save(tmp_path / "old.npz")
    with np.load(path) as z:
        arrays_ = {k: z[k] for k in z.files}
    header = json.loads(str(arrays_["header"]))
    header["version"] = FORMAT_VERSION + 1
    arrays_["header"] = np.array(json.dumps(header))
    np.savez(tmp_path / "future.npz", **arrays_)
    with pytest.raises(StatsFileError, match="future.npz.*version"):
        CoactivationStats.load(tmp_path / "future.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(StatsFileError, match="other.npz"):
        CoactivationStats.load(tmp_path / "other.npz")
    # a truncated file
    raw = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(StatsFileError, match="trunc.npz"):
        CoactivationStats.load(tmp_path / "trunc.npz")
    assert zipfile.is_zipfile(path)


def test_save_failure_leaves_nothing(tmp_path, monkeypatch):
    fired, y = _random()
    s = CoactivationStats.from_binary(fired, y)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(RuntimeError):
        s.save(tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- moments (Pearson statistics)
from neurograph.moments import ActivationMoments  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 40), k=st.data(), offset=st.sampled_from([0.0, 1e4, -3e7]), seed=st.integers(0, 999))
def test_moments_merge_of_any_split_equals_two_pass(n, k, offset, seed):
    rng = np.random.default_rng(seed)
    x = offset + rng.normal(size=(n, 3)) * np.array([1.0, 0.01, 5.0])
    split = k.draw(st.integers(0, n))
    merged = ActivationMoments.from_values(x[:split]) + ActivationMoments.from_values(x[split:])
    whole = ActivationMoments.from_values(x)
    assert merged.isclose(whole, rtol=1e-9)
    # the data themselves carry about ulp(offset) / spread of relative error in the 0.01-spread column
    assert np.allclose(merged.correlation(), np.corrcoef(x.T), atol=1e-8 + 1e-12 * abs(offset))
    assert np.allclose(merged.covariance(), np.cov(x.T), rtol=1e-7, atol=1e-12 * offset**2)


def test_moments_stay_accurate_where_float32_sums_fail():
    rng = np.random.default_rng(0)
    x = 1e4 + rng.normal(size=(4000, 2))          # large mean, unit spread
    parts = [ActivationMoments.from_values(x[i:i + 100]) for i in range(0, 4000, 100)]
    m = sum(parts[1:], parts[0])
    assert np.allclose(np.diag(m.covariance()), x.var(0, ddof=1), rtol=1e-9)
    x32 = x.astype(np.float32)
    naive = (x32**2).sum(0) / 4000 - (x32.sum(0) / 4000) ** 2     # the raw-sum way, in float32
    assert np.all(np.abs(naive - x.var(0)) > 0.1)                  # loses the variance entirely


def test_stats_carry_moments_through_merge_select_save(tmp_path):
    fired, y = _random(n=30, d=4)
    vals = np.random.default_rng(1).normal(size=(30, 4))
    import pandas as pd
    neurons = pd.DataFrame({"layer": ["a", "a", "b", "b"], "unit": [0, 1, 0, 1]})

    def make(rows):
        s = CoactivationStats.from_binary(fired[rows], y[rows], neurons=neurons)
        return CoactivationStats(**{**s.__dict__, "moments": ActivationMoments.from_values(vals[rows])})

    whole, a, b = make(slice(0, 30)), make(slice(0, 11)), make(slice(11, 30))
    assert a + b == whole and (a + b).moments.n_samples == 30
    sel = whole.select("b")
    assert np.allclose(sel.moments.mean, vals[:, 2:].mean(0))
    back = CoactivationStats.load(whole.save(tmp_path / "m.npz"))
    assert back == whole and np.array_equal(back.moments.comoment, whole.moments.comoment)
    plain = CoactivationStats.from_binary(fired, y, neurons=neurons)
    assert plain != whole                       # moments present on one side only
    assert (plain + whole).moments is None      # merged like pattern counts: kept only if both have them


def test_saved_files_get_umask_permissions_not_0600(tmp_path):
    import os
    import stat
    fired, y = _random()
    path = CoactivationStats.from_binary(fired, y).save(tmp_path / "p.npz")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
