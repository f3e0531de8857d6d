"""A small, deterministic training loop for classifiers, and test accuracy.

Enough to produce the trained models that the rest of neurograph analyses
(reference models on built-in data, model zoos); not a general trainer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..recording.capture import run_model
from ..recording.batches import class_indices
from ..recording.hooks import restored_modes
from .._seed import as_int_seed
from .._validate import check_int, check_number
from .._limits import MAX_EPOCHS
from ..errors import DataError, ModelError

__all__ = ["TrainResult", "accuracy", "train_classifier"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`train_classifier` did.

    Attributes
    ----------
    losses : list of float, length epochs
        Mean training cross-entropy (nats per sample) of each epoch, averaged over
        the epoch's batches weighted by batch size, measured while training.
    n_samples : int
        Number of training samples.
    n_steps : int
        Number of optimiser steps taken.
    seconds : float
        Wall-clock training time in seconds.
    seed : int
        The int seed used for shuffling and dropout.

    Examples
    --------
    >>> r = TrainResult(losses=[1.0, 0.5], n_samples=10, n_steps=4, seconds=0.1, seed=0)
    >>> r.epochs, r.final_loss
    (2, 0.5)
    """

    losses: list[float]
    n_samples: int
    n_steps: int
    seconds: float
    seed: int

    @property
    def epochs(self) -> int:
        """Number of epochs trained."""
        return len(self.losses)

    @property
    def final_loss(self) -> float:
        """Mean training loss of the last epoch (NaN if no epoch ran)."""
        return self.losses[-1] if self.losses else float("nan")


def train_classifier(
    model: nn.Module,
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    *,
    epochs: int = 30,
    lr: float = 1e-2,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    seed: int | np.random.Generator | None = 0,
    progress: bool = False,
) -> TrainResult:
    """Train ``model`` in place with Adam on the cross-entropy of its logits.

    Each epoch visits the samples in a fresh random order (drawn from a
    ``torch.Generator`` seeded from ``seed``) in mini-batches of ``batch_size``
    (the last one may be smaller). Dropout and other random layers draw from torch's
    RNG seeded from ``seed`` inside a forked RNG state, so the caller's global RNG
    is left as it was. The weight *initialisation* is the caller's job: call
    ``torch.manual_seed(k)`` before building the model. Same initial weights, data
    and ``seed`` then give the same trained model on the same machine.

    On return every module is back in the train/eval mode it was in before.

    Parameters
    ----------
    model : torch.nn.Module
        Maps inputs of shape (B, *input_shape) to logits of shape (B, n_classes).
        Inputs are moved to the device and dtype of its first parameter.
    X : torch.Tensor or numpy.ndarray, shape (n, *input_shape)
        Training inputs (float or integer, finite).
    y : torch.Tensor or numpy.ndarray of int, shape (n,)
        Class labels in ``0 .. n_classes - 1``.
    epochs : int, default 30
        Number of passes over the data (0 trains nothing).
    lr : float, default 1e-2
        Adam learning rate.
    batch_size : int, default 64
        Mini-batch size.
    weight_decay : float, default 0.0
        Adam's L2 penalty coefficient.
    seed : int, numpy Generator or None, default 0
        Seed of the shuffling and of dropout.
    progress : bool, default False
        Show a tqdm bar over epochs with the running loss.

    Returns
    -------
    TrainResult
        Per-epoch mean losses, step count and time.

    Raises
    ------
    DataError
        If ``X`` or ``y`` is empty, their lengths differ, ``y`` is not a 1-D integer
        array, a label is negative or not below the number of logits, or ``X`` is
        not finite.
    ModelError
        If the model raises on a batch or does not return (B, n_classes) logits.
    OptionError
        If ``epochs``, ``lr``, ``batch_size`` or ``weight_decay`` is out of range
        or of the wrong type (also a ``ValueError``).
    ValueError
        If the model has no trainable parameters.

    Examples
    --------
    >>> import torch
    >>> from neurograph.datasets import make_blobs_task
    >>> from neurograph.models import MLP
    >>> task = make_blobs_task(n_samples=200, n_features=4, n_classes=3, seed=0)
    >>> _ = torch.manual_seed(0)
    >>> model = MLP(4, hidden=(16,), n_classes=3)
    >>> result = train_classifier(model, task.X_train, task.y_train, epochs=5, seed=0)
    >>> result.epochs, result.losses[-1] < result.losses[0]
    (5, True)
    >>> accuracy(model, task.X_test, task.y_test) > 0.6
    True
    """
    epochs = check_int("epochs", epochs, min=0, max=MAX_EPOCHS)
    batch_size = check_int("batch_size", batch_size, min=1)
    lr = check_number("lr", lr, low=0.0, low_open=True)
    weight_decay = check_number("weight_decay", weight_decay, low=0.0)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"model {type(model).__name__} has no trainable parameters")
    X_t, y_t = _check_data(X, y, device=params[0].device, dtype=params[0].dtype)
    y_max = int(y_t.max())
    int_seed = as_int_seed(seed)
    n = int(X_t.shape[0])
    opt = torch.optim.Adam(params, lr=float(lr), weight_decay=float(weight_decay))
    shuffle = torch.Generator().manual_seed(int_seed)
    devices = [params[0].device.index or 0] if params[0].device.type == "cuda" else []
    losses: list[float] = []
    n_steps = 0
    start = time.perf_counter()
    with restored_modes(model), torch.random.fork_rng(devices=devices):
        torch.manual_seed(int_seed)
        model.train()
        bar = tqdm(range(int(epochs)), desc="train", unit="epoch", disable=not progress, leave=False)
        try:
            for epoch in bar:
                order = torch.randperm(n, generator=shuffle).to(X_t.device)
                total = 0.0
                for lo in range(0, n, int(batch_size)):
                    idx = order[lo : lo + int(batch_size)]
                    xb, yb = X_t[idx], y_t[idx]
                    logits = _forward(model, xb, where=f"epoch {epoch}, batch starting at {lo}")
                    _check_logits(logits, int(yb.shape[0]), y_max)
                    loss = nn.functional.cross_entropy(logits, yb)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    n_steps += 1
                    total += float(loss.detach()) * int(yb.shape[0])
                losses.append(total / n)
                bar.set_postfix(loss=f"{losses[-1]:.4f}")
                logger.debug("epoch %d: mean loss %.6f", epoch, losses[-1])
        finally:
            bar.close()
    seconds = time.perf_counter() - start
    logger.debug("trained %d epochs (%d steps) in %.2f s", len(losses), n_steps, seconds)
    return TrainResult(losses=losses, n_samples=n, n_steps=n_steps, seconds=seconds, seed=int_seed)


def accuracy(
    model: nn.Module,
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    *,
    batch_size: int = 1024,
) -> float:
    """Fraction of samples whose largest logit is at the true label.

    Runs the model in eval mode without gradients, ``batch_size`` samples at a
    time; every module is back in its previous train/eval mode afterwards.

    Parameters
    ----------
    model : torch.nn.Module
        Maps inputs of shape (B, *input_shape) to logits of shape (B, n_classes).
    X : torch.Tensor or numpy.ndarray, shape (n, *input_shape)
        Inputs (float or integer, finite).
    y : torch.Tensor or numpy.ndarray of int, shape (n,)
        True labels in ``0 .. n_classes - 1``.
    batch_size : int, default 1024
        Samples per forward pass.

    Returns
    -------
    float
        Accuracy in ``[0, 1]``.

    Raises
    ------
    DataError
        As for :func:`train_classifier`.
    ModelError
        If the model raises or does not return (B, n_classes) logits.

    Examples
    --------
    >>> import torch
    >>> identity = torch.nn.Identity()          # logits = inputs
    >>> X = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0]])
    >>> accuracy(identity, X, torch.tensor([0, 1, 1]))
    0.6666666666666666
    """
    batch_size = check_int("batch_size", batch_size, min=1)
    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    X_t, y_t = _check_data(X, y, device=device, dtype=dtype)
    y_max = int(y_t.max())
    correct = 0

    def on_batch(state) -> None:
        nonlocal correct
        yb = state.batch.labels.to(X_t.device)
        logits = state.output
        _check_logits(logits, int(yb.shape[0]), y_max)
        correct += int((logits.argmax(dim=1) == yb).sum())

    run_model(model, (X_t, y_t), batch_size=int(batch_size), on_batch=on_batch, desc="accuracy")
    return correct / int(X_t.shape[0])


# ---------------------------------------------------------------------- helpers


def _check_data(
    X: object, y: object, *, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate inputs and labels; return them on ``device``, X as ``dtype``, y as int64.

    Named labels (strings) become the index of their name among the sorted names.
    """
    try:
        X_t = torch.as_tensor(X)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(f"X must be a tensor or array of numbers, got {type(X).__name__}: {exc}") from exc
    if not isinstance(y, torch.Tensor):
        arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if arr.ndim == 1 and arr.dtype.kind in "OUS":  # class names: indices by sorted name
            y = class_indices(arr, "y")[0]
    if hasattr(X, "to_numpy") and hasattr(X, "shape"):  # pandas DataFrame
        X = X.to_numpy()
    try:
        y_t = torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(f"y must be a tensor or array of integer labels, got {type(y).__name__}: {exc}") from exc
    if X_t.dim() == 0:
        raise DataError("X must have a leading sample axis, got a scalar")
    if X_t.shape[0] == 0:
        raise DataError(f"X is empty (shape {tuple(X_t.shape)}); need at least one sample")
    if X_t.dtype == torch.bool or X_t.is_complex():
        raise DataError(f"X must hold real numbers, got dtype {X_t.dtype}")
    if y_t.dim() != 1:
        raise DataError(f"y must be 1-D (one label per sample), got shape {tuple(y_t.shape)}")
    if y_t.shape[0] == 0:
        raise DataError("y is empty; need at least one label")
    if y_t.dtype == torch.bool or y_t.is_floating_point() or y_t.is_complex():
        raise DataError(f"y must hold integer class labels, got dtype {y_t.dtype}")
    if X_t.shape[0] != y_t.shape[0]:
        raise DataError(f"X has {X_t.shape[0]} samples but y has {y_t.shape[0]} labels")
    if int(y_t.min()) < 0:
        raise DataError(f"y must hold labels >= 0, found {int(y_t.min())}")
    X_t = X_t.to(device=device, dtype=dtype)
    if not bool(torch.isfinite(X_t).all()):
        raise DataError("X contains NaN or infinite values")
    return X_t, y_t.to(device=device, dtype=torch.int64)


def _forward(model: nn.Module, xb: torch.Tensor, *, where: str) -> torch.Tensor:
    try:
        return model(xb)
    except Exception as exc:  # noqa: BLE001 - re-raised with context
        raise ModelError(
            f"{type(model).__name__} failed on {where} (input shape {tuple(xb.shape)}): {exc}"
        ) from exc


def _check_logits(logits: object, n_rows: int, y_max: int) -> None:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != n_rows:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ModelError(f"model must return logits of shape ({n_rows}, n_classes), got {shape}")
    if y_max >= logits.shape[1]:
        raise DataError(f"y holds label {y_max} but the model returns only {logits.shape[1]} logits")
