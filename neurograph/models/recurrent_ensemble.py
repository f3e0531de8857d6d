"""Ensembles of seeds as one batched model: S recurrent classifiers with stacked parameters.

:class:`RecurrentEnsemble` holds S :class:`~neurograph.models.recurrent.RecurrentClassifier` s of
one configuration (vocabulary, classes, cell, sizes, padding id) as parameters with a leading
member axis and runs them together with batched matrix products (``torch.baddbmm``), one Python
loop over time for all S networks instead of S loops. On a CPU, where small recurrent networks are
bound by the per-step overhead, this trains many seeds several times faster than one at a time
(``experiments/benchmarks/bench_ensemble.py``).

Training them together is *the same* as training them apart. :func:`train_classifier_ensemble`
reproduces :func:`neurograph.zoo.training.train_classifier` member by member: each member visits
the samples in the order drawn from its own ``torch.Generator`` seeded by ``seeds[k]`` (the same
``randperm`` per epoch, the same mini-batches, the last one smaller), its loss is the mean
cross-entropy of its own batch, and the members' losses are *summed* (not averaged), so each
member's gradient is that of its own loss; Adam (with its L2 ``weight_decay``) is elementwise, so
one Adam over the stacked parameters makes the S updates of S separate Adams. Member k after
training equals ``train_classifier(member_k, X, y, ..., seed=seeds[k])`` to float rounding
(``tests/unit/dynamics/test_recurrent_ensemble.py``, every cell type). :meth:`RecurrentEnsemble.member`
returns member k as an ordinary :class:`RecurrentClassifier` (same weights) for the analyses.

The stacked parameters (leading axis S; G = 1, 2, 3, 4 weight blocks for rnn, mgu, gru, lstm):

=====================  ==============  ==================================================
name                   shape           member's parameter
=====================  ==============  ==================================================
``embedding_weight``   (S, V, E)       ``embedding.weight``
``weight_ih``          (S, G*H, E)     ``rnn.cell.weight_ih``
``weight_hh``          (S, G*H, H)     ``rnn.cell.weight_hh``
``bias_ih``            (S, G*H)        ``rnn.cell.bias_ih``
``bias_hh``            (S, G*H)        ``rnn.cell.bias_hh``
``readout_weight``     (S, C, H)       ``readout.weight``
``readout_bias``       (S, C)          ``readout.bias``
``h0``                 (S, H)          ``h0`` (only with ``learn_h0=True``)
=====================  ==============  ==================================================

As with ``nn.Embedding(padding_idx=...)``, the padding row of the embedding gets no gradient.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch
from torch import nn

from .._seed import as_int_seed
from .._validate import check_int, check_number
from .._limits import MAX_EPOCHS
from .._validate import positive_int as _positive_int
from ..errors import DataError, OptionError
from .recurrent import CELL_TYPES, RecurrentClassifier, _padded_lengths

__all__ = ["EnsembleTrainResult", "RecurrentEnsemble", "stack_padded", "train_classifier_ensemble"]

#: Weight blocks of each cell (rows of ``weight_ih`` / ``weight_hh`` per hidden unit).
_BLOCKS = {"rnn": 1, "mgu": 2, "gru": 3, "lstm": 4}

#: Stacked name -> the member's parameter name.
_PARAMS = {
    "embedding_weight": "embedding.weight",
    "weight_ih": "rnn.cell.weight_ih",
    "weight_hh": "rnn.cell.weight_hh",
    "bias_ih": "rnn.cell.bias_ih",
    "bias_hh": "rnn.cell.bias_hh",
    "readout_weight": "readout.weight",
    "readout_bias": "readout.bias",
    "h0": "h0",
}


def _config(model: RecurrentClassifier) -> dict:
    """The constructor arguments of a RecurrentClassifier, read from the model."""
    return {"vocab_size": model.vocab_size, "n_classes": model.n_classes, "cell": model.cell_type,
            "embedding_dim": model.embedding.embedding_dim, "hidden_size": model.rnn.hidden_size,
            "padding_idx": model.padding_idx, "learn_h0": model.h0 is not None}


class RecurrentEnsemble(nn.Module):
    """S :class:`~neurograph.models.recurrent.RecurrentClassifier` s of one configuration as one module.

    Build with :meth:`from_seeds` (member k initialised exactly as ``torch.manual_seed(seeds[k])``
    followed by ``RecurrentClassifier(...)``) or :meth:`from_members`; the constructor itself
    leaves every parameter at zero. The parameters are listed in the module docstring.

    ``forward(tokens, lengths=None) -> logits (S, n, n_classes)``: ``tokens`` (n, T) shared by all
    members or (S, n, T) one batch each, integer ids padded at the end (whole-number floats are
    accepted, as for the member); ``lengths`` (n,) or (S, n) valid tokens per sequence, or None to
    infer them from ``padding_idx`` as the member does (every sequence has length T without one).
    Each sequence's state stops changing after its own last token, exactly as in
    :class:`~neurograph.models.recurrent.RecurrentLayer`; the readout sees that state.

    Parameters
    ----------
    n_members : int
        S, the number of networks.
    vocab_size, n_classes, cell, embedding_dim, hidden_size, padding_idx, learn_h0
        As for :class:`~neurograph.models.recurrent.RecurrentClassifier` (same defaults).

    Examples
    --------
    >>> import torch
    >>> ens = RecurrentEnsemble.from_seeds([0, 1, 2], 3, 2, cell="mgu", hidden_size=4, padding_idx=2)
    >>> tokens = torch.tensor([[0, 1, 1], [1, 2, 2], [2, 2, 2]])
    >>> tuple(ens(tokens).shape)                       # (S, n, n_classes)
    (3, 3, 2)
    >>> net = ens.member(1)                            # an ordinary RecurrentClassifier
    >>> torch.allclose(net(tokens), ens(tokens)[1], atol=1e-6)
    True
    """

    def __init__(self, n_members: int, vocab_size: int, n_classes: int = 2, *, cell: str = "gru",
                 embedding_dim: int = 8, hidden_size: int = 16, padding_idx: int | None = None,
                 learn_h0: bool = False) -> None:
        super().__init__()
        s = _positive_int("n_members", n_members)
        if cell not in CELL_TYPES:
            raise OptionError(f"cell must be one of {sorted(CELL_TYPES)}, got {cell!r}")
        v = _positive_int("vocab_size", vocab_size)
        c = _positive_int("n_classes", n_classes)
        e = _positive_int("embedding_dim", embedding_dim)
        h = _positive_int("hidden_size", hidden_size)
        if padding_idx is not None and (isinstance(padding_idx, bool) or not isinstance(padding_idx, Integral)
                                        or not 0 <= padding_idx < v):
            raise OptionError(f"padding_idx must be None or an int in [0, {v}), got {padding_idx!r}")
        self.n_members, self.vocab_size, self.n_classes = s, v, c
        self.cell_type, self.embedding_dim, self.hidden_size = cell, e, h
        self.padding_idx = None if padding_idx is None else int(padding_idx)
        self.learn_h0 = bool(learn_h0)
        g = _BLOCKS[cell] * h
        self.embedding_weight = nn.Parameter(torch.zeros(s, v, e))
        self.weight_ih = nn.Parameter(torch.zeros(s, g, e))
        self.weight_hh = nn.Parameter(torch.zeros(s, g, h))
        self.bias_ih = nn.Parameter(torch.zeros(s, g))
        self.bias_hh = nn.Parameter(torch.zeros(s, g))
        self.readout_weight = nn.Parameter(torch.zeros(s, c, h))
        self.readout_bias = nn.Parameter(torch.zeros(s, c))
        if self.learn_h0:
            self.h0 = nn.Parameter(torch.zeros(s, h))
        else:
            self.register_parameter("h0", None)

    # -- building and taking apart -------------------------------------------------------------
    @property
    def config(self) -> dict:
        """The keyword arguments of one member's :class:`RecurrentClassifier` (``vocab_size``, ...)."""
        return {"vocab_size": self.vocab_size, "n_classes": self.n_classes, "cell": self.cell_type,
                "embedding_dim": self.embedding_dim, "hidden_size": self.hidden_size,
                "padding_idx": self.padding_idx, "learn_h0": self.learn_h0}

    @classmethod
    def from_seeds(cls, seeds: Sequence[int], vocab_size: int, n_classes: int = 2, *, cell: str = "gru",
                   embedding_dim: int = 8, hidden_size: int = 16, padding_idx: int | None = None,
                   learn_h0: bool = False) -> RecurrentEnsemble:
        """One member per seed: ``torch.manual_seed(seed); RecurrentClassifier(...)``.

        The caller's global RNG is left as it was (the draws happen in a forked RNG state).

        Parameters
        ----------
        seeds : sequence of int, length S
            Initialisation seed of each member.
        vocab_size, n_classes, cell, embedding_dim, hidden_size, padding_idx, learn_h0
            As for :class:`RecurrentClassifier`.

        Returns
        -------
        RecurrentEnsemble
        """
        seeds = list(seeds)
        if not seeds:
            raise OptionError("seeds must hold at least one seed")
        members = []
        with torch.random.fork_rng(devices=[]):
            for i, seed in enumerate(seeds):
                torch.manual_seed(check_int(f"seeds[{i}]", seed, min=0))
                members.append(RecurrentClassifier(vocab_size, n_classes, cell=cell, embedding_dim=embedding_dim,
                                                   hidden_size=hidden_size, padding_idx=padding_idx,
                                                   learn_h0=learn_h0))
        return cls.from_members(members)

    @classmethod
    def from_members(cls, members: Sequence[RecurrentClassifier]) -> RecurrentEnsemble:
        """Stack fresh or trained :class:`RecurrentClassifier` s of one configuration (weights copied).

        Parameters
        ----------
        members : sequence of RecurrentClassifier, length S
            Same vocabulary, classes, cell, sizes, padding id and ``learn_h0``.

        Returns
        -------
        RecurrentEnsemble
            On the device and dtype of ``members[0]``.

        Raises
        ------
        DataError
            If ``members`` is empty, holds something else than a RecurrentClassifier, or the
            members' configurations differ (the message names the first that differs).
        """
        members = list(members)
        if not members:
            raise DataError("members must hold at least one RecurrentClassifier")
        for i, m in enumerate(members):
            if not isinstance(m, RecurrentClassifier):
                raise DataError(f"members[{i}] must be a RecurrentClassifier, got {type(m).__name__}")
        ref = _config(members[0])
        for i, m in enumerate(members[1:], start=1):
            cfg = _config(m)
            diff = [k for k in ref if cfg[k] != ref[k]]
            if diff:
                raise DataError(f"members[{i}] differs from members[0] in {diff[0]} ({cfg[diff[0]]!r} vs "
                                f"{ref[diff[0]]!r}); only networks of one configuration can be stacked")
        w = members[0].readout.weight
        ens = cls(len(members), **ref).to(device=w.device, dtype=w.dtype)
        with torch.no_grad():
            for k, m in enumerate(members):
                theirs = dict(m.named_parameters())
                for name, pname in _PARAMS.items():
                    mine = getattr(ens, name)
                    if mine is not None:
                        mine[k].copy_(theirs[pname])
        return ens

    def member(self, k: int) -> RecurrentClassifier:
        """Member ``k`` as an independent :class:`RecurrentClassifier` (copies of its weights).

        Parameters
        ----------
        k : int
            Member index in ``[-S, S)``.

        Returns
        -------
        RecurrentClassifier
            In train mode, on the ensemble's device and dtype; the global RNG is left as it was.
        """
        if isinstance(k, bool) or not isinstance(k, Integral) or not -self.n_members <= int(k) < self.n_members:
            raise OptionError(f"k (member index) must be an int in [0, {self.n_members}), got {k!r}")
        with torch.random.fork_rng(devices=[]):
            net = RecurrentClassifier(**self.config)
        w = self.readout_weight
        net = net.to(device=w.device, dtype=w.dtype)
        theirs = dict(net.named_parameters())
        with torch.no_grad():
            for name, pname in _PARAMS.items():
                mine = getattr(self, name)
                if mine is not None:
                    theirs[pname].copy_(mine[int(k)])
        return net

    def members(self) -> list[RecurrentClassifier]:
        """Every member as an independent :class:`RecurrentClassifier` (``[member(k) for k in range(S)]``)."""
        return [self.member(k) for k in range(self.n_members)]

    def extra_repr(self) -> str:
        return (f"{self.n_members} x RecurrentClassifier({self.vocab_size}, {self.n_classes}, cell={self.cell_type!r}, "
                f"embedding_dim={self.embedding_dim}, hidden_size={self.hidden_size}, "
                f"padding_idx={self.padding_idx}, learn_h0={self.learn_h0})")

    # -- running -----------------------------------------------------------------------------
    def lengths_of(self, tokens: torch.Tensor) -> torch.Tensor:
        """Lengths (..., n) int64 of padded ``tokens`` (..., n, T): position after the last non-padding token."""
        return _padded_lengths(tokens, self.padding_idx)

    def _tokens(self, tokens) -> torch.Tensor:
        """``tokens`` as int64 (S, n, T) (a shared (n, T) batch expanded without copying)."""
        tok = torch.as_tensor(tokens, device=self.readout_weight.device)
        if tok.dtype.is_floating_point and bool(torch.all(tok == tok.round())):
            tok = tok.to(torch.int64)
        if tok.dtype.is_floating_point or tok.dtype.is_complex or tok.dtype == torch.bool:
            raise DataError(f"tokens must hold integer ids, got dtype {tok.dtype}")
        if tok.dim() == 2:
            tok = tok.expand(self.n_members, *tok.shape)
        elif tok.dim() != 3 or tok.shape[0] != self.n_members:
            raise DataError(f"tokens must have shape (n, T) shared by the members or ({self.n_members}, n, T), "
                            f"got {tuple(tok.shape)}")
        if tok.numel() and (int(tok.min()) < 0 or int(tok.max()) >= self.vocab_size):
            raise DataError(f"tokens must be ids in [0, {self.vocab_size}), found {int(tok.min())}..{int(tok.max())}")
        return tok.to(torch.int64)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (S, n, n_classes) of ``tokens`` (n, T) or (S, n, T) with ``lengths`` (n,), (S, n) or None."""
        return self._readout(self.final_states(tokens, lengths))

    def _readout(self, h: torch.Tensor) -> torch.Tensor:
        """Logits (S, n, C) of final states (S, n, H)."""
        return torch.baddbmm(self.readout_bias[:, None, :], h, self.readout_weight.transpose(1, 2))

    def final_states(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden state ``h`` (S, n, H) after each sequence's last token (arguments as :meth:`forward`)."""
        tok = self._tokens(tokens)
        s, n, t_len = tok.shape
        if lengths is None:
            lens = self.lengths_of(tok)
        else:
            lens = torch.as_tensor(lengths, device=tok.device)
            if lens.dtype.is_floating_point or lens.dtype.is_complex or lens.dtype == torch.bool:
                raise DataError(f"lengths must hold integers, got dtype {lens.dtype}")
            if lens.shape == (n,):
                lens = lens.expand(s, n)
            if lens.shape != (s, n) or (n and (int(lens.min()) < 0 or int(lens.max()) > t_len)):
                raise DataError(f"lengths must have shape ({n},) or ({s}, {n}) with ints in [0, {t_len}], got "
                                f"shape {tuple(lens.shape)}")
            lens = lens.to(torch.int64)
        return self._run(tok, lens)

    def _embedding(self) -> torch.Tensor:
        """The embedding (S, V, E), its padding row cut off from the gradient (as ``nn.Embedding`` does)."""
        w = self.embedding_weight
        if self.padding_idx is None:
            return w
        pad = torch.zeros(self.vocab_size, 1, 1, dtype=torch.bool, device=w.device)
        pad[self.padding_idx] = True
        return torch.where(pad.transpose(0, 1), w.detach(), w)

    def _run(self, tok: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        s, n, _ = tok.shape
        H = self.hidden_size
        emb = self._embedding()                                                    # (S, V, E)
        # every member's token vectors in one lookup, time major: T x (S, n, E)
        offsets = torch.arange(s, device=tok.device)[None, :, None] * self.vocab_size
        xs = nn.functional.embedding(tok.permute(2, 0, 1) + offsets,
                                     emb.reshape(s * self.vocab_size, self.embedding_dim)).unbind(0)
        # per weight block j (a gate or the candidate), as (S, in, H) matrices and (S, 1, H) biases;
        # sliced once per call, so their gradients are gathered once, not at every step
        wi = self.weight_ih.transpose(1, 2).split(H, dim=2)
        wh = self.weight_hh.transpose(1, 2).split(H, dim=2)
        bi = self.bias_ih[:, None, :].split(H, dim=2)
        bh = self.bias_hh[:, None, :].split(H, dim=2)
        both = [torch.cat([a, b], dim=1) for a, b in zip(wi, wh)]                  # input [x, h]: (S, E + H, H)
        bias = [a + b for a, b in zip(bi, bh)]
        if self.h0 is not None:
            h = self.h0[:, None, :].expand(s, n, H)
        else:
            h = emb.new_zeros(s, n, H)
        c = emb.new_zeros(s, n, H)
        t_max = int(lens.max()) if lens.numel() else 0
        cell = self.cell_type
        for t in range(t_max):
            x = xs[t]
            live = (lens > t)[..., None]
            if cell == "rnn":         # tanh(W x + b_ih + U h + b_hh)
                h_new = torch.tanh(torch.baddbmm(bias[0], torch.cat([x, h], dim=2), both[0]))
            elif cell == "gru":       # as GRUCell: gates r, z, candidate n; h' = (h - n) * z + n
                xh = torch.cat([x, h], dim=2)
                r = torch.sigmoid(torch.baddbmm(bias[0], xh, both[0]))
                z = torch.sigmoid(torch.baddbmm(bias[1], xh, both[1]))
                cand = torch.tanh(torch.baddbmm(bi[2], x, wi[2]) + r * torch.baddbmm(bh[2], h, wh[2]))
                h_new = (h - cand) * z + cand
            elif cell == "mgu":       # as MGUCell: gate f, candidate from f * h
                f = torch.sigmoid(torch.baddbmm(bias[0], torch.cat([x, h], dim=2), both[0]))
                cand = torch.tanh(torch.baddbmm(bias[1], torch.cat([x, f * h], dim=2), both[1]))
                h_new = (1.0 - f) * h + f * cand
            else:                     # lstm, as LSTMCell: gates i, f, cell input g, gate o
                xh = torch.cat([x, h], dim=2)
                i_g = torch.sigmoid(torch.baddbmm(bias[0], xh, both[0]))
                f_g = torch.sigmoid(torch.baddbmm(bias[1], xh, both[1]))
                g_g = torch.tanh(torch.baddbmm(bias[2], xh, both[2]))
                o_g = torch.sigmoid(torch.baddbmm(bias[3], xh, both[3]))
                c_new = f_g * c + i_g * g_g
                h_new = o_g * torch.tanh(c_new)
                c = torch.where(live, c_new, c)
            h = torch.where(live, h_new, h)
        return h


@dataclass(frozen=True, eq=False)
class EnsembleTrainResult:
    """What :func:`train_classifier_ensemble` did.

    Attributes
    ----------
    losses : numpy.ndarray, shape (epochs, S)
        Member k's mean training cross-entropy of each epoch (weighted by batch size), as
        :attr:`neurograph.zoo.training.TrainResult.losses` of a separate run.
    n_samples : int
        Training samples per member.
    n_steps : int
        Optimiser steps (the same for every member).
    seconds : float
        Wall-clock time for the whole ensemble.
    seeds : list of int
        Each member's shuffling seed.
    """

    losses: np.ndarray
    n_samples: int
    n_steps: int
    seconds: float
    seeds: list[int]

    @property
    def final_loss(self) -> np.ndarray:
        """(S,) mean training loss of the last epoch (NaN if no epoch ran)."""
        return self.losses[-1] if len(self.losses) else np.full(len(self.seeds), np.nan)

    def member_result(self, k: int):
        """Member ``k``'s record as a :class:`~neurograph.zoo.training.TrainResult`.

        Its ``seconds`` is the whole ensemble's training time.
        """
        from ..zoo.training import TrainResult

        return TrainResult(losses=[float(v) for v in self.losses[:, k]], n_samples=self.n_samples,
                           n_steps=self.n_steps, seconds=self.seconds, seed=self.seeds[k])


def stack_padded(tokens: Sequence[torch.Tensor], pad: int) -> torch.Tensor:
    """Per-member token batches (n, T_k) of one n as one (S, n, max T_k) tensor, padded at the end with ``pad``.

    For :func:`train_classifier_ensemble` when every member has its own data draw.

    Examples
    --------
    >>> import torch
    >>> stack_padded([torch.tensor([[1, 2]]), torch.tensor([[1, 2, 1]])], pad=0).tolist()
    [[[1, 2, 0]], [[1, 2, 1]]]
    """
    tokens = list(tokens)
    if not tokens or len({int(t.shape[0]) for t in tokens}) != 1 or any(t.dim() != 2 for t in tokens):
        raise DataError(f"tokens must be one or more (n, T) batches of the same n, got shapes "
                        f"{[tuple(t.shape) for t in tokens]}")
    width = max(int(t.shape[1]) for t in tokens)
    return torch.stack([nn.functional.pad(t, (0, width - int(t.shape[1])), value=int(pad)) for t in tokens])


def _per_member(name: str, value, s: int, ndim: int, what: str) -> torch.Tensor:
    """``value`` as a tensor with a member axis: shared (ndim) or per member (S, ...)."""
    try:
        t = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(f"{name} must be a tensor or array of {what}, got {type(value).__name__}: {exc}") from exc
    if t.dim() == ndim:
        return t.expand(s, *t.shape)
    if t.dim() == ndim + 1 and t.shape[0] == s:
        return t
    shared = "(n, T)" if ndim == 2 else "(n,)"
    per = f"({s}, n, T)" if ndim == 2 else f"({s}, n)"
    raise DataError(f"{name} must have shape {shared} shared by the members or {per} one per member, "
                    f"got {tuple(t.shape)}")


def train_classifier_ensemble(
    ensemble: RecurrentEnsemble,
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    *,
    epochs: int = 30,
    lr: float = 1e-2,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    seeds: Sequence[int],
) -> EnsembleTrainResult:
    """Train every member at once, as S separate :func:`~neurograph.zoo.training.train_classifier` runs.

    Member k ends as ``train_classifier(ensemble.member(k), X_k, y_k, epochs=epochs, lr=lr,
    batch_size=batch_size, weight_decay=weight_decay, seed=seeds[k])`` would leave it, to float
    rounding: per epoch its samples are visited in the order ``torch.randperm(n, generator=g_k)``
    of a ``torch.Generator`` seeded with ``seeds[k]``, in mini-batches of ``batch_size`` (the last
    may be smaller); its loss is the mean cross-entropy of its batch; the members' losses are
    summed so each gradient is the member's own; one ``torch.optim.Adam(lr, weight_decay)`` over the
    stacked parameters is S separate Adams (elementwise). No clipping, as in ``train_classifier``. A
    fresh Adam per call, so calling twice (e.g. to evaluate after a first budget) equals two
    ``train_classifier`` calls. The ensemble is in train mode while training and back in its
    previous mode afterwards.

    Parameters
    ----------
    ensemble : RecurrentEnsemble
        Trained in place.
    X : tensor or array, shape (n, T) or (S, n, T)
        Padded token ids, shared by the members or one data set per member (same n and T).
    y : tensor or array of int, shape (n,) or (S, n)
        Labels, shared or one label vector per member (e.g. shuffled labels for some members).
    epochs : int, default 30
        Passes over the data (0 trains nothing).
    lr : float, default 1e-2
        Adam learning rate.
    batch_size : int, default 64
        Mini-batch size.
    weight_decay : float, default 0.0
        Adam's L2 penalty coefficient.
    seeds : sequence of int, length S
        Shuffling seed of each member (``seed`` of its separate ``train_classifier`` run).

    Returns
    -------
    EnsembleTrainResult
        Per-epoch mean losses (epochs, S), step count, time.

    Raises
    ------
    DataError
        If ``X`` or ``y`` is empty or of the wrong shape, they disagree in n, ``y`` is not integer,
        a label is negative or not below ``n_classes``, or a token id is outside the vocabulary.
    OptionError
        If ``epochs``, ``lr``, ``batch_size``, ``weight_decay`` or ``seeds`` is out of range or
        of the wrong type or length.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randint(0, 3, (40, 6), generator=g)
    >>> y = torch.randint(0, 2, (40,), generator=g)
    >>> ens = RecurrentEnsemble.from_seeds([0, 1], 3, 2, cell="gru", hidden_size=4)
    >>> fit = train_classifier_ensemble(ens, X, y, epochs=2, batch_size=16, seeds=[0, 1])
    >>> fit.losses.shape, fit.n_steps
    ((2, 2), 6)
    """
    if not isinstance(ensemble, RecurrentEnsemble):
        raise OptionError(f"ensemble must be a RecurrentEnsemble, got {type(ensemble).__name__}")
    epochs = check_int("epochs", epochs, min=0, max=MAX_EPOCHS)
    batch_size = check_int("batch_size", batch_size, min=1)
    lr = check_number("lr", lr, low=0.0, low_open=True)
    weight_decay = check_number("weight_decay", weight_decay, low=0.0)
    s = ensemble.n_members
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise OptionError(f"seeds must be a sequence of {s} ints (one per member), got {type(seeds).__name__}")
    if len(seeds) != s:
        raise OptionError(f"seeds must give one seed per member ({s}), got {len(seeds)}")
    int_seeds = [as_int_seed(check_int(f"seeds[{i}]", v)) for i, v in enumerate(seeds)]
    device = ensemble.readout_weight.device
    X_t = _per_member("X", X, s, 2, "token ids").to(device)
    y_t = _per_member("y", y, s, 1, "integer labels").to(device)
    n = int(X_t.shape[1])
    if n == 0 or X_t.shape[2] == 0:
        raise DataError(f"X is empty (shape {tuple(X_t.shape)}); need at least one sample of at least one step")
    if int(y_t.shape[1]) != n:
        raise DataError(f"X has {n} samples per member but y has {int(y_t.shape[1])} labels")
    if y_t.dtype == torch.bool or y_t.is_floating_point() or y_t.is_complex():
        raise DataError(f"y must hold integer class labels, got dtype {y_t.dtype}")
    if int(y_t.min()) < 0 or int(y_t.max()) >= ensemble.n_classes:
        raise DataError(f"y must hold labels in [0, {ensemble.n_classes}), found {int(y_t.min())}..{int(y_t.max())}")
    X_t = ensemble._tokens(X_t)            # int64 (S, n, T), ids checked here once, not per batch
    lens = ensemble.lengths_of(X_t)         # (S, n)
    y_t = y_t.to(torch.int64)
    params = [p for p in ensemble.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=float(lr), weight_decay=float(weight_decay))
    gens = [torch.Generator().manual_seed(v) for v in int_seeds]
    rows = torch.arange(s, device=device)[:, None]
    history = []
    n_steps = 0
    was_training = ensemble.training
    start = time.perf_counter()
    try:
        ensemble.train()
        for _ in range(epochs):
            orders = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)    # (S, n)
            total = torch.zeros(s, dtype=torch.float64)
            for lo in range(0, n, batch_size):
                idx = orders[:, lo:lo + batch_size]                                           # (S, b)
                xb, yb = X_t[rows, idx], y_t[rows, idx]                                       # (S, b, T), (S, b)
                b = int(idx.shape[1])
                logits = ensemble._readout(ensemble._run(xb, lens[rows, idx]))                # (S, b, C)
                per = nn.functional.cross_entropy(logits.reshape(s * b, -1), yb.reshape(s * b),
                                                  reduction="none").view(s, b).mean(dim=1)    # (S,)
                opt.zero_grad(set_to_none=True)
                per.sum().backward()
                opt.step()
                n_steps += 1
                total += per.detach().to("cpu", torch.float64) * b
            history.append((total / n).numpy())
    finally:
        ensemble.train(was_training)
    seconds = time.perf_counter() - start
    losses = np.asarray(history, dtype=np.float64).reshape(len(history), s)
    return EnsembleTrainResult(losses=losses, n_samples=n, n_steps=n_steps, seconds=seconds, seeds=int_seeds)
