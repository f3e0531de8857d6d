"""Hidden states of a recurrent classifier, step by step: :func:`record_states` -> :class:`StateTrace`.

A trace keeps, for every sequence ``i`` of length ``L_i``, the ``L_i + 1`` states
``h_0, h_1, ..., h_L`` of the hooked recurrent layer: ``h_0`` is the initial state and
``h_t`` the state after reading token ``t`` (1-based). It also keeps the token ids, the
lengths, the given labels and the model's own predictions: everything
:func:`neurograph.automata.extract_fsa` needs, with no reference to the model.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from .capture import run_model
from .batches import logits_of
from .hooks import resolve_layers
from .._validate import check_int
from ..errors import DataError, LayerError, ModelError
from ..automata.algorithms import as_padded

__all__ = ["StateTrace", "record_states"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StateTrace:
    """Hidden states of ``n`` sequences, initial state included.

    Attributes
    ----------
    states : numpy.ndarray of float32, shape (sum(lengths + 1), H)
        Sequence ``i`` owns rows ``offsets[i] : offsets[i + 1]``: its initial state, then the
        state after each of its tokens.
    tokens : numpy.ndarray of int64, shape (n, T)
        Token ids, padded after each sequence's length (padding values are not used).
    lengths : numpy.ndarray of int64, shape (n,)
        Number of tokens of each sequence (0 allowed).
    labels : numpy.ndarray of int64, shape (n,), or None
        Labels given to :func:`record_states`.
    predictions : numpy.ndarray of int64, shape (n,)
        The model's own class (argmax of its logits) for each sequence.
    layer : str
        Name of the recorded module.

    Examples
    --------
    >>> import numpy as np
    >>> trace = StateTrace(states=np.zeros((5, 2), np.float32), tokens=np.array([[1, 0], [0, 0]]),
    ...                    lengths=np.array([2, 1]), labels=None, predictions=np.array([1, 0]))
    >>> trace.offsets.tolist(), trace.n_sequences, trace.hidden_size
    ([0, 3, 5], 2, 2)
    >>> trace.step_tokens().tolist()          # token read before each non-initial state
    [1, 0, 0]
    """

    states: np.ndarray
    tokens: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray | None
    predictions: np.ndarray
    layer: str = "rnn"

    def __post_init__(self) -> None:
        for key in ("states", "tokens", "lengths", "predictions"):
            if not isinstance(getattr(self, key), np.ndarray):
                raise DataError(f"StateTrace {key} must be a numpy array, got {type(getattr(self, key)).__name__}")
        for key in ("tokens", "lengths", "predictions"):
            if getattr(self, key).dtype.kind not in "iu":
                raise DataError(f"StateTrace {key} must hold integers, got dtype {getattr(self, key).dtype}")
        if self.lengths.ndim != 1:
            raise DataError(f"StateTrace lengths must be 1-D (one per sequence), got shape {self.lengths.shape}")
        if self.states.dtype.kind != "f":  # non-finite states are named, row and sequence, by the analyses
            raise DataError(f"StateTrace states of layer {self.layer!r} must be floats, got dtype {self.states.dtype}")
        n = self.lengths.shape[0]
        if self.tokens.ndim != 2 or self.tokens.shape[0] != n:
            raise DataError(f"StateTrace tokens must have shape ({n}, T), got {self.tokens.shape}")
        if n and (self.lengths.min() < 0 or self.lengths.max() > self.tokens.shape[1]):
            raise DataError("StateTrace lengths must lie in [0, T]")
        if self.states.ndim != 2 or self.states.shape[0] != int((self.lengths + 1).sum()):
            raise DataError(f"StateTrace states must have sum(lengths + 1) = {int((self.lengths + 1).sum())} "
                            f"rows, got shape {self.states.shape}")
        if self.predictions.shape != (n,) or (self.labels is not None and self.labels.shape != (n,)):
            raise DataError(f"StateTrace predictions and labels must have shape ({n},)")

    def __repr__(self) -> str:
        return (f"StateTrace(layer={self.layer!r}, n_sequences={self.n_sequences}, n_states={self.states.shape[0]}, "
                f"hidden_size={self.hidden_size})")

    @property
    def n_sequences(self) -> int:
        """Number of sequences ``n``."""
        return int(self.lengths.shape[0])

    @property
    def hidden_size(self) -> int:
        """Size ``H`` of a state."""
        return int(self.states.shape[1])

    @property
    def offsets(self) -> np.ndarray:
        """Row offsets (n + 1,): sequence ``i`` is ``states[offsets[i]:offsets[i + 1]]``."""
        return np.concatenate([[0], np.cumsum(self.lengths + 1)]).astype(np.int64)

    @property
    def initial_states(self) -> np.ndarray:
        """Initial state of each sequence, shape (n, H)."""
        return self.states[self.offsets[:-1]]

    @property
    def final_states(self) -> np.ndarray:
        """State after each sequence's last token (the initial state for an empty one), shape (n, H)."""
        return self.states[self.offsets[1:] - 1]

    def sequence_states(self, i: int) -> np.ndarray:
        """States of sequence ``i``, shape (lengths[i] + 1, H)."""
        off = self.offsets
        return self.states[off[i] : off[i + 1]]

    def sequences(self) -> list[np.ndarray]:
        """The token ids of each sequence, unpadded."""
        return [self.tokens[i, : self.lengths[i]] for i in range(self.n_sequences)]

    def step_index(self) -> tuple[np.ndarray, np.ndarray]:
        """``(sequence, t)`` of every non-initial state, each of shape (sum(lengths),), t in 1..L."""
        seq = np.repeat(np.arange(self.n_sequences), self.lengths)
        start = np.repeat(np.cumsum(self.lengths) - self.lengths, self.lengths)
        t = np.arange(seq.size) - start + 1
        return seq, t.astype(np.int64)

    def step_rows(self) -> np.ndarray:
        """Row in ``states`` of every non-initial state (same order as :meth:`step_index`)."""
        seq, t = self.step_index()
        return self.offsets[seq] + t

    def step_tokens(self) -> np.ndarray:
        """Token read just before every non-initial state (same order as :meth:`step_index`)."""
        seq, t = self.step_index()
        return self.tokens[seq, t - 1]


def record_states(
    model: nn.Module,
    tokens,
    lengths=None,
    layer: str = "rnn",
    labels=None,
    *,
    call: Callable | None = None,
    h0=None,
    batch_size: int = 512,
    progress: bool = False,
) -> StateTrace:
    """Run ``model`` on token sequences and keep the hooked recurrent layer's state at every step.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits (B, n_classes) (or a tuple whose first item they are).
    tokens : list of sequences, or 2-D tensor / array (n, T) of int
        Token ids. A list is padded (with ``model.padding_idx`` if set, else 0).
    lengths : array-like (n,) of int, optional
        Valid tokens per row of a padded ``tokens``. If None: taken from a list; for a 2-D
        input, ``model.lengths_of(tokens)`` when the model has it (as
        :class:`~neurograph.models.recurrent.RecurrentClassifier`), else T.
    layer : str, default "rnn"
        Name (in ``model.named_modules()``) of the recurrent module. Its output must be
        ``(h_t, h_n)`` as for ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` /
        :class:`~neurograph.models.recurrent.RecurrentLayer` (padded with ``batch_first``
        honoured, or packed), or a tensor (B, T, H). Bidirectional layers are refused. For
        an LSTM the recorded state is the hidden state ``h`` (the cell state ``c`` is not
        kept); for a multi-layer module, the top layer.
    labels : array-like (n,) of int, optional
        Kept in the trace (for majority-label acceptance and accuracy).
    call : callable, optional
        ``call(model, tokens_batch, lengths_batch) -> logits`` says how to run the model on
        a batch of padded int64 tokens (B, T) and int64 lengths (B,). Default:
        ``model(tokens_batch)`` when no lengths were given for a 2-D input and the model
        cannot infer them, else ``model(tokens_batch, lengths_batch)``.
    h0 : array-like (H,) or (n, H), optional
        Initial state to record. Default: the ``hx`` the model passes to the hooked module
        (``h0`` of ``(h0, c0)``, top layer), or zeros when it passes none. Give it when your
        model starts from a state it does not pass as ``hx``.
    batch_size : int, default 512
        Sequences per forward pass.
    progress : bool, default False
        Show a tqdm bar over batches.

    Returns
    -------
    StateTrace

    Raises
    ------
    LayerError
        Unknown layer, a layer that never ran, bidirectional, or an output of unexpected shape.
    ModelError
        The model raised or did not return (B, n_classes) logits.
    DataError
        Bad tokens, lengths, labels or h0.

    Examples
    --------
    >>> import torch
    >>> from neurograph.models.recurrent import RecurrentClassifier
    >>> _ = torch.manual_seed(0)
    >>> model = RecurrentClassifier(3, 2, cell="gru", hidden_size=4, padding_idx=2)
    >>> trace = record_states(model, [[0, 1, 1], [1], []], labels=[1, 0, 1])
    >>> trace.states.shape, trace.lengths.tolist()
    ((7, 4), [3, 1, 0])
    >>> bool((trace.initial_states == 0).all())
    True
    """
    check_int("batch_size", batch_size, min=1)
    pad = getattr(model, "padding_idx", None)
    given_lengths = lengths is not None or not (isinstance(tokens, (np.ndarray, torch.Tensor))
                                                and np.ndim(tokens) == 2)
    tok, lens = as_padded(tokens, lengths, pad=0 if pad is None else int(pad))
    if lengths is None and not given_lengths and hasattr(model, "lengths_of"):
        lens = model.lengths_of(torch.as_tensor(tok)).cpu().numpy().astype(np.int64)
        given_lengths = True
    n = tok.shape[0]
    if n == 0:
        raise DataError("tokens is empty; need at least one sequence")
    labels_arr = None
    if labels is not None:
        labels_arr = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
        if labels_arr.shape != (n,) or not np.issubdtype(labels_arr.dtype, np.integer):
            raise DataError(f"labels must be {n} integer labels (one per sequence), got shape {labels_arr.shape}")
        labels_arr = labels_arr.astype(np.int64)
    if call is None:
        call = _call_with_lengths if given_lengths else _call_tokens_only
    matched = resolve_layers(model, [layer])
    if len(matched) != 1:
        raise LayerError(f"layer {layer!r} matches {len(matched)} modules {[n for n, _ in matched]}; name one")
    (name, module), = matched
    if getattr(module, "bidirectional", False):
        raise LayerError(f"layer {name!r} is bidirectional; its states do not follow the sequence order")
    h0_arr = None if h0 is None else _check_h0(h0, n)
    rows, preds = [], []
    order = torch.arange(n)
    data = [((torch.as_tensor(tok[lo:lo + batch_size]), torch.as_tensor(lens[lo:lo + batch_size])), order[lo:lo + batch_size])
            for lo in range(0, n, batch_size)]
    box: dict = {}

    def on_site(i, site, output, state):
        box["out"] = output

    def on_batch(state):
        tb, lb = state.batch.inputs
        lo = int(state.batch.labels[0])
        logits = logits_of(state.output)
        if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != len(tb):
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(state.output).__name__
            raise ModelError(f"model must return logits of shape ({len(tb)}, n_classes), got {shape}")
        seq = _sequence_output(name, module, box.pop("out"), len(tb), int(lb.max()) if len(lb) else 0)
        init = _initial(hx_box.get("hx"), len(tb), seq.shape[-1], h0_arr, lo)
        hx_box.clear()
        seq_np = seq.float().cpu().numpy()
        for i in range(len(tb)):
            rows.append(init[i][None])
            rows.append(seq_np[i, : lens[lo + i]])
        preds.append(logits.argmax(dim=1).cpu().numpy())

    def run(m, inputs):
        tb, lb = inputs
        return call(m, tb, lb)

    with _captured_hx(module) as hx_box:
        run_model(model, data, batch_size=batch_size, layers=[name], on_site=on_site, on_batch=on_batch,
                  read=False, call=run, progress=progress, desc="record_states")
    states = np.concatenate(rows).astype(np.float32)
    if not np.all(np.isfinite(states)):
        raise DataError(f"layer {name!r} produced non-finite states")
    logger.debug("recorded %d states of %d sequences from %r", states.shape[0], n, name)
    return StateTrace(states=states, tokens=tok, lengths=lens, labels=labels_arr,
                      predictions=np.concatenate(preds).astype(np.int64), layer=name)


# ---------------------------------------------------------------------- helpers
def _call_with_lengths(model, tokens, lengths):
    return model(tokens, lengths)


def _call_tokens_only(model, tokens, lengths):
    return model(tokens)


@contextlib.contextmanager
def _captured_hx(module: nn.Module) -> Iterator[dict]:
    """Keep the initial state ``hx`` passed to ``module`` (second positional argument or keyword)."""
    box: dict = {}

    def pre_hook(mod, args, kwargs):
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        if hx is not None:
            box["hx"] = hx

    handle = module.register_forward_pre_hook(pre_hook, with_kwargs=True)
    try:
        yield box
    finally:
        handle.remove()


def _sequence_output(name: str, module: nn.Module, output, batch: int, t_needed: int) -> torch.Tensor:
    """The per-step states (B, T, H) of a recurrent module's output."""
    seq = output[0] if isinstance(output, (tuple, list)) else output
    if isinstance(seq, PackedSequence):
        seq, _ = pad_packed_sequence(seq, batch_first=True)
    elif isinstance(seq, torch.Tensor) and isinstance(module, nn.RNNBase) and not module.batch_first:
        seq = seq.transpose(0, 1)
    if not isinstance(seq, torch.Tensor) or seq.dim() != 3:
        got = tuple(seq.shape) if isinstance(seq, torch.Tensor) else type(seq).__name__
        raise LayerError(f"layer {name!r} must output per-step states (batch, time, H) or (output, h_n) "
                         f"like nn.RNN, got {got}")
    if seq.shape[0] != batch or seq.shape[1] < t_needed:
        raise LayerError(f"layer {name!r} output has shape {tuple(seq.shape)}; expected ({batch}, >= {t_needed}, H) "
                         f"batch first (is the module batch_first?)")
    return seq


def _initial(hx, batch: int, hidden: int, h0_arr: np.ndarray | None, lo: int) -> np.ndarray:
    if h0_arr is not None:
        init = h0_arr if h0_arr.ndim == 1 else h0_arr[lo : lo + batch]
        init = np.broadcast_to(init, (batch, init.shape[-1]))
    elif hx is None:
        return np.zeros((batch, hidden), np.float32)
    else:
        if isinstance(hx, (tuple, list)):
            hx = hx[0]
        if hx.dim() == 3:
            hx = hx[-1]
        init = hx.detach().float().cpu().numpy()
    if init.shape != (batch, hidden):
        raise DataError(f"initial state has shape {init.shape}; expected ({batch}, {hidden})")
    return init.astype(np.float32)


def _check_h0(h0, n: int) -> np.ndarray:
    arr = np.asarray(h0.detach().cpu() if isinstance(h0, torch.Tensor) else h0, dtype=np.float32)
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[0] != n) or not np.all(np.isfinite(arr)):
        raise DataError(f"h0 must be finite, of shape (H,) or ({n}, H), got {arr.shape}")
    return arr
