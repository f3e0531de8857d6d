"""Choose the number of clusters ``k`` of an extracted FSA on validation data, never on the test set.

:func:`select_k` extracts one FSA per candidate ``k`` (with :func:`~neurograph.automata.extract_fsa`)
and scores each on held-out *validation* sequences against targets the caller picks: the true
labels (then the score is accuracy) or the RNN's own predictions on them (then it is fidelity,
and no labels are needed). The chosen ``k`` is the smallest whose score is within ``tol`` of the
best score: the simplest FSA that does as well as any. The test split is never seen, so the
test accuracy of the chosen FSA is an honest estimate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import check_number
from ..errors import DataError, OptionError
from ..recording.states import StateTrace
from .extract import extract_fsa
from .fsa import FSA

__all__ = ["KSelection", "select_k"]


@dataclass(frozen=True, eq=False)
class KSelection:
    """What :func:`select_k` chose and why.

    Attributes
    ----------
    k : int
        The chosen number of clusters (requested ``k``; the FSA has ``k + 1`` states or
        fewer when the trace had fewer distinct states).
    fsa : FSA
        The FSA extracted with that ``k``.
    table : pandas.DataFrame
        One row per candidate, in the order given: ``k``, ``n_clusters`` (used),
        ``n_states_min`` (states of the minimised FSA), ``score`` (validation agreement
        with the targets), ``seconds``, ``chosen`` (bool).
    """

    k: int
    fsa: FSA
    table: pd.DataFrame


def select_k(
    trace: StateTrace,
    candidates: Sequence[int],
    validation_sequences,
    validation_targets,
    validation_lengths=None,
    *,
    tol: float = 0.0,
    method: str = "kmeans",
    seed: int | np.random.Generator | None = 0,
    accept: str = "majority",
    readout: Callable | None = None,
    majority_of: str = "predictions",
    unseen: str = "self",
    n_init: int = 3,
    n_threads: int | None = 1,
) -> KSelection:
    """Extract an FSA for every ``k`` in ``candidates``; keep the smallest ``k`` that validates best.

    Parameters
    ----------
    trace : StateTrace
        Hidden states of *training* sequences (from :func:`neurograph.recording.record_states`).
    candidates : sequence of int
        The ``k`` values to try (each >= 1), e.g. ``(2, 3, 4, 6, 8, 12, 16)``.
    validation_sequences : list of sequences or padded 2-D array / tensor (n, T)
        Held-out sequences (not the test split).
    validation_targets : array-like (n,) of int
        Their true labels (score = accuracy) or the RNN's predictions on them (score =
        fidelity; e.g. ``record_states(model, val_tokens).predictions``).
    validation_lengths : array-like (n,), optional
        Lengths for a padded ``validation_sequences``.
    tol : float, default 0.0
        The chosen ``k`` is the smallest with ``score >= max(score) - tol``.
    method, seed, accept, readout, majority_of, unseen, n_init, n_threads
        Passed to :func:`~neurograph.automata.extract_fsa`.

    Returns
    -------
    KSelection
        ``k``, its ``fsa`` and the per-``k`` ``table``.

    Raises
    ------
    OptionError
        ``candidates`` empty or not ints >= 1, ``tol`` not a number in [0, 1], or a bad
        extraction option.
    DataError
        ``validation_targets`` not one per validation sequence, or a bad trace.

    Examples
    --------
    >>> import numpy as np
    >>> from neurograph.recording import StateTrace
    >>> # states near 0 after token 0 and near 5 after token 1; predicted class = last token
    >>> trace = StateTrace(states=np.array([[0.], [0.1], [5.], [0.], [5.1], [0.], [0.2]], np.float32),
    ...                    tokens=np.array([[0, 1], [1, 0], [0, 0]]), lengths=np.array([2, 1, 1]),
    ...                    labels=None, predictions=np.array([1, 1, 0]))
    >>> sel = select_k(trace, [1, 2, 3], [[0, 1], [1], [0], [1, 1]], [1, 1, 0, 1])
    >>> sel.k, sel.table["score"].round(2).tolist()
    (2, [0.75, 1.0, 0.75])
    """
    ks = _check_candidates(candidates)
    tol = check_number("tol", tol, low=0.0, high=1.0)
    targets = np.asarray(validation_targets)
    rows, fsas = [], []
    for k in ks:
        t0 = time.perf_counter()
        fsa = extract_fsa(trace, k, method, seed, accept=accept, readout=readout, majority_of=majority_of,
                          unseen=unseen, n_init=n_init, n_threads=n_threads)
        pred = fsa.predict(validation_sequences, validation_lengths)
        if targets.shape != pred.shape:
            raise DataError(f"validation_targets must hold one class per validation sequence ({pred.shape[0]}), "
                            f"got shape {targets.shape}")
        rows.append({"k": k, "n_clusters": int(fsa.params["n_clusters"]), "n_states_min": fsa.minimize().n_states,
                     "score": float(np.mean(pred == targets)) if pred.size else float("nan"),
                     "seconds": time.perf_counter() - t0})
        fsas.append(fsa)
    table = pd.DataFrame(rows)
    best = table["score"].max()
    ok = table.index[table["score"] >= best - tol - 1e-12]
    chosen = min(ok, key=lambda i: (table.loc[i, "k"], i))
    table["chosen"] = table.index == chosen
    return KSelection(k=int(table.loc[chosen, "k"]), fsa=fsas[chosen], table=table)


def _check_candidates(candidates) -> list[int]:
    try:
        ks = list(candidates)
    except TypeError:
        raise OptionError(f"candidates must be a sequence of ints >= 1, got {candidates!r}") from None
    if not ks or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in ks):
        raise OptionError(f"candidates must be a non-empty sequence of ints >= 1, got {candidates!r}")
    return [int(k) for k in ks]
