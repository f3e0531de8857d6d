"""Shared fixtures of the automata tests: a hand-weighted RNN whose language is known exactly."""

import pytest
import torch


def tiny_last_is_one_rnn():
    """Hand-weighted vanilla RNN: class 1 iff the last token is 1 (empty string: tie -> class 0)."""
    from neurograph.models.recurrent import RecurrentClassifier

    model = RecurrentClassifier(3, 2, cell="rnn", embedding_dim=1, hidden_size=1, padding_idx=2)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.tensor([[-5.0], [5.0], [0.0]]))
        model.rnn.cell.weight_ih.fill_(1.0)
        model.rnn.cell.weight_hh.zero_()
        model.rnn.cell.bias_ih.zero_()
        model.rnn.cell.bias_hh.zero_()
        model.readout.weight.copy_(torch.tensor([[-1.0], [1.0]]))
        model.readout.bias.zero_()
    return model


LAST_IS_ONE = {"r": (0, {0: "r", 1: "a"}), "a": (1, {0: "r", 1: "a"})}


@pytest.fixture
def last_is_one_rnn():
    """(model, spec): the hand-weighted RNN and the spec of its language (last symbol is 1)."""
    return tiny_last_is_one_rnn(), LAST_IS_ONE
