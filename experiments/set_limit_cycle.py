"""Limit cycles and phase codes on the SET-game task (Murray, arXiv 2310.07908) at small scale.

Claim: an RNN trained on the SET-inspired task (three values from {0, 1, 2} shown at
random times; positive iff all equal or all different, i.e. sum = 0 mod 3) can solve it
with a low-dimensional limit cycle on which each value shifts the phase by 0, 1/3 or
2/3 of a cycle, like the transitions of a 3-state automaton counting the sum mod 3 (the
other solution seen is a lattice of fixed points); a hand-built oscillator reproduces it.

Models: a continuous-time-style tanh RNN ``h' = (1 - a) h + a tanh(W h + U x + b)`` with
leak ``a = 0.2`` (Murray's networks are continuous-time RNNs), 64 units, inputs = the task's
fixed value vectors (scaled by 0.3, not trained), trained with Adam on the binary label.
A plain tanh RNN (``a = 1``) is trained the same way for comparison. Training uses a
curriculum on the number of values per trial (1, then 2, then 3, same rule "sum = 0 mod
3"): trained directly on 3-value trials, neither network left chance level within 30
epochs here (the label has no first- or second-order correlation with the inputs).

A third variant starts the leaky RNN from an oscillatory initialisation (units 0-1 form a
planar oscillator of period 10 steps, see ``oscillatory_init``) to see whether training
keeps a cycle and uses it.

Per model (seeds) and for ``SetOscillator``: SET test accuracy; ``find_limit_cycle`` of the
zero-input dynamics from the initial state (cycle or fixed point, period, Floquet
multipliers; for a fixed point whose leading eigenvalues are complex, "spiral" and the
period 2 pi / |arg lambda| of the damped oscillation); if a cycle, ``phase_shifts`` per value, the automaton they give
(``PhaseShifts.automaton(3)``) and whether it counts the sum mod 3, and the accuracy of
reading the label from the phase alone (``relative_phases`` at the last step); if fixed
points, how many stable ones (``find_fixed_points``); and ``extract_fsa`` (step 4) with 3 and
12 clusters for comparison (accuracy on held-out trials, fidelity to the network).

    python experiments/set_limit_cycle.py [--out DIR] [--seeds 0 1 2] [--plain-seeds 0] [--osc-seeds 0]
    python experiments/set_limit_cycle.py --quick

One CPU thread; about 5 minutes on the 2-core dev machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from neurograph.io.atomic import write_csv
from neurograph.datasets.set_game import make_set_task
from neurograph.dynamics.fixed_points import find_fixed_points, sample_initial_states
from neurograph.automata.extract import extract_fsa
from neurograph.dynamics.limit_cycle import find_limit_cycle
from neurograph.models.oscillator import SetOscillator
from neurograph.dynamics.phase_code import phase_shifts, relative_phases
from neurograph.io.plots import save_figure
from neurograph.recording.states import record_states
from neurograph.zoo.training import accuracy, train_classifier

INPUT_SCALE = 0.3


class LeakyCell(nn.Module):
    """``h' = (1 - alpha) h + alpha tanh(W_ih x + b_ih + W_hh h + b_hh)``; alpha = 1 is the plain tanh RNN."""

    def __init__(self, input_size: int, hidden_size: int, alpha: float) -> None:
        super().__init__()
        self.inner = nn.RNNCell(input_size, hidden_size)
        self.alpha = float(alpha)

    def forward(self, x, h):
        return (1 - self.alpha) * h + self.alpha * self.inner(x, h)


class LeakyLayer(nn.Module):
    """Loops the cell over (N, T, input) from ``hx`` (N, H): ``(h_t (N, T, H), h_n (1, N, H))``."""

    def __init__(self, cell: LeakyCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x, hx):
        h, out = hx, []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            out.append(h)
        return torch.stack(out, 1), h[None]


class SetRNN(nn.Module):
    """tokens (N, T) -> fixed input vectors -> leaky tanh RNN from h = 0 -> linear readout (2 logits)."""

    def __init__(self, embedding: np.ndarray, hidden_size: int, alpha: float) -> None:
        super().__init__()
        self.register_buffer("embedding", torch.as_tensor(embedding, dtype=torch.float32))
        self.rnn = LeakyLayer(LeakyCell(self.embedding.shape[1], hidden_size, alpha))
        self.readout = nn.Linear(hidden_size, 2)
        self.hidden_size = hidden_size

    def forward(self, tokens, lengths=None):
        x = self.embedding[torch.as_tensor(tokens, dtype=torch.int64)]
        _, h_n = self.rnn(x, x.new_zeros(x.shape[0], self.hidden_size))
        return self.readout(h_n[0])


def oscillatory_init(model: SetRNN, *, period: float = 10.0, rho: float = 1.05, seed: int = 0) -> None:
    """Recurrent weights with one planar oscillator: units 0-1 rotate by 1/period cycle per step with
    growth rho at the origin (so tanh saturation makes a limit cycle); the rest N(0, 0.3^2 / H)."""
    g = np.random.default_rng(seed)
    a, H = model.rnn.cell.alpha, model.hidden_size
    W = g.normal(0.0, 0.3 / np.sqrt(H), (H, H))
    w = (rho * np.exp(2j * np.pi / period) - (1 - a)) / a      # (1 - a) + a w = rho e^{i theta}
    W[:2, :2] = [[w.real, -w.imag], [w.imag, w.real]]
    with torch.no_grad():
        model.rnn.cell.inner.weight_hh.copy_(torch.as_tensor(W, dtype=torch.float32))


def train_set_rnn(task, *, alpha: float, hidden: int, seed: int, stages: tuple[int, int, int], n_train: int,
                  oscillatory: bool = False):
    torch.manual_seed(seed)
    model = SetRNN(task.embedding * INPUT_SCALE, hidden, alpha)
    if oscillatory:
        oscillatory_init(model, seed=seed)
    for k, epochs in zip((1, 2, 3), stages):
        stage = make_set_task(n_train=n_train, n_test=2, n_values=k, seed=1000 * seed + k)   # tokens only
        train_classifier(model, stage.tokens_train, stage.y_train, epochs=epochs, lr=2e-3, batch_size=128,
                         seed=seed + k)
    return model


def analyse(name: str, model, cell, h0, embedding: np.ndarray, task, out: Path, seed: int) -> dict:
    """The dynamics analysis shared by trained networks and the oscillator.

    ``embedding`` (4, dim): the input vector the cell sees for each token (row 0: no input).
    """
    values_in = embedding[1:]
    tok, y = task.tokens_test, task.y_test
    row = {"model": name, "acc": round(accuracy(model, tok, y), 4)}
    x0 = np.zeros(task.input_size)
    cycle = find_limit_cycle(cell, x0, h0, n_transient=1000, max_period=300, tol=1e-7)
    row["attractor"] = cycle.kind
    row["period"] = round(cycle.period, 2) if cycle.is_cycle else float("nan")
    mult = cycle.floquet_multipliers
    row["|floquet|"] = "/".join(f"{abs(m):.2f}" for m in mult[:2])
    if cycle.kind == "fixed_point" and abs(mult[0].imag) > 1e-9:      # a damped oscillation around the point
        row["period"] = round(2 * np.pi / abs(np.angle(mult[0])), 1)
        row["attractor"] = "fixed_point (spiral)"
    trace = record_states(model, tok[:600], labels=y[:600].numpy())
    if cycle.is_cycle:
        ps = phase_shifts(cell, values_in, cycle, n_phases=24, input_steps=task.show_steps)
        auto = ps.automaton(3)
        steps = [int(s) for s in auto.steps]                # value v moves the state by v * d regions, d = 1 or 2
        counts = sorted(steps) == [0, 1, 2] and (2 * steps[1]) % 3 == steps[2]
        row["shift_v0/v1/v2"] = "/".join(f"{s:.2f}" for s in ps.mean_shift)
        row["spread"] = round(abs(float(ps.spread.max())), 3)
        row["auto_steps"] = "".join(str(int(s)) for s in auto.steps)
        row["quant_err"] = round(auto.quantisation_error, 3)
        row["counts_mod3"] = bool(counts)
        rel = relative_phases(cell, embedding[tok.numpy()], cycle, h0)
        state = auto.state_of_phase(rel[:, -1], 3)
        row["phase_acc"] = round(float(((state == 0).astype(int) == y.numpy()).mean()), 4)
        save_figure(cycle.plot(states=trace.states, title=f"{name}: {cycle.kind}, period {cycle.period:.1f}"),
                    out / f"{name}_cycle.png")
        save_figure(ps.plot(title=f"{name}: phase shift per value"), out / f"{name}_shifts.png")
        row["stable_fp"] = float("nan")
    else:
        init = sample_initial_states(trace, 256, noise_sd=0.1, seed=seed)
        fps = find_fixed_points(cell, x0, init, max_q=1e-10, unique_tol=0.05, outlier_distance=2.0, seed=seed)
        row["stable_fp"] = int(fps.is_stable.sum())
        if len(fps):
            save_figure(fps.plot(states=trace.states, title=f"{name}: fixed points"), out / f"{name}_fixed.png")
    other = slice(600, 1000)
    for k in (3, 12):
        fsa = extract_fsa(trace, k, seed=seed, majority_of="labels")
        preds = model(tok[other]).argmax(1).numpy()
        row[f"fsa{k}_acc"] = round(fsa.accuracy(tok[other].numpy(), y[other].numpy()), 3)
        row[f"fsa{k}_fid"] = round(fsa.fidelity(tok[other].numpy(), preds), 3)
        row[f"fsa{k}_min"] = fsa.minimize().n_states
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("experiments/results/set_limit_cycle"))
    p.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="seeds of the leaky (a = 0.2) RNN")
    p.add_argument("--plain-seeds", type=int, nargs="*", default=[0], help="seeds of the plain tanh RNN (a = 1)")
    p.add_argument("--osc-seeds", type=int, nargs="*", default=[0],
                   help="seeds of the leaky RNN started from an oscillatory initialisation")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--n-train", type=int, default=4000)
    p.add_argument("--stages", type=int, nargs=3, default=[10, 30, 60], help="epochs with 1, 2, 3 values")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.plain_seeds, args.osc_seeds = [0], [], []
        args.n_train, args.stages, args.hidden = 1000, [2, 3, 3], 32
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    task = make_set_task(n_train=2, n_test=1000, seed=0)
    rows = []
    runs = ([(0.2, s, False) for s in args.seeds] + [(1.0, s, False) for s in args.plain_seeds]
            + [(0.2, s, True) for s in args.osc_seeds])
    for alpha, seed, osc_init in runs:
        t0 = time.perf_counter()
        model = train_set_rnn(task, alpha=alpha, hidden=args.hidden, seed=seed, stages=tuple(args.stages),
                              n_train=args.n_train, oscillatory=osc_init)
        name = f"{'leaky' if alpha < 1 else 'tanh'}_a{alpha:g}{'_oscinit' if osc_init else ''}_seed{seed}"
        row = analyse(name, model, model.rnn.cell, np.zeros(args.hidden), model.embedding.numpy(), task, args.out,
                      seed)
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    osc = SetOscillator(task.vectors)
    row = analyse("oscillator", osc, osc.rnn.cell, np.array([1.0, 0.0]), osc.embedding.numpy(), task, args.out, 0)
    rows.append(row)
    print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    order = ["model", "acc", "attractor", "period", "|floquet|", "shift_v0/v1/v2", "spread", "auto_steps", "quant_err",
             "counts_mod3", "phase_acc", "stable_fp", "fsa3_acc", "fsa3_fid", "fsa3_min", "fsa12_acc", "fsa12_fid",
             "fsa12_min", "seconds"]
    table = table[[c for c in order if c in table.columns]]
    write_csv(table, args.out / "set_limit_cycle.csv")
    pd.set_option("display.width", 250)
    print("\nSET task: accuracy, attractor of the zero-input dynamics, phase shift per value (cycles), automaton, "
          "phase-code accuracy, extracted FSAs (3 / 12 clusters)")
    print(table.to_string(index=False))
    print(f"total {time.perf_counter() - start:.0f} s; figures and set_limit_cycle.csv in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
