"""CT-RNN ensembles: training S members as one batched model equals training them one by one."""

import numpy as np
import pytest
import torch

from neurograph.dynamics.fixed_points import find_fixed_points
from neurograph.dynamics.limit_cycle import find_limit_cycle
from neurograph.errors import DataError, OptionError
from neurograph.models.ctrnn import CTRNN, ctrnn_loss
from neurograph.models.ensemble import CTRNNEnsemble, train_ctrnn_ensemble

SEEDS, NOISE_SEEDS = [10, 11, 12], [5, 6, 7]
I, N, B, T, STEPS, LR, PENALTY = 4, 6, 5, 7, 4, 1e-2, 1e-3


def _train_alone(k, xs, ys, *, alpha=0.5, noise_sd=0.1):
    net = CTRNN(I, N, alpha=alpha, noise_sd=noise_sd, seed=SEEDS[k])
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(NOISE_SEEDS[k])
    for s in range(STEPS):
        x = xs[s][k] if xs[s].ndim == 4 else xs[s]
        y = ys[s][k] if ys[s].ndim == 2 else ys[s]
        noise = torch.randn(B, T, N, generator=gen)
        out, hs = net(x, noise=noise)
        loss = ctrnn_loss(out, hs, y, rate_penalty=PENALTY)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def _assert_member_equals(ens, k, net, atol=1e-5):
    member = ens.member(k)
    for (name, a), b in zip(member.named_parameters(), net.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=0, err_msg=name)


@pytest.mark.parametrize("per_member", [True, False])
def test_member_k_equals_network_k_trained_alone(per_member):
    g = torch.Generator().manual_seed(0)
    shape = (len(SEEDS), B, T, I) if per_member else (B, T, I)
    xs = [torch.randn(*shape, generator=g) for _ in range(STEPS)]
    ys = [torch.randn(*shape[:-2], generator=g) for _ in range(STEPS)]
    ens = CTRNNEnsemble.from_seeds(SEEDS, input_size=I, hidden_size=N, alpha=0.5, noise_sd=0.1)
    before = ens.weight_rec.detach().clone()
    fit = train_ctrnn_ensemble(ens, lambda s: (xs[s], ys[s]), steps=STEPS, lr=LR, rate_penalty=PENALTY,
                               noise_seeds=NOISE_SEEDS)
    assert fit.steps_run == STEPS and fit.losses.shape == (STEPS, 3) and not fit.converged.any()
    assert (ens.weight_rec - before).abs().max() > 1e-3          # training moved the weights
    for k in range(3):
        _assert_member_equals(ens, k, _train_alone(k, xs, ys))


def test_token_inputs_match_vector_inputs_and_members_match_ctrnn():
    emb = torch.randn(4, I, generator=torch.Generator().manual_seed(1))
    tok = torch.randint(0, 4, (3, B, T), generator=torch.Generator().manual_seed(2))
    ens = CTRNNEnsemble.from_seeds(SEEDS, input_size=I, hidden_size=N, alpha=0.2)
    y_tok, h_tok = ens.forward_tokens(tok, emb)
    y_vec, h_vec = ens(emb[tok])
    torch.testing.assert_close(y_tok, y_vec, atol=1e-6, rtol=0)
    for k, seed in enumerate(SEEDS):
        _, h_k = CTRNN(I, N, alpha=0.2, seed=seed)(emb[tok[k]])
        torch.testing.assert_close(h_tok[k], h_k, atol=1e-6, rtol=0)
    again = CTRNNEnsemble.from_members([ens.member(k) for k in range(3)])
    torch.testing.assert_close(again(emb[tok])[1], h_vec, atol=0, rtol=0)


def test_stop_loss_freezes_members_at_the_step_they_met_it():
    ens = CTRNNEnsemble.from_seeds(SEEDS, input_size=I, hidden_size=N, alpha=1.0)
    init = ens.weight_rec.detach().clone()
    x = torch.randn(B, T, I, generator=torch.Generator().manual_seed(3))
    fit = train_ctrnn_ensemble(ens, lambda s: (x, torch.zeros(B)), steps=5, lr=LR, stop_loss=1e9)
    assert fit.steps_run == 1 and fit.stopped_at.tolist() == [0, 0, 0] and fit.converged.all()
    torch.testing.assert_close(ens.weight_rec.detach(), init, atol=0, rtol=0)


def test_member_cell_works_with_the_dynamics_tools():
    ens = CTRNNEnsemble.from_seeds([0, 1], input_size=I, hidden_size=N, alpha=0.5, gain=0.5)
    cell = ens.member(1).cell
    fps = find_fixed_points(cell, np.zeros(I), np.random.default_rng(0).normal(size=(8, N)))
    assert len(fps) >= 1 and fps.is_stable.all() and fps.q.max() < 1e-12
    c = find_limit_cycle(cell, np.zeros(I), np.ones(N), n_transient=200)
    assert c.kind == "fixed_point"


def test_bad_arguments_raise():
    ens = CTRNNEnsemble.from_seeds([0, 1], input_size=I, hidden_size=N)
    with pytest.raises(DataError):
        ens(torch.zeros(3, B, T, I))
    with pytest.raises(OptionError):
        ens.member(2)
    with pytest.raises(OptionError):
        CTRNN(I, N, alpha=0.0)
    with pytest.raises(OptionError):
        train_ctrnn_ensemble(ens, lambda s: (torch.zeros(B, T, I), torch.zeros(B)), steps=0)
    with pytest.raises(DataError):
        CTRNNEnsemble.from_members([CTRNN(I, N, alpha=0.5), CTRNN(I, N, alpha=1.0)])
