"""Tests for neurograph.scoring.entropy: exact values against brute-force counting, sklearn, closed forms."""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import mutual_info_score

from neurograph.scoring.entropy import layer_entropy, neuron_entropy
from neurograph.errors import DataError
from neurograph.stats import CoactivationStats


# ---------------------------------------------------------------------- brute force
def _h(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def _brute(fired: np.ndarray, labels: np.ndarray):
    """Per-neuron H, H(F|C), I(F;C) by explicit counting loops."""
    n, d = fired.shape
    H, HC, MI = [], [], []
    for i in range(d):
        k = 0
        for s in range(n):
            k += int(fired[s, i] != 0)
        h = _h(k / n)
        per_class = {}
        for s in range(n):
            tot, on = per_class.get(labels[s], (0, 0))
            per_class[labels[s]] = (tot + 1, on + int(fired[s, i] != 0))
        hc = sum(tot / n * _h(on / tot) for tot, on in per_class.values())
        # mutual information straight from the joint distribution, as a second route
        joint = Counter((labels[s], int(fired[s, i] != 0)) for s in range(n))
        pc = Counter(labels.tolist())
        pf = Counter(int(fired[s, i] != 0) for s in range(n))
        mi = 0.0
        for (c, f), m in joint.items():
            mi += m / n * math.log2((m / n) / ((pc[c] / n) * (pf[f] / n)))
        H.append(h), HC.append(hc), MI.append(mi)
    return np.array(H), np.array(HC), np.array(MI)


@pytest.fixture
def random_data():
    rng = np.random.default_rng(7)
    n, d = 80, 9
    probs = rng.uniform(0.05, 0.95, size=d)
    labels = rng.integers(0, 4, size=n)
    fired = (rng.random((n, d)) < probs).astype(np.uint8)
    fired[:, 2] = 0                        # dead
    fired[:, 5] = 1                        # always on
    fired[:, 7] = (labels % 2 == 0)        # class-dependent
    return fired, labels


def test_neuron_entropy_matches_brute_force(random_data):
    fired, labels = random_data
    t = neuron_entropy(CoactivationStats.from_binary(fired, labels))
    H, HC, MI = _brute(fired, labels)
    assert np.allclose(t["fire_prob"], fired.mean(0))
    assert np.allclose(t["entropy"], H, atol=1e-12)
    assert np.allclose(t["cond_entropy"], HC, atol=1e-12)
    assert np.allclose(t["mutual_info"], MI, atol=1e-12)
    assert t["status"].tolist() == ["ok", "ok", "dead", "ok", "ok", "always_on", "ok", "ok", "ok"]
    assert t["mutual_info"].iloc[7] > 0.5


def test_mutual_info_equals_sklearn(random_data):
    fired, labels = random_data
    t = neuron_entropy(CoactivationStats.from_binary(fired, labels))
    want = [mutual_info_score(labels, fired[:, i]) / math.log(2) for i in range(fired.shape[1])]
    assert np.allclose(t["mutual_info"], want, atol=1e-12)


def test_table_layout_follows_neurons():
    neurons = pd.DataFrame({"layer": ["fc2", "fc2", "fc1"], "unit": [1, 0, 4]})
    s = CoactivationStats.from_binary(np.array([[1, 0, 1], [0, 0, 1]]), neurons=neurons)
    t = neuron_entropy(s)
    assert list(t.columns) == ["layer", "unit", "fire_prob", "entropy", "cond_entropy",
                               "mutual_info", "status"]
    assert t["layer"].tolist() == ["fc2", "fc2", "fc1"] and t["unit"].tolist() == [1, 0, 4]
    assert t.index.name == "neuron" and t.index.tolist() == [0, 1, 2]
    # no labels recorded: conditional entropy and mutual information are undefined
    assert t["cond_entropy"].isna().all() and t["mutual_info"].isna().all()
    assert t["entropy"].tolist() == [1.0, 0.0, 0.0]
    assert t["status"].tolist() == ["ok", "dead", "always_on"]


def test_neuron_equal_to_class_has_one_bit():
    labels = np.array([0, 1] * 10)
    fired = np.stack([labels, 1 - labels, np.r_[np.ones(10), np.zeros(10)]], axis=1)
    t = neuron_entropy(CoactivationStats.from_binary(fired, labels))
    assert t["entropy"].tolist() == [1.0, 1.0, 1.0]
    assert t["mutual_info"].iloc[0] == pytest.approx(1.0, abs=1e-12)
    assert t["mutual_info"].iloc[1] == pytest.approx(1.0, abs=1e-12)
    assert t["cond_entropy"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    # fires on the first half: independent of the alternating class
    assert t["mutual_info"].iloc[2] == pytest.approx(0.0, abs=1e-12)
    assert t["cond_entropy"].iloc[2] == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_entropy_bounds(data):
    n = data.draw(st.integers(1, 25))
    d = data.draw(st.integers(1, 5))
    fired = data.draw(hnp.arrays(np.uint8, (n, d), elements=st.integers(0, 1)))
    labels = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 3)))
    t = neuron_entropy(CoactivationStats.from_binary(fired, labels))
    H, HC, MI = (t[c].to_numpy() for c in ("entropy", "cond_entropy", "mutual_info"))
    c = len(np.unique(labels))
    assert np.all((H >= 0) & (H <= 1))
    assert np.all((HC >= 0) & (HC <= H + 1e-12))
    assert np.all((MI >= 0) & (MI <= H + 1e-12) & (MI <= math.log2(c) + 1e-12))
    assert np.allclose(MI + HC, H, atol=1e-12)
    k = fired.sum(0)
    assert np.array_equal(t["status"] == "dead", k == 0)
    assert np.array_equal(t["status"] == "always_on", k == n)


def test_zero_samples_is_data_error():
    s = CoactivationStats.from_binary(np.zeros((0, 3), np.uint8))
    with pytest.raises(DataError, match="stats"):
        neuron_entropy(s)
    with pytest.raises(DataError, match="stats"):
        layer_entropy(s)


def test_inconsistent_counts_are_data_error():
    s = CoactivationStats.from_binary(np.array([[1, 0], [1, 1]]))
    bad = CoactivationStats(neurons=s.neurons, n_samples=2, fire_counts=np.array([3, 1]),
                            cofire_counts=s.cofire_counts, classes=s.classes,
                            class_counts=s.class_counts, class_fire_counts=s.class_fire_counts)
    with pytest.raises(DataError, match="fire_counts"):
        neuron_entropy(bad)


def test_many_neurons_is_vectorised():
    rng = np.random.default_rng(0)
    d, c = 50_000, 10
    cc = rng.integers(50, 100, size=c)
    cf = (rng.random((c, d)) * (cc[:, None] + 1)).astype(np.int64)
    cf[:, :100] = 0
    s = CoactivationStats(neurons=pd.DataFrame({"layer": ["big"] * d, "unit": np.arange(d)}),
                          n_samples=int(cc.sum()), fire_counts=cf.sum(0),
                          cofire_counts=np.zeros((1, 1), np.int64), classes=np.arange(c),
                          class_counts=cc, class_fire_counts=cf)
    t0 = time.perf_counter()
    t = neuron_entropy(s)
    elapsed = time.perf_counter() - t0
    assert len(t) == d and elapsed < 5.0
    assert (t["status"].iloc[:100] == "dead").all()
    assert t["mutual_info"].between(0, t["entropy"] + 1e-12).all()
    # spot-check one neuron against the brute-force definition
    i = 4321
    pc = cf[:, i] / cc
    want = _h(cf[:, i].sum() / cc.sum()) - sum(cc[k] / cc.sum() * _h(pc[k]) for k in range(c))
    assert t["mutual_info"].iloc[i] == pytest.approx(want, abs=1e-12)


# ---------------------------------------------------------------------- layers
def _with_patterns(stats: CoactivationStats, patterns) -> CoactivationStats:
    return CoactivationStats(neurons=stats.neurons, n_samples=stats.n_samples,
                             fire_counts=stats.fire_counts, cofire_counts=stats.cofire_counts,
                             classes=stats.classes, class_counts=stats.class_counts,
                             class_fire_counts=stats.class_fire_counts, pattern_counts=patterns)


def test_pattern_entropy_closed_forms():
    # layer "b" (recorded first) has 4 equiprobable patterns over 2 neurons -> 2 bits;
    # layer "a": patterns seen 1 and 3 times -> h(1/4) bits; layer "c": a single pattern -> 0 bits
    fired = np.array([[0, 0, 1, 0, 1], [0, 1, 0, 0, 1], [1, 0, 0, 0, 1], [1, 1, 0, 0, 1]] * 5)
    neurons = pd.DataFrame({"layer": ["b", "b", "a", "c", "c"], "unit": [0, 1, 0, 0, 1]})
    s = CoactivationStats.from_binary(fired, labels=np.arange(20) % 2, neurons=neurons)
    s = _with_patterns(s, {"b": {11: 5, 22: 5, 33: 5, 44: 5}, "a": {5: 5, 6: 15}, "c": {9: 20}})
    t = layer_entropy(s)
    assert t["layer"].tolist() == ["b", "a", "c"]
    assert list(t.columns) == ["layer", "n_neurons", "mean_entropy", "mean_mutual_info", "dead_fraction",
                               "always_on_fraction", "pattern_entropy", "n_patterns", "max_pattern_entropy"]
    assert t["pattern_entropy"].tolist() == pytest.approx([2.0, _h(0.25), 0.0], abs=1e-12)
    assert t["n_patterns"].tolist() == [4, 2, 1]
    assert t["n_neurons"].tolist() == [2, 1, 2]
    assert t["max_pattern_entropy"].tolist() == pytest.approx([math.log2(20)] * 3)
    assert t["dead_fraction"].tolist() == [0.0, 0.0, 0.5]
    assert t["always_on_fraction"].tolist() == [0.0, 0.0, 0.5]
    assert t["mean_entropy"].tolist() == pytest.approx([1.0, _h(0.25), 0.0])
    per = neuron_entropy(s)
    for _, row in t.iterrows():
        part = per[per["layer"] == row["layer"]]
        assert row["mean_mutual_info"] == pytest.approx(part["mutual_info"].mean(), abs=1e-12)


def test_pattern_entropy_brute_force():
    rng = np.random.default_rng(3)
    fired = (rng.random((200, 4)) < 0.3).astype(np.uint8)
    counts = Counter(int("".join(map(str, row)), 2) for row in fired)
    s = _with_patterns(CoactivationStats.from_binary(fired), {"layer": dict(counts)})
    want = 0.0
    for m in counts.values():
        want -= m / 200 * math.log2(m / 200)
    row = layer_entropy(s).iloc[0]
    assert row["pattern_entropy"] == pytest.approx(want, abs=1e-12)
    assert row["n_patterns"] == len(counts)
    assert 0.0 <= row["pattern_entropy"] <= min(row["max_pattern_entropy"], 4.0)


def test_layer_entropy_without_patterns_or_labels():
    s = CoactivationStats.from_binary(np.array([[1, 0], [0, 0], [1, 0]]))
    row = layer_entropy(s).iloc[0]
    assert math.isnan(row["pattern_entropy"]) and math.isnan(row["n_patterns"])
    assert math.isnan(row["mean_mutual_info"])
    assert row["dead_fraction"] == 0.5
    assert row["mean_entropy"] == pytest.approx(_h(2 / 3) / 2)
