"""Tests for neurograph.datasets.fashion: idx reading and the Fashion-MNIST loader."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

import neurograph.datasets.fashion as fashion
from neurograph.datasets import DigitsData
from neurograph.datasets.fashion import (DEBIAN_PATH, FASHION_MNIST_CLASSES, find_fashion_mnist, load_fashion_mnist,
                                         read_idx)
from neurograph.errors import DataError


def write_idx(path, array, *, compress=False, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    raw = header + np.ascontiguousarray(array, dtype=dtype).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def make_fashion(folder, *, n_train=40, n_test=20, size=5, compress=False, seed=0):
    """Small fake Fashion-MNIST files: image k of class c has every pixel equal to 10*c + (k % 7)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        y = np.resize(np.arange(10, dtype=np.uint8), n)
        rng.shuffle(y)
        X = (10 * y[:, None, None] + (np.arange(n) % 7)[:, None, None] + np.zeros((1, size, size))).astype(np.uint8)
        ext = ".gz" if compress else ""
        write_idx(folder / f"{split}-images-idx3-ubyte{ext}", X, compress=compress)
        write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", y, compress=compress)
        out[split] = (X, y)
    return out


def test_public_names_sorted():
    assert list(fashion.__all__) == sorted(fashion.__all__)
    assert len(FASHION_MNIST_CLASSES) == 10


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_types_and_shapes(tmp_path, compress):
    for code, arr in [(0x08, np.arange(24, dtype=np.uint8).reshape(2, 3, 4)),
                      (0x0C, np.array([-5, 7, 2**30], dtype=np.int32)),
                      (0x0D, np.array([[1.5, -2.25]], dtype=np.float32))]:
        p = tmp_path / f"a{code}"
        write_idx(p, arr, compress=compress, code=code)
        got = read_idx(p)
        np.testing.assert_array_equal(got, arr)
        assert got.shape == arr.shape and got.dtype.isnative


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(DataError, match="not an idx file"):
        read_idx(bad)
    short = tmp_path / "short"
    write_idx(short, np.arange(10, dtype=np.uint8))
    short.write_bytes(short.read_bytes()[:-3])
    with pytest.raises(DataError, match="needs 18"):
        read_idx(short)
    gz = tmp_path / "broken.gz"
    gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02ab")[:-6])
    with pytest.raises(DataError, match="corrupt gzip"):
        read_idx(gz)
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "missing")


@pytest.mark.parametrize("compress", [False, True])
def test_loader_on_small_files(tmp_path, compress):
    raw = make_fashion(tmp_path / "fm", compress=compress)
    data = load_fashion_mnist(tmp_path / "fm")
    assert isinstance(data, DigitsData) and data.name == "fashion_mnist" and data.n_classes == 10
    assert (data.n_train, data.n_test, data.input_shape) == (40, 20, (25,))
    assert data.X_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    X, y = raw["train"]
    np.testing.assert_array_equal(data.y_train.numpy(), y)                         # file order kept
    np.testing.assert_allclose(data.X_train.numpy(), X.reshape(40, -1) / 255.0, rtol=1e-6)
    img = load_fashion_mnist(tmp_path / "fm", image=True)
    assert tuple(img.X_test.shape) == (20, 1, 5, 5)
    torch.testing.assert_close(img.X_test.reshape(20, -1), data.X_test)


def test_subsets_are_stratified_seeded_and_consistent(tmp_path):
    raw = make_fashion(tmp_path, n_train=200, n_test=100)
    a = load_fashion_mnist(tmp_path, n_train=50, n_test=30, seed=3)
    b = load_fashion_mnist(tmp_path, n_train=50, n_test=30, seed=3)
    c = load_fashion_mnist(tmp_path, n_train=50, n_test=30, seed=4)
    assert (a.n_train, a.n_test) == (50, 30)
    torch.testing.assert_close(a.X_train, b.X_train)
    assert not torch.equal(a.X_train, c.X_train)
    assert np.bincount(a.y_train.numpy(), minlength=10).tolist() == [5] * 10
    assert np.bincount(a.y_test.numpy(), minlength=10).tolist() == [3] * 10
    # every kept image is the file's image of its label (pairs are not scrambled)
    pix = np.rint(a.X_train.numpy()[:, 0] * 255).astype(int)
    assert ((pix // 10) == a.y_train.numpy()).all()
    Xr, _ = raw["train"]
    assert set(pix.tolist()) <= set(Xr[:, 0, 0].astype(int).tolist())
    with pytest.raises(DataError, match="n_train must be an int in 1..200"):
        load_fashion_mnist(tmp_path, n_train=201)


def test_missing_files_say_how_to_install(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist") as info:
        load_fashion_mnist(tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(info.value)
    # the environment variable is searched before the Debian folder
    make_fashion(tmp_path / "env")
    monkeypatch.setenv("NEUROGRAPH_FASHION_MNIST", str(tmp_path / "env"))
    assert find_fashion_mnist()["train_images"] == tmp_path / "env" / "train-images-idx3-ubyte"


def test_mismatched_files_are_named(tmp_path):
    make_fashion(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(39, dtype=np.uint8))
    with pytest.raises(DataError, match="train files do not fit"):
        load_fashion_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(40, 12, dtype=np.uint8))
    with pytest.raises(DataError, match="labels must be 0..9"):
        load_fashion_mnist(tmp_path)


@pytest.mark.skipif(not (DEBIAN_PATH / "t10k-labels-idx1-ubyte.gz").exists()
                    and not (DEBIAN_PATH / "t10k-labels-idx1-ubyte").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_files():
    data = load_fashion_mnist(n_train=1000, n_test=500, seed=0)
    assert tuple(data.X_train.shape) == (1000, 784) and tuple(data.X_test.shape) == (500, 784)
    assert np.bincount(data.y_train.numpy(), minlength=10).tolist() == [100] * 10
    assert 0.0 <= float(data.X_train.min()) and float(data.X_train.max()) == 1.0
    labels = read_idx(find_fashion_mnist()["test_labels"])
    assert labels.shape == (10000,) and np.bincount(labels).tolist() == [1000] * 10
