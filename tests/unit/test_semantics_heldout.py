"""Held-out semantics checks: label forms and merges, each against a brute force from the data itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import neurograph as ng
from neurograph.errors import DataError

pytestmark = pytest.mark.filterwarnings("ignore::neurograph.errors.DegenerateLayerWarning")


def _net(d_in=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d_in, 5), nn.ReLU())


def _bits(model, X) -> np.ndarray:
    with torch.no_grad():
        return (model(X).double() > 0).numpy().astype(np.int64)


def _check(stats, bits, labels) -> None:
    assert stats.n_samples == bits.shape[0]
    assert np.array_equal(stats.fire_counts, bits.sum(0))
    assert np.array_equal(stats.cofire_counts, bits.T @ bits)
    labels = np.asarray(labels)
    assert sorted(stats.classes.tolist()) == sorted(np.unique(labels).tolist())
    for k, c in enumerate(stats.classes):
        assert np.array_equal(stats.class_fire_counts[k], bits[labels == c].sum(0)), c


# ---------------------------------------------------------------------------- one-hot labels

@pytest.mark.parametrize("as_tensor", [False, True])
def test_one_hot_labels_are_refused_not_read_as_a_second_batch(as_tensor):
    # the model takes 3 features and there are 3 classes: before, (X, onehot) was read as two
    # unlabelled batches, the one-hot rows recorded as inputs, in silence
    model = _net(d_in=3)
    X = torch.randn(9, 3)
    Y = np.eye(3)[np.arange(9) % 3]
    with pytest.raises(DataError, match=r"labels y .*\(9, 3\).*one-hot.*argmax"):
        ng.record(model, (X, torch.from_numpy(Y) if as_tensor else Y), "1")


def test_two_unlabelled_batches_of_one_shape_stay_two_batches():
    model = _net(d_in=3)
    X1, X2 = torch.randn(4, 3), torch.randn(4, 3)
    stats = ng.record(model, [X1, X2], "1")
    _check(stats, _bits(model, torch.cat([X1, X2]))[:, :], np.zeros(0))  # no classes


def test_labels_of_shape_n_by_1_are_one_label_per_sample():
    model = _net()
    X, y = torch.randn(10, 3), np.arange(10) % 4
    _check(ng.record(model, (X, torch.from_numpy(y)[:, None]), "1"), _bits(model, X), y)
    _check(ng.record(model, (X, y.tolist()), "1"), _bits(model, X), y)


# ---------------------------------------------------------------------------- dict batches with labels

class _KwNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = _net()

    def forward(self, input_ids, labels=None, **_):
        return self.body(input_ids)


def test_dict_batches_carry_their_labels_like_hugging_face_datasets():
    # before: {"input_ids", "labels"} batches were read as unlabelled, class counts silently empty
    model = _KwNet()
    X, y = torch.randn(11, 3), np.array([2, 0, 1, 1, 0, 2, 2, 2, 0, 1, 0])
    rows = [{"input_ids": X[i], "labels": int(y[i])} for i in range(11)]
    stats = ng.record(model, DataLoader(rows, batch_size=4), "body.1")
    _check(stats, _bits(model.body, X), y)
    rows = [{"input_ids": X[i], "label": int(y[i])} for i in range(11)]
    _check(ng.record(model, DataLoader(rows, batch_size=5), "body.1"), _bits(model.body, X), y)


# ---------------------------------------------------------------------------- integer activations

class _Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.id = nn.Identity()

    def forward(self, x, attention_mask=None):
        return self.id(x)


@pytest.mark.parametrize("positions", ["mean", "max", "all", "last", "any"])
@pytest.mark.parametrize("masked", [False, True])
def test_int8_outputs_are_reduced_over_positions_like_float64(positions, masked):
    # before: positions="mean" on int8 outputs failed as "the model raised" (torch has no integer mean),
    # and the masked max filled int8 with -inf
    g = torch.Generator().manual_seed(3)
    Z = torch.randint(-3, 4, (6, 5, 4), dtype=torch.int8, generator=g)
    lens = torch.tensor([5, 2, 3, 1, 4, 5]) if masked else torch.full((6,), 5)
    am = (torch.arange(5)[None] < lens[:, None]).long()
    stats = ng.record(_Tokens(), ({"x": Z, "attention_mask": am}, None), "id", rule="threshold",
                      threshold=0.3, positions=positions, neuron_axis=-1)
    rows = []
    for i in range(6):
        v = Z[i, :int(lens[i])].double()
        rows.append({"mean": v.mean(0, keepdim=True), "max": v.amax(0, keepdim=True), "all": v,
                     "last": v[-1:], "any": (v > 0.3).any(0, keepdim=True).double()}[positions])
    bits = (torch.cat(rows) > 0.3).numpy().astype(np.int64)
    _check(stats, bits, np.zeros(0))


def test_dict_batches_with_per_token_labels_stay_unlabelled():
    model = _KwNet()
    X = torch.randn(6, 3)
    batch = {"input_ids": X, "labels": torch.zeros(6, 4, dtype=torch.int64)}  # token classification
    stats = ng.record(model, [batch], "body.1")
    _check(stats, _bits(model.body, X), np.zeros(0))
    assert stats.n_classes == 0


def test_one_hot_labels_in_dataloader_batches_are_refused_with_the_fix():
    X, Y = torch.randn(8, 3), torch.eye(3)[torch.arange(8) % 3]
    loader = DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=4)
    with pytest.raises(DataError, match=r"labels of batch 0 .*\(4, 3\).*argmax"):
        ng.record(_net(), loader, "1")
