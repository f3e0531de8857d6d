"""Tests for neurograph.recording.states: record_states and StateTrace."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import neurograph.recording.states as states_mod
from neurograph.errors import DataError, LayerError, ModelError
from neurograph.models.recurrent import CELL_TYPES, RecurrentClassifier
from neurograph.recording.states import StateTrace, record_states

SEQS = [[1, 2, 3], [4], [], [2, 2, 1, 1, 3]]


def test_all_is_sorted_and_importable():
    assert list(states_mod.__all__) == sorted(states_mod.__all__)


def manual_states(model, seq, h0=None):
    """Step the cell by hand: [h_0, h_1, ..., h_L] of one sequence."""
    layer = model.rnn
    h = torch.zeros(1, layer.hidden_size) if h0 is None else torch.as_tensor(h0, dtype=torch.float32)[None]
    state = torch.cat([h, torch.zeros_like(h)], 1) if layer.cell_type == "lstm" else h
    out = [layer.hidden(state)[0]]
    with torch.no_grad():
        for tok in seq:
            state = layer.step(model.input_vectors(torch.tensor([tok])), state)
            out.append(layer.hidden(state)[0])
    return torch.stack(out).numpy()


@pytest.mark.parametrize("cell", sorted(CELL_TYPES))
def test_states_equal_hand_stepping(cell):
    torch.manual_seed(0)
    model = RecurrentClassifier(5, 3, cell=cell, hidden_size=4, padding_idx=0)
    trace = record_states(model, SEQS, labels=[0, 1, 2, 1], batch_size=2)
    assert trace.lengths.tolist() == [3, 1, 0, 5] and trace.states.shape == (13, 4)
    for i, s in enumerate(SEQS):
        assert np.allclose(trace.sequence_states(i), manual_states(model, s), atol=1e-6)
    with torch.no_grad():
        tokens = torch.tensor([s + [0] * (5 - len(s)) for s in SEQS])
        assert trace.predictions.tolist() == model(tokens).argmax(1).tolist()
    assert trace.labels.tolist() == [0, 1, 2, 1] and trace.layer == "rnn"
    assert np.array_equal(trace.final_states[2], trace.initial_states[2])


def test_batch_size_padding_and_input_forms_do_not_matter():
    torch.manual_seed(1)
    model = RecurrentClassifier(5, 2, cell="gru", hidden_size=3, padding_idx=0)
    a = record_states(model, SEQS, batch_size=1)             # packed path (no empty sequence in a batch)...
    b = record_states(model, SEQS, batch_size=100)           # ...and padded path (the batch holds one)
    tokens = np.zeros((4, 8), np.int64)
    for i, s in enumerate(SEQS):
        tokens[i, : len(s)] = s
    c = record_states(model, tokens)                         # lengths inferred by the model
    d = record_states(model, torch.as_tensor(tokens), lengths=[3, 1, 0, 5])
    for other in (b, c, d):
        assert np.allclose(a.states, other.states, atol=1e-6) and np.array_equal(a.lengths, other.lengths)
        assert np.array_equal(a.predictions, other.predictions)


def test_initial_state_from_the_model_or_given():
    torch.manual_seed(2)
    model = RecurrentClassifier(5, 2, cell="lstm", hidden_size=3, padding_idx=0, learn_h0=True)
    with torch.no_grad():
        model.h0.copy_(torch.tensor([0.3, -0.2, 0.9]))
    trace = record_states(model, SEQS)
    assert np.allclose(trace.initial_states, [[0.3, -0.2, 0.9]] * 4)
    for i, s in enumerate(SEQS):
        assert np.allclose(trace.sequence_states(i), manual_states(model, s, h0=[0.3, -0.2, 0.9]), atol=1e-6)
    given = record_states(model, SEQS, h0=np.ones(3))
    assert np.allclose(given.initial_states, 1.0) and np.allclose(given.states[1:4], trace.states[1:4])
    with pytest.raises(DataError, match="h0"):
        record_states(model, SEQS, h0=np.ones((2, 3)))


class TimeMajorGRU(nn.Module):
    """A user model: nn.GRU with batch_first=False, called as model(tokens, lengths)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(6, 3)
        self.gru = nn.GRU(3, 4)
        self.out = nn.Linear(4, 2)

    def forward(self, tokens, lengths):
        x = self.emb(tokens).transpose(0, 1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        _, h = self.gru(packed)
        return self.out(h[-1])


def test_plain_torch_gru_with_custom_call():
    torch.manual_seed(3)
    model = TimeMajorGRU()
    seqs = [[1, 2, 3], [4], [5, 5]]
    calls = []

    def call(m, tokens, lengths):
        calls.append(tuple(tokens.shape))
        return m(tokens, lengths)

    trace = record_states(model, seqs, layer="gru", call=call)
    assert calls == [(3, 3)]
    with torch.no_grad():
        for i, s in enumerate(seqs):
            out, _ = model.gru(model.emb(torch.tensor(s))[:, None])
            assert np.allclose(trace.sequence_states(i)[1:], out[:, 0].numpy(), atol=1e-6)
    assert np.allclose(trace.initial_states, 0.0)


def test_hooks_removed_and_modes_restored_on_error():
    model = RecurrentClassifier(5, 2, cell="mgu", padding_idx=0)
    model.train()

    def bad_call(m, tokens, lengths):
        m(tokens, lengths)
        raise RuntimeError("boom")

    with pytest.raises(ModelError, match="boom"):
        record_states(model, SEQS, call=bad_call)
    assert not model.rnn._forward_hooks and not model.rnn._forward_pre_hooks and model.training
    with pytest.raises(LayerError, match="did not run"):
        record_states(model, SEQS, layer="rnn.cell", call=lambda m, t, l: torch.zeros(len(t), 2))
    with pytest.raises(LayerError, match="matches no module"):
        record_states(model, SEQS, layer="lstm")
    with pytest.raises(LayerError, match="name one"):
        record_states(model, SEQS, layer="*")
    with pytest.raises(ModelError, match="logits"):
        record_states(model, SEQS, call=lambda m, t, l: m(t, l)[:, 0])
    with pytest.raises(DataError, match="labels"):
        record_states(model, SEQS, labels=[0, 1])
    assert not model.rnn._forward_hooks and not model.rnn._forward_pre_hooks


def test_bidirectional_is_refused():
    class Bi(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(1, 2, bidirectional=True, batch_first=True)

        def forward(self, tokens, lengths):
            return self.rnn(tokens[..., None].float())[1][-1]

    with pytest.raises(LayerError, match="bidirectional"):
        record_states(Bi(), [[1, 2]])


def test_state_trace_helpers():
    trace = StateTrace(states=np.arange(6, dtype=np.float32)[:, None], tokens=np.array([[5, 6, 7], [8, 0, 0]]),
                       lengths=np.array([3, 1]), labels=None, predictions=np.array([0, 1]))
    seq, t = trace.step_index()
    assert seq.tolist() == [0, 0, 0, 1] and t.tolist() == [1, 2, 3, 1]
    assert trace.step_rows().tolist() == [1, 2, 3, 5] and trace.step_tokens().tolist() == [5, 6, 7, 8]
    assert trace.final_states.ravel().tolist() == [3.0, 5.0]
    assert [s.tolist() for s in trace.sequences()] == [[5, 6, 7], [8]]
    with pytest.raises(DataError, match="rows"):
        StateTrace(states=np.zeros((3, 1)), tokens=np.zeros((1, 3), np.int64), lengths=np.array([3]),
                   labels=None, predictions=np.array([0]))
