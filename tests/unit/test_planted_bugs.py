"""Small bugs that once passed the whole suite, each pinned by a test with an independent reference.

Each was planted into a copy of the package one at a time and survived 1,244 green tests:

* the masked ``positions="any"`` path comparing ``>=`` instead of ``>`` (dead post-ReLU channels
  became always-on);
* the null-model standard deviation with ``ddof=0`` instead of the documented ``ddof=1``;
* the significance p-value counting nulls ``>`` instead of ``>=`` the observed modularity (K5 and a
  star then report p = 1/(n_null+1) instead of 1.0);
* FSA fidelity ignoring ``lengths`` (fidelity 1.0 -> 0.667 when the padding id is also a symbol).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

import neurograph as ng
from neurograph.automata import FSA


# ---------------------------------------------------------------------------- masked "any" positions
class _TokenReLU(nn.Module):
    """Embedding -> Linear -> ReLU over tokens; unit 0 is dead (ReLU of a constant -1), unit 1 fires on token 1."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(4, 3)
        self.lin = nn.Linear(3, 3)
        self.act = nn.ReLU()
        with torch.no_grad():
            self.emb.weight.copy_(torch.eye(4, 3))
            self.lin.weight.copy_(torch.tensor([[0.0, 0, 0], [0, 1, 0], [1, 1, 1]]))
            self.lin.bias.copy_(torch.tensor([-1.0, 0, 0]))
        self.head = nn.Linear(3, 2)

    def forward(self, input_ids, attention_mask):
        h = self.act(self.lin(self.emb(input_ids)))
        return self.head(h.mean(1))


def _any_brute_force(model: _TokenReLU, ids: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        h = model.act(model.lin(model.emb(ids))).numpy()       # (n, T, 3), exactly what the hook sees
    valid = mask.numpy().astype(bool)
    fires = np.array([(h[i][valid[i]] > 0).any(axis=0) for i in range(len(ids)) if valid[i].any()])
    return fires.sum(axis=0)


def test_masked_any_positions_counts_strictly_above_the_threshold():
    torch.manual_seed(0)
    model = _TokenReLU().eval()
    ids = torch.tensor([[1, 0, 2, 3], [0, 0, 2, 2], [3, 1, 1, 0], [2, 2, 0, 0], [0, 3, 0, 1]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 1, 0]])
    batches = [({"input_ids": ids, "attention_mask": mask}, torch.tensor([0, 1, 0, 1, 0]))]
    stats = ng.record(model, batches, "act", positions="any")
    want = _any_brute_force(model, ids, mask)
    assert stats.n_samples == 5
    np.testing.assert_array_equal(stats.fire_counts, want)
    assert stats.fire_counts[0] == 0          # the dead unit: exactly 0.0 everywhere never fires
    assert stats.fire_counts[1] == 2          # token 1 at a valid position: rows 0 and 2 (row 4 has it only as padding)


# ---------------------------------------------------------------------------- null model: sd and p-value
def test_null_sd_is_the_sample_standard_deviation_and_z_uses_it():
    sig = ng.modularity_significance(nx.barbell_graph(6, 1), n_null=7, seed=3)
    assert len(sig.null_values) == 7 and np.unique(sig.null_values).size > 1
    assert sig.null_mean == pytest.approx(float(np.mean(sig.null_values)), abs=1e-15)
    assert sig.null_sd == pytest.approx(float(np.std(sig.null_values, ddof=1)), rel=1e-12)
    assert sig.z == pytest.approx((sig.modularity - sig.null_mean) / sig.null_sd, rel=1e-12)


@pytest.mark.parametrize("graph", [nx.complete_graph(5), nx.star_graph(6)], ids=["K5", "star"])
def test_graph_its_own_null_has_p_value_one(graph):
    # Every degree-preserving rewiring of K5 or of a star is the graph itself (up to labels), so each
    # null reaches the observed modularity exactly: P(null >= Q) = 1 and nothing is significant.
    n_null = 20
    sig = ng.modularity_significance(graph, n_null=n_null, seed=0)
    assert np.all(np.isclose(sig.null_values, sig.modularity, atol=1e-12))
    assert sig.p_value == 1.0
    # the definition, from its pieces: (1 + #{nulls >= Q}) / (1 + n_null)
    assert sig.p_value == (1 + int(np.sum(sig.null_values >= sig.modularity - 1e-12))) / (1 + n_null)


# ---------------------------------------------------------------------------- FSA fidelity with lengths
def _parity() -> FSA:
    # parity of the number of 1s over the alphabet {0, 1}; 0 is also the padding id below
    return FSA.from_spec({"even": (1, {0: "even", 1: "odd"}), "odd": (0, {0: "odd", 1: "even"})})


def _reference_predictions(seqs) -> np.ndarray:
    return np.array([1 - (sum(s) % 2) for s in seqs], dtype=np.int64)


def test_fidelity_and_accuracy_honour_lengths_when_the_pad_id_is_a_symbol():
    fsa = _parity()
    seqs = [[1], [1, 1, 0], [0, 1], [1, 0, 1, 1]]
    T = 6
    padded = np.zeros((len(seqs), T), np.int64)                 # pad with 0: a real symbol of the FSA
    for i, s in enumerate(seqs):
        padded[i, :len(s)] = s
    lengths = np.array([len(s) for s in seqs])
    truth = _reference_predictions(seqs)
    np.testing.assert_array_equal(fsa.predict(padded, lengths), truth)
    assert fsa.fidelity(padded, truth, lengths) == 1.0
    assert fsa.accuracy(padded, truth, lengths) == 1.0
    assert fsa.fidelity(torch.from_numpy(padded), torch.from_numpy(truth), torch.from_numpy(lengths)) == 1.0
    # and with 1 as the pad, where ignoring lengths would flip the parity of every sequence
    ones = np.where(np.arange(T)[None, :] < lengths[:, None], padded, 1)
    assert fsa.fidelity(ones, truth, lengths) == 1.0
    wrong = 1 - truth
    assert fsa.fidelity(ones, wrong, lengths) == 0.0
