"""Normalise the ``data`` argument of recorders into (inputs, labels) batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from .errors import DataError


def _as_tensor(x, what: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x)
    raise DataError(f"{what} must be a torch.Tensor or numpy array, got {type(x).__name__}")


def is_xy_pair(data) -> bool:
    """True when ``data`` is a pair ``(X, y)`` of whole arrays rather than an iterable of batches."""
    return (isinstance(data, (tuple, list)) and len(data) == 2
            and isinstance(data[0], (torch.Tensor, np.ndarray))
            and (data[1] is None or isinstance(data[1], (torch.Tensor, np.ndarray, list))))


def check_labels(y, n: int, where: str) -> torch.Tensor | None:
    """Validate labels of a batch of ``n`` inputs; return an int64 tensor (or None)."""
    if y is None:
        return None
    if isinstance(y, list):
        y = np.asarray(y)
    y = _as_tensor(y, f"labels of {where}")
    if y.dtype.is_floating_point or y.dtype.is_complex:
        raise DataError(f"labels of {where} must be integer class ids, got dtype {y.dtype}")
    y = y.reshape(-1)
    if y.shape[0] != n:
        raise DataError(f"labels of {where} have {y.shape[0]} entries but the inputs have {n} samples")
    return y.to(torch.int64)


def _batch_len(inputs) -> int:
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0]) if inputs.ndim else 1
    if isinstance(inputs, (tuple, list)) and inputs and isinstance(inputs[0], torch.Tensor):
        return int(inputs[0].shape[0])
    if isinstance(inputs, dict) and inputs:
        first = next(iter(inputs.values()))
        if isinstance(first, torch.Tensor):
            return int(first.shape[0])
    raise DataError(f"batch inputs must be a tensor, a tuple of tensors or a dict of tensors, "
                    f"got {type(inputs).__name__}")


def iter_batches(data, batch_size: int) -> Iterator[tuple[object, torch.Tensor | None]]:
    """Yield ``(inputs, labels)`` batches with validated labels.

    ``data`` is ``(X, y)`` (whole tensors/arrays, split into ``batch_size`` rows;
    ``y`` may be None), or any iterable (DataLoader, list, generator) of
    ``(inputs, labels)`` pairs or of bare input tensors (unlabelled).
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
    if is_xy_pair(data):
        X = _as_tensor(data[0], "inputs X")
        n = int(X.shape[0]) if X.ndim else 0
        y = check_labels(data[1], n, "the data (y)")
        if n == 0:
            raise DataError("data is empty: the inputs X have no samples")
        for start in range(0, n, batch_size):
            yield X[start:start + batch_size], None if y is None else y[start:start + batch_size]
        return
    if isinstance(data, (torch.Tensor, np.ndarray)):
        raise DataError("data must be a pair (X, y) or an iterable of (inputs, labels) batches; "
                        "got a single array (pass (X, None) to record without labels)")
    if not isinstance(data, Iterable):
        raise DataError(f"data must be a DataLoader, an iterable of (inputs, labels) batches or a pair (X, y), "
                        f"got {type(data).__name__}")
    seen = False
    for k, item in enumerate(data):
        if isinstance(item, (tuple, list)) and len(item) == 2:
            inputs, labels = item
        elif isinstance(item, torch.Tensor):
            inputs, labels = item, None
        else:
            raise DataError(f"batch {k} of data is a {type(item).__name__}; expected an (inputs, labels) pair")
        if isinstance(inputs, np.ndarray):
            inputs = torch.from_numpy(inputs)
        n = _batch_len(inputs)
        if n == 0:
            continue
        seen = True
        yield inputs, check_labels(labels, n, f"batch {k}")
    if not seen:
        raise DataError("data is empty: it yielded no samples")


def is_reiterable(data) -> bool:
    """True when iterating ``data`` twice gives the data twice (not a one-shot iterator)."""
    return is_xy_pair(data) or iter(data) is not data


def to_device(inputs, device: torch.device):
    """Move a tensor, tuple/list or dict of tensors to ``device``."""
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device)
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(to_device(x, device) for x in inputs)
    if isinstance(inputs, dict):
        return {k: to_device(v, device) for k, v in inputs.items()}
    return inputs


def first_tensor(inputs) -> torch.Tensor | None:
    if isinstance(inputs, torch.Tensor):
        return inputs
    if isinstance(inputs, (tuple, list)) and inputs and isinstance(inputs[0], torch.Tensor):
        return inputs[0]
    if isinstance(inputs, dict):
        for v in inputs.values():
            if isinstance(v, torch.Tensor):
                return v
    return None


def call_model(model, inputs):
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    if isinstance(inputs, dict):
        return model(**inputs)
    return model(inputs)
