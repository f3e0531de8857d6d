"""Tests for neurograph.datasets.tomita: definitions, DFAs vs brute force, samplers."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import numpy as np
import pytest

import neurograph.datasets.tomita as tomita_mod
from neurograph.datasets.tomita import (TOMITA_GRAMMARS, TOMITA_PAD, make_tomita, sample_tomita, tomita_accepts,
                                        tomita_dfa)
from neurograph.errors import DataError

MAX_LEN = 12
ALL_WORDS = ["".join(w) for n in range(MAX_LEN + 1) for w in itertools.product("01", repeat=n)]
# Independent reference for grammar 3 (Weiss, Goldberg & Yahav's regular expression for its complement)
_NOT_T3 = re.compile("((0|1)*0)*1(11)*(0(0|1)*1)*0(00)*(1(0|1)*)*$")


def test_all_is_sorted_and_importable():
    assert list(tomita_mod.__all__) == sorted(tomita_mod.__all__)
    for name in tomita_mod.__all__:
        assert hasattr(tomita_mod, name)


@pytest.mark.parametrize("grammar", sorted(TOMITA_GRAMMARS))
def test_dfa_matches_membership_on_all_strings_up_to_12(grammar):
    dfa = tomita_dfa(grammar)
    got = dfa.predict([[int(c) for c in w] for w in ALL_WORDS])
    want = np.array([tomita_accepts(grammar, w) for w in ALL_WORDS], dtype=np.int64)
    assert np.array_equal(got, want)


def test_grammar_3_matches_the_reference_regex():
    for w in ALL_WORDS:
        assert tomita_accepts(3, w) == (_NOT_T3.match(w) is None), w


def test_closed_form_membership_examples():
    assert tomita_accepts(1, "111") and not tomita_accepts(1, "101")
    assert tomita_accepts(2, "") and tomita_accepts(2, "1010") and not tomita_accepts(2, "0101")
    assert tomita_accepts(3, "1100") and not tomita_accepts(3, "10") and not tomita_accepts(3, "1011000")
    assert not tomita_accepts(3, "0010") and tomita_accepts(3, "100") and not tomita_accepts(3, "100110")
    assert tomita_accepts(4, "001001") and not tomita_accepts(4, "1000")
    assert tomita_accepts(5, "0110") and not tomita_accepts(5, "01")
    assert tomita_accepts(6, "00001") and tomita_accepts(6, "000") and not tomita_accepts(6, "001") and not tomita_accepts(6, "0")
    assert tomita_accepts(7, "0011001") and not tomita_accepts(7, "10101")
    assert tomita_accepts(7, [0, 1, 1]) and tomita_accepts(2, np.array([1, 0]))
    with pytest.raises(DataError, match="0 and 1"):
        tomita_accepts(1, "012")
    with pytest.raises(DataError, match="1..7"):
        tomita_accepts(8, "0")


def test_dfas_are_minimal_with_the_known_sizes():
    sizes = {g: tomita_dfa(g).n_states for g in TOMITA_GRAMMARS}
    assert sizes == {1: 2, 2: 3, 3: 5, 4: 4, 5: 4, 6: 3, 7: 5}
    for g in TOMITA_GRAMMARS:
        dfa = tomita_dfa(g)
        assert dfa.minimize().n_states == dfa.n_states and dfa.minimize() == dfa
        assert dfa.alphabet.tolist() == [0, 1] and dfa.outputs[dfa.start] == 1      # the empty string


@pytest.mark.parametrize("grammar", [1, 3, 5])
@pytest.mark.parametrize("label", [0, 1])
def test_sampler_gives_the_right_class_and_lengths(grammar, label):
    words = sample_tomita(grammar, 300, (0, 9), label=label, seed=0)
    assert len(words) == 300
    assert all(tomita_accepts(grammar, w) == bool(label) for w in words)
    assert all(0 <= len(w) <= 9 for w in words)
    lengths = Counter(len(w) for w in words)
    ok = [L for L in range(10) if any(tomita_accepts(grammar, w) == bool(label) for w in ALL_WORDS if len(w) == L)]
    assert sorted(lengths) == ok                        # every possible length is drawn


def test_sampler_is_uniform_within_a_length():
    # grammar 5, length 4: 8 strings have even 0s and 1s; each should get ~1/8 of 3000 draws
    words = sample_tomita(5, 3000, (4, 4), label=1, seed=1)
    counts = Counter("".join(map(str, w)) for w in words)
    support = [w for w in ALL_WORDS if len(w) == 4 and tomita_accepts(5, w)]
    assert sorted(counts) == sorted(support) and len(support) == 8
    expected = 3000 / 8
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 24.3            # 7 dof, p ~ 0.001


def test_sampler_errors():
    with pytest.raises(DataError, match="no string of class 0"):
        sample_tomita(1, 3, (0, 0), label=0)
    with pytest.raises(DataError, match="lengths"):
        sample_tomita(1, 3, (5, 2), label=1)
    with pytest.raises(DataError, match="label"):
        sample_tomita(1, 3, (0, 3), label=2)


def test_make_tomita_is_balanced_padded_and_reproducible():
    data = make_tomita(4, n_train=200, n_test=100, train_lengths=(0, 8), test_lengths=(9, 14), seed=3)
    assert data.tokens_train.shape[0] == 200 and data.tokens_test.shape[0] == 100
    assert int(data.y_train.sum()) == 100 and int(data.y_test.sum()) == 50
    assert int(data.lengths_train.max()) <= 8 and int(data.lengths_test.min()) >= 9
    for tokens, lengths, y in ((data.tokens_train, data.lengths_train, data.y_train),
                               (data.tokens_test, data.lengths_test, data.y_test)):
        for row, n, label in zip(tokens.tolist(), lengths.tolist(), y.tolist()):
            assert set(row[n:]) <= {TOMITA_PAD} and set(row[:n]) <= {0, 1}
            assert tomita_accepts(4, row[:n]) == bool(label)
    again = make_tomita(4, n_train=200, n_test=100, train_lengths=(0, 8), test_lengths=(9, 14), seed=3)
    assert data.tokens_train.equal(again.tokens_train) and data.y_test.equal(again.y_test)
    other = make_tomita(4, n_train=200, n_test=100, train_lengths=(0, 8), test_lengths=(9, 14), seed=4)
    assert not data.tokens_train.equal(other.tokens_train)
    assert data.dfa == tomita_dfa(4) and data.train[0] is data.tokens_train
    with pytest.raises(DataError):
        make_tomita(4, n_train=1)
