"""Synthetic evidence-integration text tasks, and the attractor dimension predicted from word counts.

Two generated tasks after Aitken et al. (ICLR 2021), with token 0 as padding:

- **unordered** (categorical) N-class task: every class ``c`` has its own evidence words
  of weight +2, +1, 0 and -1 (``words_per_weight`` of each); a word adds its weight to
  its own class's total only. Words are drawn uniformly from the vocabulary and the
  label is the class with the largest total (sequences with a tie for the largest total
  are drawn again). Integrating this needs N - 1 dimensions.
- **ordered** (rating-like) task: words carry one sentiment weight in {-2, -1, 0, +1, +2};
  the label is the bin of the total sentiment between N - 1 thresholds, set at the
  quantiles k / N of the total's distribution (estimated from 20,000 draws with the same
  seed), so classes are about balanced. One running sum decides it: 1 dimension.

Lengths are all ``length`` (default 40) or uniform in ``[lo, hi]`` (e.g. ``(20, 50)``).

:func:`predict_dimension` predicts the dimension from the word counts of a labelled
token data set alone (any data set, natural text too). The rule:

1. count ``n[w, c]``, the occurrences of word ``w`` in training documents of class ``c``;
2. each word's class evidence is its naive-Bayes log-likelihood
   ``e[w, c] = log((n[w, c] + alpha) / (n[., c] + alpha * V))``, centred over classes
   (adding the same amount to every class changes no decision, so the constant
   direction ``(1, ..., 1)`` is removed);
3. a document's evidence is the sum ``E[d] = sum_t e[w_t]`` over its words;
4. the predicted dimension is the number of principal components of the ``E[d]``
   needed for ``variance`` (default 95%) of their variance; the participation ratio is
   reported too. Correlated class evidence (ordered classes) concentrates the variance
   in fewer directions and so lowers the prediction; independent classes give N - 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch

from .._seed import as_generator
from ..errors import DataError

__all__ = ["DimensionPrediction", "EvidenceTask", "evidence_totals", "make_evidence_task", "predict_dimension"]

_UNORDERED_WEIGHTS = (2, 1, 0, -1)
_ORDERED_WEIGHTS = (-2, -1, 0, 1, 2)


@dataclass(frozen=True, eq=False)
class EvidenceTask:
    """A generated evidence-integration task, split into train and test parts.

    Attributes
    ----------
    tokens_train, tokens_test : torch.Tensor of int64, shape (n, T)
        Word ids ``1 .. vocab_size - 1``, padded with 0 after each sequence.
    lengths_train, lengths_test : torch.Tensor of int64, shape (n,)
    y_train, y_test : torch.Tensor of int64, shape (n,)
        Labels ``0 .. n_classes - 1``.
    scores : numpy.ndarray of float64, shape (vocab_size, S)
        Evidence of each word: per class (S = n_classes) for the unordered task, one
        sentiment column (S = 1) for the ordered task; row 0 (padding) is 0.
    words : tuple of str
        Name of each token id (``"<pad>"``, ``"c1:+2"``, ``"s:-1"``, ...).
    n_classes : int
    ordered : bool
    thresholds : numpy.ndarray, shape (n_classes - 1,)
        Bin edges of the ordered task's total sentiment (empty for the unordered task).

    Examples
    --------
    >>> task = make_evidence_task(3, n_train=50, n_test=10, seed=0)
    >>> task.vocab_size, tuple(task.tokens_train.shape), task.words[1]
    (13, (50, 40), 'c0:+2')
    """

    tokens_train: torch.Tensor
    lengths_train: torch.Tensor
    y_train: torch.Tensor
    tokens_test: torch.Tensor
    lengths_test: torch.Tensor
    y_test: torch.Tensor
    scores: np.ndarray
    words: tuple[str, ...]
    n_classes: int
    ordered: bool
    thresholds: np.ndarray

    pad = 0

    @property
    def vocab_size(self) -> int:
        """Number of token ids, padding included."""
        return len(self.words)

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens_train, y_train)``; a RecurrentClassifier with ``padding_idx=0`` infers the lengths."""
        return self.tokens_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens_test, y_test)``."""
        return self.tokens_test, self.y_test

    def label_of(self, tokens, lengths=None) -> np.ndarray:
        """Labels the task's rule gives to token sequences (n, T) (padding 0 adds nothing).

        For the unordered task a tie for the largest total gives -1.
        """
        return _labels(tokens, lengths, self.scores, self.ordered, self.thresholds)


def make_evidence_task(
    n_classes: int,
    *,
    ordered: bool = False,
    n_train: int = 4000,
    n_test: int = 1000,
    length: int | tuple[int, int] = 40,
    words_per_weight: int = 1,
    seed: int | np.random.Generator | None = 0,
) -> EvidenceTask:
    """Generate the unordered or ordered evidence task (see the module docstring).

    Parameters
    ----------
    n_classes : int
        Number of classes N (at least 2).
    ordered : bool, default False
        The rating-like task instead of the categorical one.
    n_train, n_test : int
        Number of sequences in each part.
    length : int or (int, int), default 40
        Fixed length, or an inclusive range drawn uniformly per sequence.
    words_per_weight : int, default 1
        Words per (class, weight) (unordered) or per weight (ordered).
    seed : int, numpy Generator or None, default 0

    Returns
    -------
    EvidenceTask

    Raises
    ------
    DataError
        If a size is not a positive int, ``n_classes < 2`` or ``length`` is not valid.

    Examples
    --------
    >>> task = make_evidence_task(4, ordered=True, n_train=400, n_test=10, length=(20, 50), seed=1)
    >>> bool(np.bincount(task.y_train.numpy()).min() > 60), int(task.lengths_train.min()) >= 20
    (True, True)
    >>> bool((task.label_of(task.tokens_train, task.lengths_train) == task.y_train.numpy()).all())
    True
    """
    for name, value in (("n_classes", n_classes), ("n_train", n_train), ("n_test", n_test),
                        ("words_per_weight", words_per_weight)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise DataError(f"{name} must be a positive int, got {value!r}")
    if n_classes < 2:
        raise DataError(f"n_classes must be at least 2, got {n_classes}")
    lo, hi = _length_range(length)
    rng = as_generator(seed)
    if ordered:
        weights = np.repeat(np.asarray(_ORDERED_WEIGHTS, float), words_per_weight)
        scores = np.concatenate([[0.0], weights])[:, None]
        words = ("<pad>",) + tuple(f"s:{int(w):+d}" + (f"#{k}" if words_per_weight > 1 else "")
                                   for w in _ORDERED_WEIGHTS for k in range(words_per_weight))
        sample_tokens, _ = _draw(rng, 20000, len(words), lo, hi)
        ref = evidence_totals(sample_tokens, scores)[:, 0]
        thresholds = np.quantile(ref, np.arange(1, n_classes) / n_classes)
    else:
        scores = np.zeros((1 + 4 * n_classes * words_per_weight, n_classes))
        names = ["<pad>"]
        row = 1
        for c in range(n_classes):
            for w in _UNORDERED_WEIGHTS:
                for k in range(words_per_weight):
                    scores[row, c] = w
                    names.append(f"c{c}:{w:+d}" + (f"#{k}" if words_per_weight > 1 else ""))
                    row += 1
        words = tuple(names)
        thresholds = np.zeros(0)
    parts = []
    for n in (n_train, n_test):
        tok = np.zeros((0, hi), np.int64)
        lens = np.zeros(0, np.int64)
        labels = np.zeros(0, np.int64)
        while len(labels) < n:
            t, ln = _draw(rng, int((n - len(labels)) * 1.2) + 8, len(words), lo, hi)
            lab = _labels(t, ln, scores, bool(ordered), thresholds)
            ok = lab >= 0
            tok, lens, labels = (np.concatenate([tok, t[ok]]), np.concatenate([lens, ln[ok]]),
                                 np.concatenate([labels, lab[ok]]))
        parts.append((torch.from_numpy(tok[:n]), torch.from_numpy(lens[:n]), torch.from_numpy(labels[:n])))
    (a, b, c), (d, e, f) = parts
    return EvidenceTask(tokens_train=a, lengths_train=b, y_train=c, tokens_test=d, lengths_test=e, y_test=f,
                        scores=scores, words=words, n_classes=int(n_classes), ordered=bool(ordered),
                        thresholds=thresholds)


def evidence_totals(tokens, scores, *, lengths=None) -> np.ndarray:
    """Summed evidence ``sum_t scores[tokens[i, t]]`` of each sequence, shape (n, S).

    Positions at or after ``lengths[i]`` are left out (without ``lengths`` every position
    counts, so padding must have a zero score row).

    Examples
    --------
    >>> evidence_totals([[1, 2, 0]], np.array([[0.0], [2.0], [-1.0]])).tolist()
    [[1.0]]
    """
    tok = np.asarray(tokens.detach().cpu() if isinstance(tokens, torch.Tensor) else tokens, dtype=np.int64)
    sc = np.asarray(scores, dtype=np.float64)
    if tok.ndim != 2 or sc.ndim != 2:
        raise DataError(f"tokens must be (n, T) and scores (V, S), got {tok.shape} and {sc.shape}")
    if tok.size and (tok.min() < 0 or tok.max() >= sc.shape[0]):
        raise DataError(f"token ids must lie in [0, {sc.shape[0]}), found {tok.min()}..{tok.max()}")
    per_step = sc[tok]
    if lengths is not None:
        ln = np.asarray(lengths.detach().cpu() if isinstance(lengths, torch.Tensor) else lengths).reshape(-1)
        per_step = per_step * (np.arange(tok.shape[1])[None, :] < ln[:, None])[:, :, None]
    return per_step.sum(axis=1)


@dataclass(frozen=True, eq=False)
class DimensionPrediction:
    """Attractor dimension predicted from word counts (see the module docstring for the rule).

    Attributes
    ----------
    n_components : int
        Predicted dimension: principal components of the document evidence for ``variance``.
    explained_variance_ratio : numpy.ndarray, shape (n_classes,)
        Shares of the variance, decreasing (the last is ~0: the removed constant direction).
    participation_ratio : float
    covariance : numpy.ndarray, shape (n_classes, n_classes)
        Covariance of the centred document evidence vectors.
    word_evidence : numpy.ndarray, shape (vocab_size, n_classes)
        Centred naive-Bayes log-likelihood of each word per class (padding row 0).
    counts : numpy.ndarray of int64, shape (vocab_size, n_classes)
        Occurrences of each word in documents of each class.
    variance : float

    Examples
    --------
    >>> task = make_evidence_task(3, n_train=1500, n_test=10, seed=0)
    >>> predict_dimension(task.tokens_train, task.y_train, lengths=task.lengths_train).n_components
    2
    """

    n_components: int
    explained_variance_ratio: np.ndarray
    participation_ratio: float
    covariance: np.ndarray
    word_evidence: np.ndarray
    counts: np.ndarray
    variance: float


def predict_dimension(
    tokens,
    labels,
    *,
    lengths=None,
    n_classes: int | None = None,
    vocab_size: int | None = None,
    pad: int | None = 0,
    alpha: float = 1.0,
    variance: float = 0.95,
) -> DimensionPrediction:
    """Predict the attractor dimension of an RNN trained on a labelled token data set from its word counts.

    Parameters
    ----------
    tokens : array-like of int, shape (n, T)
        Padded token ids of the training documents.
    labels : array-like of int, shape (n,)
        Class of each document, ``0 .. n_classes - 1``.
    lengths : array-like of int, shape (n,), optional
        Valid tokens per document (default: every position that is not ``pad``).
    n_classes, vocab_size : int, optional
        Default: one more than the largest label / token id.
    pad : int or None, default 0
        Padding id (never counted); None if there is none.
    alpha : float, default 1.0
        Additive smoothing of the counts.
    variance : float, default 0.95
        Share of variance the predicted components must explain.

    Returns
    -------
    DimensionPrediction

    Raises
    ------
    DataError
        On mismatched shapes, negative ids, fewer than 2 classes or 2 documents.
    """
    tok = np.asarray(tokens.detach().cpu() if isinstance(tokens, torch.Tensor) else tokens, dtype=np.int64)
    lab = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels, dtype=np.int64)
    if tok.ndim != 2 or lab.shape != (tok.shape[0],) or tok.shape[0] < 2:
        raise DataError(f"tokens must be (n, T) with n >= 2 and labels (n,), got {tok.shape} and {lab.shape}")
    if (tok.size and tok.min() < 0) or lab.min() < 0:
        raise DataError("token ids and labels must be non-negative")
    if not isinstance(alpha, Real) or not alpha > 0 or not isinstance(variance, Real) or not 0 < variance <= 1:
        raise DataError(f"alpha must be > 0 and variance in (0, 1], got {alpha!r}, {variance!r}")
    n_cls = int(lab.max()) + 1 if n_classes is None else int(n_classes)
    n_voc = int(tok.max()) + 1 if vocab_size is None else int(vocab_size)
    if n_cls < 2 or lab.max() >= n_cls or tok.max() >= n_voc:
        raise DataError(f"need at least 2 classes, labels < n_classes={n_cls} and ids < vocab_size={n_voc}")
    if lengths is not None:
        ln = np.asarray(lengths.detach().cpu() if isinstance(lengths, torch.Tensor) else lengths).reshape(-1)
        valid = np.arange(tok.shape[1])[None, :] < ln[:, None]
    else:
        valid = np.ones(tok.shape, bool)
    if pad is not None:
        valid &= tok != pad
    counts = np.zeros((n_voc, n_cls), np.int64)
    np.add.at(counts, (tok[valid], np.broadcast_to(lab[:, None], tok.shape)[valid]), 1)
    if pad is not None and 0 <= pad < n_voc:
        counts[pad] = 0
    logp = np.log(counts + alpha) - np.log(counts.sum(axis=0, keepdims=True) + alpha * n_voc)
    evidence = logp - logp.mean(axis=1, keepdims=True)
    if pad is not None and 0 <= pad < n_voc:
        evidence[pad] = 0.0
    doc = (evidence[tok] * valid[:, :, None]).sum(axis=1)
    cov = np.cov(doc, rowvar=False)
    lam = np.clip(np.sort(np.linalg.eigvalsh(cov))[::-1], 0.0, None)
    total = float(lam.sum())
    ratio = lam / total if total > 0 else np.zeros_like(lam)
    k = int(min(np.searchsorted(np.cumsum(ratio), float(variance) - 1e-12) + 1, len(ratio))) if total > 0 else 0
    pr = float(total**2 / np.sum(lam**2)) if total > 0 else 0.0
    return DimensionPrediction(n_components=k, explained_variance_ratio=ratio, participation_ratio=pr,
                               covariance=cov, word_evidence=evidence, counts=counts, variance=float(variance))


# ---------------------------------------------------------------------------- helpers

def _length_range(length) -> tuple[int, int]:
    if isinstance(length, Integral) and not isinstance(length, bool):
        lo = hi = int(length)
    elif isinstance(length, (tuple, list)) and len(length) == 2 and all(
            isinstance(v, Integral) and not isinstance(v, bool) for v in length):
        lo, hi = int(length[0]), int(length[1])
    else:
        raise DataError(f"length must be an int or a pair (lo, hi) of ints, got {length!r}")
    if not 1 <= lo <= hi:
        raise DataError(f"length must satisfy 1 <= lo <= hi, got {length!r}")
    return lo, hi


def _draw(rng: np.random.Generator, n: int, vocab_size: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    lens = rng.integers(lo, hi + 1, size=n).astype(np.int64)
    tok = rng.integers(1, vocab_size, size=(n, hi)).astype(np.int64)
    tok[np.arange(hi)[None, :] >= lens[:, None]] = 0
    return tok, lens


def _labels(tokens, lengths, scores, ordered: bool, thresholds: np.ndarray) -> np.ndarray:
    totals = evidence_totals(tokens, scores, lengths=lengths)
    if ordered:
        return np.searchsorted(thresholds, totals[:, 0], side="right").astype(np.int64)
    best = totals.max(axis=1, keepdims=True)
    lab = totals.argmax(axis=1).astype(np.int64)
    lab[(totals == best).sum(axis=1) > 1] = -1
    return lab
