"""Recurrent ensembles: S classifiers as one batched model equal S separate ones, in use and in training."""

import numpy as np
import pytest
import torch

from neurograph.errors import DataError, OptionError
from neurograph.models import RecurrentEnsemble, train_classifier_ensemble
from neurograph.models.recurrent import CELL_TYPES, RecurrentClassifier
from neurograph.zoo.training import train_classifier

SEEDS, SHUFFLE = [3, 4, 5], [20, 21, 22]
V, PAD, C, E, H, N, T = 5, 4, 3, 3, 5, 26, 7
CELLS = sorted(CELL_TYPES)


def _tokens(n=N, seed=0, members=None):
    """Random ids (padding id inside sequences too), padded after random lengths; one length 0."""
    g = torch.Generator().manual_seed(seed)
    shape = (n, T) if members is None else (members, n, T)
    tok = torch.randint(0, V, shape, generator=g)
    lengths = torch.randint(1, T + 1, shape[:-1], generator=g)
    lengths[..., 0] = 0
    lengths[..., 1] = T
    tok[torch.arange(T) >= lengths[..., None]] = PAD
    return tok


def _labels(n=N, seed=1, members=None):
    return torch.randint(0, C, (n,) if members is None else (members, n), generator=torch.Generator().manual_seed(seed))


def _separate(cell, learn_h0=False):
    nets = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        nets.append(RecurrentClassifier(V, C, cell=cell, embedding_dim=E, hidden_size=H, padding_idx=PAD,
                                        learn_h0=learn_h0))
    return nets


def _assert_same(net_a, net_b, atol):
    for (name, a), b in zip(net_a.named_parameters(), net_b.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=0, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_forward_equals_the_separate_models(cell):
    nets = _separate(cell, learn_h0=True)
    with torch.no_grad():                               # a non-zero learned h0, to see it used
        for k, net in enumerate(nets):
            net.h0.normal_(0, 0.5, generator=torch.Generator().manual_seed(k))
    ens = RecurrentEnsemble.from_members(nets)
    shared, per = _tokens(), _tokens(seed=2, members=len(SEEDS))
    out_shared, out_per = ens(shared), ens(per)
    assert tuple(out_shared.shape) == (len(SEEDS), N, C)
    lengths = torch.randint(0, T + 1, (N,), generator=torch.Generator().manual_seed(3))
    out_len = ens(shared, lengths)
    for k, net in enumerate(nets):
        torch.testing.assert_close(out_shared[k], net(shared), atol=1e-6, rtol=0)
        torch.testing.assert_close(out_per[k], net(per[k]), atol=1e-6, rtol=0)
        torch.testing.assert_close(out_len[k], net(shared, lengths), atol=1e-6, rtol=0)
    # the seeded constructor initialises as torch.manual_seed(seed); RecurrentClassifier(...) does
    fresh = RecurrentEnsemble.from_seeds(SEEDS, V, C, cell=cell, embedding_dim=E, hidden_size=H, padding_idx=PAD)
    for k, net in enumerate(_separate(cell)):
        _assert_same(fresh.member(k), net, atol=0)


@pytest.mark.parametrize("cell", CELLS)
def test_training_equals_separate_train_classifier_runs(cell):
    X, y = _tokens(), _labels()
    wd = 1e-3 if cell in ("gru", "lstm") else 0.0       # weight decay is elementwise too
    ens = RecurrentEnsemble.from_seeds(SEEDS, V, C, cell=cell, embedding_dim=E, hidden_size=H, padding_idx=PAD)
    before = ens.weight_hh.detach().clone()
    ens.eval()
    fit = train_classifier_ensemble(ens, X, y, epochs=3, lr=2e-2, batch_size=10, weight_decay=wd, seeds=SHUFFLE)
    assert not ens.training                              # mode restored
    assert fit.losses.shape == (3, 3) and fit.n_steps == 9 and fit.n_samples == N   # batches 10, 10, 6
    assert (ens.weight_hh - before).abs().max() > 1e-2  # training moved the weights
    for k, net in enumerate(_separate(cell)):
        alone = train_classifier(net, X, y, epochs=3, lr=2e-2, batch_size=10, weight_decay=wd, seed=SHUFFLE[k])
        _assert_same(ens.member(k), net, atol=1e-5)
        np.testing.assert_allclose(fit.losses[:, k], alone.losses, atol=1e-5)
        assert fit.member_result(k).seed == alone.seed and fit.member_result(k).n_steps == alone.n_steps
    assert torch.equal(ens.embedding_weight[:, PAD], torch.zeros(3, E))     # padding row never trained


def test_per_member_data_and_labels_equal_separate_runs():
    X, y = _tokens(seed=5, members=3), _labels(seed=6, members=3)
    ens = RecurrentEnsemble.from_seeds(SEEDS, V, C, cell="mgu", embedding_dim=E, hidden_size=H, padding_idx=PAD,
                                       learn_h0=True)
    train_classifier_ensemble(ens, X.float(), y, epochs=2, lr=2e-2, batch_size=8, seeds=SHUFFLE)
    shared = RecurrentEnsemble.from_seeds(SEEDS, V, C, cell="mgu", embedding_dim=E, hidden_size=H, padding_idx=PAD)
    fit = train_classifier_ensemble(shared, X[0], y, epochs=1, batch_size=8, seeds=SHUFFLE)   # shared X, own labels
    assert fit.losses.shape == (1, 3)
    for k, net in enumerate(_separate("mgu", learn_h0=True)):
        train_classifier(net, X[k], y[k], epochs=2, lr=2e-2, batch_size=8, seed=SHUFFLE[k])
        _assert_same(ens.member(k), net, atol=1e-5)
    for k, net in enumerate(_separate("mgu")):
        train_classifier(net, X[0], y[k], epochs=1, batch_size=8, seed=SHUFFLE[k])
        _assert_same(shared.member(k), net, atol=1e-5)


def test_member_round_trip_and_stacking():
    ens = RecurrentEnsemble.from_seeds([0, 1], V, C, cell="lstm", embedding_dim=E, hidden_size=H, padding_idx=PAD)
    state = torch.get_rng_state()
    members = ens.members()
    assert torch.equal(torch.get_rng_state(), state)     # building members leaves the global RNG alone
    assert all(type(m) is RecurrentClassifier and m.cell_type == "lstm" for m in members)
    again = RecurrentEnsemble.from_members(members)
    for (name, a), b in zip(ens.named_parameters(), again.parameters()):
        assert torch.equal(a, b), name
    _assert_same(again.member(-1), members[1], atol=0)
    with torch.no_grad():                                # a copy: editing the member leaves the ensemble
        members[0].readout.bias.add_(1.0)
    assert not torch.equal(ens.readout_bias[0], members[0].readout.bias)
    assert ens.config["cell"] == "lstm" and "2 x RecurrentClassifier" in repr(ens)
    assert tuple(ens.final_states(_tokens()).shape) == (2, N, H)


def test_bad_arguments_raise_naming_the_argument():
    ens = RecurrentEnsemble.from_seeds([0, 1], V, C, cell="gru", embedding_dim=E, hidden_size=H, padding_idx=PAD)
    X, y = _tokens(), _labels()
    with pytest.raises(DataError, match="members\\[1\\] differs .* cell"):
        RecurrentEnsemble.from_members([RecurrentClassifier(V, C, cell="gru"), RecurrentClassifier(V, C, cell="mgu")])
    with pytest.raises(DataError, match="hidden_size"):
        RecurrentEnsemble.from_members([RecurrentClassifier(V, C, hidden_size=4), RecurrentClassifier(V, C)])
    with pytest.raises(DataError, match="members\\[0\\] must be a RecurrentClassifier"):
        RecurrentEnsemble.from_members([torch.nn.Linear(2, 2)])
    with pytest.raises(DataError, match="members"):
        RecurrentEnsemble.from_members([])
    with pytest.raises(OptionError, match="cell"):
        RecurrentEnsemble(2, V, cell="tcn")
    with pytest.raises(OptionError, match="n_members"):
        RecurrentEnsemble(0, V)
    with pytest.raises(OptionError, match="member index"):
        ens.member(2)
    with pytest.raises(DataError, match="tokens must have shape"):
        ens(torch.zeros(3, N, T, dtype=torch.int64))
    with pytest.raises(DataError, match="tokens must be ids"):
        ens(torch.full((2, T), V))
    with pytest.raises(DataError, match="lengths"):
        ens(X, torch.full((N,), T + 1))
    with pytest.raises(OptionError, match="seeds"):
        train_classifier_ensemble(ens, X, y, epochs=1, seeds=[0])
    with pytest.raises(DataError, match="X must have shape"):
        train_classifier_ensemble(ens, X[None].expand(3, N, T), y, epochs=1, seeds=[0, 1])
    with pytest.raises(DataError, match="y has"):
        train_classifier_ensemble(ens, X, y[:-1], epochs=1, seeds=[0, 1])
    with pytest.raises(DataError, match="labels in"):
        train_classifier_ensemble(ens, X, torch.full((N,), C), epochs=1, seeds=[0, 1])
    with pytest.raises(DataError, match="integer class labels"):
        train_classifier_ensemble(ens, X, y.float(), epochs=1, seeds=[0, 1])
    with pytest.raises(OptionError, match="batch_size"):
        train_classifier_ensemble(ens, X, y, epochs=1, batch_size=0, seeds=[0, 1])
