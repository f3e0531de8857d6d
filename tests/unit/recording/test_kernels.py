"""Count kernels are exact, whichever is used."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurograph.recording import kernels as _kernels


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 300), d=st.integers(1, 40), p=st.floats(0, 1), seed=st.integers(0, 2**16))
def test_gram_kernels_equal_int64_brute_force(n, d, p, seed):
    g = torch.Generator().manual_seed(seed)
    b = torch.rand(n, d, generator=g) < p
    want = b.to(torch.int64).T @ b.to(torch.int64)
    for kernel in ("auto", "float32"):
        got = _kernels.gram_counts(b, kernel=kernel)
        assert got.dtype == torch.int64 and torch.equal(got, want)


def test_int8_kernel_when_available_and_fallback_when_missing(monkeypatch):
    b = torch.rand(500, 70) < 0.5
    want = b.to(torch.int64).T @ b.to(torch.int64)
    if _kernels.int_mm_available():
        assert torch.equal(_kernels.gram_counts(b, kernel="int8"), want)
        # the shapes torch._int_mm gets wrong (d = 1) never reach it under "auto"
        col = torch.ones(5, 1, dtype=torch.bool)
        assert _kernels.gram_counts(col).tolist() == [[5]]
    monkeypatch.delattr(torch, "_int_mm", raising=False)
    assert not _kernels.int_mm_available()
    assert torch.equal(_kernels.gram_counts(b), want)


def test_float32_chunks_keep_counts_exact(monkeypatch):
    # force tiny chunks: partial sums must still add up exactly in int64
    monkeypatch.setattr(_kernels, "_F32_EXACT_ROWS", 7)
    b = torch.ones(50, 3, dtype=torch.bool)
    assert _kernels.gram_counts(b, kernel="float32").tolist() == [[50] * 3] * 3


def test_bad_kernel_name():
    with pytest.raises(ValueError, match="kernel"):
        _kernels.gram_counts(torch.zeros(2, 2, dtype=torch.bool), kernel="bf16")


def test_class_fire_counts():
    b = torch.tensor([[1, 0], [1, 1], [0, 1]], dtype=torch.bool)
    rows = torch.tensor([0, 1, 1])
    assert _kernels.class_fire_counts(b, rows, 2).tolist() == [[1, 0], [1, 2]]
    assert np.array_equal(_kernels.class_fire_counts(b, rows, 3).numpy()[2], [0, 0])


# ---------------------------------------------------------------------------- accumulators
@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 80), sizes=st.lists(st.integers(0, 90), min_size=1, max_size=5),
       p=st.sampled_from([0.0, 0.01, 0.2, 0.7, 1.0]), kernel=st.sampled_from(["auto", "float32", "sparse"]),
       buffer_bytes=st.integers(1, 4000), seed=st.integers(0, 2**16))
def test_gram_accumulator_equals_brute_force(d, sizes, p, kernel, buffer_bytes, seed):
    g = torch.Generator().manual_seed(seed)
    acc = _kernels.GramAccumulator(d, kernel=kernel, buffer_bytes=buffer_bytes)
    batches = [torch.rand(n, d, generator=g) < p for n in sizes]
    for b in batches:
        acc.add(b)
    b = torch.cat(batches).to(torch.int64)
    got = acc.result()
    assert got.dtype == torch.int64 and torch.equal(got, b.T @ b)


def test_accumulator_int8_blocks_mirror_and_int32_flushes(monkeypatch):
    # several upper-triangle blocks (d = 3 blocks of ~24), tiny buffers, and int32 partial
    # sums flushed into int64 every 50 rows: still exact
    monkeypatch.setattr(_kernels, "_BLOCK", 24)
    monkeypatch.setattr(_kernels, "_I32_EXACT_ROWS", 50)
    g = torch.Generator().manual_seed(0)
    b = torch.rand(333, 70, generator=g) < 0.4
    for kernel in ("auto", "int8") if _kernels.int_mm_available() else ("auto",):
        acc = _kernels.GramAccumulator(70, kernel=kernel, buffer_bytes=70 * 20)
        rows = torch.randint(0, 3, (333,), generator=g)
        for start in range(0, 333, 41):
            acc.add(b[start:start + 41], rows[start:start + 41])
        want = b.to(torch.int64).T @ b.to(torch.int64)
        assert torch.equal(acc.result(), want)
        assert acc.kernel_rows["int8" if acc.int8 else "float32"] == 333
        for c in range(3):
            assert torch.equal(acc.class_fire[c], b[rows == c].sum(0))


def test_auto_kernel_goes_sparse_only_when_firing_is_rare():
    g = torch.Generator().manual_seed(1)
    rare = _kernels.GramAccumulator(400)
    rare.add(torch.rand(1000, 400, generator=g) < 0.002)
    dense = _kernels.GramAccumulator(400)
    dense.add(torch.rand(1000, 400, generator=g) < 0.3)
    rare.result(), dense.result()
    assert rare.kernel_rows["sparse"] == 1000
    assert dense.kernel_rows["sparse"] == 0


@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 60), n=st.integers(0, 120), data=st.data(),
       kernel=st.sampled_from(["auto", "float32", "sparse"]), seed=st.integers(0, 2**16))
def test_tile_accumulator_equals_slices_of_brute_force(d, n, data, kernel, seed):
    tiles = []
    for _ in range(data.draw(st.integers(1, 3))):
        r0, r1 = sorted(data.draw(st.tuples(st.integers(0, d), st.integers(0, d))))
        c0, c1 = sorted(data.draw(st.tuples(st.integers(0, d), st.integers(0, d))))
        tiles.append((r0, r1, c0, c1))
    g = torch.Generator().manual_seed(seed)
    b = torch.rand(n, d, generator=g) < 0.3
    acc = _kernels.TileAccumulator(d, tiles, kernel=kernel, buffer_bytes=d * 17)
    acc.add(b[: n // 2])
    acc.add(b[n // 2:])
    full = b.to(torch.int64).T @ b.to(torch.int64)
    for got, (r0, r1, c0, c1) in zip(acc.result(), tiles):
        assert torch.equal(got, full[r0:r1, c0:c1])


def test_accumulator_bad_arguments():
    with pytest.raises(ValueError, match="kernel"):
        _kernels.GramAccumulator(4, kernel="bf16")
    with pytest.raises(ValueError, match="outside"):
        _kernels.TileAccumulator(4, [(0, 5, 0, 1)])
    assert torch.equal(_kernels.gram_counts(torch.eye(3, dtype=torch.bool), kernel="sparse"),
                       torch.eye(3, dtype=torch.int64))
