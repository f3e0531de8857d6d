"""Count kernels are exact, whichever is used."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurograph import _kernels


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
