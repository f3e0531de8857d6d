"""A hand-built phase oscillator that solves the SET-game task through phase shifts (after Murray 2023).

The state is a point ``h`` in the plane. With no input it turns by ``2 pi / period`` per
step while its radius relaxes to 1 (``r' = r + contraction * (1 - r)``): a stable limit
cycle of ``period`` steps. The input is decoded into the value shown, ``s = D x`` (``D``
the pseudo-inverse of the three value vectors, so ``s`` is the one-hot code of value
``v`` and 0 for no input), and each step of value ``v`` turns the state by an extra
``(2 pi / 3) * v / show_steps``. After a whole presentation the phase has moved by
``v / 3`` of a cycle, so after the three values it is ``T / period + (v1 + v2 + v3) / 3``
cycles from the start: the phase region is the running sum mod 3, a 3-state automaton.
The readout compares the final angle with the no-input angle:
``logit_1 - logit_0 = gain * (cos(angle(h_T) - 2 pi T / period) - 1/4)``, positive iff
the sum is 0 mod 3 (the cosine is 1 then, -1/2 otherwise).

Module names follow :class:`~neurograph.models.recurrent.RecurrentClassifier`:
``rnn`` (the loop, output ``(h_t (N, T, 2), h_n)``) and ``rnn.cell`` (``cell(x_t, h)``),
so :func:`neurograph.recording.record_states` and the dynamics tools apply unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..errors import DataError, OptionError

__all__ = ["OscillatorCell", "OscillatorLayer", "SetOscillator"]


class OscillatorCell(nn.Module):
    """One step of the oscillator: ``cell(x (N, dim), h (N, 2)) -> h_next (N, 2)``.

    Examples
    --------
    >>> import torch
    >>> cell = OscillatorCell(torch.eye(3, 4), period=4)
    >>> h = cell(torch.zeros(1, 4), torch.tensor([[0.0, 2.0]]))  # a quarter turn; radius 2 -> 1.5
    >>> [round(abs(float(v)), 6) for v in h[0]], float(h.norm())
    ([1.5, 0.0], 1.5)
    """

    def __init__(self, vectors, *, period: float = 10.0, show_steps: int = 2, contraction: float = 0.5) -> None:
        super().__init__()
        v = torch.as_tensor(np.asarray(vectors, dtype=np.float64))
        if v.ndim != 2 or v.shape[0] != 3:
            raise DataError(f"vectors must be the (3, dim) value vectors, got shape {tuple(v.shape)}")
        if not period > 0 or not 0 < contraction <= 1 or show_steps < 1:
            raise OptionError(f"need period > 0, 0 < contraction <= 1, show_steps >= 1; got {period}, "
                            f"{contraction}, {show_steps}")
        self.register_buffer("decoder", torch.linalg.pinv(v))          # (dim, 3), float64
        self.register_buffer("turns", torch.tensor([0.0, 1.0, 2.0]) * (2 * math.pi / 3 / show_steps))
        self.omega = 2 * math.pi / float(period)
        self.contraction = float(contraction)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        theta = self.omega + (x @ self.decoder.to(x.dtype)) @ self.turns.to(x.dtype)    # (N,)
        r = h.norm(dim=1, keepdim=True).clamp_min(1e-12)
        h = h * ((r + self.contraction * (1 - r)) / r)
        c, s = torch.cos(theta), torch.sin(theta)
        return torch.stack([c * h[:, 0] - s * h[:, 1], s * h[:, 0] + c * h[:, 1]], dim=1)


class OscillatorLayer(nn.Module):
    """Loops an :class:`OscillatorCell` over (N, T, dim) inputs from ``h0`` (N, 2): ``(h_t (N, T, 2), h_n (1, N, 2))``."""

    def __init__(self, cell: OscillatorCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, hx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, out = hx, []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            out.append(h)
        seq = torch.stack(out, dim=1) if out else x.new_zeros(x.shape[0], 0, 2)
        return seq, h[None]


class SetOscillator(nn.Module):
    """Hand-built SET-task solver: a planar limit cycle whose phase counts the sum of the values mod 3.

    Parameters
    ----------
    vectors : array-like, shape (3, dim)
        The task's value vectors (``SetTask.vectors``).
    period : float, default 10
        Steps per cycle without input.
    show_steps : int, default 2
        Steps each value is shown (the turn per step is ``(2 pi / 3) v / show_steps``).
    contraction : float, default 0.5
        Share of the distance to the unit circle removed per step.
    gain : float, default 10
        Scale of the logits.

    Examples
    --------
    >>> from neurograph.datasets.set_game import make_set_task
    >>> task = make_set_task(n_train=200, n_test=10, seed=0)
    >>> model = SetOscillator(task.vectors)
    >>> bool((model(task.tokens_train).argmax(1) == task.y_train).all())
    True
    """

    def __init__(self, vectors, *, period: float = 10.0, show_steps: int = 2, contraction: float = 0.5,
                 gain: float = 10.0) -> None:
        super().__init__()
        v = np.asarray(vectors, dtype=np.float32)
        self.rnn = OscillatorLayer(OscillatorCell(v, period=period, show_steps=show_steps, contraction=contraction))
        self.register_buffer("embedding", torch.from_numpy(np.vstack([np.zeros((1, v.shape[1]), np.float32), v])))
        self.register_buffer("h0", torch.tensor([1.0, 0.0]))
        self.gain = float(gain)

    def input_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """Input vectors (..., dim) of tokens (0 = no input, ``1 + v`` = value ``v``)."""
        return self.embedding[torch.as_tensor(tokens, dtype=torch.int64, device=self.embedding.device)]

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (N, 2) for tokens (N, T) (or input vectors (N, T, dim)); every trial runs all T steps."""
        tokens = torch.as_tensor(tokens)
        if tokens.ndim == 2:                      # token ids (possibly handed over as floats)
            x = self.input_vectors(tokens.round().long())
        elif tokens.ndim == 3:
            x = tokens.to(self.embedding.dtype)
        else:
            raise DataError(f"inputs must be tokens (N, T) or vectors (N, T, dim), got shape {tuple(tokens.shape)}")
        _, h_n = self.rnn(x, self.h0.expand(x.shape[0], 2).contiguous())
        h = h_n[0]
        ref = self.rnn.cell.omega * x.shape[1]
        cos = torch.cos(torch.atan2(h[:, 1], h[:, 0]) - ref)
        return self.gain * torch.stack([torch.zeros_like(cos), cos - 0.25], dim=1)
