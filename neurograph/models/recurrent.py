"""Recurrent classifiers over token sequences with a choice of cell: 0, 1, 2 or 3 gates.

=========  =======  ==========================================  ==========================
``cell``   gates    update                                      step module (``.cell``)
=========  =======  ==========================================  ==========================
``"rnn"``  0        ``h' = tanh(W x + U h + b)``                 :class:`torch.nn.RNNCell`
``"mgu"``  1        minimal gated unit (Zhou et al. 2016)        :class:`MGUCell`
``"gru"``  2        reset and update gates                       :class:`torch.nn.GRUCell`
``"lstm"`` 3        input, forget and output gates (+ cell c)    :class:`torch.nn.LSTMCell`
=========  =======  ==========================================  ==========================

:class:`RecurrentClassifier` is ``embedding -> rnn -> readout``: token ids are embedded,
the :class:`RecurrentLayer` named ``rnn`` runs over them (batch first, padding-aware: each
sequence stops at its own length), and the linear ``readout`` maps the state after the last
token of each sequence to class logits. ``rnn`` is what :func:`neurograph.recording.record`
(``layers="rnn"``) and :func:`neurograph.recording.record_states` hook.

Step by step (for fixed points and other dynamics): ``layer.cell(x_t, h)`` is the cell
itself, and ``layer.step(x_t, state) -> state`` works on a flat state of size
``layer.state_size`` for every cell type (for the LSTM the state is ``[h, c]``
concatenated, size ``2 * hidden_size``; ``layer.hidden(state)`` returns its ``h`` part).
``model.input_vectors(tokens)`` gives the ``x_t`` the layer sees for token ids.
"""

from __future__ import annotations

import math
from numbers import Integral

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .._validate import positive_int as _positive_int
from ..errors import DataError, OptionError

__all__ = ["CELL_TYPES", "MGUCell", "RecurrentClassifier", "RecurrentLayer"]

#: Cell names and their number of gates.
CELL_TYPES = {"rnn": 0, "mgu": 1, "gru": 2, "lstm": 3}


def _padded_lengths(tokens: torch.Tensor, padding_idx: int | None) -> torch.Tensor:
    """Lengths (...,) int64 of token ids (..., T) padded at the end with ``padding_idx``.

    The length is the position after the last token that is not padding; every sequence has
    length T when ``padding_idx`` is None.
    """
    t = tokens.shape[-1]
    if padding_idx is None or t == 0:
        return torch.full(tokens.shape[:-1], t, dtype=torch.int64, device=tokens.device)
    pos = torch.arange(1, t + 1, device=tokens.device)
    return ((tokens != padding_idx) * pos).amax(dim=-1).to(torch.int64)


class MGUCell(nn.Module):
    """Minimal gated unit: one forget gate ``f`` (Zhou, Wu, Zhang & Zhou 2016).

    ``f = sigmoid(W_f x + b_if + U_f h + b_hf)``,
    ``h~ = tanh(W_h x + b_ih + U_h (f * h) + b_hh)``,
    ``h' = (1 - f) * h + f * h~``.

    Parameters are laid out like :class:`torch.nn.GRUCell`'s: ``weight_ih`` (2H, input_size)
    and ``weight_hh`` (2H, H) stack the gate rows first, then the candidate rows; biases
    ``bias_ih``, ``bias_hh`` (2H,). All are initialised uniform in ``±1/sqrt(H)``.

    Parameters
    ----------
    input_size, hidden_size : int
        Sizes of ``x`` and ``h``.
    bias : bool, default True
        Whether to use the biases.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> cell = MGUCell(3, 4)
    >>> h = cell(torch.zeros(2, 3), torch.zeros(2, 4))
    >>> tuple(h.shape)
    (2, 4)
    >>> tuple(cell(torch.zeros(3)).shape)    # unbatched input, zero initial state
    (4,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        _positive_int("input_size", input_size)
        _positive_int("hidden_size", hidden_size)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        self.weight_ih = nn.Parameter(torch.empty(2 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(2 * hidden_size, hidden_size))
        if self.bias:
            self.bias_ih = nn.Parameter(torch.empty(2 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(2 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter uniformly from ``[-1/sqrt(H), 1/sqrt(H)]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """Next state (N, H) from input (N, input_size) and state (N, H) (zeros if None); unbatched works too."""
        unbatched = x.dim() == 1
        if unbatched:
            x = x[None]
            h = None if h is None else h[None]
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        H = self.hidden_size
        gi = nn.functional.linear(x, self.weight_ih, self.bias_ih)
        w_f, w_h = self.weight_hh[:H], self.weight_hh[H:]
        b_f = None if self.bias_hh is None else self.bias_hh[:H]
        b_h = None if self.bias_hh is None else self.bias_hh[H:]
        f = torch.sigmoid(gi[:, :H] + nn.functional.linear(h, w_f, b_f))
        cand = torch.tanh(gi[:, H:] + nn.functional.linear(f * h, w_h, b_h))
        out = (1.0 - f) * h + f * cand
        return out[0] if unbatched else out

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RecurrentLayer(nn.RNNBase):
    """One recurrent layer that loops a cell over time, with the interface of ``nn.RNN``.

    ``forward(input, hx=None, *, lengths=None) -> (output, h_n)``:

    - ``input``: (N, T, input_size) if ``batch_first`` else (T, N, input_size), or a
      :class:`~torch.nn.utils.rnn.PackedSequence` (then ``output`` is packed too, as for
      ``nn.RNN``);
    - ``hx``: initial state (1, N, H), or ``(h0, c0)`` for the LSTM; zeros if None;
    - ``lengths``: (N,) valid steps per sequence (0 allowed) for a padded ``input``: a
      sequence's state stops changing after its last valid step and its padded output
      steps are zeros;
    - ``output``: every step's hidden state ``h_t`` (N, T, H) (batch first as the input);
    - ``h_n``: the state after each sequence's last valid step (1, N, H) (``h0`` for an
      empty sequence); for the LSTM ``(h_n, c_n)``.

    It subclasses :class:`torch.nn.RNNBase` (without its fused weights) so that tools that
    recognise recurrent layers by type, such as :func:`neurograph.recording.record` with
    ``time="all"`` / ``"last"``, treat it like ``nn.RNN``.

    Parameters
    ----------
    cell : {"rnn", "mgu", "gru", "lstm"}
        Cell type (see the module docstring).
    input_size, hidden_size : int
        Sizes of ``x_t`` and ``h_t``.
    batch_first : bool, default True
        Layout of a padded ``input`` and ``output``.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> layer = RecurrentLayer("mgu", 3, 5)
    >>> out, h_n = layer(torch.randn(2, 4, 3), lengths=torch.tensor([4, 2]))
    >>> tuple(out.shape), tuple(h_n.shape)
    ((2, 4, 5), (1, 2, 5))
    >>> bool(torch.equal(h_n[0, 1], out[1, 1]))     # sequence 1 stops after 2 steps
    True
    >>> layer.state_size, tuple(layer.step(torch.zeros(2, 3), torch.zeros(2, 5)).shape)
    (5, (2, 5))
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, *, batch_first: bool = True) -> None:
        nn.Module.__init__(self)  # not RNNBase.__init__: no fused flat weights
        if cell not in CELL_TYPES:
            raise OptionError(f"cell must be one of {sorted(CELL_TYPES)}, got {cell!r}")
        _positive_int("input_size", input_size)
        _positive_int("hidden_size", hidden_size)
        self.cell_type = cell
        self.mode = cell.upper()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = 1
        self.bias = True
        self.batch_first = bool(batch_first)
        self.dropout = 0.0
        self.bidirectional = False
        self.proj_size = 0
        self._flat_weights_names: list[str] = []
        self._flat_weights: list = []
        self._flat_weight_refs: list = []
        self._all_weights: list = []
        if cell == "rnn":
            self.cell = nn.RNNCell(input_size, hidden_size, nonlinearity="tanh")
        elif cell == "mgu":
            self.cell = MGUCell(input_size, hidden_size)
        elif cell == "gru":
            self.cell = nn.GRUCell(input_size, hidden_size)
        else:
            self.cell = nn.LSTMCell(input_size, hidden_size)

    # -- RNNBase machinery that assumes fused weights, made harmless ---------------------
    def _apply(self, fn, recurse=True):
        return nn.Module._apply(self, fn, recurse)

    def flatten_parameters(self) -> None:
        """No-op: the layer has no fused weights."""

    def __getstate__(self):
        return nn.Module.__getstate__(self)

    def __setstate__(self, state):
        nn.Module.__setstate__(self, state)

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        return [list(self.cell.parameters())]

    def extra_repr(self) -> str:
        return f"{self.cell_type!r}, {self.input_size}, {self.hidden_size}, batch_first={self.batch_first}"

    # -- step-by-step interface ------------------------------------------------------------
    @property
    def n_gates(self) -> int:
        """Number of gates of the cell (0, 1, 2 or 3)."""
        return CELL_TYPES[self.cell_type]

    @property
    def state_size(self) -> int:
        """Size of the flat state of :meth:`step`: ``hidden_size`` (``2 * hidden_size`` for the LSTM)."""
        return 2 * self.hidden_size if self.cell_type == "lstm" else self.hidden_size

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        """The hidden state ``h`` (..., H) of a flat state (..., state_size)."""
        return state[..., : self.hidden_size]

    def step(self, x: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """One time step on a flat state: ``x`` (N, input_size), ``state`` (N, state_size) -> (N, state_size).

        For the LSTM the flat state is ``[h, c]``; for the others it is ``h``.
        """
        if self.cell_type == "lstm":
            H = self.hidden_size
            h, c = self.cell(x, (state[..., :H], state[..., H:]))
            return torch.cat([h, c], dim=-1)
        return self.cell(x, state)

    # -- the loop ----------------------------------------------------------------------------
    def forward(self, input, hx=None, *, lengths: torch.Tensor | None = None):
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise DataError("lengths must be None for a PackedSequence input (it carries its own)")
            x, lengths = pad_packed_sequence(input, batch_first=True)
        else:
            if input.dim() != 3:
                raise DataError(f"input must be 3-D (batch, time, features), got shape {tuple(input.shape)}")
            x = input if self.batch_first else input.transpose(0, 1)
        n, t_max = int(x.shape[0]), int(x.shape[1])
        h, c = self._initial(hx, n, x)
        if lengths is None:
            lengths_t = torch.full((n,), t_max, dtype=torch.int64, device=x.device)
        else:
            lengths_t = torch.as_tensor(lengths, dtype=torch.int64).to(x.device)
            if lengths_t.shape != (n,) or (n and (int(lengths_t.min()) < 0 or int(lengths_t.max()) > t_max)):
                raise DataError(f"lengths must be {n} ints in [0, {t_max}], got {lengths_t.tolist()}")
        outs = []
        for t in range(t_max):
            live = (lengths_t > t)[:, None]
            if self.cell_type == "lstm":
                h_new, c_new = self.cell(x[:, t], (h, c))
                c = torch.where(live, c_new, c)
            else:
                h_new = self.cell(x[:, t], h)
            h = torch.where(live, h_new, h)
            outs.append(torch.where(live, h_new, torch.zeros_like(h_new)))
        output = torch.stack(outs, dim=1) if outs else x.new_zeros(n, 0, self.hidden_size)
        h_n = (h[None], c[None]) if self.cell_type == "lstm" else h[None]
        if packed:
            output = pack_padded_sequence(output, lengths_t.cpu(), batch_first=True, enforce_sorted=False)
        elif not self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n

    def _initial(self, hx, n: int, x: torch.Tensor):
        H = self.hidden_size
        zeros = x.new_zeros(n, H)
        if hx is None:
            return zeros, zeros
        if self.cell_type == "lstm":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise DataError("hx of an LSTM layer must be a pair (h0, c0)")
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        h0 = self._check_hx(h0, n, "h0")
        c0 = zeros if c0 is None else self._check_hx(c0, n, "c0")
        return h0, c0

    def _check_hx(self, h: torch.Tensor, n: int, what: str) -> torch.Tensor:
        if h.dim() == 3:
            h = h[-1]
        if tuple(h.shape) != (n, self.hidden_size):
            raise DataError(f"{what} must have shape (1, {n}, {self.hidden_size}), got {tuple(h.shape)}")
        return h


class RecurrentClassifier(nn.Module):
    """Sequence classifier ``embedding -> rnn -> readout`` with a chosen recurrent cell.

    ==============  ===========================  =====================================
    name            module                       output
    ==============  ===========================  =====================================
    ``embedding``   ``nn.Embedding``             (N, T, embedding_dim)
    ``rnn``         :class:`RecurrentLayer`      ``(h_t (N, T, H), h_n)``, batch first
    ``readout``     ``nn.Linear``                (N, n_classes) logits from ``h`` after
                                                 each sequence's last token
    ==============  ===========================  =====================================

    ``forward(tokens, lengths=None)``: ``tokens`` (N, T) int64 ids, padded at the end;
    ``lengths`` (N,) valid tokens per sequence (0 = the empty sequence, classified from
    the initial state). With ``lengths=None`` and a ``padding_idx``, each length is the
    position after the last non-padding token (padding must come last); without a
    ``padding_idx`` every sequence has length T. So ``model(tokens)`` works with
    :func:`neurograph.zoo.train_classifier` when ``padding_idx`` is set (float tokens
    holding whole numbers, as that function passes them, are accepted and cast to int64).

    When every length is at least 1 the embedded batch is handed to ``rnn`` as a
    :class:`~torch.nn.utils.rnn.PackedSequence`, so ``record(model, ..., "rnn",
    time="all")`` counts valid steps only; a batch holding an empty sequence is handed
    over padded (with ``lengths``), and then ``time="all"`` also counts padded steps
    (zeros): use :func:`neurograph.recording.record_states` for per-step states.

    Parameters
    ----------
    vocab_size : int
        Number of token ids (including the padding id).
    n_classes : int, default 2
        Number of logits.
    cell : {"rnn", "mgu", "gru", "lstm"}, default "gru"
        Recurrent cell (0, 1, 2, 3 gates).
    embedding_dim : int, default 8
        Size of a token's input vector.
    hidden_size : int, default 16
        Size of the hidden state ``h``.
    padding_idx : int or None, default None
        Padding token id (its embedding is zero and not trained).
    learn_h0 : bool, default False
        Learn the initial state ``h0`` (a parameter ``h0`` of shape (H,), initialised to
        zeros, passed to ``rnn`` as ``hx``); otherwise ``h0 = 0``. The LSTM's ``c0`` is 0.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> model = RecurrentClassifier(3, 2, cell="mgu", hidden_size=4, padding_idx=2)
    >>> tokens = torch.tensor([[0, 1, 1], [1, 2, 2], [2, 2, 2]])
    >>> tuple(model(tokens).shape)
    (3, 2)
    >>> model.lengths_of(tokens).tolist()
    [3, 1, 0]
    >>> model.rnn.n_gates
    1
    """

    def __init__(
        self,
        vocab_size: int,
        n_classes: int = 2,
        *,
        cell: str = "gru",
        embedding_dim: int = 8,
        hidden_size: int = 16,
        padding_idx: int | None = None,
        learn_h0: bool = False,
    ) -> None:
        super().__init__()
        _positive_int("vocab_size", vocab_size)
        _positive_int("n_classes", n_classes)
        _positive_int("embedding_dim", embedding_dim)
        _positive_int("hidden_size", hidden_size)
        if padding_idx is not None and (isinstance(padding_idx, bool) or not isinstance(padding_idx, Integral)
                                        or not 0 <= padding_idx < vocab_size):
            raise OptionError(f"padding_idx must be None or an int in [0, {vocab_size}), got {padding_idx!r}")
        self.vocab_size = int(vocab_size)
        self.n_classes = int(n_classes)
        self.padding_idx = None if padding_idx is None else int(padding_idx)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=self.padding_idx)
        self.rnn = RecurrentLayer(cell, embedding_dim, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, n_classes)
        if learn_h0:
            self.h0 = nn.Parameter(torch.zeros(hidden_size))
        else:
            self.register_parameter("h0", None)

    @property
    def cell_type(self) -> str:
        """The cell name (``"rnn"``, ``"mgu"``, ``"gru"`` or ``"lstm"``)."""
        return self.rnn.cell_type

    def lengths_of(self, tokens: torch.Tensor) -> torch.Tensor:
        """Lengths (N,) int64 of padded ``tokens`` (N, T): position after the last non-padding token."""
        return _padded_lengths(tokens, self.padding_idx)

    def input_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """The inputs ``x_t`` (..., embedding_dim) the recurrent layer sees for token ids (...)."""
        return self.embedding(torch.as_tensor(tokens, dtype=torch.int64, device=self.embedding.weight.device))

    def initial_state(self, n: int) -> torch.Tensor:
        """The initial hidden state, shape (n, H): the learned ``h0`` or zeros."""
        w = self.readout.weight
        if self.h0 is None:
            return w.new_zeros(n, self.rnn.hidden_size)
        return self.h0[None].expand(n, -1)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (N, n_classes) for ``tokens`` (N, T) and optional ``lengths`` (N,)."""
        tokens = torch.as_tensor(tokens)
        if tokens.dtype.is_floating_point and bool(torch.all(tokens == tokens.round())):
            tokens = tokens.to(torch.int64)   # train_classifier casts inputs to the weights' dtype
        if tokens.dim() != 2 or tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
            raise DataError(f"tokens must be a 2-D tensor of integer ids (batch, time), got "
                            f"shape {tuple(tokens.shape)} dtype {tokens.dtype}")
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.vocab_size):
            raise DataError(f"tokens must be ids in [0, {self.vocab_size}), found "
                            f"{int(tokens.min())}..{int(tokens.max())}")
        n = int(tokens.shape[0])
        if lengths is None:
            lengths = self.lengths_of(tokens)
        else:
            lengths = torch.as_tensor(lengths, dtype=torch.int64, device=tokens.device)
            if lengths.shape != (n,) or (n and (int(lengths.min()) < 0 or int(lengths.max()) > tokens.shape[1])):
                raise DataError(f"lengths must be {n} ints in [0, {tokens.shape[1]}] (one per sequence), "
                                f"got shape {tuple(lengths.shape)}")
        x = self.embedding(tokens)
        hx = None
        if self.h0 is not None:
            h0 = self.initial_state(n)[None].contiguous()
            hx = (h0, torch.zeros_like(h0)) if self.cell_type == "lstm" else h0
        if n and int(lengths.min()) > 0:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, h_n = self.rnn(packed, hx)
        else:
            _, h_n = self.rnn(x, hx, lengths=lengths)
        h_last = h_n[0] if isinstance(h_n, tuple) else h_n
        return self.readout(h_last[-1])

