"""The 3-bit flip-flop check of fixed-point finders (Sussillo & Barak 2013; Golub & Sussillo 2018).

Three input channels carry rare +1 / -1 pulses; each of three outputs must hold the sign
of the last pulse on its channel. A trained RNN does this with 2^3 = 8 stable fixed
points at zero input (the corners of a cube in state space), plus saddles between them.

For a tanh RNN, a GRU and an LSTM (torch's ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM``, 16 units,
one linear readout per step, MSE, Adam, fresh random batches), this script measures the
per-step sign accuracy on new sequences (128 steps, pulse probability 0.05; training
2000 batches of 128), extracts the cell with ``cell_from_layer`` and runs
``find_fixed_points`` at zero input from 1024 visited states plus N(0, 0.2^2) noise (LSTM
states are ``[h, c]``), dropping points beyond 2x the spread of the starts and merging
within 0.1. It counts the stable fixed points (q <= 1e-10) and the distinct output sign
patterns they read out to (expected: 8 and 8), and the patterns held by stable slow
points (q <= 1e-6): a GRU can keep its memories at slow points whose exact fixed points
lie out at saturation.

    python experiments/flipflop.py [--out DIR] [--seeds 0 1] [--steps 2000] [--t 128]
    python experiments/flipflop.py --quick

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
from neurograph.dynamics.fixed_points import cell_from_layer, find_fixed_points, sample_initial_states
from neurograph.io.plots import save_figure


def flipflop_batch(n: int, t: int, bits: int, p: float, rng: np.random.Generator):
    """Inputs (n, t, bits) with +-1 pulses of probability p per step and channel; targets: last sign (0 before)."""
    pulses = (rng.random((n, t, bits)) < p) * rng.choice([-1.0, 1.0], size=(n, t, bits))
    held = np.zeros_like(pulses)
    state = np.zeros((n, bits))
    for k in range(t):
        state = np.where(pulses[:, k] != 0, pulses[:, k], state)
        held[:, k] = state
    return torch.from_numpy(pulses).float(), torch.from_numpy(held).float()


class FlipFlopRNN(nn.Module):
    def __init__(self, kind: str, hidden: int, bits: int) -> None:
        super().__init__()
        self.rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind](bits, hidden, batch_first=True)
        self.readout = nn.Linear(hidden, bits)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.readout(out), out


def run(kind: str, seed: int, args, out: Path) -> dict:
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = FlipFlopRNN(kind, args.hidden, 3)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    for _ in range(args.steps):
        x, y = flipflop_batch(128, args.t, 3, 0.05, rng)
        loss = nn.functional.mse_loss(model(x)[0], y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    x, y = flipflop_batch(256, args.t, 3, 0.05, rng)
    with torch.no_grad():
        pred, hs = model(x)
        if kind == "lstm":                     # visited [h, c] states, step by step
            cell = cell_from_layer(model.rnn)
            h = c = torch.zeros(len(x), args.hidden)
            visited = []
            for k in range(x.shape[1]):
                h, c = cell(x[:, k], (h, c))
                visited.append(torch.cat([h, c], 1))
            visited = torch.stack(visited, 1).numpy()
        else:
            visited = hs.numpy()
    held = y != 0
    acc = float(((pred.sign() == y.sign()) | ~held)[held.any(-1)].float().mean())
    cell = cell_from_layer(model.rnn)
    init = sample_initial_states(visited, args.n_init, noise_sd=0.2, seed=seed)
    found = find_fixed_points(cell, np.zeros(3), init, max_q=1e-6, unique_tol=None, outlier_distance=2.0, seed=seed)
    fps = found[found.q <= 1e-10].unique(0.1)
    slow = found[found.is_stable].unique(0.1)

    def patterns(points):
        with torch.no_grad():
            outputs = model.readout(torch.as_tensor(points.states[:, : args.hidden], dtype=torch.float32)).numpy()
        return {tuple(np.sign(o).astype(int)) for o in outputs}

    stable = fps[fps.is_stable]
    fig = fps.plot(states=visited.reshape(-1, visited.shape[-1])[::7], title=f"3-bit flip-flop, {kind}, seed {seed}")
    save_figure(fig, out / f"flipflop_{kind}_seed{seed}.png")
    return {"cell": kind, "seed": seed, "final_loss": round(float(loss.detach()), 4), "sign_acc": round(acc, 4),
            "fixed_points": len(fps), "stable": len(stable), "unstable": int((~fps.is_stable).sum()),
            "stable_patterns": len(patterns(stable)), "slow_stable": len(slow),
            "slow_patterns": len(patterns(slow)),
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("experiments/results/flipflop"))
    p.add_argument("--cells", nargs="+", default=["rnn", "gru", "lstm"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--t", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--n-init", type=int, default=1024)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.cells, args.seeds, args.steps, args.n_init = ["rnn"], [0], 200, 128
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in args.cells:
        for seed in args.seeds:
            rows.append(run(kind, seed, args, args.out))
            print("  ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
    table = pd.DataFrame(rows)
    write_csv(table, args.out / "flipflop.csv")
    print("\n3-bit flip-flop: stable fixed points at zero input (expected 8), the output patterns they hold, and "
          "the same for stable slow points (q <= 1e-6)")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
