"""record(): exact counts against brute force, invariances, modes, and errors."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from neurograph.errors import DataError, LayerError, ModelError, OptionError
from neurograph.recording.recorder import calibrate, list_layers, record
from neurograph.stats import CoactivationStats


def _mlp(seed=0, d_in=5, h=7):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d_in, h), nn.ReLU(), nn.Linear(h, 6), nn.Tanh(), nn.Linear(6, 3))


def _data(n=57, d_in=5, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d_in, generator=g), torch.randint(0, c, (n,), generator=g)


def _no_hooks(model):
    return all(not m._forward_hooks for m in model.modules())


def test_counts_equal_brute_force_two_layers():
    net, (X, y) = _mlp(), _data()
    stats = record(net, (X, y), ["1", "3"], batch_size=10)
    with torch.no_grad():
        h1 = net[:2](X)
        h2 = net[:4](X)
    fired = torch.cat([h1 > 0, h2 > 0], 1).numpy()
    want = CoactivationStats.from_binary(fired, y.numpy(), neurons=stats.neurons, rule="positive")
    assert stats == want
    assert stats.neurons["layer"].tolist() == ["1"] * 7 + ["3"] * 6
    assert np.array_equal(np.diag(stats.cofire_counts), stats.fire_counts)


@settings(max_examples=15, deadline=None)
@given(batch_size=st.integers(1, 70), split=st.integers(1, 56))
def test_batch_size_invariance_and_merge(batch_size, split):
    net, (X, y) = _mlp(1), _data(seed=1)
    whole = record(net, (X, y), "1", batch_size=64)
    assert record(net, (X, y), "1", batch_size=batch_size) == whole
    a = record(net, (X[:split], y[:split]), "1", batch_size=batch_size)
    b = record(net, (X[split:], y[split:]), "1", batch_size=batch_size)
    assert a + b == whole
    assert sum([a, b]) == whole


def test_glob_patterns_and_list_layers():
    net = _mlp()
    table = list_layers(net)
    assert table["name"].tolist() == ["0", "1", "2", "3", "4"]
    stats = record(net, _data(), "[13]")
    assert stats.layers == ["1", "3"]


def test_dataloader_generator_and_unlabelled():
    net, (X, y) = _mlp(), _data()
    want = record(net, (X, y), "1")
    loader = DataLoader(TensorDataset(X, y), batch_size=8)
    assert record(net, loader, "1") == want
    gen = ((X[i:i + 5], y[i:i + 5]) for i in range(0, len(X), 5))
    assert record(net, gen, "1") == want
    unl = record(net, (X, None), "1")
    assert unl.n_classes == 0 and np.array_equal(unl.cofire_counts, want.cofire_counts)


def test_threshold_rules_and_calibration():
    net, (X, y) = _mlp(), _data(n=80)
    with torch.no_grad():
        h = net[:2](X).numpy()
    s = record(net, (X, y), "1", rule="threshold", threshold=0.3)
    assert np.array_equal(s.fire_counts, (h > 0.3).sum(0))
    cuts = np.linspace(-0.5, 0.5, 7)
    s = record(net, (X, y), "1", rule="threshold", threshold=cuts)
    assert np.array_equal(s.cofire_counts, ((h > cuts) * 1).T @ ((h > cuts) * 1))
    # z-score rule: population mean and sd over all data
    s = record(net, (X, y), "1", rule="zscore", z=0.5, batch_size=9)
    zc = h.mean(0) + 0.5 * h.std(0)
    assert np.array_equal(s.fire_counts, (h > zc).sum(0))
    # quantile rule equals calibrate() + threshold rule, and uses the first rows only
    q = record(net, (X, y), "1", rule="quantile", quantile=0.75, calibration_samples=50, batch_size=16)
    cut = calibrate(net, (X, y), "1", "quantile", quantile=0.75, calibration_samples=50, batch_size=16)
    assert np.allclose(cut, np.quantile(h[:50], 0.75, axis=0))
    t = record(net, (X, y), "1", rule="threshold", threshold=cut)
    assert np.array_equal(q.cofire_counts, t.cofire_counts)
    with pytest.raises(DataError, match="iterable twice"):
        record(net, iter([(X, y)]), "1", rule="quantile")


class _Conv(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv2d(1, 4, 3)
        self.act = nn.ReLU()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.act(self.conv(x)).mean((2, 3)))


@pytest.mark.parametrize("spatial", ["mean", "max", "any"])
def test_conv_channels(spatial):
    net = _Conv()
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(30, 1, 6, 6, generator=g), torch.randint(0, 2, (30,), generator=g)
    s = record(net, (X, y), "conv", spatial=spatial, batch_size=7)
    with torch.no_grad():
        a = net.conv(X).reshape(30, 4, -1)
    fired = {"mean": a.mean(2) > 0, "max": a.amax(2) > 0, "any": (a > 0).any(2)}[spatial].numpy()
    assert s.n_neurons == 4
    assert np.array_equal(s.cofire_counts, fired.T.astype(int) @ fired.astype(int))


class _Rec(nn.Module):
    def __init__(self, cell="gru", batch_first=True, bidirectional=False, packed=False):
        super().__init__()
        torch.manual_seed(4)
        kind = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.emb = nn.Embedding(5, 3)
        self.rnn = kind(3, 4, batch_first=batch_first, bidirectional=bidirectional, num_layers=2)
        self.batch_first, self.packed = batch_first, packed
        self.head = nn.Linear(4 * (2 if bidirectional else 1), 2)

    def forward(self, tokens, lengths=None):
        e = self.emb(tokens)
        if not self.batch_first:
            e = e.transpose(0, 1)
        if self.packed:
            e = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=self.batch_first, enforce_sorted=False)
        out, _ = self.rnn(e)
        if self.packed:
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return self.head(out[:, -1])


@pytest.mark.parametrize("cell,batch_first,bidir", [("rnn", True, False), ("gru", False, True),
                                                     ("lstm", True, False)])
def test_recurrent_all_and_last(cell, batch_first, bidir):
    net = _Rec(cell, batch_first, bidir)
    g = torch.Generator().manual_seed(1)
    T = torch.randint(0, 5, (9, 6), generator=g)
    y = torch.randint(0, 2, (9,), generator=g)
    all_steps = record(net, (T, y), "rnn", time="all", batch_size=4)
    last = record(net, (T, y), "rnn", time="last", batch_size=4)
    with torch.no_grad():
        e = net.emb(T)
        out, h = net.rnn(e if batch_first else e.transpose(0, 1))
        if not batch_first:
            out = out.transpose(0, 1)
        h = h[0] if cell == "lstm" else h
    width = 8 if bidir else 4
    steps = out.reshape(-1, width).numpy() > 0
    assert all_steps.n_samples == 54 and all_steps.n_neurons == width
    assert np.array_equal(all_steps.cofire_counts, steps.T.astype(int) @ steps.astype(int))
    assert np.array_equal(all_steps.class_counts, np.bincount(y.numpy().repeat(6)))
    dirs = 2 if bidir else 1
    fin = h[-dirs:].permute(1, 0, 2).reshape(9, -1).numpy() > 0
    assert last.n_samples == 9 and np.array_equal(last.fire_counts, fin.sum(0))


def test_packed_sequences_skip_padding():
    net = _Rec("gru", True, False, packed=True)
    g = torch.Generator().manual_seed(2)
    T = torch.randint(0, 5, (6, 7), generator=g)
    lengths = torch.tensor([7, 3, 5, 1, 7, 2])
    y = torch.randint(0, 2, (6,), generator=g)
    loader = [((T, lengths), y)]
    s = record(net, loader, "rnn", time="all")
    assert s.n_samples == int(lengths.sum())
    assert s.class_counts.sum() == int(lengths.sum())
    with torch.no_grad():
        rows = [net.rnn(net.emb(T[i:i + 1, :lengths[i]]))[0][0] for i in range(6)]
    fired = torch.cat(rows).numpy() > 0
    assert np.array_equal(s.cofire_counts, fired.T.astype(int) @ fired.astype(int))


def test_patterns_brute_force():
    net, (X, y) = _mlp(), _data(n=40)
    s = record(net, (X, y), ["1", "3"], patterns=True, batch_size=6)
    with torch.no_grad():
        h = (net[:2](X) > 0).numpy().astype(np.uint8)
    want = Counter(int.from_bytes(hashlib.blake2b(np.packbits(r).tobytes(), digest_size=8).digest(), "little")
                   for r in h)
    assert s.pattern_counts["1"] == dict(want)
    assert sum(s.pattern_counts["3"].values()) == 40


def test_mode_restored_and_hooks_removed_on_error():
    net, (X, y) = _mlp(), _data()
    net.train()
    record(net, (X, y), "1")
    assert net.training and _no_hooks(net)
    bad = torch.full_like(X, float("nan"))
    with pytest.raises(DataError, match="'1'.*non-finite"):
        record(net, (bad, y), "1")
    assert net.training and _no_hooks(net)


def test_errors_name_the_culprit():
    net, (X, y) = _mlp(), _data()
    with pytest.raises(LayerError, match="'nope'"):
        record(net, (X, y), "nope")
    with pytest.raises(DataError, match="empty"):
        record(net, (X[:0], y[:0]), "1")
    with pytest.raises(DataError, match="empty"):
        record(net, [], "1")
    with pytest.raises(DataError, match="56 entries.*57"):
        record(net, (X, y[:-1]), "1")
    with pytest.raises(DataError, match="not whole numbers"):
        record(net, (X, y.float() + 0.5), "1")
    # integral float labels and float64 inputs are what users have: accepted, same counts
    same = record(net, (X.double(), y.float()), "1")
    assert np.array_equal(same.cofire_counts, record(net, (X, y), "1").cofire_counts)
    with pytest.raises(ModelError, match="batch 0"):
        record(net, (torch.randn(4, 9), None), "1")
    assert _no_hooks(net)

    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(5, 2), nn.Linear(5, 2)

        def forward(self, x):
            return self.used(x)

    with pytest.raises(LayerError, match="unused.*never ran"):
        record(Skip(), (X, y), ["used", "unused"])
    with pytest.raises(OptionError, match="rule"):
        record(net, (X, y), "1", rule="sometimes")
    with pytest.raises(OptionError, match="spatial"):
        record(net, (X, y), "1", spatial="median")


# ---------------------------------------------------------------------------- kernels, moments, distributed
@pytest.mark.parametrize("kernel", ["auto", "float32", "sparse", "int8"])
def test_every_kernel_gives_the_same_counts(kernel):
    from neurograph.recording import kernels as _kernels
    if kernel == "int8" and not _kernels.int_mm_available():
        pytest.skip("torch._int_mm not available")
    torch.manual_seed(5)
    net = nn.Sequential(nn.Linear(5, 40), nn.ReLU(), nn.Linear(40, 3))
    X, y = _data(n=300)
    want = record(net, (X, y), "1", kernel="float32", batch_size=300)
    got = record(net, (X, y), "1", kernel=kernel, batch_size=37)
    assert got == want
    with torch.no_grad():
        fired = (net[:2](X) > 0).numpy()
    assert got == CoactivationStats.from_binary(fired, y.numpy(), neurons=got.neurons)


def test_moments_equal_two_pass_reference_and_merge():
    from neurograph.moments import ActivationMoments
    net, (X, y) = _mlp(), _data(n=90)
    X = X * 3 + 50.0  # large activations: float64 chunks + pairwise merges keep them exact
    s = record(net, (X, y), ["1", "3"], moments=True, batch_size=13)
    with torch.no_grad():  # same batches as record: bitwise the same float32 activations
        vals = torch.cat([torch.cat([net[:2](X[i:i + 13]), net[:4](X[i:i + 13])], 1)
                          for i in range(0, 90, 13)]).double().numpy()
    assert s.moments.isclose(ActivationMoments.from_values(vals), rtol=1e-10)
    a = record(net, (X[:39], y[:39]), ["1", "3"], moments=True, batch_size=13)   # the same batches
    b = record(net, (X[39:], y[39:]), ["1", "3"], moments=True, batch_size=13)
    assert a + b == s
    conv = _Conv()
    Xc = torch.randn(20, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    sc = record(conv, (Xc, None), "conv", spatial="any", moments=True)
    with torch.no_grad():
        means = conv.conv(Xc).mean((2, 3)).double().numpy()
    assert np.allclose(sc.moments.mean, means.mean(0))


def test_distributed_needs_a_process_group_and_bad_kernel_is_named():
    from neurograph.errors import NeurographError
    net, (X, y) = _mlp(), _data()
    with pytest.raises(NeurographError, match="init_process_group"):
        record(net, (X, y), "1", distributed=True)
    with pytest.raises(OptionError, match="kernel"):
        record(net, (X, y), "1", kernel="bf16")
    assert _no_hooks(net)
