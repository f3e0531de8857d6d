"""Tests for FSA.from_dot (round trip of to_dot) and the optional AALpy conversions."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import neurograph.automata.aalpy as aalpy_mod
from neurograph.automata.fsa import FSA
from neurograph.datasets.regular import regular_dfa
from neurograph.datasets.tomita import tomita_dfa
from neurograph.errors import DataError

PARITY = {"e": (1, {0: "e", 1: "o"}), "o": (0, {0: "o", 1: "e"})}
NEEDS_AALPY = "optional extra not installed: pip install aalpy"


def random_fsa(rng, n, m, classes=2):
    return FSA(transitions=rng.integers(0, n, (n, m)), outputs=rng.integers(0, classes, n),
               alphabet=np.sort(rng.choice(20, m, replace=False)).astype(np.int64), start=int(rng.integers(n)))


# ---------------------------------------------------------------------- DOT
def test_from_dot_round_trips_random_and_known_fsas():
    rng = np.random.default_rng(0)
    fsas = [tomita_dfa(g) for g in range(1, 8)] + [regular_dfa("last4")]
    fsas += [random_fsa(rng, int(rng.integers(1, 7)), int(rng.integers(1, 4)), classes=c)
             for c in (1, 2, 3) for _ in range(15)]
    for fsa in fsas:
        text = fsa.to_dot(max_symbols=100)
        back = FSA.from_dot(text)
        assert back == fsa and back.start == fsa.start
        assert np.array_equal(back.outputs, fsa.outputs) and np.array_equal(back.transitions, fsa.transitions)
        assert back.to_dot(max_symbols=100) == text                      # a fixed point
        assert back.params == {"source": "dot"}


def test_from_dot_names_escapes_and_symbol_names():
    fsa = FSA(transitions=np.array([[1, 0], [2, 1], [0, 2]]), outputs=np.array([0, 2, 1]),
              alphabet=np.array([0, 1]), state_names=('say "hi"', "back\\slash", "two\nlines"),
              symbol_names=("good, bad", "x"))
    with pytest.raises(DataError, match="not a token id"):
        FSA.from_dot(fsa.to_dot())
    plain = FSA(transitions=fsa.transitions, outputs=fsa.outputs, alphabet=fsa.alphabet,
                state_names=fsa.state_names, symbol_names=("good", "bad"))
    back = FSA.from_dot(plain.to_dot(), symbols=["good", "bad"])
    assert back == plain and back.state_names == plain.state_names and back.symbol_names == ("good", "bad")
    assert back.outputs.tolist() == [0, 2, 1]
    with pytest.raises(DataError, match="not in symbols"):
        FSA.from_dot(plain.to_dot(), symbols=["good"])


def test_from_dot_errors():
    big = regular_dfa("last3")
    wide = FSA(transitions=np.zeros((1, 12), np.int64), outputs=np.array([1]), alphabet=np.arange(12))
    with pytest.raises(DataError, match="truncated"):
        FSA.from_dot(wide.to_dot(max_symbols=4))
    text = big.to_dot()
    with pytest.raises(DataError, match="start arrow"):
        FSA.from_dot("\n".join(line for line in text.splitlines() if not line.startswith("__start0 ->")))
    with pytest.raises(DataError, match="no transition"):
        FSA.from_dot("\n".join(line for line in text.splitlines() if not line.startswith("s0 ->")))
    with pytest.raises(DataError, match="digraph"):
        FSA.from_dot("graph {}")
    with pytest.raises(DataError, match="s0 .. s"):
        FSA.from_dot("digraph FSA {\n}")
    dup = text.replace("}", 's0 -> s2 [label="0"];\n}')
    with pytest.raises(DataError, match="two transitions"):
        FSA.from_dot(dup)


# ---------------------------------------------------------------------- AALpy
def test_missing_aalpy_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "aalpy", None)
    monkeypatch.setitem(sys.modules, "aalpy.automata", None)
    monkeypatch.setitem(sys.modules, "aalpy.base", None)
    with pytest.raises(ImportError, match="pip install aalpy"):
        FSA.from_spec(PARITY).to_aalpy()
    with pytest.raises(ImportError, match="pip install aalpy"):
        aalpy_mod.classifier_sul(object())
    assert aalpy_mod.__all__ == sorted(aalpy_mod.__all__)


def test_aalpy_round_trip_and_moore():
    pytest.importorskip("aalpy", reason=NEEDS_AALPY)
    from aalpy.automata import MooreMachine, MooreState

    for fsa in [tomita_dfa(g) for g in range(1, 8)] + [regular_dfa("last3"), FSA.from_spec(PARITY)]:
        dfa = fsa.to_aalpy()
        back = FSA.from_aalpy(dfa)
        assert back == fsa and back.state_names == tuple(fsa.names())
        word = [1, 0, 1, 1]
        assert dfa.execute_sequence(dfa.initial_state, word)[-1] == bool(fsa.predict([word])[0])
    with pytest.raises(DataError, match="outputs 0/1"):
        FSA(transitions=np.array([[0]]), outputs=np.array([2]), alphabet=np.array([0])).to_aalpy()
    a, b = MooreState("a", 0), MooreState("b", 2)
    a.transitions[0], a.transitions[1], b.transitions[0] = b, a, a          # b has no move on 1: a self-loop
    moore = FSA.from_aalpy(MooreMachine(a, [a, b]))
    assert moore.predict([[0], [0, 1], [0, 0], []]).tolist() == [2, 2, 0, 0]
    with pytest.raises(DataError, match="Dfa or MooreMachine"):
        FSA.from_aalpy("not an automaton")
    c = MooreState("c", "out")
    c.transitions[0] = c
    with pytest.raises(DataError, match="outputs must be ints"):
        FSA.from_aalpy(MooreMachine(c, [c]))


def test_lstar_on_a_hand_weighted_rnn_learns_its_language(last_is_one_rnn):
    pytest.importorskip("aalpy", reason=NEEDS_AALPY)
    from aalpy.learning_algs import run_Lstar
    from aalpy.oracles import RandomWordEqOracle

    model, LAST_IS_ONE = last_is_one_rnn
    model.train()
    sul = aalpy_mod.classifier_sul(model)
    oracle = RandomWordEqOracle([0, 1], sul, num_walks=100, min_walk_len=1, max_walk_len=8)
    learned = run_Lstar([0, 1], sul, oracle, automaton_type="dfa", print_level=0)
    fsa = FSA.from_aalpy(learned)
    assert fsa == FSA.from_spec(LAST_IS_ONE) and fsa.minimize().n_states == 2
    assert model.training
