"""Normalise the ``data`` argument of recorders into (inputs, labels) batches, as users have their data.

Accepted:

* a pair ``(X, y)`` of whole data sets, split into ``batch_size`` rows: ``X`` a tensor, a numpy
  array (any dtype; floats are cast to the model's parameter dtype), a pandas DataFrame, a list
  of numbers, a dict / Hugging Face ``BatchEncoding`` of equally long tensors (keyword arguments),
  or a tuple of equally long tensors (positional arguments, e.g. ``((X, lengths), y)``); ``y``
  labels or None;
* any iterable (DataLoader, list, generator) of ``(inputs, labels)`` batches or of bare input
  tensors / dicts, inputs in the same forms; a bare dict's labels are its ``"labels"`` (else
  ``"label"``) entry when it holds one label per input, as Hugging Face datasets collate them
  (the model still gets the whole dict); per-token labels and other bare batches are unlabelled.

A pair ``(X, Y)`` whose ``Y`` has shape ``(n, c > 1)`` (one-hot or multi-label) is refused: labels
are one class per sample.

Labels: integer class ids, integral floats, bools, or any other hashable values (strings, ...);
non-integer labels are coded 0, 1, ... in order of appearance and kept as the class names
(:class:`LabelCodes`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError


@dataclass(frozen=True)
class Batch:
    """One batch: ``inputs`` (tensor, tuple of tensors, or dict), ``labels`` (codes, int64) or None, ``n`` inputs."""

    inputs: object
    labels: torch.Tensor | None
    n: int

    def describe(self) -> str:
        t = first_tensor_of(self.inputs)
        return f"inputs of shape {tuple(t.shape)}" if t is not None else f"{self.n} inputs"


class LabelCodes:
    """Labels ↔ int64 codes, consistent over every batch of one recording.

    Integer labels (and integral floats, bools) are their own codes. Other hashable labels
    (strings, ...) get codes 0, 1, ... in order of appearance; :meth:`decode` gives them back.
    """

    def __init__(self) -> None:
        self.kind: str | None = None  # "int" or "named"
        self.codes: dict = {}
        self.names: list = []

    def encode(self, y, n: int, where: str) -> torch.Tensor | None:
        if y is None:
            return None
        arr = _labels_array(y, where)
        if arr.shape[0] != n:
            raise DataError(f"labels of {where} have {arr.shape[0]} entries but the inputs have {n} samples")
        kind = "int" if arr.dtype.kind in "iub" else "named"
        if arr.dtype.kind == "f":
            if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
                raise DataError(f"labels of {where} are floats that are not whole numbers (got e.g. "
                                f"{arr[~np.isfinite(arr) | (arr != np.round(arr))][0]!r}); class labels must be "
                                f"integers or names")
            kind = "int"
        if self.kind is None:
            self.kind = kind
        elif self.kind != kind:
            raise DataError(f"labels of {where} are {'numbers' if kind == 'int' else 'names'} but earlier batches "
                            f"had {'numbers' if self.kind == 'int' else 'names'}; use one kind of label")
        if kind == "int":
            return torch.from_numpy(arr.astype(np.int64))
        try:
            uniq, inv = np.unique(arr, return_inverse=True)
        except TypeError as exc:
            raise DataError(f"labels of {where} cannot be compared ({exc}); use integers or strings") from exc
        codes = np.empty(uniq.shape[0], np.int64)
        for k, u in enumerate(uniq.tolist()):
            if u not in self.codes:
                self.codes[u] = len(self.names)
                self.names.append(u)
            codes[k] = self.codes[u]
        return torch.from_numpy(codes[inv.reshape(-1)])

    def decode(self, codes) -> np.ndarray:
        """Class labels of ``codes`` (int64 array) as a numpy array (int64, or str for names)."""
        codes = np.asarray(codes, dtype=np.int64)
        if self.kind != "named":
            return codes
        names = [self.names[c] for c in codes.tolist()]
        if all(isinstance(s, str) for s in names):
            return np.asarray(names, dtype=str) if names else np.zeros(0, dtype=str)
        return np.asarray([str(s) for s in names], dtype=str)


def _labels_array(y, where: str) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu()
        if y.dtype.is_complex:
            raise DataError(f"labels of {where} must be class ids or names, got dtype {y.dtype}")
        arr = y.numpy()
    else:
        if hasattr(y, "to_numpy"):  # pandas Series / Index / Categorical
            y = y.to_numpy()
        arr = np.asarray(y)
    if arr.ndim > 1 and arr.size == arr.shape[0]:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise DataError(f"labels of {where} must be one label per sample (1-D), got shape {arr.shape}")
    if arr.dtype.kind == "c":
        raise DataError(f"labels of {where} must be class ids or names, got complex numbers")
    if arr.dtype.kind == "O":
        if any(isinstance(v, float) and math.isnan(v) for v in arr.tolist()):
            raise DataError(f"labels of {where} contain missing values (NaN)")
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr.tolist()):
            arr = arr.astype(np.int64)
    return arr


def _as_input(x, what: str):
    """A tensor (or tuple / dict of tensors) from what users pass as inputs."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise DataError(f"{what} must be numeric, got a numpy array of dtype {x.dtype}")
        return torch.from_numpy(x if x.flags.c_contiguous else np.ascontiguousarray(x))  # keeps 0-d arrays 0-d
    if hasattr(x, "to_numpy") and hasattr(x, "shape"):  # pandas DataFrame / Series
        return _as_input(x.to_numpy(), what)
    if isinstance(x, Mapping):
        return {k: _as_input(v, f"{what}[{k!r}]") if _array_like(v) else v for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_as_input(v, f"{what}[{i}]") if _array_like(v) else v for i, v in enumerate(x))
    if isinstance(x, list):
        try:
            arr = np.asarray(x)
        except ValueError as exc:
            raise DataError(f"{what} is a ragged list; pad it into an array first: {exc}") from exc
        return _as_input(arr, what)
    raise DataError(f"{what} must be a tensor, a numpy array, a pandas DataFrame, a list of numbers, a tuple of "
                    f"tensors or a dict of tensors, got {type(x).__name__}")


def _array_like(v) -> bool:
    return isinstance(v, (torch.Tensor, np.ndarray, list)) or (hasattr(v, "to_numpy") and hasattr(v, "shape"))


def _labels_like(y) -> bool:
    if y is None or isinstance(y, (torch.Tensor, np.ndarray)) or (hasattr(y, "to_numpy") and hasattr(y, "shape")):
        return True
    if isinstance(y, list):
        return all(not isinstance(v, (torch.Tensor, np.ndarray, tuple, list, Mapping)) for v in y)
    # a DataLoader's default collate turns str labels into a tuple (a list, for some collates) of str
    return isinstance(y, tuple) and bool(y) and all(isinstance(v, (str, bytes, int, np.integer, np.str_))
                                                    for v in y)


def _whole_len(x) -> int | None:
    """Number of samples of whole inputs ``x`` if it is one (tensor / array / DataFrame / dict / tuple)."""
    if isinstance(x, (torch.Tensor, np.ndarray)) or (hasattr(x, "to_numpy") and hasattr(x, "shape")):
        return int(x.shape[0]) if len(x.shape) else None
    if isinstance(x, Mapping) and x:
        lens = {int(v.shape[0]) for v in x.values() if isinstance(v, (torch.Tensor, np.ndarray)) and v.ndim}
        return lens.pop() if len(lens) == 1 else None
    if isinstance(x, tuple) and x and all(isinstance(v, (torch.Tensor, np.ndarray)) and v.ndim for v in x):
        lens = {int(v.shape[0]) for v in x}
        return lens.pop() if len(lens) == 1 else None
    if isinstance(x, list) and x and all(isinstance(v, (int, float, np.number, list)) for v in x):
        return len(x)
    return None


def is_xy_pair(data) -> bool:
    """True when ``data`` is a pair ``(X, y)`` of whole data sets rather than an iterable of batches."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        return False
    x, y = data
    if not _labels_like(y):
        return False
    n = _whole_len(x)
    if n is None:
        return False
    if isinstance(y, (torch.Tensor, np.ndarray)):
        return y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)
    return True


def class_indices(y, where: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels as class indices for a classifier's outputs: (int64 indices, class names or None).

    Integer labels (and integral floats) are the indices themselves; named labels (strings, ...)
    become the rank of their name among the sorted names, so the model's output ``k`` stands for
    ``names[k]`` (the convention of scikit-learn's ``LabelEncoder``).
    """
    arr = _labels_array(y, where)
    codes = LabelCodes()
    coded = codes.encode(arr, arr.shape[0], where).numpy()
    if codes.kind != "named":
        return coded, None
    names = codes.decode(np.arange(len(codes.names)))
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names))
    return rank[coded], names[order]


def _batch_len(inputs, where: str = "batch inputs") -> int:
    t = first_tensor_of(inputs)
    if t is not None:
        if t.ndim == 0:
            raise DataError(f"{where} are a scalar (a 0-d tensor); inputs need a sample axis, shape (n, ...)")
        return int(t.shape[0])
    raise DataError(f"batch inputs must be a tensor, a tuple of tensors or a dict of tensors, "
                    f"got {type(inputs).__name__}")


def _slice(x, lo: int, hi: int):
    if isinstance(x, torch.Tensor):
        return x[lo:hi]
    if isinstance(x, Mapping):
        return {k: v[lo:hi] if isinstance(v, torch.Tensor) and v.ndim else v for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(v[lo:hi] for v in x)
    return x


def iter_batches(data, batch_size: int, codes: LabelCodes | None = None) -> Iterator[Batch]:
    """Yield :class:`Batch` es with validated, coded labels (see the module docstring for the forms)."""
    from .._validate import check_int

    check_int("batch_size", batch_size, min=1)
    codes = codes if codes is not None else LabelCodes()
    if is_xy_pair(data):
        X = _as_input(data[0], "inputs X")
        n = _whole_len(X) or 0
        if n == 0:
            raise DataError("data is empty: the inputs X have no samples")
        y = codes.encode(data[1], n, "the data (y)")
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            yield Batch(_slice(X, start, stop), None if y is None else y[start:stop], stop - start)
        return
    _refuse_label_matrix(data)
    if isinstance(data, tuple) and len(data) == 2:  # a pair (X, y) with a scalar in it is no pair of data sets
        for part, what in zip(data, ("inputs X", "labels y")):
            if isinstance(part, (torch.Tensor, np.ndarray)) and part.ndim == 0:
                raise DataError(f"the {what} of data (X, y) are a scalar (0-d); give one row per sample, shape (n, ...)")
    if isinstance(data, (torch.Tensor, np.ndarray)) or (hasattr(data, "to_numpy") and hasattr(data, "shape")):
        raise DataError("data must be a pair (X, y) or an iterable of (inputs, labels) batches; "
                        "got a single array (pass (X, None) to record without labels)")
    if isinstance(data, Mapping):
        raise DataError("data is a dict of inputs; pass (inputs, labels) or (inputs, None)")
    if not isinstance(data, Iterable):
        raise DataError(f"data must be a DataLoader, an iterable of (inputs, labels) batches or a pair (X, y), "
                        f"got {type(data).__name__}")
    seen = False
    for k, item in enumerate(data):
        if isinstance(item, (tuple, list)) and len(item) == 2 and _labels_like(item[1]) \
                and not (isinstance(item[1], (torch.Tensor, np.ndarray)) and item[1].ndim > 1
                         and item[1].size != item[1].shape[0]):
            inputs, labels = item
        elif isinstance(item, Mapping):
            # Hugging Face style {"input_ids": ..., "labels": ...}: the labels are read from their key
            # (the model still gets the whole dict, as it would in a training loop)
            inputs, labels = item, next((item[k] for k in _LABEL_KEYS if k in item), None)
            if isinstance(labels, (torch.Tensor, np.ndarray)) and labels.ndim > 1 and labels.size != labels.shape[0]:
                labels = None  # per-token labels (token classification): no class per input
        elif isinstance(item, (torch.Tensor, np.ndarray)):
            inputs, labels = item, None
        else:
            if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], (torch.Tensor, np.ndarray)) \
                    and item[1].ndim == 2:
                raise DataError(f"the labels of batch {k} have shape {tuple(item[1].shape)}; give one class per "
                                f"sample, shape ({item[1].shape[0]},): for one-hot labels pass y.argmax(1)")
            raise DataError(f"batch {k} of data is a {type(item).__name__}; expected an (inputs, labels) pair, "
                            f"an input tensor or a dict of input tensors")
        inputs = _as_input(inputs, f"inputs of batch {k}")
        n = _batch_len(inputs, f"the inputs of batch {k}")
        if n == 0:
            continue
        seen = True
        yield Batch(inputs, codes.encode(labels, n, f"batch {k}"), n)
    if not seen:
        raise DataError("data is empty: it yielded no samples")


_LABEL_KEYS = ("labels", "label")


def _refuse_label_matrix(data) -> None:
    """Refuse ``(X, Y)`` with ``Y`` of shape (n, c > 1), one-hot or multi-label: never two unlabelled batches."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        return
    x, y = data
    if not isinstance(y, (torch.Tensor, np.ndarray)) or y.ndim != 2 or y.shape[1] < 2:
        return
    n = _whole_len(x)
    if n is None or n != y.shape[0]:
        return
    arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    onehot = arr.dtype.kind in "biuf" and bool(np.isin(arr, (0, 1)).all()) and bool((arr.sum(1) == 1).all())
    # two unlabelled batches of one shape stay two batches; a one-hot matrix or another shape is labels
    if onehot or tuple(getattr(x, "shape", ())[1:]) != tuple(arr.shape[1:]):
        kind = "one-hot" if onehot else "a matrix"
        raise DataError(f"the labels y of data (X, y) have shape {tuple(arr.shape)} ({kind}); give one class "
                        f"per sample, shape ({n},): for one-hot labels pass y.argmax(1)")


def n_batches(data, batch_size: int) -> int | None:
    """Number of batches ``data`` will give, if known without iterating."""
    if is_xy_pair(data):
        n = _whole_len(data[0])
        return None if n is None else -(-n // max(int(batch_size), 1))
    try:
        return len(data)
    except TypeError:
        return None


def is_reiterable(data) -> bool:
    """True when iterating ``data`` twice gives the data twice (not a one-shot iterator)."""
    return is_xy_pair(data) or iter(data) is not data


def model_device_dtype(model: torch.nn.Module) -> tuple[torch.device, torch.dtype | None]:
    """Device of the model's first parameter (or buffer), and its floating dtype (None if none)."""
    for p in model.parameters():
        return p.device, (p.dtype if p.dtype.is_floating_point else None)
    for b in model.buffers():
        return b.device, None
    return torch.device("cpu"), None


def prepare_inputs(batch: Batch, device: torch.device, dtype: torch.dtype | None, k: int) -> Batch:
    """Move inputs to ``device``; cast floating inputs to the model's ``dtype``; check they are finite."""
    inputs = _convert(batch.inputs, device, dtype)
    return Batch(inputs, batch.labels, batch.n)


def _convert(x, device, dtype):
    if isinstance(x, torch.Tensor):
        if dtype is not None and x.dtype.is_floating_point and x.dtype != dtype:
            x = x.to(dtype)
        return x.to(device)
    if isinstance(x, tuple):
        return tuple(_convert(v, device, dtype) for v in x)
    if isinstance(x, list):
        return [_convert(v, device, dtype) for v in x]
    if isinstance(x, Mapping):
        return {k: _convert(v, device, dtype) for k, v in x.items()}
    return x


def call_model(model, inputs):
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    if isinstance(inputs, Mapping):
        return model(**inputs)
    return model(inputs)


def first_tensor_of(output) -> torch.Tensor | None:
    """The tensor a layer output stands for: itself, or the first tensor of a tuple / list / dict /
    Hugging Face ``ModelOutput`` (searched in order, one level deep)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Mapping):
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        for v in output:
            if isinstance(v, torch.Tensor):
                return v
    return None


def logits_of(output) -> torch.Tensor | None:
    """A model output's logits: ``.logits`` (Hugging Face ``ModelOutput``), or the first tensor."""
    logits = getattr(output, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    return first_tensor_of(output)
