"""Tests for neurograph.datasets.regular: membership, minimal DFAs (brute force), sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import neurograph.datasets.regular as reg_mod
from neurograph.automata.fsa import FSA
from neurograph.datasets.regular import (
    REGULAR_LANGUAGES,
    REGULAR_PAD,
    make_regular,
    regular_accepts,
    regular_dfa,
    sample_dfa,
)
from neurograph.errors import DataError

SIZES = {"ones_mod3": 3, "ones_mod5": 5, "last3": 8, "last4": 16}


def test_all_is_sorted_and_importable():
    assert list(reg_mod.__all__) == sorted(reg_mod.__all__)
    for name in reg_mod.__all__:
        assert hasattr(reg_mod, name), name


@pytest.mark.parametrize("name", sorted(REGULAR_LANGUAGES))
def test_dfa_matches_membership_on_every_string_up_to_12(name):
    dfa = regular_dfa(name)
    words = [list(w) for n in range(13) for w in itertools.product([0, 1], repeat=n)]
    assert len(words) == 8191
    want = np.array([regular_accepts(name, w) for w in words], np.int64)
    assert np.array_equal(dfa.predict(words), want)
    assert dfa.minimize().n_states == dfa.n_states == SIZES[name]      # minimal as built


def test_membership_by_hand():
    assert regular_accepts("ones_mod3", "") and regular_accepts("ones_mod3", "0110100")
    assert not regular_accepts("ones_mod3", "11") and regular_accepts("ones_mod5", "11111")
    assert regular_accepts("last3", "100") and regular_accepts("last3", "0111")
    assert not regular_accepts("last3", "10") and not regular_accepts("last4", "0111")
    assert regular_accepts("last4", [1, 0, 0, 0])
    with pytest.raises(DataError):
        regular_accepts("mod7", "1")
    with pytest.raises(DataError):
        regular_accepts("last3", "012")


@pytest.mark.parametrize("name", ["ones_mod3", "last3"])
def test_make_regular_is_balanced_labelled_and_in_range(name):
    data = make_regular(name, n_train=200, n_test=100, train_lengths=(0, 8), test_lengths=(9, 14), seed=3)
    dfa = data.dfa
    for tokens, lengths, y, (lo, hi) in ((data.tokens_train, data.lengths_train, data.y_train, (0, 8)),
                                         (data.tokens_test, data.lengths_test, data.y_test, (9, 14))):
        assert float(y.float().mean()) == 0.5
        L = lengths.numpy()
        assert L.min() >= lo and L.max() <= hi
        words = [tokens[i, : L[i]].numpy() for i in range(len(L))]
        assert np.array_equal(dfa.predict(words), y.numpy())
        pad = tokens.numpy()[np.arange(tokens.shape[1])[None] >= L[:, None]]
        assert (pad == REGULAR_PAD).all()
    again = make_regular(name, n_train=200, n_test=100, train_lengths=(0, 8), test_lengths=(9, 14), seed=3)
    assert np.array_equal(again.tokens_train.numpy(), data.tokens_train.numpy())
    assert data.vocab_size == 3 and data.pad == 2 and data.language == name


def test_sample_dfa_is_uniform_within_a_length():
    dfa = regular_dfa("ones_mod3")
    words = sample_dfa(dfa, 3000, (4, 4), label=1, seed=0)
    # strings of length 4 with 0 or 3 ones: 1 + 4 = 5, each about 1/5
    counts = {}
    for w in words:
        counts[tuple(w.tolist())] = counts.get(tuple(w.tolist()), 0) + 1
    assert len(counts) == 5 and all(abs(c / 3000 - 0.2) < 0.03 for c in counts.values())
    # alphabets other than {0, 1}
    other = FSA.from_spec({"a": (1, {3: "b", 7: "a"}), "b": (0, {3: "a", 7: "b"})})
    ws = sample_dfa(other, 50, (1, 6), label=1, seed=1)
    assert all(set(w.tolist()) <= {3, 7} for w in ws) and other.predict(ws).tolist() == [1] * 50


def test_errors():
    with pytest.raises(DataError):
        sample_dfa(regular_dfa("last3"), 3, (0, 2), label=1)             # no string of length <= 2 has it
    with pytest.raises(DataError):
        sample_dfa("dfa", 3, (0, 2), label=1)
    with pytest.raises(DataError):
        sample_dfa(regular_dfa("last3"), -1, (0, 5), label=1)
    with pytest.raises(DataError):
        make_regular("last3", n_train=1)
    with pytest.raises(DataError):
        make_regular("last3", train_lengths=(5, 2))
    with pytest.raises(DataError):
        regular_dfa("tomita3")
