"""Ensembles of seeds as one batched model: S continuous-time RNNs with stacked parameters.

:class:`CTRNNEnsemble` holds S networks of the same architecture as parameters with a
leading member axis (``weight_rec`` (S, N, N), ...) and runs them together with batched
matrix products, which is several times faster on a CPU than S separate loops. Training
them together is *the same* as training them apart: :func:`train_ctrnn_ensemble` sums
(does not average) the members' losses, so each member's gradient is that of its own
loss, and Adam's update is elementwise, so one Adam over the stacked parameters makes
the S updates of S separate Adams. With the same initial weights (per-member seeds),
batches and noise draws, member k after training equals network k trained alone to
float rounding (``tests/unit/dynamics/test_ensemble.py``). :meth:`CTRNNEnsemble.member`
returns member k as an ordinary :class:`~neurograph.models.ctrnn.CTRNN`, whose ``cell``
the dynamics tools accept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._seed import as_int_seed
from ..errors import DataError, OptionError
from .ctrnn import _PHI, CTRNN, _check_options, ctrnn_loss, init_ctrnn_parameters

__all__ = ["CTRNNEnsemble", "EnsembleTraining", "train_ctrnn_ensemble"]

logger = logging.getLogger(__name__)

_NAMES = ("weight_in", "weight_rec", "bias", "weight_out", "bias_out")


class CTRNNEnsemble(nn.Module):
    """S continuous-time RNNs (same sizes, alpha, non-linearity, noise level) as one module.

    Parameters (leading axis = member): ``weight_in`` (S, N, I), ``weight_rec`` (S, N, N),
    ``bias`` (S, N), ``weight_out`` (S, O, N), ``bias_out`` (S, O). Build with
    :meth:`from_seeds` (member k initialised exactly as ``CTRNN(..., seed=seeds[k])``) or
    :meth:`from_members`.

    Examples
    --------
    >>> import torch
    >>> ens = CTRNNEnsemble.from_seeds([0, 1, 2], input_size=3, hidden_size=8, alpha=0.5)
    >>> y, h = ens(torch.randn(4, 6, 3))          # one batch shared by the members
    >>> tuple(y.shape), tuple(h.shape)
    ((3, 4, 6, 1), (3, 4, 6, 8))
    >>> net = ens.member(1)                         # an ordinary CTRNN
    >>> x = torch.randn(4, 6, 3)
    >>> torch.allclose(net(x)[0], ens(x)[0][1], atol=1e-6)
    True
    """

    def __init__(self, n_members: int, input_size: int, hidden_size: int, output_size: int = 1, *,
                 alpha: float = 1.0, nonlinearity: str = "tanh", noise_sd: float = 0.0, gain: float = 1.0) -> None:
        super().__init__()
        _check_options(alpha, nonlinearity, noise_sd)
        if int(n_members) < 1:
            raise OptionError(f"n_members must be >= 1, got {n_members!r}")
        s, i, n, o = int(n_members), int(input_size), int(hidden_size), int(output_size)
        self.n_members, self.input_size, self.hidden_size, self.output_size = s, i, n, o
        self.alpha, self.nonlinearity = float(alpha), nonlinearity
        self.noise_sd, self.gain = float(noise_sd), float(gain)
        self.weight_in = nn.Parameter(torch.zeros(s, n, i))
        self.weight_rec = nn.Parameter(torch.zeros(s, n, n))
        self.bias = nn.Parameter(torch.zeros(s, n))
        self.weight_out = nn.Parameter(torch.zeros(s, o, n))
        self.bias_out = nn.Parameter(torch.zeros(s, o))

    @classmethod
    def from_seeds(cls, seeds: Sequence[int], *, input_size: int, hidden_size: int, output_size: int = 1,
                   alpha: float = 1.0, nonlinearity: str = "tanh", noise_sd: float = 0.0,
                   gain: float = 1.0) -> CTRNNEnsemble:
        """One member per seed, initialised by :func:`~neurograph.models.ctrnn.init_ctrnn_parameters`."""
        ens = cls(len(seeds), input_size, hidden_size, output_size, alpha=alpha, nonlinearity=nonlinearity,
                  noise_sd=noise_sd, gain=gain)
        with torch.no_grad():
            for k, seed in enumerate(seeds):
                params = init_ctrnn_parameters(input_size, hidden_size, output_size, gain=gain, seed=seed)
                for name in _NAMES:
                    getattr(ens, name)[k].copy_(params[name])
        return ens

    @classmethod
    def from_members(cls, members: Sequence[CTRNN]) -> CTRNNEnsemble:
        """Stack trained or fresh :class:`CTRNN` s of one architecture (weights are copied)."""
        if not members:
            raise DataError("from_members needs at least one CTRNN")
        m0 = members[0]
        key = lambda m: (m.cell.input_size, m.hidden_size, m.readout.out_features, m.alpha, m.cell.nonlinearity,
                         m.noise_sd)
        if any(key(m) != key(m0) for m in members):
            raise DataError("members differ in sizes, alpha, non-linearity or noise_sd; they cannot be stacked")
        ens = cls(len(members), m0.cell.input_size, m0.hidden_size, m0.readout.out_features, alpha=m0.alpha,
                  nonlinearity=m0.cell.nonlinearity, noise_sd=m0.noise_sd, gain=m0.gain)
        with torch.no_grad():
            for k, m in enumerate(members):
                for name, value in zip(_NAMES, _member_tensors(m)):
                    getattr(ens, name)[k].copy_(value)
        return ens

    def member(self, k: int) -> CTRNN:
        """Member ``k`` as an independent :class:`CTRNN` (copies of its weights, float32)."""
        if not -self.n_members <= int(k) < self.n_members:
            raise OptionError(f"member index must be in [0, {self.n_members}), got {k!r}")
        net = CTRNN(self.input_size, self.hidden_size, self.output_size, alpha=self.alpha,
                    nonlinearity=self.nonlinearity, noise_sd=self.noise_sd, gain=self.gain, seed=0)
        net = net.to(dtype=self.weight_rec.dtype, device=self.weight_rec.device)
        with torch.no_grad():
            for name, target in zip(_NAMES, _member_tensors(net)):
                target.copy_(getattr(self, name)[int(k)])
        return net

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, *,
                noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs (S, n, T, O) and states (S, n, T, N) of inputs ``x``: (n, T, I) shared by all
        members or (S, n, T, I) one batch each. ``h0`` (S, n, N) defaults to zeros; ``noise``
        (S, n, T, N) standard normal draws scaled by ``noise_sd`` (None: no noise)."""
        if x.ndim == 3:
            drive = torch.einsum("ntj,sij->snti", x, self.weight_in)
        elif x.ndim == 4 and x.shape[0] == self.n_members:
            drive = torch.einsum("sntj,sij->snti", x, self.weight_in)
        else:
            raise DataError(f"x must have shape (n, T, {self.input_size}) or ({self.n_members}, n, T, "
                            f"{self.input_size}), got {tuple(x.shape)}")
        return self._run(drive + self.bias[:, None, None, :], h0, noise)

    def forward_tokens(self, tokens: torch.Tensor, embedding: torch.Tensor, h0: torch.Tensor | None = None, *,
                       noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`forward` for inputs ``embedding[tokens]``: ``tokens`` (n, T) or (S, n, T) int,
        ``embedding`` (V, I). The input drive is projected once per token, not per step."""
        tok = torch.as_tensor(tokens, dtype=torch.int64)
        emb = torch.as_tensor(embedding, dtype=self.weight_in.dtype, device=self.weight_in.device)
        proj = torch.einsum("vj,sij->svi", emb, self.weight_in) + self.bias[:, None, :]    # (S, V, N)
        if tok.ndim == 2:
            drive = proj[:, tok]                                                            # (S, n, T, N)
        elif tok.ndim == 3 and tok.shape[0] == self.n_members:
            drive = proj[torch.arange(self.n_members)[:, None, None], tok]
        else:
            raise DataError(f"tokens must have shape (n, T) or ({self.n_members}, n, T), got {tuple(tok.shape)}")
        return self._run(drive, h0, noise)

    def _run(self, drive: torch.Tensor, h0, noise) -> tuple[torch.Tensor, torch.Tensor]:
        s, n, t_len, _ = drive.shape
        h = drive.new_zeros(s, n, self.hidden_size) if h0 is None else h0
        phi, a = _PHI[self.nonlinearity], self.alpha
        w_t = self.weight_rec.transpose(1, 2)
        states = []
        drives = drive.unbind(2)                 # one backward for all steps (indexing each step is slow)
        noises = noise.unbind(2) if noise is not None and self.noise_sd > 0 else None
        for t in range(t_len):
            pre = torch.bmm(h, w_t) + drives[t]
            if noises is not None:
                pre = pre + self.noise_sd * noises[t]
            h = (1.0 - a) * h + a * phi(pre)
            states.append(h)
        hs = torch.stack(states, 2)                                                          # (S, n, T, N)
        out = torch.einsum("snti,soi->snto", hs, self.weight_out) + self.bias_out[:, None, None, :]
        return out, hs


@dataclass(frozen=True, eq=False)
class EnsembleTraining:
    """What :func:`train_ctrnn_ensemble` did.

    Attributes
    ----------
    losses : numpy.ndarray, shape (steps_run, S)
        Each member's training loss at every step (before that step's update).
    stopped_at : numpy.ndarray of int, shape (S,)
        Step at which the member's loss first fell below ``stop_loss`` (its weights are those
        of that moment); -1 if it never did (weights after the last step).
    steps_run : int
    """

    losses: np.ndarray
    stopped_at: np.ndarray
    steps_run: int

    @property
    def converged(self) -> np.ndarray:
        """(S,) bool: the member met the stopping rule."""
        return self.stopped_at >= 0


def train_ctrnn_ensemble(
    ensemble: CTRNNEnsemble,
    batch: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    *,
    steps: int,
    lr: float = 1e-3,
    embedding: torch.Tensor | None = None,
    last_steps: int = 5,
    rate_penalty: float = 0.0,
    stop_loss: float = 0.0,
    noise_seeds: Sequence[int] | None = None,
    frozen_members: Sequence[int] = (),
    optimizer: torch.optim.Optimizer | None = None,
    log_every: int = 0,
) -> EnsembleTraining:
    """Train all members at once with one Adam on the sum of their losses (:func:`ctrnn_loss`).

    Parameters
    ----------
    ensemble : CTRNNEnsemble
        Trained in place.
    batch : callable
        ``batch(step) -> (inputs, targets)``: inputs (n, T, I) shared or (S, n, T, I) per member
        (token ids (n, T) / (S, n, T) when ``embedding`` is given), targets (n, O) / (S, n, O) (or
        without the last axis when O = 1).
    steps : int
        Most optimiser steps.
    lr : float, default 1e-3
        Adam learning rate.
    embedding : tensor (V, I) or None
        Input vector of each token.
    last_steps, rate_penalty : as for :func:`~neurograph.models.ctrnn.ctrnn_loss`.
    stop_loss : float, default 0.0
        A member whose loss falls below this is frozen at that step (its weights are kept as
        they were then; training of the rest goes on, which leaves them unchanged because the
        members' losses and Adam's updates are separate). Training ends when every member has
        stopped. 0: train all for ``steps``.
    noise_seeds : sequence of int or None
        Seed of member k's noise generator (``torch.Generator``, draws (n, T, N) per step); None
        uses ``range(S)``. Unused when ``ensemble.noise_sd == 0``.
    frozen_members : sequence of int, default ()
        Members that already met the stopping rule (e.g. in an earlier call): their weights are
        kept as they are on entry; they count as stopped at step 0.
    optimizer : torch.optim.Optimizer or None
        An optimiser over ``ensemble.parameters()`` to continue with (e.g. restored from a
        checkpoint); None makes a new ``Adam(lr=lr)``.
    log_every : int, default 0
        Log the mean loss every this many steps (0: never).

    Returns
    -------
    EnsembleTraining
    """
    steps = int(steps)
    if steps < 1:
        raise OptionError(f"steps must be >= 1, got {steps!r}")
    s = ensemble.n_members
    seeds = list(range(s)) if noise_seeds is None else [as_int_seed(v) for v in noise_seeds]
    if len(seeds) != s:
        raise OptionError(f"noise_seeds must give one seed per member ({s}), got {len(seeds)}")
    gens = [torch.Generator().manual_seed(v) for v in seeds]
    opt = torch.optim.Adam(ensemble.parameters(), lr=float(lr)) if optimizer is None else optimizer
    stopped = np.full(s, -1, dtype=np.int64)
    frozen: dict[int, list[torch.Tensor]] = {}
    for k in frozen_members:
        if not 0 <= int(k) < s:
            raise OptionError(f"frozen_members must be member indices in [0, {s}), got {k!r}")
        stopped[int(k)] = 0
        frozen[int(k)] = [getattr(ensemble, name)[int(k)].detach().clone() for name in _NAMES]
    history = []
    step = 0
    for step in range(steps):
        inputs, targets = batch(step)
        noise = None
        if ensemble.noise_sd > 0:
            n, t_len = inputs.shape[-2:] if embedding is not None else inputs.shape[-3:-1]
            noise = torch.stack([torch.randn(n, t_len, ensemble.hidden_size, generator=g) for g in gens])
        if embedding is not None:
            out, hs = ensemble.forward_tokens(inputs, embedding, noise=noise)
        else:
            out, hs = ensemble(inputs, noise=noise)
        per_member = inputs.ndim == (3 if embedding is not None else 4)
        tg = targets if per_member else targets.expand(s, *targets.shape)
        loss = ctrnn_loss(out, hs, tg, last_steps=last_steps, rate_penalty=rate_penalty)     # (S,)
        lk = loss.detach().cpu().numpy().astype(np.float64)
        history.append(lk)
        for k in np.flatnonzero((stopped < 0) & (lk < float(stop_loss))):
            stopped[k] = step
            frozen[int(k)] = [getattr(ensemble, name)[k].detach().clone() for name in _NAMES]
        if log_every and step % int(log_every) == 0:
            logger.info("step %d: mean loss %.4g, stopped %d/%d", step, float(lk.mean()), int((stopped >= 0).sum()), s)
        if (stopped >= 0).all():
            break
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
    with torch.no_grad():
        for k, tensors in frozen.items():
            for name, value in zip(_NAMES, tensors):
                getattr(ensemble, name)[k].copy_(value)
    return EnsembleTraining(losses=np.asarray(history), stopped_at=stopped, steps_run=len(history))


def _member_tensors(net: CTRNN) -> tuple[torch.Tensor, ...]:
    """A CTRNN's parameters in the order of the ensemble's stacked names."""
    return net.cell.weight_in, net.cell.weight_rec, net.cell.bias, net.readout.weight, net.readout.bias
