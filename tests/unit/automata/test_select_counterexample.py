"""Tests for neurograph.automata.select (select_k), .counterexample and the new extraction options."""

from __future__ import annotations

import numpy as np
import pytest

import neurograph.automata._kmedoids as kmedoids_mod
import neurograph.automata.counterexample as cex_mod
import neurograph.automata.dot as dot_mod
import neurograph.automata.select as select_mod
from neurograph.automata._kmedoids import kmedoids_position
from neurograph.automata.counterexample import (
    NetworkCheck,
    network_counterexample,
    w_method_words,
)
from neurograph.automata.extract import cluster_states, extract_fsa
from neurograph.automata.fsa import FSA
from neurograph.automata.select import KSelection, select_k
from neurograph.errors import DataError, OptionError
from neurograph.recording.states import StateTrace

NO_00 = {"q0": (1, {0: "q1", 1: "q0"}), "q1": (1, {0: "q2", 1: "q0"}), "q2": (0, {0: "q2", 1: "q2"})}
PARITY = {"e": (1, {0: "e", 1: "o"}), "o": (0, {0: "o", 1: "e"})}


@pytest.mark.parametrize("module", [select_mod, cex_mod, dot_mod, kmedoids_mod])
def test_all_is_sorted_and_importable(module):
    assert list(module.__all__) == sorted(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name), name


def trace_of(true: FSA, words, centres, noise=0.01, seed=0):
    """States at a fixed centre per true state (row 0 of ``centres``: the initial state)."""
    rng = np.random.default_rng(seed)
    states = []
    for w in words:
        path = true.run(w)
        idx = np.concatenate([[0], path[1:] + 1])
        states.append(centres[idx] + noise * rng.standard_normal((len(w) + 1, centres.shape[1])))
    tokens = np.zeros((len(words), max(len(w) for w in words)), np.int64)
    for i, w in enumerate(words):
        tokens[i, : len(w)] = w
    preds = true.predict(words)
    return StateTrace(states=np.concatenate(states).astype(np.float32), tokens=tokens,
                      lengths=np.array([len(w) for w in words]), labels=preds, predictions=preds)


def random_words(n, max_len, seed):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 2, rng.integers(1, max_len + 1)).tolist() for _ in range(n)]


@pytest.fixture(scope="module")
def no00_trace():
    true = FSA.from_spec(NO_00)
    centres = np.array([[0.0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]])
    return true, trace_of(true, random_words(300, 8, 1) + [[]], centres)


# ---------------------------------------------------------------------- select_k
def test_select_k_picks_the_true_size_on_validation(no00_trace):
    true, trace = no00_trace
    val = random_words(200, 14, 2)
    sel = select_k(trace, [1, 2, 3, 4, 6], val, true.predict(val))
    assert isinstance(sel, KSelection) and sel.k == 3
    assert sel.fsa == true and sel.fsa.params["n_clusters"] == 3
    t = sel.table
    assert list(t.columns) == ["k", "n_clusters", "n_states_min", "score", "seconds", "chosen"]
    assert t["k"].tolist() == [1, 2, 3, 4, 6] and t["chosen"].sum() == 1
    assert t.loc[t["chosen"], "k"].item() == 3 and t.loc[t["k"] == 3, "score"].item() == 1.0
    assert (t.loc[t["k"] < 3, "score"] < 1.0).all()
    # a padded validation set with lengths gives the same choice
    tokens = np.zeros((len(val), 14), np.int64)
    for i, w in enumerate(val):
        tokens[i, : len(w)] = w
    same = select_k(trace, [1, 2, 3, 4, 6], tokens, true.predict(val), np.array([len(w) for w in val]))
    assert same.k == 3 and np.allclose(same.table["score"], t["score"])


def test_select_k_tol_and_order(no00_trace):
    true, trace = no00_trace
    val = random_words(100, 10, 3)
    assert select_k(trace, [6, 4, 3], val, true.predict(val)).k == 3         # smallest k, not the first
    assert select_k(trace, [1, 2, 3], val, true.predict(val), tol=1.0).k == 1  # everything is within tol
    assert select_k(trace, [2, 2], val, true.predict(val)).table["chosen"].tolist() == [True, False]


def test_select_k_checks_inputs(no00_trace):
    true, trace = no00_trace
    val = random_words(10, 5, 4)
    y = true.predict(val)
    for bad in ([], [0], [True], [2.5], None):
        with pytest.raises(OptionError):
            select_k(trace, bad, val, y)
    with pytest.raises(OptionError):
        select_k(trace, [2], val, y, tol=-0.1)
    with pytest.raises(DataError, match="one class per validation sequence"):
        select_k(trace, [2], val, y[:-1])
    with pytest.raises(OptionError):
        select_k(trace, [2], val, y, method="nope")


# ---------------------------------------------------------------------- extraction options
def test_n_threads_limits_kmeans_threads(no00_trace, monkeypatch):
    from sklearn import cluster
    from threadpoolctl import threadpool_info

    _, trace = no00_trace
    seen = []
    real = cluster.KMeans

    class Spy(real):
        def fit_predict(self, X, y=None, sample_weight=None):
            seen.append([p["num_threads"] for p in threadpool_info()])
            return super().fit_predict(X)

    monkeypatch.setattr(cluster, "KMeans", Spy)
    extract_fsa(trace, 3, n_threads=1)
    assert seen and all(n == 1 for n in seen[-1])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(OptionError):
            extract_fsa(trace, 3, n_threads=bad)
    assert extract_fsa(trace, 3, n_threads=None) == extract_fsa(trace, 3, n_threads=2)


def test_kmedoids_position_recovers_the_dfa_with_medoids_as_centres(no00_trace):
    true, trace = no00_trace
    fsa = extract_fsa(trace, 3, "kmedoids_position", seed=0)
    assert fsa == true and fsa.params["method"] == "kmedoids_position"
    rows = np.array(fsa.params["medoid_rows"])
    assert np.allclose(trace.states[rows], fsa.centres[1:])              # medoids are recorded states
    labels, centres, info = cluster_states(trace, 3, "kmedoids_position", position_weight=0.0)
    assert centres.shape == (3, 3) and info["position_weight"] == 0.0
    assert set(labels.tolist()) == {0, 1, 2}
    with pytest.raises(OptionError):
        extract_fsa(trace, 3, "kmedoids_position", position_weight=-1.0)


def test_kmedoids_position_weight_splits_by_position():
    # one state everywhere, but far apart in time: a large position weight separates early from late
    states = np.zeros((2 * 11, 1), np.float32)
    trace = StateTrace(states=states, tokens=np.zeros((2, 10), np.int64), lengths=np.array([10, 10]),
                       labels=None, predictions=np.array([0, 0]))
    X = np.zeros((20, 1))
    labels, _, _ = kmedoids_position(trace, X, 2, 0, 3, 20, 1.0)
    _, t = trace.step_index()
    early = labels[t <= 5]
    late = labels[t > 5]
    assert len(set(early.tolist())) == 1 and len(set(late.tolist())) == 1 and early[0] != late[0]


# ---------------------------------------------------------------------- network counterexamples
def even_ones(words):
    return np.array([int(np.sum(w) % 2 == 0) for w in words])


def test_network_counterexample_with_callables():
    parity = FSA.from_spec(PARITY)
    ok = network_counterexample(parity, even_ones, n_random=100, seed=0)
    assert isinstance(ok, NetworkCheck) and ok.agrees and ok.counterexample is None and ok.source is None
    assert ok.n_disagree == 0 and ok.disagreement == 0.0
    assert ok.n_wmethod == len(w_method_words(parity, depth=2)) and ok.n_random == 100
    assert ok.n_queries <= ok.n_wmethod + ok.n_random
    no_ones = lambda ws: np.array([int(np.sum(w) == 0) for w in ws])
    bad = network_counterexample(parity, no_ones, n_random=100, seed=0)
    assert bad.counterexample == (1, 1) and bad.source == "wmethod" and not bad.agrees
    assert 0 < bad.n_disagree_wmethod <= bad.n_disagree
    # only random words: the counterexample is still a real disagreement
    r = network_counterexample(parity, no_ones, n_random=200, depth=0, max_len=6, seed=1)
    w = np.array(r.counterexample)
    assert parity.predict([w])[0] != no_ones([w])[0]


def random_dfa(rng, n, m=2):
    return FSA(transitions=rng.integers(0, n, (n, m)), outputs=rng.integers(0, 2, n),
               alphabet=np.arange(m, dtype=np.int64))


def test_w_method_finds_every_difference_to_a_small_black_box():
    """depth 1 covers any black-box DFA with at most as many states as the FSA (Chow's W-method)."""
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(60):
        a = random_dfa(rng, int(rng.integers(1, 5)))
        b = random_dfa(rng, int(rng.integers(1, a.minimize().n_states + 1)))
        check = network_counterexample(a, b.predict, n_random=0, depth=1, max_len=50)
        assert check.agrees == (a == b)
        if not check.agrees:
            found += 1
            cex = np.array(check.counterexample)
            assert a.predict([cex])[0] != b.predict([cex])[0]
    assert found > 20


def test_w_method_words_structure():
    fsa = FSA.from_spec(NO_00)
    words = w_method_words(fsa, depth=1)
    assert words == sorted(set(words), key=lambda w: (len(w), w))
    for access in [(), (0,), (0, 0)]:
        assert access in words
    assert w_method_words(fsa, [0, 1, 5], depth=1) != words                   # extra symbols in the middles
    check = network_counterexample(fsa, lambda ws: fsa.predict(ws), n_random=0, depth=3, max_len=3)
    assert check.n_wmethod == len([w for w in w_method_words(fsa, depth=3) if len(w) <= 3])





def test_network_counterexample_against_a_hand_weighted_rnn(last_is_one_rnn):
    model, LAST_IS_ONE = last_is_one_rnn
    model.train()
    right = network_counterexample(FSA.from_spec(LAST_IS_ONE), model, n_random=200, max_len=15)
    assert right.agrees and right.n_queries > 100
    assert model.training                                                     # mode restored
    wrong = network_counterexample(FSA.from_spec(PARITY), model, n_random=50)
    assert wrong.counterexample == ()                                         # the empty word: 1 vs 0


def test_network_counterexample_checks_inputs():
    parity = FSA.from_spec(PARITY)
    with pytest.raises(DataError):
        network_counterexample("parity", even_ones)
    for kw in ({"max_len": -1}, {"n_random": -1}, {"depth": 1.5}, {"batch_size": 0}, {"seed": "x"}):
        with pytest.raises(OptionError):
            network_counterexample(parity, even_ones, **kw)
    for alphabet in ([], [0.5, 1.0], [[0, 1]]):
        with pytest.raises(OptionError):
            network_counterexample(parity, even_ones, alphabet)
    with pytest.raises(DataError, match="one class per word"):
        network_counterexample(parity, lambda ws: np.zeros(len(ws) + 1))
    with pytest.raises(OptionError):
        network_counterexample(parity, 42)
