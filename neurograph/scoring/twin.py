"""The untrained twin: the same architecture, freshly initialised, as the baseline of every structure score.

A co-activation graph has community structure before any training: the input's own
correlations, the layer widths and the firing rule already give random networks a
modularity far above the degree-preserving null (an untrained MLP on digits, and even on
uniform noise, gets z well above 3: see ``experiments/untrained_baseline.py``). A score is
therefore read against the same score of the *untrained twin* on the same data, not
against zero or the null.

:func:`untrained_twin` makes that twin: a deep copy of the model with every submodule's
``reset_parameters()`` (or ``_reset_parameters()``, as ``nn.MultiheadAttention``) called
under ``torch.manual_seed(seed)``, inside :func:`torch.random.fork_rng`, so the caller's
model and the global random state are left as they were. :func:`resolve_baseline` turns
the ``baseline=`` argument of :func:`neurograph.scoring.score_model` (``"untrained"``, a
model of the same architecture, or a checkpoint path such as a run's epoch-0 state_dict)
into such a model, and :func:`baseline_values` adds ``<score>_untrained`` and
``<score>_delta`` (trained minus untrained) to a row of scores.
"""

from __future__ import annotations

import copy
import math
import os
import sys

import pandas as pd
import torch
from torch import nn

from .._validate import check_seed
from ..errors import ModelError, OptionError

__all__ = ["SAME_BY_CONSTRUCTION", "SIDE_BY_SIDE", "baseline_key", "baseline_values", "check_architecture",
           "resolve_baseline", "untrained_table", "untrained_twin", "untrained_verdicts"]

#: Scores that a model and its twin share by construction: no ``_untrained`` / ``_delta`` copy is made.
SAME_BY_CONSTRUCTION = frozenset({"n_params", "n_neurons", "n_samples"})

_RESETS = ("reset_parameters", "_reset_parameters")


def untrained_twin(model: nn.Module, *, seed: int = 0) -> nn.Module:
    """A freshly initialised copy of ``model``: same architecture, new weights, the original untouched.

    Every submodule that holds parameters of its own has its ``reset_parameters()`` (or
    ``_reset_parameters()``) called, in :meth:`~torch.nn.Module.modules` order, under
    ``torch.manual_seed(seed)``; a Hugging Face model (a ``transformers.PreTrainedModel``)
    re-draws every module under it with its own ``_init_weights(module)``
    instead, its own scheme (e.g. normal with ``initializer_range``). The global torch random
    state (CPU, and CUDA on the model's devices) is restored afterwards, so calling this
    changes nothing outside the copy. Buffers are reset where the module's reset does so (``BatchNorm`` running
    statistics) and copied otherwise. The copy keeps the model's device, dtype and
    train/eval mode.

    Parameters
    ----------
    model : torch.nn.Module
    seed : int
        Seeds the new weights (the same ``seed`` gives the same twin).

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    ModelError
        Naming the submodule (its qualified name and class) that holds parameters but has
        no ``reset_parameters`` to re-draw them (and no Hugging Face model above it); pass a
        model or checkpoint of the untrained network as ``baseline=`` instead.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> twin = untrained_twin(net, seed=1)
    >>> bool(torch.equal(twin[0].weight, net[0].weight)), bool(torch.equal(untrained_twin(net, seed=1)[0].weight,
    ...                                                                      twin[0].weight))
    (False, True)
    """
    if not isinstance(model, nn.Module):
        raise ModelError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_seed("seed", seed)
    # Hugging Face models initialise through their own ``_init_weights(module)``: every module under
    # such a model is re-drawn by it (its own scheme, e.g. normal(0, initializer_range))
    hf_roots = [name for name, module in model.named_modules() if _is_hf_model(module)]
    resets = []
    for name, module in model.named_modules():
        if not any(True for _ in module.parameters(recurse=False)):
            continue
        if any(name == r or r == "" or name.startswith(r + ".") for r in hf_roots):
            continue
        method = next((m for m in _RESETS if callable(getattr(module, m, None))), None)
        if method is None:
            where = f"submodule {name!r}" if name else "the model itself"
            raise ModelError(f"cannot make an untrained twin: {where} ({type(module).__name__}) holds parameters "
                             "but has no reset_parameters(); pass the untrained network itself as baseline= (a model "
                             "of the same architecture or a checkpoint path, e.g. the run's epoch-0 state_dict)")
        resets.append((name, method))
    twin = copy.deepcopy(model)
    modules = dict(twin.named_modules())
    devices = sorted({p.device.index or 0 for p in twin.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(int(seed))
        for name, method in resets:
            getattr(modules[name], method)()
        for root in hf_roots:
            if any(root.startswith(r + ".") or (r == "" and root) for r in hf_roots if r != root):
                continue  # inside another Hugging Face model: its root re-draws it
            init = modules[root]._init_weights
            for module in modules[root].modules():
                init(module)
    return twin


def _is_hf_model(module: nn.Module) -> bool:
    """A Hugging Face ``PreTrainedModel`` (checked only when transformers is already imported: never imports it)."""
    tf = sys.modules.get("transformers")
    base = getattr(tf, "PreTrainedModel", None) if tf is not None else None
    return base is not None and isinstance(module, base) and callable(getattr(module, "_init_weights", None))


def resolve_baseline(model: nn.Module, baseline, *, seed: int = 0) -> nn.Module | None:
    """The baseline model that ``baseline=`` names, checked against ``model``'s architecture.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model.
    baseline : None, "untrained", torch.nn.Module, str or os.PathLike
        None: no baseline (returns None). ``"untrained"``: :func:`untrained_twin` of
        ``model`` under ``seed``. A module: used as it is (never modified). Any other
        string or path: a ``state_dict`` file (read with ``weights_only=True``) loaded into a
        copy of ``model``, e.g. the run's epoch-0 checkpoint.
    seed : int
        Seed of the ``"untrained"`` twin.

    Raises
    ------
    ModelError
        A module whose architecture differs from ``model``'s (naming the first parameter or
        submodule that differs), a checkpoint that does not fit, or a model without
        ``reset_parameters`` for ``"untrained"``.
    FileFormatError
        A checkpoint file that is missing or unreadable.
    OptionError
        ``baseline`` of another type.

    Examples
    --------
    >>> net = nn.Linear(3, 2)
    >>> resolve_baseline(net, None) is None, isinstance(resolve_baseline(net, "untrained"), nn.Linear)
    (True, True)
    >>> resolve_baseline(net, nn.Linear(3, 5))
    Traceback (most recent call last):
    ...
    neurograph.errors.ModelError: baseline model does not have model's architecture: parameter 'weight' has shape (5, 3), the model's (2, 3)
    """
    if baseline is None:
        return None
    if isinstance(baseline, str) and baseline == "untrained":
        return untrained_twin(model, seed=seed)
    if isinstance(baseline, nn.Module):
        check_architecture(model, baseline)
        return baseline
    if isinstance(baseline, (str, os.PathLike)):
        from ..zoo.checkpoints import load_checkpoint  # the zoo imports scoring: import on use
        return load_checkpoint(copy.deepcopy(model), baseline)
    raise OptionError(f"baseline must be None, 'untrained', a torch.nn.Module or a checkpoint path, "
                      f"got {type(baseline).__name__}")


def check_architecture(model: nn.Module, other: nn.Module) -> None:
    """Raise ModelError naming the first submodule, parameter or buffer where ``other`` differs from ``model``."""
    ours = [(n, type(m).__name__) for n, m in model.named_modules()]
    theirs = [(n, type(m).__name__) for n, m in other.named_modules()]
    if ours != theirs:
        diff = next(((a, b) for a, b in zip(ours, theirs) if a != b), None)
        if diff is None:
            extra = (theirs if len(theirs) > len(ours) else ours)[min(len(ours), len(theirs))]
            what = f"submodule {extra[0]!r} ({extra[1]}) is in only one of them"
        else:
            what = f"submodule {diff[1][0] or '(root)'!r} is a {diff[1][1]}, the model's {diff[0][0] or '(root)'!r} " \
                   f"a {diff[0][1]}"
        raise ModelError(f"baseline model does not have model's architecture: {what}")
    a, b = model.state_dict(), other.state_dict()
    for key in a.keys() | b.keys():
        if key not in a or key not in b:
            raise ModelError(f"baseline model does not have model's architecture: {key!r} is in only one of them")
    for key, value in a.items():
        if isinstance(value, torch.Tensor) and tuple(value.shape) != tuple(b[key].shape):
            raise ModelError(f"baseline model does not have model's architecture: parameter {key!r} has shape "
                             f"{tuple(b[key].shape)}, the model's {tuple(value.shape)}")


def baseline_key(key: str, suffix: str) -> str:
    """``score`` -> ``score_<suffix>``; per-layer ``score@layer`` -> ``score_<suffix>@layer``.

    >>> baseline_key("modularity_z", "untrained"), baseline_key("modularity@fc1", "delta")
    ('modularity_z_untrained', 'modularity_delta@fc1')
    """
    score, at, layer = key.partition("@")
    return f"{score}_{suffix}{at}{layer}"


def baseline_values(trained: dict, untrained: dict) -> dict:
    """``<score>_untrained`` and ``<score>_delta`` (trained minus untrained) for every numeric score of ``untrained``.

    Scores equal by construction (:data:`SAME_BY_CONSTRUCTION`) and non-numeric values are
    skipped; a delta is NaN where either side is NaN (or the score is missing from ``trained``).

    Examples
    --------
    >>> baseline_values({"modularity": 0.5, "n_params": 10}, {"modularity": 0.25, "n_params": 10})
    {'modularity_untrained': 0.25, 'modularity_delta': 0.25}
    """
    out: dict = {}
    for key, value in untrained.items():
        if key.partition("@")[0] in SAME_BY_CONSTRUCTION or isinstance(value, bool) \
                or not isinstance(value, (int, float)):
            continue
        mine = trained.get(key, float("nan"))
        out[baseline_key(key, "untrained")] = value
        ok = isinstance(mine, (int, float)) and not (math.isnan(mine) or math.isnan(value))
        out[baseline_key(key, "delta")] = (mine - value) if ok else float("nan")
    return out


#: Scores the report shows beside their untrained twin's, in this order (those present).
SIDE_BY_SIDE = ("test_accuracy", "modularity", "modularity_z", "mean_entropy", "mean_mutual_info")
_ID_COLUMNS = ("run", "model", "task", "arch", "epoch", "checkpoint_index")


def untrained_table(table: pd.DataFrame) -> pd.DataFrame:
    """Trained and untrained scores side by side: ``<score>``, ``<score>_untrained``, ``<score>_delta`` per score.

    One row per row of ``table`` (a ``scores.csv``) that has a twin value, but for rows of
    ``epoch`` 0 (the untrained network itself, delta 0 by construction); the id columns
    (``run``, ``task``, ``epoch``, ... present) first, then for every score of
    :data:`SIDE_BY_SIDE` that has an ``_untrained`` column its three columns. Empty when the
    table has no ``_untrained`` column.

    Examples
    --------
    >>> t = pd.DataFrame({"run": ["a"], "modularity": [0.4], "modularity_untrained": [0.3]})
    >>> untrained_table(t).round(2).to_dict("records")
    [{'run': 'a', 'modularity': 0.4, 'modularity_untrained': 0.3, 'modularity_delta': 0.1}]
    """
    scores = [s for s in SIDE_BY_SIDE if s in table.columns and f"{s}_untrained" in table.columns]
    if not scores:
        return pd.DataFrame()
    out = table[[c for c in _ID_COLUMNS if c in table.columns]].copy()
    for s in scores:
        trained = pd.to_numeric(table[s], errors="coerce")
        untrained = pd.to_numeric(table[f"{s}_untrained"], errors="coerce")
        out[s], out[f"{s}_untrained"], out[f"{s}_delta"] = trained, untrained, trained - untrained
    keep = out[[f"{s}_untrained" for s in scores]].notna().any(axis=1)
    if "epoch" in table.columns:
        keep &= pd.to_numeric(table["epoch"], errors="coerce").ne(0)
    return out[keep].reset_index(drop=True)


def untrained_verdicts(table: pd.DataFrame) -> list[str]:
    """Sentences for the report: per score, the trained and untrained medians and how many models beat their twin.

    Models whose score or twin's score is NaN are left out of that score's sentence, which says how many.

    Examples
    --------
    >>> t = pd.DataFrame({"modularity_z": [40.0, 30.0], "modularity_z_untrained": [20.0, 35.0]})
    >>> untrained_verdicts(t)
    ['modularity_z: median 35 trained against 27.5 for the untrained twin on the same data; 1 of 2 models above their twin.']
    >>> untrained_verdicts(t.assign(run=["a", "a"]))[0].endswith("1 of 2 models from 1 run above their twin.")
    True
    """
    side = untrained_table(table)
    out = []
    for s in ("modularity", "modularity_z", "mean_entropy", "mean_mutual_info"):
        if f"{s}_delta" not in side.columns:
            continue
        ok = side[f"{s}_delta"].notna()
        d = side.loc[ok, f"{s}_delta"]
        if not len(d):
            continue
        n_runs = side.loc[ok, "run"].nunique() if "run" in side.columns else 0
        runs = f" from {n_runs} run{'s' * (n_runs != 1)}" if "run" in side.columns else ""
        out.append(f"{s}: median {side.loc[ok, s].median():.3g} trained against "
                   f"{side.loc[ok, f'{s}_untrained'].median():.3g} for the untrained twin on the same data; "
                   f"{int((d > 0).sum())} of {len(d)} models{runs} above their twin"
                   + (f" ({len(side) - len(d)} model{'s' * (len(side) - len(d) != 1)} left out: score undefined "
                      f"for it or its twin)" if len(d) < len(side) else "") + ".")
    return out
