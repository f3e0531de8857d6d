"""A discretised continuous-time RNN (rate network), the model of Murray's SET-task study.

One step of the cell, with leak ``alpha = dt / tau`` and non-linearity ``phi``:

    h_{t+1} = (1 - alpha) h_t + alpha * phi(W_rec h_t + W_in x_t + b + noise_sd * xi_t),  xi_t ~ N(0, I)

This follows the update of the public code of Murray (arXiv 2310.07908) as recorded in
``RESEARCH.md`` (``h <- (1 - alpha) h + alpha tanh(W h + U x + b)`` plus noise); where the
noise enters is not recorded there, so it is added to the pre-activation (as in
neurogym-style CT-RNNs). ``alpha = 1`` is the plain (Elman) tanh RNN. Initialisation:
``W_rec ~ N(0, gain^2 / N)`` (gain 1: spectral radius about 1), ``W_in ~ N(0, 1 / input_size)``,
``W_out ~ N(0, 1 / N)``, biases 0. The readout is linear, ``y_t = W_out h_t + b_out``.

:class:`CTRNN` runs whole sequences; :attr:`CTRNN.cell` is a deterministic
``cell(x, h) -> h_next`` (no noise) for :func:`neurograph.dynamics.find_fixed_points` and
:func:`neurograph.dynamics.find_limit_cycle`. :class:`neurograph.models.ensemble.CTRNNEnsemble`
holds S such networks as one batched model.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._seed import as_int_seed
from ..errors import DataError, OptionError

__all__ = ["CTRNN", "CTRNNCell", "ctrnn_loss", "init_ctrnn_parameters"]

_PHI = {"tanh": torch.tanh, "relu": torch.relu}


def _check_options(alpha: float, nonlinearity: str, noise_sd: float) -> None:
    if not 0.0 < float(alpha) <= 1.0:
        raise OptionError(f"alpha must be in (0, 1], got {alpha!r}")
    if nonlinearity not in _PHI:
        raise OptionError(f"nonlinearity must be one of {sorted(_PHI)}, got {nonlinearity!r}")
    if not float(noise_sd) >= 0.0:
        raise OptionError(f"noise_sd must be >= 0, got {noise_sd!r}")


class CTRNNCell(nn.Module):
    """One step ``cell(x (n, input_size), h (n, hidden)) -> h_next (n, hidden)``, without noise.

    Parameters: ``weight_in`` (hidden, input_size), ``weight_rec`` (hidden, hidden), ``bias`` (hidden).

    Examples
    --------
    >>> import torch
    >>> cell = CTRNNCell(3, 4, alpha=0.5)
    >>> with torch.no_grad():
    ...     _ = cell.weight_rec.zero_(); _ = cell.weight_in.zero_(); _ = cell.bias.fill_(1.0)
    >>> h = cell(torch.zeros(1, 3), torch.zeros(1, 4))   # 0.5 * 0 + 0.5 * tanh(1)
    >>> round(float(h[0, 0].detach()), 4)
    0.3808
    """

    def __init__(self, input_size: int, hidden_size: int, *, alpha: float = 1.0, nonlinearity: str = "tanh") -> None:
        super().__init__()
        _check_options(alpha, nonlinearity, 0.0)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.alpha = float(alpha)
        self.nonlinearity = nonlinearity
        self.weight_in = nn.Parameter(torch.zeros(self.hidden_size, self.input_size))
        self.weight_rec = nn.Parameter(torch.zeros(self.hidden_size, self.hidden_size))
        self.bias = nn.Parameter(torch.zeros(self.hidden_size))

    def forward(self, x: torch.Tensor, h: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        pre = h @ self.weight_rec.T + x @ self.weight_in.T + self.bias
        if noise is not None:
            pre = pre + noise
        return (1.0 - self.alpha) * h + self.alpha * _PHI[self.nonlinearity](pre)


class CTRNN(nn.Module):
    """Continuous-time RNN with a linear readout (see the module docstring).

    Parameters
    ----------
    input_size, hidden_size : int
    output_size : int, default 1
    alpha : float, default 1.0
        ``dt / tau`` in (0, 1].
    nonlinearity : {"tanh", "relu"}, default "tanh"
    noise_sd : float, default 0.0
        Standard deviation of the pre-activation noise used by :meth:`forward` when it is
        given ``noise`` (standard normal draws); the cell itself is noiseless.
    gain : float, default 1.0
        ``W_rec ~ N(0, gain^2 / hidden_size)``.
    seed : int or None, default 0
        Seed of the initial weights (a private generator; torch's global RNG is untouched).

    Examples
    --------
    >>> import torch
    >>> net = CTRNN(3, 8, alpha=0.1, seed=0)
    >>> y, h = net(torch.zeros(2, 5, 3))
    >>> tuple(y.shape), tuple(h.shape)
    ((2, 5, 1), (2, 5, 8))
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int = 1, *, alpha: float = 1.0,
                 nonlinearity: str = "tanh", noise_sd: float = 0.0, gain: float = 1.0,
                 seed: int | None = 0) -> None:
        super().__init__()
        _check_options(alpha, nonlinearity, noise_sd)
        self.cell = CTRNNCell(input_size, hidden_size, alpha=alpha, nonlinearity=nonlinearity)
        self.readout = nn.Linear(hidden_size, output_size)
        self.noise_sd = float(noise_sd)
        self.gain = float(gain)
        params = init_ctrnn_parameters(input_size, hidden_size, output_size, gain=gain, seed=seed)
        with torch.no_grad():
            self.cell.weight_in.copy_(params["weight_in"])
            self.cell.weight_rec.copy_(params["weight_rec"])
            self.cell.bias.copy_(params["bias"])
            self.readout.weight.copy_(params["weight_out"])
            self.readout.bias.copy_(params["bias_out"])

    @property
    def hidden_size(self) -> int:
        return self.cell.hidden_size

    @property
    def alpha(self) -> float:
        return self.cell.alpha

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, *,
                noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs (n, T, output_size) and states (n, T, hidden) of inputs ``x`` (n, T, input_size).

        ``h0`` (n, hidden) defaults to zeros; ``noise`` (n, T, hidden) standard normal draws,
        scaled by ``noise_sd`` (None: no noise).
        """
        if x.ndim != 3 or x.shape[2] != self.cell.input_size:
            raise DataError(f"x must have shape (n, T, {self.cell.input_size}), got {tuple(x.shape)}")
        h = x.new_zeros(x.shape[0], self.hidden_size) if h0 is None else h0
        drive = x @ self.cell.weight_in.T + self.cell.bias           # (n, T, hidden), computed once
        phi = _PHI[self.cell.nonlinearity]
        a = self.cell.alpha
        states = []
        drives = drive.unbind(1)
        noises = noise.unbind(1) if noise is not None and self.noise_sd > 0 else None
        for t in range(x.shape[1]):
            pre = h @ self.cell.weight_rec.T + drives[t]
            if noises is not None:
                pre = pre + self.noise_sd * noises[t]
            h = (1.0 - a) * h + a * phi(pre)
            states.append(h)
        hs = torch.stack(states, 1)
        return self.readout(hs), hs


def init_ctrnn_parameters(input_size: int, hidden_size: int, output_size: int = 1, *, gain: float = 1.0,
                          seed: int | None = 0) -> dict[str, torch.Tensor]:
    """Initial CT-RNN weights (float32) from a private generator seeded by ``seed``:
    ``weight_rec ~ N(0, gain^2 / N)``, ``weight_in ~ N(0, 1 / input_size)``, ``weight_out ~ N(0, 1 / N)``,
    biases 0. The same seed gives the same weights for :class:`CTRNN` and for an ensemble member."""
    g = torch.Generator().manual_seed(as_int_seed(seed))
    n, i, o = int(hidden_size), int(input_size), int(output_size)
    return {
        "weight_in": torch.randn(n, i, generator=g) / math.sqrt(i),
        "weight_rec": torch.randn(n, n, generator=g) * (float(gain) / math.sqrt(n)),
        "bias": torch.zeros(n),
        "weight_out": torch.randn(o, n, generator=g) / math.sqrt(n),
        "bias_out": torch.zeros(o),
    }


def ctrnn_loss(outputs: torch.Tensor, states: torch.Tensor, targets: torch.Tensor, *, last_steps: int = 5,
               rate_penalty: float = 0.0) -> torch.Tensor:
    """MSE of the outputs of the last ``last_steps`` steps to ``targets`` plus ``rate_penalty * mean(h^2)``.

    Works on one network (outputs (n, T, o), states (n, T, N), targets (n, o) or (n,)) or on an
    ensemble (a leading axis S on all three); returns one loss per network: a scalar, or (S,).

    Examples
    --------
    >>> import torch
    >>> y = torch.ones(4, 10, 1); h = torch.zeros(4, 10, 3)
    >>> float(ctrnn_loss(y, h, -torch.ones(4)))
    4.0
    """
    if targets.ndim == outputs.ndim - 2:
        targets = targets[..., None]
    err = (outputs[..., -int(last_steps):, :] - targets[..., None, :].to(outputs.dtype)) ** 2
    dims = tuple(range(outputs.ndim - 3, outputs.ndim))
    loss = err.mean(dim=dims)
    if rate_penalty:
        loss = loss + float(rate_penalty) * (states**2).mean(dim=dims)
    return loss
