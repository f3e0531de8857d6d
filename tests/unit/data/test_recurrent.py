"""Tests for neurograph.models.recurrent: cells, the padding-aware layer, the classifier."""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
from torch import nn

import neurograph.models.recurrent as rec_mod
from neurograph.errors import DataError
from neurograph.models.recurrent import CELL_TYPES, MGUCell, RecurrentClassifier, RecurrentLayer
from neurograph.recording.recorder import record
from neurograph.zoo.training import train_classifier

TORCH_REF = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def test_all_is_sorted_and_importable():
    assert list(rec_mod.__all__) == sorted(rec_mod.__all__)
    assert CELL_TYPES == {"rnn": 0, "mgu": 1, "gru": 2, "lstm": 3}


def test_mgu_cell_matches_its_equations():
    torch.manual_seed(0)
    cell = MGUCell(3, 2)
    x, h = torch.randn(4, 3), torch.randn(4, 2)
    Wi, Wh, bi, bh = cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh
    f = torch.sigmoid(x @ Wi[:2].T + bi[:2] + h @ Wh[:2].T + bh[:2])
    cand = torch.tanh(x @ Wi[2:].T + bi[2:] + (f * h) @ Wh[2:].T + bh[2:])
    want = (1 - f) * h + f * cand
    assert torch.allclose(cell(x, h), want, atol=1e-6)
    # a closed gate (f = 0) keeps the state exactly
    with torch.no_grad():
        cell.bias_ih[:2] = -1e4
    assert torch.allclose(cell(x, h), h)
    assert MGUCell(3, 2, bias=False).bias_ih is None


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_layer_matches_torch_modules_with_and_without_lengths(cell):
    torch.manual_seed(1)
    layer = RecurrentLayer(cell, 3, 4)
    ref = TORCH_REF[cell](3, 4, batch_first=True)
    ref.load_state_dict({f"{k}_l0": v for k, v in layer.cell.state_dict().items()})
    x = torch.randn(3, 5, 3)
    out, h_n = layer(x)
    want_out, want_h = ref(x)
    assert torch.allclose(out, want_out, atol=1e-6)
    h, w = (h_n[0], want_h[0]) if cell == "lstm" else (h_n, want_h)
    assert torch.allclose(h, w, atol=1e-6)
    # padded with lengths == torch on a packed batch
    lengths = torch.tensor([5, 2, 3])
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    want_out, want_h = ref(packed)
    want_out, _ = nn.utils.rnn.pad_packed_sequence(want_out, batch_first=True)
    out, h_n = layer(x, lengths=lengths)
    assert torch.allclose(out, want_out, atol=1e-6)           # zeros after each length, as torch pads
    h, w = (h_n[0], want_h[0]) if cell == "lstm" else (h_n, want_h)
    assert torch.allclose(h, w, atol=1e-6)
    # a packed input gives a packed output, and the same h_n
    out_p, h_p = layer(packed)
    assert isinstance(out_p, nn.utils.rnn.PackedSequence)
    assert torch.allclose(h_p[0] if cell == "lstm" else h_p, h, atol=1e-6)


@pytest.mark.parametrize("cell", sorted(CELL_TYPES))
def test_step_matches_the_loop_and_empty_sequences_keep_h0(cell):
    torch.manual_seed(2)
    layer = RecurrentLayer(cell, 3, 4, batch_first=False)
    x = torch.randn(6, 2, 3)                                  # (T, N, F)
    h0 = torch.randn(1, 2, 4)
    hx = (h0, torch.zeros_like(h0)) if cell == "lstm" else h0
    out, h_n = layer(x, hx, lengths=torch.tensor([6, 0]))
    state = torch.cat([h0[0], torch.zeros(2, 4)], 1) if cell == "lstm" else h0[0]
    for t in range(6):
        state = layer.step(x[t], state)
    assert layer.state_size == (8 if cell == "lstm" else 4)
    assert torch.allclose(out[-1, 0], layer.hidden(state)[0], atol=1e-6)
    h_last = h_n[0] if cell == "lstm" else h_n
    assert torch.allclose(h_last[0, 0], layer.hidden(state)[0], atol=1e-6)
    assert torch.equal(h_last[0, 1], h0[0, 1]) and torch.equal(out[:, 1], torch.zeros(6, 4))
    assert layer.n_gates == CELL_TYPES[cell]
    with pytest.raises(ValueError, match="lengths"):
        layer(x, lengths=torch.tensor([7, 1]))


@pytest.mark.parametrize("cell", sorted(CELL_TYPES))
def test_classifier_ignores_padding_and_batch_companions(cell):
    torch.manual_seed(3)
    model = RecurrentClassifier(5, 3, cell=cell, hidden_size=6, padding_idx=0)
    seqs = [[1, 2, 3], [4], [], [2, 2, 2, 2, 2]]
    tokens = torch.zeros(4, 7, dtype=torch.int64)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = torch.tensor(s, dtype=torch.int64)
    batch = model(tokens)
    assert batch.shape == (4, 3)
    for i, s in enumerate(seqs):
        alone = model(torch.tensor([s + [0]], dtype=torch.int64), torch.tensor([len(s)]))
        assert torch.allclose(alone[0], batch[i], atol=1e-6)
    # the empty sequence is classified from h0 = 0
    assert torch.allclose(batch[2], model.readout(torch.zeros(6)), atol=1e-6)
    # explicit lengths equal inferred ones; float tokens holding ids are accepted
    assert torch.allclose(model(tokens, model.lengths_of(tokens)), batch)
    assert torch.allclose(model(tokens.float()), batch)


def test_classifier_checks_inputs():
    model = RecurrentClassifier(4, 2, cell="mgu", padding_idx=0)
    with pytest.raises(DataError, match="ids in"):
        model(torch.tensor([[1, 9]]))
    with pytest.raises(DataError, match="2-D"):
        model(torch.tensor([1, 2]))
    with pytest.raises(DataError, match="lengths"):
        model(torch.tensor([[1, 2]]), torch.tensor([3]))
    with pytest.raises(ValueError, match="cell"):
        RecurrentClassifier(4, 2, cell="sru")
    with pytest.raises(ValueError, match="padding_idx"):
        RecurrentClassifier(4, 2, padding_idx=4)


@pytest.mark.parametrize("cell", ["mgu", "lstm"])
def test_learned_h0_copy_pickle_dtype_and_state_dict(cell):
    torch.manual_seed(4)
    model = RecurrentClassifier(4, 2, cell=cell, hidden_size=3, padding_idx=0, learn_h0=True)
    with torch.no_grad():
        model.h0.copy_(torch.tensor([0.5, -0.5, 1.0]))
    empty = torch.zeros(1, 2, dtype=torch.int64)
    assert torch.allclose(model(empty), model.readout(model.h0[None]))
    tokens = torch.tensor([[1, 2, 0], [3, 0, 0]])
    y = model(tokens)
    assert torch.allclose(copy.deepcopy(model)(tokens), y) and torch.allclose(pickle.loads(pickle.dumps(model))(tokens), y)
    assert model.double()(tokens).dtype == torch.float64
    model.float()
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    other = RecurrentClassifier(4, 2, cell=cell, hidden_size=3, padding_idx=0, learn_h0=True)
    other.load_state_dict(torch.load(buf, weights_only=True))
    assert torch.allclose(other(tokens), y)
    y.sum().backward()
    assert model.h0.grad is not None and model.rnn.cell.weight_hh.grad is not None


@pytest.mark.parametrize("cell", sorted(CELL_TYPES))
def test_record_counts_valid_steps_only(cell):
    torch.manual_seed(5)
    model = RecurrentClassifier(5, 2, cell=cell, hidden_size=4, padding_idx=0)
    tokens = torch.tensor([[1, 2, 3, 0], [2, 0, 0, 0], [3, 3, 3, 3]])
    labels = torch.tensor([0, 1, 0])
    every = record(model, (tokens, labels), "rnn", time="all", rule="threshold", threshold=-10.0)
    assert every.n_samples == 8 and every.fire_counts.tolist() == [8] * 4
    last = record(model, (tokens, labels), "rnn", time="last")
    with torch.no_grad():
        h = torch.stack([model.rnn(model.embedding(tokens[i : i + 1, :n]))[1][0 if cell == "lstm" else ...]
                         .reshape(-1) for i, n in enumerate([3, 1, 4])])
    assert last.n_samples == 3 and last.fire_counts.tolist() == (h > 0).sum(0).tolist()


def test_train_classifier_learns_first_token_task():
    torch.manual_seed(6)
    tokens = torch.randint(1, 3, (128, 4))
    tokens[::3, 3:] = 0                                       # some padded rows
    y = (tokens[:, 0] == 2).long()
    model = RecurrentClassifier(3, 2, cell="mgu", hidden_size=8, padding_idx=0)
    result = train_classifier(model, tokens, y, epochs=12, lr=3e-2, seed=0)
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert (model(tokens).argmax(1) == y).float().mean() > 0.9
