"""The evidence-integration and SET-game tasks, the dimension predicted from word counts, the oscillator."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurograph.datasets.evidence import evidence_totals, make_evidence_task, predict_dimension
from neurograph.datasets.set_game import make_set_task, set_label
from neurograph.errors import DataError
from neurograph.dynamics.limit_cycle import find_limit_cycle
from neurograph.models.oscillator import SetOscillator
from neurograph.dynamics.phase_code import phase_shifts, relative_phases
from neurograph.recording.states import record_states

# --------------------------------------------------------------------------- SET game


def test_set_label_is_all_equal_or_all_different_for_all_27_triples():
    for v in itertools.product(range(3), repeat=3):
        assert set_label(list(v)) == int(len(set(v)) in (1, 3))
    with pytest.raises(DataError):
        set_label([0, 1, 3])


def test_set_trials_decode_to_their_values_onsets_and_labels():
    task = make_set_task(n_train=300, n_test=50, seed=1)
    tok = task.tokens_train.numpy()
    assert tok.shape == (300, 50) and task.vocab_size == 4 and task.input_size == 100
    for i in range(300):
        steps = np.flatnonzero(tok[i])
        assert len(steps) == 6                                   # three values, two steps each
        onsets = steps[::2]
        np.testing.assert_array_equal(steps[1::2], onsets + 1)
        np.testing.assert_array_equal(onsets, task.onsets_train[i])
        np.testing.assert_array_equal(tok[i, onsets] - 1, task.values_train[i])
        assert (np.diff(onsets) - 2 >= 5).all() and onsets[-1] + 2 <= 50
        v = tok[i, onsets] - 1
        assert task.y_train[i] == int(len(set(v.tolist())) in (1, 3))
    assert 0.4 < float(task.y_train.float().mean()) < 0.6               # balanced
    x = task.inputs(task.tokens_train[:3])
    np.testing.assert_array_equal(x[0, task.onsets_train[0, 0]].numpy(), task.vectors[task.values_train[0, 0]])
    assert float(x[0, tok[0] == 0].abs().max()) == 0.0
    again = make_set_task(n_train=300, n_test=50, seed=1)
    assert torch.equal(again.tokens_train, task.tokens_train) and np.array_equal(again.vectors, task.vectors)
    unbalanced = make_set_task(n_train=3000, n_test=2, balanced=False, seed=2)
    assert abs(float(unbalanced.y_train.float().mean()) - 1 / 3) < 0.03
    with pytest.raises(DataError, match="do not fit"):
        make_set_task(n_steps=15)


@pytest.mark.parametrize("k", [1, 2])
def test_curriculum_trials_with_fewer_values_keep_the_sum_mod_3_rule(k):
    task = make_set_task(n_train=200, n_test=5, n_values=k, seed=4)
    tok = task.tokens_train.numpy()
    assert task.values_train.shape == (200, k) and ((tok > 0).sum(1) == 2 * k).all()
    for i in range(200):
        v = tok[i, task.onsets_train[i]] - 1
        assert task.y_train[i] == int(v.sum() % 3 == 0)


def test_hand_built_oscillator_solves_set_through_phase_shifts():
    task = make_set_task(n_train=600, n_test=400, seed=0)
    model = SetOscillator(task.vectors)
    for tokens, y in (task.train, task.test):
        assert bool((model(tokens).argmax(1) == y).all())         # 100 %
    cell = model.rnn.cell
    cycle = find_limit_cycle(cell, np.zeros(100), [1.0, 0.0])
    assert cycle.kind == "periodic" and cycle.period == 10.0 and cycle.is_stable
    ps = phase_shifts(cell, task.vectors, cycle)
    err = np.abs((ps.mean_shift - [0, 1 / 3, 2 / 3] + 0.5) % 1.0 - 0.5)
    assert err.max() < 1e-3 and ps.spread.max() < 1e-3
    auto = ps.automaton(3)
    assert auto.transitions.tolist() == [[0, 1, 2], [1, 2, 0], [2, 0, 1]]
    # the phase at the end of each trial, read through the automaton, is the sum of the values mod 3
    rel = relative_phases(cell, task.inputs(task.tokens_test[:100]), cycle, [1.0, 0.0])
    state = auto.state_of_phase(rel[:, -1], 3)
    np.testing.assert_array_equal(state, task.values_test[:100].sum(1) % 3)
    # record_states sees the same 2-D states through the module named "rnn"
    trace = record_states(model, task.tokens_test[:5], labels=task.y_test[:5])
    assert trace.hidden_size == 2 and np.allclose(trace.initial_states, [1.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(trace.states, axis=1), 1.0, atol=1e-5)


# --------------------------------------------------------------------------- evidence tasks

def _brute_force_label(words, seq, n_classes, ordered, thresholds):
    if ordered:
        total = sum(int(words[t].split(":")[1].split("#")[0]) for t in seq)
        return int(sum(total >= th for th in thresholds))
    totals = [0] * n_classes
    for t in seq:
        cls, weight = words[t].split(":")
        totals[int(cls[1:])] += int(weight.split("#")[0])
    best = max(totals)
    assert totals.count(best) == 1                                   # ties were drawn again
    return totals.index(best)


@pytest.mark.parametrize("n_classes, ordered, length, wpw", [(2, False, 40, 1), (3, False, (20, 50), 2),
                                                             (5, False, 40, 1), (4, True, (20, 50), 1)])
def test_evidence_labels_match_brute_force(n_classes, ordered, length, wpw):
    task = make_evidence_task(n_classes, ordered=ordered, n_train=300, n_test=30, length=length,
                              words_per_weight=wpw, seed=3)
    tok, lens = task.tokens_train.numpy(), task.lengths_train.numpy()
    lo, hi = (length, length) if isinstance(length, int) else length
    assert lens.min() >= lo and lens.max() <= hi and tok.shape[1] == hi
    for i in range(len(tok)):
        seq = tok[i, : lens[i]]
        assert (seq > 0).all() and (tok[i, lens[i]:] == 0).all()
        assert task.y_train[i] == _brute_force_label(task.words, seq, n_classes, ordered, task.thresholds)
    counts = np.bincount(task.y_train.numpy(), minlength=n_classes)
    assert counts.min() > 300 / n_classes * 0.6                       # roughly balanced
    assert task.vocab_size == (1 + 5 * wpw if ordered else 1 + 4 * n_classes * wpw)
    same = make_evidence_task(n_classes, ordered=ordered, n_train=300, n_test=30, length=length,
                              words_per_weight=wpw, seed=3)
    assert torch.equal(same.tokens_train, task.tokens_train) and torch.equal(same.y_test, task.y_test)


@pytest.mark.parametrize("n_classes", [2, 3, 4, 5])
def test_predicted_dimension_is_n_minus_1_for_unordered_and_1_for_ordered(n_classes):
    task = make_evidence_task(n_classes, n_train=3000, n_test=10, seed=0)
    pred = predict_dimension(task.tokens_train, task.y_train, lengths=task.lengths_train)
    assert pred.n_components == n_classes - 1
    assert pred.participation_ratio == pytest.approx(n_classes - 1, rel=0.05)
    assert pred.explained_variance_ratio[-1] < 1e-12                  # the constant direction is removed
    assert pred.counts.sum() == int(task.lengths_train.sum()) and pred.counts[0].sum() == 0
    ordered = make_evidence_task(n_classes, ordered=True, n_train=3000, n_test=10, seed=0)
    assert predict_dimension(ordered.tokens_train, ordered.y_train).n_components == 1


def test_predict_dimension_errors():
    with pytest.raises(DataError):
        predict_dimension(np.zeros((3, 4), int), np.zeros(2, int))
    with pytest.raises(DataError, match="at least 2 classes"):
        predict_dimension(np.ones((3, 4), int), np.zeros(3, int))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_evidence_totals_is_additive_over_positions(data):
    v, s = data.draw(st.integers(2, 6)), data.draw(st.integers(1, 3))
    scores = np.vstack([np.zeros((1, s)), np.arange(1, (v - 1) * s + 1).reshape(v - 1, s)])
    seq = data.draw(st.lists(st.integers(0, v - 1), min_size=1, max_size=12))
    cut = data.draw(st.integers(0, len(seq)))
    tok = np.array([seq])
    whole = evidence_totals(tok, scores)
    parts = evidence_totals(np.array([seq[:cut] + [0] * (len(seq) - cut)]), scores) + \
        evidence_totals(np.array([[0] * cut + seq[cut:]]), scores)
    np.testing.assert_allclose(whole, parts)
    np.testing.assert_allclose(evidence_totals(tok, scores, lengths=[cut]), evidence_totals(
        np.array([seq[:cut] + [0] * (len(seq) - cut)]), scores))
