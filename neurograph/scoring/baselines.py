"""Baseline generalization measures: one number per (model, training data), as in the PGDL competition.

Each measure is a plain function of a trained classifier and its training data, like the
``complexity(model,       dataset)`` of the NeurIPS 2020 competition "Predicting Generalization in Deep
Learning" (PGDL); :data:`BASELINES` lists them with the direction that predicts a *larger*
generalization gap, and :func:`baseline_scores` returns one row of them for a model.

========================  ====  ==================================================================
name                      sign  definition (source)
========================  ====  ==================================================================
``natekar_sharma``        +1    ``early_dbi * (1 - mixup_accuracy)`` (Natekar & Sharma 2020)
``early_dbi``             +1    Davies-Bouldin index of first-layer features clustered by label
``mixup_accuracy``        -1    accuracy on label-wise mixup (midpoints of same-label pairs)
``mixup_loss``            +1    cross-entropy on the same label-wise mixup inputs
``distance_from_init``    +1    ``||theta - theta_0||_2`` over all parameters (Nagarajan & Kolter)
``log_prod_of_spec``      +1    ``sum_i log ||W_i||_2^2`` (Jiang et al. 2020, eq. 32)
``log_sum_of_spec``       +1    ``log d + log_prod_of_spec / d`` (eq. 35)
``log_prod_of_fro``       +1    ``sum_i log ||W_i||_F^2`` (eq. 37)
``log_sum_of_fro``        +1    ``log d + log_prod_of_fro / d`` (eq. 39)
``pacbayes_flatness``     +1    ``1 / sigma^2``, sigma the largest isotropic weight noise (eq. 53)
``output_margin``         -1    10th percentile of ``logit_y - max_{j != y} logit_j`` (eq. 22)
``log_spec_over_margin``  +1    ``log_prod_of_spec - 2 log output_margin`` (eq. 31)
``parameter_count``       +1    number of parameters (eq. 20)
``disagreement``          +1    fraction of inputs where the model and a twin disagree (Jiang 2022)
``ww_alpha``              +1    layer mean of WeightWatcher's power-law exponent alpha
``ww_alpha_weighted``     +1    layer mean of ``alpha * log10(lambda_max)`` (Martin et al. 2021)
========================  ====  ==================================================================

A sign of +1 means a larger value predicts a larger gap (a *complexity* measure, the PGDL
convention); -1 the opposite. These are the directions the sources argue for; whether they hold on
a given model family is what :mod:`neurograph.scoring.correlation` measures.

Weight matrices (the norm measures): every parameter with two or more dimensions, reshaped to
``(shape[0], -1)``: a linear layer's ``(out, in)``, a convolution kernel ``(out, in/groups * k *
k)`` (an approximation of the convolution's operator norm, as in Jiang et al.'s PyTorch
re-implementation by Dziugaite et al. 2020), recurrent ``weight_ih`` / ``weight_hh`` (gates
stacked, counted once although applied at every step) and embedding tables. With
``fold_batchnorm=True`` a BatchNorm that follows a convolution or linear layer (in module
registration order) is folded into it first: rows scaled by ``gamma / sqrt(running_var + eps)``.

What does not apply (NaN, with the reason logged at INFO): ``early_dbi`` and so ``natekar_sharma``
on models with a recurrent layer or an embedding (the winners' measure reads the first conv / dense
layer of a feed-forward image classifier; a recurrent classifier's first dense layer is its
readout); ``mixup_*`` on inputs that are not one floating tensor (token ids cannot be averaged);
``log_spec_over_margin`` when the margin is not positive; ``ww_*`` when WeightWatcher fits no
layer (matrices too small). Every pass over data goes through
:func:`~neurograph.recording.capture.run_model`; ``pacbayes_flatness`` perturbs a deep copy, so the
model is left exactly as it was.

References
----------
Natekar, P. & Sharma, M. (2020). Representation based complexity measures for predicting
generalization in deep learning. arXiv:2012.02775 (winning PGDL entry; code parthnatekar/pgdl).
Jiang, Y., Neyshabur, B., Mobahi, H., Krishnan, D. & Bengio, S. (2020). Fantastic generalization
measures and where to find them. ICLR 2020.
Dziugaite, G. K. et al. (2020). In search of robust measures of generalization. NeurIPS 2020.
Nagarajan, V. & Kolter, J. Z. (2019). Generalization in deep networks: the role of distance from
initialization. arXiv:1901.01672.
Jiang, Y., Nagarajan, V., Baek, C. & Kolter, J. Z. (2022). Assessing generalization of SGD via
disagreement. ICLR 2022.
Martin, C. H., Peng, T. S. & Mahoney, M. W. (2021). Predicting trends in the quality of
state-of-the-art neural networks without access to training or testing data. Nat. Commun. 12, 4122.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._seed import as_generator, as_int_seed
from .._validate import (
    check_bool,
    check_int,
    check_number,
    check_optional_int,
    check_seed,
    positive_int,
)
from ..errors import DataError, LayerError, ModelError, OptionError
from ..recording.batches import LabelCodes, iter_batches, logits_of
from ..recording.capture import first_tensor_of, run_model
from ..recording.hooks import resolve_layers

__all__ = ["BASELINES", "Baseline", "baseline_scores", "disagreement", "distance_from_init", "early_dbi",
           "log_prod_of_fro", "log_prod_of_spec", "log_spec_over_margin", "log_sum_of_fro", "log_sum_of_spec",
           "mixup_accuracy", "mixup_loss", "natekar_sharma", "output_margin", "pacbayes_flatness",
           "parameter_count", "ww_alpha", "ww_alpha_weighted"]

logger = logging.getLogger(__name__)

_WW_HINT = "the WeightWatcher measures need the optional package weightwatcher: pip install weightwatcher"


# ------------------------------------------------------------------ representation (Natekar & Sharma)

def early_dbi(model: nn.Module, train_data, *, layer: str | None = None, pool_size: int | None = 4,
              chunk_size: int = 120, n_chunks: int = 10, batch_size: int = 256, seed=0) -> float:
    """Davies-Bouldin index of the first layer's features, clustered by the training labels.

    The first convolution or linear module (``model.named_modules()`` order, or ``layer``) is run
    on a seeded sample of ``n_chunks * chunk_size`` training inputs; its output (N, C, *spatial) is
    max-pooled over ``pool_size`` windows (stride = window, clipped to the map) and flattened, a
    dense output (N, F) is used as is. :func:`sklearn.metrics.davies_bouldin_score` with the labels
    as the clusters is computed per chunk and averaged. Natekar & Sharma used the first conv layer,
    4x4 max pooling and 10 chunks of 120 training images. Higher: classes less separated early on,
    a larger predicted gap.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier (left unchanged).
    train_data : pair (X, y) or iterable of (inputs, labels) batches
        Labelled training data.
    layer : str, optional
        Module to read instead of the first conv / linear one.
    pool_size : int or None, default 4
        Max-pool window of conv outputs; None flattens the whole map.
    chunk_size, n_chunks : int, default 120, 10
        Samples per chunk and chunks; with fewer than ``chunk_size`` samples, one chunk of all.
    batch_size : int
    seed : int, numpy Generator or None
        Draws the sample.

    Returns
    -------
    float
        Mean DBI (>= 0); NaN for recurrent / embedding models or when no chunk has two classes.

    Examples
    --------
    >>> import torch
    >>> from neurograph.models import MLP
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(60, 4), torch.arange(60) % 3
    >>> round(early_dbi(MLP(4, hidden=(8,), n_classes=3), (X, y)), 1) > 0
    True
    """
    _check_model(model)
    pool_size = check_optional_int("pool_size", pool_size, min=1)
    chunk_size, n_chunks = check_int("chunk_size", chunk_size, min=3), positive_int("n_chunks", n_chunks)
    batch_size = positive_int("batch_size", batch_size)
    check_seed("seed", seed)
    return _early_dbi(model, _collect(train_data, "train_data"), layer, pool_size, chunk_size, n_chunks,
                      batch_size, seed)


def mixup_accuracy(model: nn.Module, train_data, *, lam: float = 0.5, per_class: int = 10, n_groups: int = 10,
                   batch_size: int = 256, seed=0) -> float:
    """Accuracy on label-wise mixup of training inputs (Natekar & Sharma's "label-wise Mixup").

    A seeded sample of ``n_groups`` groups of ``per_class * K`` training inputs is drawn (K = 1 +
    the largest label; one group of all inputs if there are fewer). Within a group, every pair
    ``i < j`` of inputs *of the same label* ``c`` gives ``lam * x_i + (1 - lam) * x_j``, labelled
    ``c``. The accuracy of ``argmax`` logits is averaged per (group, class), then over groups, then
    over classes, as in the winners' code (``lam = 0.5``, 10 groups of ``10 K``; they took the
    first groups in data order, here a seeded sample); a class with fewer than two inputs in a
    group is skipped there. Higher: the model is more consistent between same-class points, a
    smaller predicted gap.

    Parameters
    ----------
    model : torch.nn.Module
    train_data : pair (X, y) or iterable of (inputs, labels) batches
        Inputs must be one floating tensor (images, vectors); else the result is NaN.
    lam : float in [0, 1], default 0.5
        Mixing weight.
    per_class, n_groups : int, default 10, 10
    batch_size : int
    seed : int, numpy Generator or None

    Returns
    -------
    float
        In [0, 1]; NaN when no class has two inputs in a group, or inputs are not floating.

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[-1.0], [1.0]])), lin.bias.zero_()
    >>> X, y = torch.tensor([[-2.0], [-1.0], [1.0], [3.0]]), torch.tensor([0, 0, 1, 1])
    >>> mixup_accuracy(lin, (X, y))      # a linear model right on two points is right on their midpoint
    1.0
    """
    return _mixup_public(model, train_data, lam, per_class, n_groups, batch_size, seed)[0]


def mixup_loss(model: nn.Module, train_data, *, lam: float = 0.5, per_class: int = 10, n_groups: int = 10,
               batch_size: int = 256, seed=0) -> float:
    """Mean cross-entropy (nats) on the label-wise mixup inputs of :func:`mixup_accuracy`.

    Averaged like the accuracy (per group and class, then groups, then classes); the winners'
    "log" variant. Higher: a larger predicted gap. Parameters and NaN cases as for
    :func:`mixup_accuracy`.

    Examples
    --------
    >>> import torch
    >>> X, y = torch.tensor([[0.0, 2.0], [0.0, 4.0], [1.0, 0.0], [3.0, 0.0]]), torch.tensor([1, 1, 0, 0])
    >>> round(mixup_loss(torch.nn.Identity(), (X, y)), 4)    # midpoints (0, 3) and (2, 0)
    0.0878
    """
    return _mixup_public(model, train_data, lam, per_class, n_groups, batch_size, seed)[1]


def natekar_sharma(model: nn.Module, train_data, *, batch_size: int = 256, seed=0) -> float:
    """The winning PGDL score: ``early_dbi * (1 - mixup_accuracy)`` with the winners' settings.

    Natekar & Sharma (2020) combine the Davies-Bouldin index of early features with label-wise
    Mixup accuracy multiplicatively ("Davies Bouldin * Label-Wise Mixup" in their results table;
    the default measure ``'DBI, Mixup'`` of their ``complexity.py`` is ``complexityDB(...) * (1 -
    complexityMixup(...))``, the mixup accuracy entering as an error so both factors grow with the
    gap). Here :func:`early_dbi` and :func:`mixup_accuracy` with their defaults (the winners'
    settings) and the same ``seed``. Higher: a larger predicted gap. NaN where either part is NaN.

    Examples
    --------
    >>> import torch
    >>> from neurograph.models import MLP
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(60, 4), torch.arange(60) % 3
    >>> natekar_sharma(MLP(4, hidden=(8,), n_classes=3), (X, y)) >= 0
    True
    """
    _check_model(model)
    batch_size = positive_int("batch_size", batch_size)
    check_seed("seed", seed)
    s = as_int_seed(seed)
    d = _collect(train_data, "train_data")
    dbi = _early_dbi(model, d, None, 4, 120, 10, batch_size, s)
    return dbi * (1.0 - _mixup(model, d, 0.5, 10, 10, batch_size, s)[0])


# ------------------------------------------------------------------ parameters and norms (Jiang et al.)

def distance_from_init(model: nn.Module, init_model: nn.Module | Mapping) -> float:
    """Euclidean distance ``||theta - theta_0||_2`` between all parameters and their initial values.

    ``init_model`` is the model at initialization (same architecture) or its ``state_dict``;
    parameters are matched by name and every parameter of ``model`` counts (weights, biases,
    normalization scales). The square restricted to weight matrices is Jiang et al.'s eq. 40.
    Higher: a larger predicted gap (Nagarajan & Kolter 2019).

    Raises
    ------
    DataError
        A parameter missing from ``init_model`` or of another shape.

    Examples
    --------
    >>> import copy, torch
    >>> a = torch.nn.Linear(3, 2)
    >>> b = copy.deepcopy(a)
    >>> with torch.no_grad():
    ...     _ = [p.add_(0.5) for p in b.parameters()]          # 8 parameters moved by 0.5
    >>> round(distance_from_init(b, a), 6) == round(0.5 * 8 ** 0.5, 6)
    True
    """
    _check_model(model)
    if isinstance(init_model, nn.Module):
        ref = dict(init_model.named_parameters())
    elif isinstance(init_model, Mapping):
        ref = dict(init_model)
    else:
        raise OptionError(f"init_model must be a torch.nn.Module or a state_dict, got {type(init_model).__name__}")
    total = 0.0
    for name, p in model.named_parameters():
        p0 = ref.get(name)
        if not isinstance(p0, torch.Tensor):
            raise DataError(f"init_model has no parameter {name!r}; it must have the model's architecture")
        if tuple(p0.shape) != tuple(p.shape):
            raise DataError(f"parameter {name!r} has shape {tuple(p.shape)} but {tuple(p0.shape)} in init_model")
        diff = p.detach().to("cpu", torch.float64) - p0.detach().to("cpu", torch.float64)
        total += float((diff * diff).sum())
    return math.sqrt(total)


def log_prod_of_spec(model: nn.Module, *, fold_batchnorm: bool = True) -> float:
    """``sum_i log ||W_i||_2^2``: log of the product of squared spectral norms (Jiang et al. eq. 32).

    Over the weight matrices of the module docstring (conv kernels as (out, in/groups*k*k)).
    Higher: a larger predicted gap; ``-inf`` if a matrix is zero.

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
    >>> round(log_prod_of_spec(lin), 6) == round(2 * math.log(3.0), 6)
    True
    """
    return _log_norms(model, fold_batchnorm)[0]


def log_sum_of_spec(model: nn.Module, *, fold_batchnorm: bool = True) -> float:
    """``log d + log_prod_of_spec / d`` over ``d`` weight matrices (Jiang et al. eq. 35).

    The log of ``d (prod_i ||W_i||_2^2)^(1/d)``, the sum of squared spectral norms after
    balancing them across layers. Higher: a larger predicted gap.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False), torch.nn.Linear(2, 2, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(2 * torch.eye(2)), net[1].weight.copy_(torch.eye(2))
    >>> round(log_sum_of_spec(net), 6) == round(math.log(2) + math.log(4) / 2, 6)
    True
    """
    return _log_norms(model, fold_batchnorm)[1]


def log_prod_of_fro(model: nn.Module, *, fold_batchnorm: bool = True) -> float:
    """``sum_i log ||W_i||_F^2``: log of the product of squared Frobenius norms (Jiang et al. eq. 37).

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
    >>> round(log_prod_of_fro(lin), 6) == round(math.log(10.0), 6)
    True
    """
    return _log_norms(model, fold_batchnorm)[2]


def log_sum_of_fro(model: nn.Module, *, fold_batchnorm: bool = True) -> float:
    """``log d + log_prod_of_fro / d`` over ``d`` weight matrices (Jiang et al. eq. 39).

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
    >>> round(log_sum_of_fro(lin), 6) == round(math.log(10.0), 6)
    True
    """
    return _log_norms(model, fold_batchnorm)[3]


def parameter_count(model: nn.Module) -> int:
    """Number of scalar parameters (Jiang et al. eq. 20): trainable or not, shared ones once, no buffers.

    Higher: a larger predicted gap (the classical direction; Jiang et al. found the opposite).

    Examples
    --------
    >>> from neurograph.models import MLP
    >>> parameter_count(MLP(4, hidden=(3,), n_classes=2))     # 4*3 + 3 + 3*2 + 2
    23
    """
    _check_model(model)
    return int(sum(p.numel() for p in model.parameters()))


# ------------------------------------------------------------------ outputs: margin, flatness, disagreement

def output_margin(model: nn.Module, train_data, *, quantile: float = 0.1, batch_size: int = 256) -> float:
    """The ``quantile`` of the output margin ``logit_y - max_{j != y} logit_j`` over the training set.

    Jiang et al. (eq. 22) use the 10th percentile ``gamma`` (their measure is ``1 / gamma^2``);
    :func:`numpy.quantile` with linear interpolation. Negative when more than ``quantile`` of the
    training inputs are misclassified. Higher: a smaller predicted gap.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[float(k), 0.0] for k in range(11)])          # logits = inputs
    >>> output_margin(torch.nn.Identity(), (X, torch.zeros(11, dtype=torch.long)))
    1.0
    """
    _check_model(model)
    q = check_number("quantile", quantile, low=0.0, high=1.0)
    d = _collect(train_data, "train_data")
    return _margin(model, d, q, positive_int("batch_size", batch_size))


def log_spec_over_margin(model: nn.Module, train_data, *, quantile: float = 0.1, fold_batchnorm: bool = True,
                         batch_size: int = 256) -> float:
    """``log(prod_i ||W_i||_2^2 / gamma^2)``: the spectral product normalised by the margin (Jiang et al. eq. 31).

    ``gamma`` is :func:`output_margin`; NaN when ``gamma <= 0``. Higher: a larger predicted gap.

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Linear(2, 2, bias=False)
    >>> with torch.no_grad():
    ...     _ = lin.weight.copy_(torch.eye(2))
    >>> X = torch.tensor([[float(k), 0.0] for k in range(11)])
    >>> log_spec_over_margin(lin, (X, torch.zeros(11, dtype=torch.long)))     # log(1 / 1)
    0.0
    """
    _check_model(model)
    q = check_number("quantile", quantile, low=0.0, high=1.0)
    gamma = _margin(model, _collect(train_data, "train_data"), q, positive_int("batch_size", batch_size))
    return _over_margin(_log_norms(model, fold_batchnorm)[0], gamma)


def pacbayes_flatness(model: nn.Module, train_data, *, target_deviation: float = 0.1, n_draws: int = 5,
                      n_steps: int = 10, sigma_max: float = 2.0, tolerance: float = 0.01,
                      max_samples: int | None = 512, batch_size: int = 256, seed=0) -> float:
    """Jiang et al.'s magnitude-free PAC-Bayes flatness ``1 / sigma^2`` (eq. 53), by bisection.

    ``sigma`` is the largest standard deviation such that adding ``u ~ N(0, sigma^2 I)`` to every
    parameter (weights, biases, normalization scales; not buffers) moves the training accuracy,
    averaged over ``n_draws`` draws, by ``target_deviation``: bisection on ``[0, sigma_max]`` for
    ``n_steps`` steps, stopping early once ``| |acc - mean perturbed acc| - target_deviation | <=
    tolerance``; a deviation above target shrinks ``sigma``, below grows it (Jiang et al.'s
    Algorithm 1 with their target 0.1). The same ``n_draws`` noise directions (seeded) are reused at
    every step. Accuracy is measured on a seeded subsample of ``max_samples`` training inputs, the
    model in eval mode, perturbing a deep copy. Cost: ``n_steps * n_draws + 1`` passes over the
    subsample. If even ``sigma_max`` keeps the deviation below target the result saturates near
    ``1 / sigma_max^2``. Higher (sharper): a larger predicted gap.

    Parameters
    ----------
    model : torch.nn.Module
    train_data : pair (X, y) or iterable of (inputs, labels) batches
    target_deviation : float in (0, 1], default 0.1
    n_draws, n_steps : int, default 5, 10
    sigma_max, tolerance : float, default 2.0, 0.01
    max_samples : int or None, default 512
        Training inputs used (None: all).
    batch_size : int
    seed : int, numpy Generator or None

    Returns
    -------
    float
        ``1 / sigma^2`` (units of 1 / parameter^2), >= ``1 / sigma_max^2``.

    Examples
    --------
    >>> import torch
    >>> X, y = torch.randn(8, 2), torch.zeros(8, dtype=torch.long)
    >>> pacbayes_flatness(torch.nn.Identity(), (X, y), n_steps=3)   # no parameter: sigma -> 1.75
    0.32653061224489793
    """
    _check_model(model)
    opts = _flatness_options(target_deviation, n_draws, n_steps, sigma_max, tolerance, max_samples, batch_size, seed)
    return _pacbayes_flatness(model, _collect(train_data, "train_data"), *opts)


def disagreement(model: nn.Module, twin_model: nn.Module, data, *, batch_size: int = 256) -> float:
    """Fraction of inputs on which ``model`` and ``twin_model`` predict different classes.

    ``twin_model`` is the same architecture and hyperparameters trained from another seed (or data
    order). Jiang, Nagarajan, Baek & Kolter (2022) show that on *unlabelled test* inputs this
    disagreement rate tracks the test error; ``data`` is whatever inputs are given (labels ignored),
    so pass test inputs ``(X_test, None)`` for their measure (on training inputs two interpolating
    models rarely disagree). Higher: a larger predicted error / gap.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    >>> flip = torch.nn.Linear(2, 2, bias=False)
    >>> with torch.no_grad():
    ...     _ = flip.weight.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))      # swaps the two logits
    >>> disagreement(torch.nn.Identity(), torch.nn.Identity(), (X, None)), disagreement(torch.nn.Identity(), flip, (X, None))
    (0.0, 1.0)
    """
    _check_model(model)
    _check_model(twin_model, "twin_model")
    batch_size = positive_int("batch_size", batch_size)
    return _disagreement(model, twin_model, _collect(data, "data", labels=False), batch_size)


# ------------------------------------------------------------------ WeightWatcher

def ww_alpha(model: nn.Module) -> float:
    """Layer mean of WeightWatcher's power-law exponent ``alpha`` of each weight matrix's spectrum.

    ``weightwatcher.WeightWatcher(model=model).analyze()`` with its defaults; layers whose fit
    failed (reported as ``alpha = -1``) are left out; NaN when no layer was fitted (matrices too
    small, e.g. tiny recurrent models). Smaller alpha: better-trained layers (Martin & Mahoney), so
    higher predicts a larger gap. Needs the optional package (``pip install weightwatcher``).

    Raises
    ------
    ImportError
        weightwatcher is not installed (the message says how to install it).

    Examples
    --------
    >>> from neurograph.models import MLP
    >>> ww_alpha(MLP(64, hidden=(64,), n_classes=10)) > 0     # doctest: +SKIP
    True
    """
    _check_model(model)
    return _ww(model)[0]


def ww_alpha_weighted(model: nn.Module) -> float:
    """Layer mean of WeightWatcher's ``alpha_weighted = alpha * log10(lambda_max)`` (alpha-hat).

    Martin, Peng & Mahoney (2021) found it predicts the test accuracy of pretrained models without
    data (lower: better). Same analysis, exclusions and ImportError as :func:`ww_alpha`.

    Examples
    --------
    >>> from neurograph.models import MLP
    >>> isinstance(ww_alpha_weighted(MLP(64, hidden=(64,), n_classes=10)), float)     # doctest: +SKIP
    True
    """
    _check_model(model)
    return _ww(model)[1]


# ------------------------------------------------------------------ registry and one row per model

@dataclass(frozen=True)
class Baseline:
    """One measure of :data:`BASELINES`.

    Attributes
    ----------
    function : callable
        The public function computing it.
    sign : {+1, -1}
        +1: a larger value predicts a larger generalization gap; -1: a smaller gap.
    needs : tuple of str
        Inputs beyond the model: ``"train_data"``, ``"init_model"``, ``"twin_model"``,
        ``"weightwatcher"`` (the optional package).
    source : str
        Where the definition comes from.

    Examples
    --------
    >>> BASELINES["output_margin"].sign
    -1
    """

    function: Callable
    sign: int
    needs: tuple
    source: str


#: name -> Baseline, in the order of :func:`baseline_scores`'s row.
BASELINES: dict[str, Baseline] = {
    "natekar_sharma": Baseline(natekar_sharma, +1, ("train_data",), "Natekar & Sharma 2020, PGDL winner"),
    "early_dbi": Baseline(early_dbi, +1, ("train_data",), "Natekar & Sharma 2020"),
    "mixup_accuracy": Baseline(mixup_accuracy, -1, ("train_data",), "Natekar & Sharma 2020"),
    "mixup_loss": Baseline(mixup_loss, +1, ("train_data",), "Natekar & Sharma 2020 (log variant)"),
    "distance_from_init": Baseline(distance_from_init, +1, ("init_model",), "Nagarajan & Kolter 2019"),
    "log_prod_of_spec": Baseline(log_prod_of_spec, +1, (), "Jiang et al. 2020, eq. 32"),
    "log_sum_of_spec": Baseline(log_sum_of_spec, +1, (), "Jiang et al. 2020, eq. 35"),
    "log_prod_of_fro": Baseline(log_prod_of_fro, +1, (), "Jiang et al. 2020, eq. 37"),
    "log_sum_of_fro": Baseline(log_sum_of_fro, +1, (), "Jiang et al. 2020, eq. 39"),
    "pacbayes_flatness": Baseline(pacbayes_flatness, +1, ("train_data",), "Jiang et al. 2020, eq. 53"),
    "output_margin": Baseline(output_margin, -1, ("train_data",), "Jiang et al. 2020, eq. 22"),
    "log_spec_over_margin": Baseline(log_spec_over_margin, +1, ("train_data",), "Jiang et al. 2020, eq. 31"),
    "parameter_count": Baseline(parameter_count, +1, (), "Jiang et al. 2020, eq. 20"),
    "disagreement": Baseline(disagreement, +1, ("twin_model",), "Jiang, Nagarajan, Baek & Kolter 2022"),
    "ww_alpha": Baseline(ww_alpha, +1, ("weightwatcher",), "Martin & Mahoney (WeightWatcher)"),
    "ww_alpha_weighted": Baseline(ww_alpha_weighted, +1, ("weightwatcher",), "Martin, Peng & Mahoney 2021"),
}


def baseline_scores(model: nn.Module, train_data, *, init_model=None, twin_model: nn.Module | None = None,
                    disagreement_data=None, measures: Sequence[str] | None = None, batch_size: int = 256,
                    seed=0) -> dict:
    """One row of :data:`BASELINES` measures for ``model``, each with its function's defaults.

    Parameters
    ----------
    model : torch.nn.Module
        Trained classifier (left unchanged).
    train_data : pair (X, y) or iterable of (inputs, labels) batches
        Its training data (read once and held in memory).
    init_model : torch.nn.Module or state_dict, optional
        The model at initialization; without it ``distance_from_init`` is None.
    twin_model : torch.nn.Module, optional
        The same hyperparameters trained from another seed; without it ``disagreement`` is None.
    disagreement_data : data, optional
        Inputs for ``disagreement`` (labels ignored); ideally held-out test inputs. Default: the
        training inputs.
    measures : sequence of str, optional
        Names from :data:`BASELINES` (default: all). With the default, the ``ww_*`` measures are
        NaN when weightwatcher is not installed; named explicitly, they raise ImportError.
    batch_size : int
    seed : int, numpy Generator or None
        One int seed for every sampled measure: each value equals its function's with ``seed=``
        that int.

    Returns
    -------
    dict
        ``{name: float}`` in the order asked; None where a needed model was not given, NaN where
        the measure does not apply (see the module docstring).

    Examples
    --------
    >>> import torch
    >>> from neurograph.models import MLP
    >>> _ = torch.manual_seed(0)
    >>> X, y = torch.randn(40, 4), torch.arange(40) % 2
    >>> row = baseline_scores(MLP(4, hidden=(8,), n_classes=2), (X, y), measures=["parameter_count", "disagreement"])
    >>> row
    {'parameter_count': 58.0, 'disagreement': None}
    """
    _check_model(model)
    if twin_model is not None:
        _check_model(twin_model, "twin_model")
    names = list(BASELINES) if measures is None else ([measures] if isinstance(measures, str) else list(measures))
    for name in names:
        if name not in BASELINES:
            raise OptionError(f"measures: unknown measure {name!r}; choose from {sorted(BASELINES)}")
    batch_size = positive_int("batch_size", batch_size)
    check_seed("seed", seed)
    parts = _Parts(model, train_data, init_model, twin_model, disagreement_data, batch_size, as_int_seed(seed),
                   quiet_ww=measures is None)
    row = {}
    for name in names:
        value = _ROW[name](parts)
        row[name] = None if value is None else float(value)
    return row


class _Parts:
    """The inputs of one :func:`baseline_scores` call and what several measures share, computed once."""

    def __init__(self, model, train_data, init_model, twin_model, disagreement_data, batch_size, seed, quiet_ww):
        self.model, self.train_data, self.init_model, self.twin_model = model, train_data, init_model, twin_model
        self.disagreement_data, self.batch_size, self.seed, self.quiet_ww = (disagreement_data, batch_size, seed,
                                                                             quiet_ww)

    @functools.cached_property
    def data(self) -> _Data:
        return _collect(self.train_data, "train_data")

    @functools.cached_property
    def dbi(self) -> float:
        return _early_dbi(self.model, self.data, None, 4, 120, 10, self.batch_size, self.seed)

    @functools.cached_property
    def mix(self) -> tuple[float, float]:
        return _mixup(self.model, self.data, 0.5, 10, 10, self.batch_size, self.seed)

    @functools.cached_property
    def norms(self) -> tuple[float, float, float, float]:
        return _log_norms(self.model, True)

    @functools.cached_property
    def margin(self) -> float:
        return _margin(self.model, self.data, 0.1, self.batch_size)

    def flatness(self) -> float:
        opts = _flatness_options(0.1, 5, 10, 2.0, 0.01, 512, self.batch_size, self.seed)
        return _pacbayes_flatness(self.model, self.data, *opts)

    def distance(self) -> float | None:
        return None if self.init_model is None else distance_from_init(self.model, self.init_model)

    def disagreement(self) -> float | None:
        if self.twin_model is None:
            return None
        d = self.data if self.disagreement_data is None else _collect(self.disagreement_data, "disagreement_data",
                                                                      labels=False)
        return _disagreement(self.model, self.twin_model, d, self.batch_size)

    @functools.cached_property
    def ww(self) -> tuple[float, float]:
        try:
            return _ww(self.model)
        except ImportError:
            if not self.quiet_ww:
                raise
            logger.info("weightwatcher is not installed: ww_* are NaN (%s)", _WW_HINT)
            return math.nan, math.nan


_ROW: dict[str, Callable[[_Parts], float | None]] = {
    "natekar_sharma": lambda p: p.dbi * (1.0 - p.mix[0]),
    "early_dbi": lambda p: p.dbi,
    "mixup_accuracy": lambda p: p.mix[0],
    "mixup_loss": lambda p: p.mix[1],
    "distance_from_init": lambda p: p.distance(),
    "log_prod_of_spec": lambda p: p.norms[0],
    "log_sum_of_spec": lambda p: p.norms[1],
    "log_prod_of_fro": lambda p: p.norms[2],
    "log_sum_of_fro": lambda p: p.norms[3],
    "pacbayes_flatness": lambda p: p.flatness(),
    "output_margin": lambda p: p.margin,
    "log_spec_over_margin": lambda p: _over_margin(p.norms[0], p.margin),
    "parameter_count": lambda p: parameter_count(p.model),
    "disagreement": lambda p: p.disagreement(),
    "ww_alpha": lambda p: p.ww[0],
    "ww_alpha_weighted": lambda p: p.ww[1],
}


# ------------------------------------------------------------------ helpers: data

@dataclass(frozen=True)
class _Data:
    """Whole data in memory: inputs (tensor / tuple / dict, batch axis 0), labels (n,) int64 class indices or None."""

    inputs: object
    labels: torch.Tensor | None
    n: int


def _check_model(model, name: str = "model") -> None:
    if not isinstance(model, nn.Module):
        raise OptionError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")


def _collect(data, what: str, *, labels: bool = True) -> _Data:
    """Read ``data`` into memory; labels as class indices (named labels: rank among the sorted names)."""
    codes = LabelCodes()
    xs, ys, n = [], [], 0
    for b in iter_batches(data, 4096, codes):
        xs.append(b.inputs)
        ys.append(b.labels)
        n += b.n
    y = None
    if all(v is not None for v in ys):
        y = torch.cat(ys).to(torch.int64)
        if codes.kind == "named":
            names = np.asarray(codes.decode(np.arange(len(codes.names))))
            rank = np.empty(len(names), np.int64)
            rank[np.argsort(names, kind="stable")] = np.arange(len(names))
            y = torch.from_numpy(rank)[y]
        if bool((y < 0).any()):
            raise DataError(f"labels of {what} must be class indices >= 0, got {int(y.min())}")
    if labels and y is None:
        raise DataError(f"{what} has no labels; this measure needs the training labels: pass (X, y)")
    return _Data(_cat(xs), y, n)


def _cat(parts: list):
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts) if len(parts) > 1 else first
    if isinstance(first, tuple):
        return tuple(_cat([p[i] for p in parts]) if isinstance(v, torch.Tensor) and v.ndim else v
                     for i, v in enumerate(first))
    if isinstance(first, Mapping):
        return {k: _cat([p[k] for p in parts]) if isinstance(v, torch.Tensor) and v.ndim else v
                for k, v in first.items()}
    return first


def _take(inputs, idx: np.ndarray):
    t = torch.as_tensor(idx, dtype=torch.int64)
    if isinstance(inputs, torch.Tensor):
        return inputs[t.to(inputs.device)]
    if isinstance(inputs, tuple):
        return tuple(_take(v, idx) if isinstance(v, torch.Tensor) and v.ndim else v for v in inputs)
    if isinstance(inputs, Mapping):
        return {k: _take(v, idx) if isinstance(v, torch.Tensor) and v.ndim else v for k, v in inputs.items()}
    return inputs


def _logits(model: nn.Module, inputs, batch_size: int) -> torch.Tensor:
    """(n, K) float64 CPU logits of ``model`` on ``inputs``, through run_model (eval, no_grad, modes restored)."""
    out: list[torch.Tensor] = []

    def on_batch(state) -> None:
        t = logits_of(state.output)
        if t is None or t.ndim != 2 or t.shape[0] != state.batch.n:
            shape = None if t is None else tuple(t.shape)
            raise ModelError(f"{type(model).__name__} must return logits of shape (batch, n_classes); got {shape} "
                             f"on batch {state.index} of {state.batch.n} inputs")
        out.append(t.detach().to("cpu", torch.float64))

    run_model(model, (inputs, None), batch_size=batch_size, on_batch=on_batch)
    return torch.cat(out)


def _labelled_logits(model: nn.Module, inputs, y: torch.Tensor, batch_size: int) -> torch.Tensor:
    logits = _logits(model, inputs, batch_size)
    if int(y.max()) >= logits.shape[1]:
        raise DataError(f"labels go up to {int(y.max())} but {type(model).__name__} gives {logits.shape[1]} logits")
    return logits


def _accuracy(model: nn.Module, inputs, y: torch.Tensor, batch_size: int) -> float:
    return float((_labelled_logits(model, inputs, y, batch_size).argmax(1) == y).double().mean())


# ------------------------------------------------------------------ helpers: measures

def _early_dbi(model, d: _Data, layer, pool_size, chunk_size, n_chunks, batch_size, seed) -> float:
    from sklearn.metrics import davies_bouldin_score

    name = _early_layer(model, layer)
    if name is None:
        return math.nan
    idx = as_generator(seed).permutation(d.n)[: chunk_size * n_chunks]
    module = dict(model.named_modules())[name]
    rows: list[torch.Tensor] = []

    def on_site(i, site, output, state) -> None:
        if site.call != 0:
            return
        t = first_tensor_of(output)
        if t is None or t.ndim < 2 or t.shape[0] != state.batch.n:
            raise LayerError(f"layer {name!r} must return a tensor with the batch on axis 0")
        rows.append(_pool_flat(t.detach(), pool_size if isinstance(module, nn.modules.conv._ConvNd) else None))

    run_model(model, (_take(d.inputs, idx), None), batch_size=batch_size, on_batch=lambda state: None,
              layers=[name], read=False, on_site=on_site)
    feats = torch.cat(rows).numpy()
    y = d.labels[torch.as_tensor(idx)].numpy()
    size = min(chunk_size, len(idx))
    scores = []
    for start in range(0, len(idx) - size + 1, size):
        yc = y[start:start + size]
        if 2 <= len(np.unique(yc)) < len(yc):
            scores.append(float(davies_bouldin_score(feats[start:start + size], yc)))
    if not scores:
        logger.info("early_dbi is NaN: no chunk of %d training inputs holds two classes", size)
    return float(np.mean(scores)) if scores else math.nan


def _early_layer(model: nn.Module, layer: str | None) -> str | None:
    if layer is not None:
        found = resolve_layers(model, layer)
        if len(found) != 1:
            raise LayerError(f"layer {layer!r} matches {len(found)} modules; name exactly one")
        return found[0][0]
    for name, m in model.named_modules():
        if isinstance(m, (nn.RNNBase, nn.RNNCellBase, nn.Embedding, nn.EmbeddingBag)):
            logger.info("early_dbi is NaN: %s has a recurrent or embedding module (%r); the measure reads the first "
                        "conv / dense layer of feed-forward classifiers", type(model).__name__, name)
            return None
    for name, m in model.named_modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            return name
    logger.info("early_dbi is NaN: %s has no convolution or linear module", type(model).__name__)
    return None


def _pool_flat(t: torch.Tensor, pool_size: int | None) -> torch.Tensor:
    """Max-pool the spatial axes of (N, C, *spatial) over windows of ``pool_size`` (clipped); flatten; float64 CPU."""
    spatial = tuple(t.shape[2:])
    if pool_size is not None and 1 <= len(spatial) <= 3 and t.is_floating_point():
        k = tuple(min(pool_size, s) for s in spatial)
        t = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(spatial) - 1](t, kernel_size=k, stride=k)
    return t.reshape(t.shape[0], -1).to("cpu", torch.float64)


def _mixup_public(model, train_data, lam, per_class, n_groups, batch_size, seed) -> tuple[float, float]:
    _check_model(model)
    lam = check_number("lam", lam, low=0.0, high=1.0)
    per_class, n_groups = positive_int("per_class", per_class), positive_int("n_groups", n_groups)
    batch_size = positive_int("batch_size", batch_size)
    check_seed("seed", seed)
    return _mixup(model, _collect(train_data, "train_data"), lam, per_class, n_groups, batch_size, seed)


def _mixup(model, d: _Data, lam, per_class, n_groups, batch_size, seed) -> tuple[float, float]:
    """(accuracy, cross-entropy) on label-wise mixup: per (group, class), then groups, then classes."""
    x = d.inputs
    if not (isinstance(x, torch.Tensor) and x.is_floating_point()):
        logger.info("mixup measures are NaN: the inputs are not one floating tensor (%s)", type(x).__name__)
        return math.nan, math.nan
    y = d.labels.numpy()
    group = per_class * (int(y.max()) + 1)
    idx = as_generator(seed).permutation(d.n)[: group * n_groups]
    size = min(group, len(idx))
    mixed, cls, cell = [], [], []
    for g, start in enumerate(range(0, len(idx) - size + 1, size)):
        members_g = idx[start:start + size]
        for c in np.unique(y[members_g]):
            members = members_g[y[members_g] == c]
            if len(members) < 2:
                continue
            a, b = np.triu_indices(len(members), 1)
            xa, xb = x[torch.as_tensor(members[a])], x[torch.as_tensor(members[b])]
            mixed.append(lam * xa + (1.0 - lam) * xb)
            cls += [int(c)] * len(a)
            cell += [(g, int(c))] * len(a)
    if not mixed:
        logger.info("mixup measures are NaN: no class has two training inputs in a group")
        return math.nan, math.nan
    target = torch.as_tensor(cls, dtype=torch.int64)
    logits = _labelled_logits(model, torch.cat(mixed), target, batch_size)
    correct = (logits.argmax(1) == target).double().numpy()
    loss = F.cross_entropy(logits, target, reduction="none").numpy()
    cells = sorted(set(cell))
    where = {k: i for i, k in enumerate(cells)}
    code = np.asarray([where[k] for k in cell])
    counts = np.bincount(code, minlength=len(cells))
    acc_cell, loss_cell = np.bincount(code, correct) / counts, np.bincount(code, loss) / counts
    classes = sorted({c for _, c in cells})
    acc = np.mean([np.mean([acc_cell[i] for i, (_, c) in enumerate(cells) if c == k]) for k in classes])
    ce = np.mean([np.mean([loss_cell[i] for i, (_, c) in enumerate(cells) if c == k]) for k in classes])
    return float(acc), float(ce)


def _weight_matrices(model: nn.Module, fold_batchnorm: bool) -> list[torch.Tensor]:
    """Parameters of >= 2 dims as (shape[0], -1) float64 CPU matrices, BatchNorm folded into the layer before it."""
    scale: dict[int, torch.Tensor] = {}
    if fold_batchnorm:
        prev = None
        for m in model.modules():
            if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
                prev = m
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and prev is not None and m.running_var is not None:
                w = prev.weight
                if not isinstance(prev, nn.modules.conv._ConvTransposeNd) and w.shape[0] == m.num_features:
                    s = 1.0 / torch.sqrt(m.running_var.detach().to("cpu", torch.float64) + m.eps)
                    if m.weight is not None:
                        s = s * m.weight.detach().to("cpu", torch.float64)
                    scale[id(w)] = s
                prev = None
    mats = []
    for p in model.parameters():
        if p.ndim >= 2 and not p.is_complex():
            w = p.detach().to("cpu", torch.float64).reshape(p.shape[0], -1)
            mats.append(w * scale[id(p)][:, None] if id(p) in scale else w)
    return mats


def _log_norms(model: nn.Module, fold_batchnorm) -> tuple[float, float, float, float]:
    """(log_prod_of_spec, log_sum_of_spec, log_prod_of_fro, log_sum_of_fro); NaN without weight matrices."""
    _check_model(model)
    check_bool("fold_batchnorm", fold_batchnorm)
    mats = _weight_matrices(model, fold_batchnorm)
    if not mats:
        logger.info("norm measures are NaN: %s has no weight matrix", type(model).__name__)
        return (math.nan,) * 4
    with np.errstate(divide="ignore"):
        spec = float(np.sum(np.log([float(torch.linalg.matrix_norm(w, ord=2)) ** 2 for w in mats])))
        fro = float(np.sum(np.log([float((w * w).sum()) for w in mats])))
    d = len(mats)
    return spec, math.log(d) + spec / d, fro, math.log(d) + fro / d


def _margin(model, d: _Data, q: float, batch_size: int) -> float:
    y = d.labels
    logits = _labelled_logits(model, d.inputs, y, batch_size)
    rows = torch.arange(len(y))
    correct = logits[rows, y].clone()
    logits[rows, y] = -math.inf
    return float(np.quantile((correct - logits.max(1).values).numpy(), q))


def _over_margin(log_spec: float, gamma: float) -> float:
    if not gamma > 0:
        logger.info("log_spec_over_margin is NaN: the output margin %r is not positive", gamma)
        return math.nan
    return log_spec - 2.0 * math.log(gamma)


def _flatness_options(target_deviation, n_draws, n_steps, sigma_max, tolerance, max_samples, batch_size, seed):
    return (check_number("target_deviation", target_deviation, low=0.0, high=1.0, low_open=True),
            positive_int("n_draws", n_draws), positive_int("n_steps", n_steps),
            check_number("sigma_max", sigma_max, low=0.0, low_open=True),
            check_number("tolerance", tolerance, low=0.0), check_optional_int("max_samples", max_samples, min=1),
            positive_int("batch_size", batch_size), check_seed("seed", seed))


def _pacbayes_flatness(model, d: _Data, target, n_draws, n_steps, sigma_max, tolerance, max_samples, batch_size,
                       seed) -> float:
    rng = as_generator(seed)
    idx = rng.permutation(d.n)[:max_samples] if max_samples is not None else np.arange(d.n)
    x, y = _take(d.inputs, idx), d.labels[torch.as_tensor(idx)]
    acc0 = _accuracy(model, x, y, batch_size)
    base = int(rng.integers(0, 2**62))
    try:
        noisy = copy.deepcopy(model)
    except Exception as exc:
        raise ModelError(f"pacbayes_flatness perturbs a copy of the model, but {type(model).__name__} cannot be "
                         f"deep-copied: {type(exc).__name__}: {exc}") from exc
    params = [p for p in noisy.parameters() if p.is_floating_point()]
    ref = [p.detach().clone() for p in params]
    gen = torch.Generator()
    lower, upper, sigma = 0.0, sigma_max, sigma_max
    for _ in range(n_steps):
        sigma = (lower + upper) / 2.0
        accs = []
        for k in range(n_draws):
            gen.manual_seed(base + k)  # the same noise directions at every sigma
            with torch.no_grad():
                for p, r in zip(params, ref):
                    p.copy_(r + sigma * torch.randn(r.shape, generator=gen).to(device=r.device, dtype=r.dtype))
            accs.append(_accuracy(noisy, x, y, batch_size))
        deviation = abs(acc0 - float(np.mean(accs)))
        if abs(deviation - target) <= tolerance:
            break
        if deviation > target:
            upper = sigma
        else:
            lower = sigma
    return 1.0 / sigma ** 2


def _disagreement(model, twin_model, d: _Data, batch_size: int) -> float:
    a = _logits(model, d.inputs, batch_size).argmax(1)
    b = _logits(twin_model, d.inputs, batch_size).argmax(1)
    return float((a != b).double().mean())


@contextlib.contextmanager
def _quiet():
    """Keep weightwatcher's import-time and run-time side effects in: prints, root logging, warning filters, RNGs."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    mpl = logging.getLogger("matplotlib")
    mpl_level = mpl.level
    np_state, torch_state = np.random.get_state(), torch.random.get_rng_state()
    out, err = io.StringIO(), io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.simplefilter("ignore")  # weightwatcher's own choice (it silences warnings on import)
            yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        mpl.setLevel(mpl_level)
        np.random.set_state(np_state)
        torch.random.set_rng_state(torch_state)
        text = (out.getvalue() + err.getvalue()).strip()
        if text:
            logger.debug("weightwatcher said: %s", text)


def _ww(model: nn.Module) -> tuple[float, float]:
    """(mean alpha, mean alpha_weighted) over the layers weightwatcher fitted."""
    with _quiet():
        try:
            import weightwatcher
        except ImportError as exc:
            raise ImportError(_WW_HINT) from exc
        details = weightwatcher.WeightWatcher(model=model).analyze()
    if details is None or len(details) == 0 or "alpha" not in details:
        logger.info("ww_* are NaN: weightwatcher analysed no layer of %s", type(model).__name__)
        return math.nan, math.nan
    alpha = details["alpha"].to_numpy(dtype=float)
    weighted = details["alpha_weighted"].to_numpy(dtype=float)
    ok = np.isfinite(alpha) & (alpha > 0) & np.isfinite(weighted)
    if not ok.any():
        logger.info("ww_* are NaN: weightwatcher fitted no layer of %s", type(model).__name__)
        return math.nan, math.nan
    return float(alpha[ok].mean()), float(weighted[ok].mean())
