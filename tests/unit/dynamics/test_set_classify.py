"""classify_solution on hand-built cells with known answers; the SET oscillator is the positive control."""

import numpy as np
import pytest
import torch

from neurograph.datasets.set_game import make_set_task
from neurograph.dynamics.solutions import classify_solution
from neurograph.errors import DataError
from neurograph.models.oscillator import SetOscillator

ANCHORS = torch.tensor([[1.0, 0.0], [-0.5, 0.8660254], [-0.5, -0.8660254]], dtype=torch.float64)


def lattice_cell(x, h):
    """Each state moves halfway to the nearest of three anchors: three stable fixed points."""
    a = ANCHORS.to(h.dtype)
    nearest = a[torch.cdist(h, a).argmin(1)]
    return h + 0.5 * (nearest - h)


def decay_cell(x, h):
    """Everything decays to the origin: the count is lost after the trial."""
    return 0.5 * h


def test_oscillator_is_a_limit_cycle_with_third_cycle_phase_shifts():
    task = make_set_task(n_train=2, n_test=200, seed=0)
    osc = SetOscillator(task.vectors)
    x = osc.input_vectors(task.tokens_test)
    with torch.no_grad():
        _, h_n = osc.rnn(x, osc.h0.expand(len(x), 2).contiguous())
    counts = task.values_test.sum(1) % 3
    sol = classify_solution(osc.rnn.cell, h_n[0], counts, rest_input=np.zeros(task.input_size),
                            value_inputs=task.vectors, phase_inputs=x[:100], phase_counts=counts[:100],
                            initial_state=[1.0, 0.0], random_states=np.random.default_rng(0).normal(size=(4, 2)),
                            n_relax=200)
    assert sol.kind == "limit_cycle" and sol.share_cycle == 1.0 and sol.cycle_from_random
    assert sol.period == pytest.approx(10.0)
    np.testing.assert_allclose(sol.mean_shift, [0.0, 1 / 3, 2 / 3], atol=1e-3)   # polygon phase: chord, not arc
    assert sol.automaton_steps.tolist() == [0, 1, 2] and sol.counts_mod3 and sol.quantisation_error < 1e-3
    assert sol.phase_accuracy == 1.0
    assert sol.floquet_moduli[0] == pytest.approx(1.0, abs=1e-6)


def test_three_stable_fixed_points_holding_the_count_are_a_lattice():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, 60)
    ends = ANCHORS.numpy()[counts] + rng.normal(0, 0.1, (60, 2))
    sol = classify_solution(lattice_cell, ends, counts, rest_input=[0.0], n_relax=100)
    assert sol.kind == "fixed_point_lattice" and sol.n_stable_fixed == 3 and sol.purity == 1.0
    assert sol.share_rest == 1.0 and sol.cycle is None and np.isnan(sol.phase_accuracy)
    mixed = classify_solution(lattice_cell, ends, rng.integers(0, 3, 60), rest_input=[0.0], n_relax=100)
    assert mixed.kind == "slow_transient" and mixed.purity < 0.9      # attractors that do not keep the count


def test_decay_to_one_point_is_a_transient_solution():
    rng = np.random.default_rng(1)
    sol = classify_solution(decay_cell, rng.normal(size=(30, 3)), rng.integers(0, 3, 30), rest_input=[0.0],
                            n_relax=100)
    assert sol.kind == "slow_transient" and sol.n_stable_fixed == 1


def test_bad_inputs_raise():
    with pytest.raises(DataError):
        classify_solution(decay_cell, np.zeros((3, 2)), [0, 1], rest_input=[0.0])
    with pytest.raises(DataError):
        classify_solution(decay_cell, np.full((2, 2), np.nan), [0, 1], rest_input=[0.0])


def test_smoke_ensemble_on_the_set_task_then_classify_a_member():
    """The experiment's path at toy size: 2 seeds x 20 steps of a batched CT-RNN, then the classifier."""
    from neurograph.models.ensemble import CTRNNEnsemble, train_ctrnn_ensemble

    task = make_set_task(n_train=200, n_test=40, seed=0)
    emb = torch.from_numpy(task.embedding)
    ens = CTRNNEnsemble.from_seeds([0, 1], input_size=task.input_size, hidden_size=16, alpha=0.5, noise_sd=0.05)
    rng = np.random.default_rng(0)

    def batch(step):
        idx = torch.from_numpy(rng.integers(0, 200, size=(2, 16)))
        return task.tokens_train[idx], 2.0 * task.y_train[idx].float() - 1.0

    fit = train_ctrnn_ensemble(ens, batch, steps=20, lr=3e-3, embedding=emb, rate_penalty=1e-4, stop_loss=1e-3)
    assert fit.steps_run == 20 and np.isfinite(fit.losses).all()
    with torch.no_grad():
        _, hs = ens.forward_tokens(task.tokens_test, emb)
    counts = task.values_test.sum(1) % 3
    sol = classify_solution(ens.member(0).cell, hs[0, :, -1], counts,
                            rest_input=np.zeros(task.input_size), value_inputs=task.vectors, n_relax=300)
    # An independent path: the member as a plain CTRNN, run on the embedded tokens one step at a time,
    # reaches the same trial-end states, and the classification of those states is the same.
    member = ens.member(0)
    with torch.no_grad():
        _, alone = member(emb[task.tokens_test].to(torch.float32))
    np.testing.assert_allclose(alone[:, -1].numpy(), hs[0, :, -1].numpy(), atol=1e-5)
    again = classify_solution(member.cell, alone[:, -1], counts, rest_input=np.zeros(task.input_size),
                              value_inputs=task.vectors, n_relax=300)
    assert again.kind == sol.kind
    assert (again.share_cycle, again.share_rest, again.share_slow) == pytest.approx(
        (sol.share_cycle, sol.share_rest, sol.share_slow), abs=0.03)
    # the shares come from relaxing the trial-end states: recount the resting ones by brute force
    with torch.no_grad():
        z = alone[:, -1].double()
        x0 = torch.zeros(z.shape[0], task.input_size, dtype=torch.float64)
        cell = member.cell.double()
        for _ in range(300):
            z = cell(x0, z)
        speed = (cell(x0, z) - z).norm(dim=1).numpy()
    assert sol.share_rest == pytest.approx(float(np.mean(speed < 1e-6)), abs=0.03)
    assert 0.0 <= sol.share_cycle + sol.share_rest + sol.share_slow <= 1.0 + 1e-9
    # 20 steps of training leave the network untrained: it cannot hold a count mod 3 on a lattice
    assert sol.kind != "fixed_point_lattice"
