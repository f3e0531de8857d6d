"""Built-in classification data that needs no download: scikit-learn's 8x8 digits and a generated task.

Both loaders return a :class:`DigitsData` holding a deterministic, stratified
train/test split as torch tensors, ready for :func:`neurograph.zoo.train_classifier`
and for recording activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._limits import MAX_SAMPLES, MAX_TASK_VALUES
from .._seed import as_int_seed
from ..errors import DataError, OptionError

__all__ = ["DigitsData", "load_digits", "make_blobs_task"]


@dataclass(frozen=True, eq=False)
class DigitsData:
    """A labelled classification task split into train and test parts.

    Attributes
    ----------
    X_train : torch.Tensor of float32, shape (n_train, *input_shape)
        Training inputs.
    y_train : torch.Tensor of int64, shape (n_train,)
        Training labels in ``0 .. n_classes - 1``.
    X_test : torch.Tensor of float32, shape (n_test, *input_shape)
        Test inputs.
    y_test : torch.Tensor of int64, shape (n_test,)
        Test labels in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.
    input_shape : tuple of int
        Shape of one input, e.g. ``(64,)`` or ``(1, 8, 8)``.
    name : str
        Short name of the task (``"digits"`` or ``"blobs"``).

    Examples
    --------
    >>> data = load_digits()
    >>> data.n_train, data.n_test, data.input_shape
    (1347, 450, (64,))
    >>> X, y = data.test
    >>> tuple(X.shape), y.dtype
    ((450, 64), torch.int64)
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    input_shape: tuple[int, ...]
    name: str = "digits"

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test samples."""
        return int(self.X_test.shape[0])

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_train, y_train)``, e.g. as the ``data`` argument of ``record``."""
        return self.X_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_test, y_test)``."""
        return self.X_test, self.y_test


def load_digits(
    *,
    test_fraction: float = 0.25,
    seed: int | np.random.Generator | None = 0,
    image: bool = False,
) -> DigitsData:
    """Load scikit-learn's 1797 8x8 handwritten digits (10 classes), split train/test.

    The data ships inside the scikit-learn wheel; nothing is downloaded. Pixel
    values (0..16) are divided by 16, so inputs lie in ``[0, 1]``.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Fraction of samples in the test part, in ``(0, 1)``. The split is stratified
        by class, so each class has (within one sample) this fraction in the test part.
    seed : int, numpy Generator or None, default 0
        Seed of the split; the same int always gives the same split.
    image : bool, default False
        If False, inputs are flat vectors of shape (n, 64); if True, images of
        shape (n, 1, 8, 8) (channel first, for convolutional models). Both views
        of the same seed hold the same samples in the same order.

    Returns
    -------
    DigitsData
        ``X_*`` float32 of shape (n, 64) or (n, 1, 8, 8), ``y_*`` int64 of shape (n,),
        ``n_classes == 10``.

    Raises
    ------
    DataError
        If ``test_fraction`` is not strictly between 0 and 1.

    Examples
    --------
    >>> data = load_digits(image=True)
    >>> tuple(data.X_train.shape), data.n_classes
    ((1347, 1, 8, 8), 10)
    >>> float(data.X_train.max()) <= 1.0
    True
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float32) / np.float32(16.0)
    y = np.asarray(bunch.target, dtype=np.int64)
    shape: tuple[int, ...] = (1, 8, 8) if image else (64,)
    return _split(X, y, n_classes=10, input_shape=shape, test_fraction=test_fraction,
                  seed=seed, name="digits")


def make_blobs_task(
    *,
    n_samples: int = 600,
    n_features: int = 16,
    n_classes: int = 4,
    test_fraction: float = 0.25,
    seed: int | np.random.Generator | None = 0,
) -> DigitsData:
    """Generate a separable-ish classification task with Gaussian class clusters.

    Made with :func:`sklearn.datasets.make_classification` (all features
    informative, one cluster per class, 1% of labels flipped), then split like
    :func:`load_digits`. Features are roughly standard normal (not scaled to [0, 1]).

    Parameters
    ----------
    n_samples : int, default 600
        Total number of samples (train + test).
    n_features : int, default 16
        Number of input features; needs ``2 ** n_features >= n_classes``.
    n_classes : int, default 4
        Number of classes (at least 2).
    test_fraction : float, default 0.25
        Fraction of samples in the stratified test part, in ``(0, 1)``.
    seed : int, numpy Generator or None, default 0
        Seed of both the generation and the split.

    Returns
    -------
    DigitsData
        ``X_*`` float32 of shape (n, n_features), ``y_*`` int64 of shape (n,),
        ``name == "blobs"``.

    Raises
    ------
    DataError
        If a size is not a positive integer, ``n_classes < 2``, there are too few
        features for the classes, too few samples for a stratified split, or
        ``test_fraction`` is not strictly between 0 and 1.

    Examples
    --------
    >>> task = make_blobs_task(n_samples=100, n_features=5, n_classes=3, seed=1)
    >>> tuple(task.X_train.shape), tuple(task.X_test.shape), task.n_classes
    ((75, 5), (25, 5), 3)
    """
    from sklearn.datasets import make_classification

    for arg, value in (("n_samples", n_samples), ("n_features", n_features),
                       ("n_classes", n_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{arg} must be a positive int, got {value!r}")
    if n_classes < 2:
        raise DataError(f"n_classes must be at least 2, got {n_classes}")
    if max(n_samples, n_classes) > MAX_SAMPLES or n_samples * n_features > MAX_TASK_VALUES:
        raise OptionError(f"n_samples={n_samples:,} x n_features={n_features:,} (n_classes={n_classes:,}) is beyond "
                          f"neurograph's limits ({MAX_SAMPLES:,} samples or classes, {MAX_TASK_VALUES:,} values)")
    if n_features < 31 and 2**n_features < n_classes:
        raise DataError(
            f"n_features={n_features} is too few for n_classes={n_classes} "
            f"(needs 2 ** n_features >= n_classes)"
        )
    if n_samples < 2 * n_classes:
        raise DataError(
            f"n_samples={n_samples} is too few for a stratified split of "
            f"n_classes={n_classes} (needs at least {2 * n_classes})"
        )
    rs = as_int_seed(seed)
    X, y = make_classification(
        n_samples=int(n_samples), n_features=int(n_features), n_informative=int(n_features),
        n_redundant=0, n_repeated=0, n_classes=int(n_classes), n_clusters_per_class=1,
        flip_y=0.01, class_sep=1.5, random_state=rs,
    )
    return _split(np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64),
                  n_classes=int(n_classes), input_shape=(int(n_features),),
                  test_fraction=test_fraction, seed=rs, name="blobs")


# ---------------------------------------------------------------------- helpers


def _split(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int,
    input_shape: tuple[int, ...],
    test_fraction: float,
    seed: int | np.random.Generator | None,
    name: str,
) -> DigitsData:
    from sklearn.model_selection import train_test_split

    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (float, int, np.floating)) \
            or not 0.0 < float(test_fraction) < 1.0:
        raise DataError(f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}")
    n = X.shape[0]
    n_test = int(np.ceil(float(test_fraction) * n))
    if n_test < n_classes or n - n_test < n_classes:
        raise DataError(
            f"test_fraction={test_fraction} leaves fewer samples than the {n_classes} classes "
            f"in the train or test part of {n} samples"
        )
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=float(test_fraction), stratify=y, random_state=as_int_seed(seed),
    )

    def as_x(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).reshape(-1, *input_shape)

    def as_y(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))

    return DigitsData(
        X_train=as_x(X_tr), y_train=as_y(y_tr), X_test=as_x(X_te), y_test=as_y(y_te),
        n_classes=int(n_classes), input_shape=tuple(input_shape), name=name,
    )
