"""Tests for neurograph.automata.fsa, fsa_algorithms, fsa_extract and fsa_scores."""

from __future__ import annotations

import itertools
import os

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import neurograph.automata.fsa as fsa_mod
import neurograph.automata.algorithms as algo_mod
import neurograph.automata.extract as extract_mod
import neurograph.automata.structure as scores_mod
from neurograph.graph.communities import modularity
from neurograph.errors import DataError, FileFormatError, OptionError
from neurograph.io.export import export_gexf
from neurograph.automata.fsa import FSA
from neurograph.automata.algorithms import hopcroft_partition
from neurograph.automata.extract import extract_fsa
from neurograph.automata.structure import fsa_graph, fsa_scores, fsa_state_table, state_words
from neurograph.recording.states import StateTrace

PARITY = {"even": (1, {0: "even", 1: "odd"}), "odd": (0, {0: "odd", 1: "even"})}


@pytest.mark.parametrize("module", [fsa_mod, algo_mod, extract_mod, scores_mod])
def test_all_is_sorted_and_importable(module):
    assert list(module.__all__) == sorted(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name), name


def all_words(alphabet, max_len):
    return [list(w) for n in range(max_len + 1) for w in itertools.product(alphabet, repeat=n)]


def moore_partition(trans, outputs):
    """Reference: Moore's refinement by signatures until stable."""
    block = np.unique(outputs, return_inverse=True)[1]
    while True:
        sig = np.concatenate([block[:, None], block[trans]], axis=1)
        new = np.unique(sig, axis=0, return_inverse=True)[1].ravel()
        if len(set(new.tolist())) == len(set(block.tolist())):
            return new
        block = new


def same_partition(a, b):
    return all((a[i] == a[j]) == (b[i] == b[j]) for i in range(len(a)) for j in range(len(a)))


def hand_trace(dfa: FSA, words, *, noise=0.01, seed=0, centres=None):
    """A StateTrace whose states sit at a fixed centre per true DFA state (plus tiny noise)."""
    rng = np.random.default_rng(seed)
    if centres is None:
        centres = 10.0 * np.eye(dfa.n_states, 3)
    states, lengths = [], []
    for w in words:
        path = dfa.run(w)
        states.append(centres[path] + noise * rng.standard_normal((len(path), centres.shape[1])))
        lengths.append(len(w))
    tokens = np.zeros((len(words), max(lengths)), np.int64)
    for i, w in enumerate(words):
        tokens[i, : len(w)] = w
    preds = dfa.predict(words)
    return StateTrace(states=np.concatenate(states).astype(np.float32), tokens=tokens,
                      lengths=np.array(lengths), labels=preds.copy(), predictions=preds)


# ---------------------------------------------------------------------- FSA basics
def test_from_spec_predict_run_accuracy_fidelity():
    fsa = FSA.from_spec(PARITY)
    assert fsa.n_states == 2 and fsa.start == 0 and fsa.alphabet.tolist() == [0, 1]
    words = all_words([0, 1], 6)
    want = [1 if sum(w) % 2 == 0 else 0 for w in words]
    assert fsa.predict(words).tolist() == want
    assert fsa.run([1, 1, 0]).tolist() == [0, 1, 0, 0]
    # padded array + lengths and a list of tensors give the same answers
    tokens = np.array([[1, 1, 1], [1, 0, 0]])
    assert fsa.predict(tokens, lengths=[1, 2]).tolist() == [0, 0]
    assert fsa.predict([torch.tensor([1]), torch.tensor([1, 0])]).tolist() == [0, 0]
    assert fsa.accuracy([[1], [1, 1]], [0, 0]) == 0.5
    assert fsa.fidelity([[1], [1, 1]], np.array([0, 1])) == 1.0
    # a token outside the alphabet is a self-loop
    assert fsa.predict([[1, 7], [7, 7]]).tolist() == [0, 1]


def test_from_spec_start_alphabet_and_errors():
    fsa = FSA.from_spec({"a": (True, {"x": "b", "y": "a"}), "b": (False, {"x": "a", "y": "b"})},
                        alphabet=["x", "y"], start="b")
    assert fsa.start == 1 and fsa.symbol_names == ("x", "y")
    assert fsa.predict([[0], [1]]).tolist() == [1, 0]
    with pytest.raises(DataError, match="no transition"):
        FSA.from_spec({"a": (1, {0: "a", 1: "a"}), "b": (0, {0: "a"})})
    with pytest.raises(DataError, match="unknown state"):
        FSA.from_spec({"a": (1, {0: "zz"})})
    with pytest.raises(DataError, match="not a token id"):
        FSA.from_spec({"a": (1, {"x": "a"})})
    with pytest.raises(DataError, match="transitions"):
        FSA(transitions=np.array([[3]]), outputs=np.array([0]), alphabet=np.array([0]))
    with pytest.raises(DataError, match="sorted"):
        FSA(transitions=np.array([[0, 0]]), outputs=np.array([0]), alphabet=np.array([1, 0]))
    with pytest.raises(DataError, match="string"):
        FSA.from_spec(PARITY).predict(["0101"])


def test_to_spec_round_trip_and_save_load(tmp_path):
    fsa = FSA.from_spec(PARITY)
    back = FSA.from_spec(fsa.to_spec())
    assert np.array_equal(back.transitions, fsa.transitions) and back == fsa
    trace = hand_trace(fsa, all_words([0, 1], 4))
    ext = extract_fsa(trace, 2)
    path = ext.save(tmp_path / "f.json")
    loaded = FSA.load(path)
    assert np.array_equal(loaded.transitions, ext.transitions) and np.array_equal(loaded.outputs, ext.outputs)
    pd.testing.assert_frame_equal(loaded.counts, ext.counts, check_dtype=False)
    assert np.allclose(loaded.centres, ext.centres) and loaded.state_names == ext.state_names
    assert loaded.params["row_states"] == ext.params["row_states"].tolist()
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(FileFormatError, match="not a neurograph FSA"):
        FSA.load(tmp_path / "bad.json")


# ---------------------------------------------------------------------- minimisation
def test_minimize_redundant_dfa_and_unreachable_states():
    # parity written with 4 states (two copies) plus an unreachable state
    spec = {"e1": (1, {0: "e2", 1: "o1"}), "o1": (0, {0: "o2", 1: "e2"}), "e2": (1, {0: "e1", 1: "o2"}),
            "o2": (0, {0: "o1", 1: "e1"}), "island": (1, {0: "island", 1: "island"})}
    big = FSA.from_spec(spec)
    small = big.minimize()
    assert small.n_states == 2 and small.start == 0
    assert small == FSA.from_spec(PARITY) and small == big
    assert small.params["state_map"][4] == -1
    words = all_words([0, 1], 7)
    assert np.array_equal(small.predict(words), big.predict(words))


def test_minimize_is_canonical():
    a = FSA.from_spec({"p": (1, {0: "q", 1: "p"}), "q": (0, {0: "p", 1: "q"})})
    b = FSA.from_spec({"x": (0, {0: "y", 1: "x"}), "y": (1, {0: "x", 1: "y"})}, start="y")
    ma, mb = a.minimize(), b.minimize()
    assert np.array_equal(ma.transitions, mb.transitions) and np.array_equal(ma.outputs, mb.outputs)


@st.composite
def random_dfas(draw):
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 3))
    trans = np.array(draw(st.lists(st.lists(st.integers(0, n - 1), min_size=m, max_size=m), min_size=n, max_size=n)))
    outputs = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    start = draw(st.integers(0, n - 1))
    return FSA(transitions=trans, outputs=outputs, alphabet=np.arange(m), start=start)


@settings(max_examples=60, deadline=None)
@given(random_dfas())
def test_hopcroft_matches_moore_and_minimize_keeps_language(fsa):
    assert same_partition(hopcroft_partition(fsa.transitions, fsa.outputs),
                          moore_partition(fsa.transitions, fsa.outputs))
    small = fsa.minimize()
    words = all_words(list(range(fsa.n_symbols)), 5)
    assert np.array_equal(small.predict(words), fsa.predict(words))
    assert small.n_states <= int(fsa.reachable().sum())
    again = small.minimize()
    assert again.n_states == small.n_states and np.array_equal(again.transitions, small.transitions)


# ---------------------------------------------------------------------- equivalence
@st.composite
def dfa_pairs(draw):
    a = draw(random_dfas())
    n = draw(st.integers(1, 7))
    trans = np.array(draw(st.lists(st.lists(st.integers(0, n - 1), min_size=a.n_symbols, max_size=a.n_symbols),
                                   min_size=n, max_size=n)))
    outputs = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    return a, FSA(transitions=trans, outputs=outputs, alphabet=a.alphabet, start=draw(st.integers(0, n - 1)))


@settings(max_examples=80, deadline=None)
@given(dfa_pairs())
def test_counterexample_is_shortest_difference(pair):
    a, b = pair
    words = all_words(list(range(a.n_symbols)), 5)
    differ = [w for w in words if a.predict([w])[0] != b.predict([w])[0]]
    cex = a.counterexample(b)
    if cex is None:
        assert not differ and a == b and a.minimize() == b.minimize()
    else:
        assert a.predict([cex])[0] != b.predict([cex])[0] and a != b
        if differ:                      # words are listed by increasing length
            assert len(cex) == len(differ[0])
        else:
            assert len(cex) > 5


def test_equivalence_across_alphabets():
    a = FSA.from_spec(PARITY)
    # the same language over alphabet {0, 1, 2} where 2 is a self-loop, written explicitly
    b = FSA.from_spec({"e": (1, {0: "e", 1: "o", 2: "e"}), "o": (0, {0: "o", 1: "e", 2: "o"})})
    assert a == b
    c = FSA.from_spec({"e": (1, {0: "e", 1: "o", 2: "o"}), "o": (0, {0: "o", 1: "e", 2: "e"})})
    assert a != c and a.counterexample(c) == [2]


# ---------------------------------------------------------------------- graphs and files
def test_to_dot_networkx_and_gexf(tmp_path):
    fsa = FSA.from_spec({"a": (True, {0: "a", 1: "b"}), "b": (False, {0: "b", 1: "a"})})
    dot = fsa.to_dot()
    assert 's0 [label="a", shape=doublecircle];' in dot and 's1 [label="b", shape=circle];' in dot
    assert "__start0 -> s0" in dot and dot.startswith("digraph FSA {") and dot.endswith("}")
    p = fsa.save_dot(tmp_path / "f.dot")
    assert p.read_text().strip() == dot
    g = fsa.to_networkx()
    assert isinstance(g, nx.DiGraph) and g.nodes[0]["accepting"] and g.nodes[0]["is_start"]
    assert g.edges[0, 1]["symbols"] == "1" and g.edges[0, 1]["weight"] == 1.0
    path = export_gexf(fsa, tmp_path / "f.gexf")
    back = nx.read_gexf(path, node_type=int)
    assert back.number_of_edges() == 4 and back.nodes[1]["output"] == 0
    multi = FSA.from_spec({"a": (2, {0: "a"})})
    assert 'label="a / 2"' in multi.to_dot()


# ---------------------------------------------------------------------- extraction
@pytest.mark.parametrize("method", ["kmeans", "transition"])
def test_extract_from_hand_trace_gives_exact_transitions(method):
    true = FSA.from_spec({"q0": (1, {0: "q1", 1: "q0"}), "q1": (1, {0: "q2", 1: "q0"}),
                          "q2": (0, {0: "q2", 1: "q2"})})          # "no 00", with a dead state
    rng = np.random.default_rng(1)
    words = [rng.integers(0, 2, rng.integers(1, 8)).tolist() for _ in range(300)] + [[]]
    # the start state has its own centre, distinct from q0's (which it equals as a DFA state)
    centres = np.array([[0.0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]])
    trace = hand_trace_with_start(true, words, centres)
    fsa = extract_fsa(trace, 3, method, seed=0)
    assert fsa.n_states == 4 and fsa.start == 0 and fsa.params["n_clusters"] == 3
    # map each cluster to the true state whose centre it holds
    to_true = {0: "start"}
    for s in range(1, 4):
        to_true[s] = int(np.argmin(((centres[1:] - fsa.centres[s]) ** 2).sum(1)))
    assert sorted(v for k, v in to_true.items() if k) == [0, 1, 2]
    # exact counts: replay the true DFA on every word
    want: dict = {}
    for w in words:
        path = true.run(w)
        for t, a in enumerate(w):
            src = "start" if t == 0 else int(path[t])
            key = (src, a, int(path[t + 1]))
            want[key] = want.get(key, 0) + 1
    got = {(to_true[r.source], r.symbol, to_true[r.target]): r.count for r in fsa.counts.itertuples()}
    assert got == want
    # deterministic transitions and outputs follow the true DFA; the FSA is equivalent to it
    for s in range(1, 4):
        for j, a in enumerate(fsa.alphabet):
            assert to_true[int(fsa.transitions[s, j])] == int(true.transitions[to_true[s], j])
    assert fsa == true and fsa.minimize().n_states == 3
    assert fsa.visits.sum() == trace.states.shape[0] and fsa.visits[0] == len(words)
    assert fsa.params["n_unseen"] == 0
    rows = fsa.params["row_states"]
    assert np.all(rows[trace.offsets[:-1]] == 0) and np.all(rows[trace.step_rows()] > 0)
    assert np.array_equal(np.bincount(rows, minlength=4), fsa.visits)


def hand_trace_with_start(true, words, centres, noise=0.01):
    rng = np.random.default_rng(0)
    states = []
    for w in words:
        path = true.run(w)
        idx = np.concatenate([[0], path[1:] + 1])           # row 0 of centres = the initial state
        states.append(centres[idx] + noise * rng.standard_normal((len(w) + 1, centres.shape[1])))
    tokens = np.zeros((len(words), max(len(w) for w in words)), np.int64)
    for i, w in enumerate(words):
        tokens[i, : len(w)] = w
    preds = true.predict(words)
    return StateTrace(states=np.concatenate(states).astype(np.float32), tokens=tokens,
                      lengths=np.array([len(w) for w in words]), labels=preds, predictions=preds)


def test_readout_acceptance_and_majority_fallback():
    true = FSA.from_spec(PARITY)
    centres = np.array([[0.0, 0], [5, 0], [0, 5]])                 # start, even, odd
    words = [[1], [1, 1], [0, 1], [1, 0, 0]]
    trace = hand_trace_with_start(true, words, centres)
    readout = torch.nn.Linear(2, 2)
    with torch.no_grad():                                          # class 1 iff x0 >= x1
        readout.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
        readout.bias.copy_(torch.tensor([0.0, 0.1]))
    fsa = extract_fsa(trace, 2, accept="readout", readout=readout)
    even = int(np.argmin(((fsa.centres - [5, 0]) ** 2).sum(1)))
    odd = 3 - even
    assert fsa.outputs[0] == 1 and fsa.outputs[even] == 1 and fsa.outputs[odd] == 0
    # majority: no sequence ends in the start state -> overall majority (2 odd, 2 even -> tie -> class 0)
    maj = extract_fsa(trace, 2, accept="majority")
    assert maj.outputs[0] == 0 and maj.outputs[even] == 1 and maj.outputs[odd] == 0
    with pytest.raises(OptionError, match="readout"):
        extract_fsa(trace, 2, accept="readout")


def test_unseen_rules_and_tie_break():
    # one sequence "0 0 1": symbol 1 is only seen from the cluster reached after "0 0"
    states = np.array([[0.0], [5.0], [10.0], [15.0]], np.float32)
    trace = StateTrace(states=states, tokens=np.array([[0, 0, 1]]), lengths=np.array([3]), labels=None,
                       predictions=np.array([1]))
    fsa = extract_fsa(trace, 3, unseen="self")
    c5, c10, c15 = (int(np.argmin(np.abs(fsa.centres[:, 0] - v))) for v in (5, 10, 15))
    one = 1
    assert fsa.transitions[0, one] == 0 and fsa.transitions[c5, one] == c5       # unseen -> stay
    assert fsa.transitions[c10, one] == c15
    sym = extract_fsa(trace, 3, unseen="symbol")
    assert sym.transitions[0, one] == c15 and sym.transitions[c5, one] == c15
    assert fsa.params["n_unseen"] == 2 * 4 - 3
    # ties: from the start, symbol 0 leads once to each of two clusters -> the smaller id wins
    tie = StateTrace(states=np.array([[0.0], [5.0], [0.0], [10.0]], np.float32), tokens=np.array([[0], [0]]),
                     lengths=np.array([1, 1]), labels=None, predictions=np.array([0, 1]))
    f = extract_fsa(tie, 2)
    assert f.transitions[0, 0] == 1


def test_extract_checks_inputs():
    trace = hand_trace(FSA.from_spec(PARITY), [[0, 1], [1]])
    with pytest.raises(OptionError, match="method"):
        extract_fsa(trace, 2, "dbscan")
    with pytest.raises(OptionError, match="n_states"):
        extract_fsa(trace, 0)
    with pytest.raises(DataError, match="alphabet misses"):
        extract_fsa(trace, 2, alphabet=[0])
    with pytest.raises(DataError, match="StateTrace"):
        extract_fsa(np.zeros((3, 2)), 2)
    f = extract_fsa(trace, 50)                     # more clusters than distinct states: k lowered
    assert f.params["n_clusters"] == 3 and f.n_states == 4
    named = extract_fsa(trace, 2, symbol_names=["zero", "one", "two"])
    assert named.symbol_names == ("zero", "one") and "zero" in named.to_dot()
    with pytest.raises(DataError, match="symbol_names"):
        extract_fsa(trace, 2, symbol_names=["zero"])
    big = extract_fsa(trace, 2, alphabet=[0, 1, 5])
    assert big.alphabet.tolist() == [0, 1, 5] and np.array_equal(big.transitions[:, 2], np.arange(3))


def test_transition_method_objective_never_increases_and_helps_noisy_states():
    true = FSA.from_spec(PARITY)
    rng = np.random.default_rng(3)
    words = [rng.integers(0, 2, rng.integers(1, 10)).tolist() for _ in range(200)]
    centres = np.array([[0.0, 0], [2, 0], [0, 2]])
    trace = hand_trace_with_start(true, words, centres, noise=0.6)   # overlapping clouds
    f = extract_fsa(trace, 2, "transition", seed=0, n_iter=30)
    obj = np.array(f.params["objective"])
    assert np.all(np.diff(obj) <= 1e-6 * np.abs(obj[:-1]))
    fk = extract_fsa(trace, 2, "kmeans", seed=0)
    assert f.fidelity(words, trace.predictions) >= fk.fidelity(words, trace.predictions)
    assert f.fidelity(words, trace.predictions) == 1.0


# ---------------------------------------------------------------------- scores
def hand_counts_fsa():
    counts = pd.DataFrame({"source": [0, 0, 0, 1, 1, 2], "symbol": [0, 0, 1, 0, 1, 1],
                           "target": [1, 2, 1, 2, 2, 2], "count": [1, 1, 2, 3, 1, 5]})
    return FSA(transitions=np.array([[1, 1], [2, 2], [2, 2]]), outputs=np.array([0, 1, 1]),
               alphabet=np.array([0, 1]), counts=counts, visits=np.array([4, 3, 9]))


def test_state_table_closed_form():
    t = fsa_state_table(hand_counts_fsa())
    # state 0: next state 1 w.p. 3/4, 2 w.p. 1/4; on symbol 0 a 50/50 split (weight 2/4), on 1 deterministic
    h = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    assert t["transition_entropy"].tolist()[:3] == pytest.approx([h, 0.0, 0.0])
    assert t["nondeterminism"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert t["n_out"].tolist() == [4, 4, 5] and t["n_targets"].tolist() == [2, 1, 1]


def test_fsa_graph_and_scores():
    f = hand_counts_fsa()
    g = fsa_graph(f)
    assert dict(((u, v), w) for u, v, w in g.edges(data="weight")) == {(0, 1): 3.0, (0, 2): 1.0, (1, 2): 4.0}
    assert fsa_graph(f, self_loops=True).edges[2, 2]["weight"] == 5.0
    s = fsa_scores(f, sequences=[[0], [0, 0]], labels=[1, 1], rnn_predictions=[1, 0], seed=0)
    assert s["fsa_n_states"] == 3 and s["fsa_accuracy"] == 1.0 and s["fsa_fidelity"] == 0.5
    assert s["fsa_n_states_min"] == 2                       # states 1 and 2 behave alike
    w = np.array([4, 4, 5.0])
    h = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    assert s["fsa_transition_entropy"] == pytest.approx(4 * h / w.sum())
    assert s["fsa_nondeterminism"] == pytest.approx(4 * 0.5 / w.sum())
    assert s["fsa_modularity"] <= 1e-12 + max(modularity(g, [0, 0, 0]), modularity(g, [0, 1, 1]),
                                              modularity(g, [0, 0, 1]), modularity(g, [0, 1, 0]))
    with pytest.raises(DataError, match="counts"):
        fsa_graph(FSA.from_spec(PARITY))
    assert "fsa_modularity" not in fsa_scores(FSA.from_spec(PARITY))


def test_state_words_counts():
    fsa = FSA.from_spec(PARITY)
    trace = StateTrace(states=np.zeros((8, 1), np.float32), tokens=np.array([[1, 1, 0, 9], [0, 1, 9, 9]]),
                       lengths=np.array([4, 2]), labels=None, predictions=np.array([0, 0]))
    df = state_words(fsa, trace, vocab=["zero", "one"] + ["?"] * 8, top=2)
    # seq 0: 1->odd, 1->even, 0->even, 9(self)->even; seq 1: 0->even, 1->odd
    rows = df[["state", "word", "count"]].values.tolist()
    assert rows == [[0, "zero", 2], [0, "one", 1], [1, "one", 2]]
    assert df["share"].tolist()[:2] == [0.5, 0.25]


# ---------------------------------------------------------------------- a trained RNN
@pytest.mark.slow
def test_tiny_gru_on_tomita_2_yields_the_true_dfa():
    from neurograph.datasets.tomita import make_tomita
    from neurograph.models.recurrent import RecurrentClassifier
    from neurograph.recording.states import record_states
    from neurograph.zoo.training import accuracy, train_classifier

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = make_tomita(2, n_train=600, n_test=300, train_lengths=(0, 10), test_lengths=(11, 20), seed=0)
        torch.manual_seed(0)
        model = RecurrentClassifier(3, 2, cell="gru", embedding_dim=4, hidden_size=8, padding_idx=2)
        train_classifier(model, data.tokens_train, data.y_train, epochs=12, lr=2e-2, seed=0)
        assert accuracy(model, data.tokens_test, data.y_test) == 1.0
        trace = record_states(model, data.tokens_train, data.lengths_train, labels=data.y_train)
        for method in ("kmeans", "transition"):
            fsa = extract_fsa(trace, 4, method, accept="readout", readout=model.readout)
            assert fsa == data.dfa, (method, fsa.counterexample(data.dfa))
            assert fsa.minimize().n_states == data.dfa.n_states == 3
            assert fsa.fidelity(data.tokens_test, record_states(model, data.tokens_test,
                                                                data.lengths_test).predictions,
                                data.lengths_test) == 1.0
    finally:
        torch.set_num_threads(before)


def test_no_print_in_library():
    for mod in (fsa_mod, algo_mod, extract_mod, scores_mod):
        src = open(mod.__file__, encoding="utf-8").read()
        assert "print(" not in src.replace("print(fsa.to_dot())", ""), os.path.basename(mod.__file__)
