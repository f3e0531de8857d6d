"""Silent miscounts at the edges of recording: low-precision firing cuts, collated string labels,
score rows used as mappings, torch.compile'd models.

Counts are checked against a brute force in float64 from plain forward hooks / the data itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

import neurograph as ng
from neurograph.errors import DataError, LayerError
from neurograph.scoring.scores import ModelScores

pytestmark = pytest.mark.filterwarnings("ignore::neurograph.errors.DegenerateLayerWarning")


def _identity():
    return nn.Sequential(nn.Identity())  # no parameters: inputs keep their dtype


def _check(stats, bits: np.ndarray) -> None:
    b = bits.astype(np.int64)
    assert stats.n_samples == bits.shape[0]
    assert np.array_equal(stats.fire_counts, b.sum(0))
    assert np.array_equal(stats.cofire_counts, b.T @ b)


# ---------------------------------------------------------------------------- low-precision cuts

@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_threshold_is_compared_exactly_in_low_precision(dtype):
    near = torch.tensor(0.1, dtype=dtype)  # bf16: 0.10009765625 > 0.1
    assert float(near) != 0.1
    down = torch.nextafter(near, torch.tensor(-1.0, dtype=dtype))
    up = torch.nextafter(near, torch.tensor(1.0, dtype=dtype))
    vals = torch.stack([down, near, up, torch.tensor(0.0, dtype=dtype), torch.tensor(-0.1, dtype=dtype)])
    X = vals[torch.arange(20) % 5].reshape(5, 4)  # every value in every column
    stats = ng.record(_identity(), (X, None), "0", rule="threshold", threshold=0.1)
    bits = (X.double() > 0.1).numpy()
    assert bits.sum() > 0 and (X.double() == float(near)).any()
    _check(stats, bits)


def test_per_neuron_thresholds_compared_exactly_in_bf16():
    th = np.array([0.1, 0.2, 0.3, 0.7])
    near = torch.from_numpy(th).to(torch.bfloat16)  # the first three round up in bf16, 0.7 rounds down
    assert (near.double().numpy() > th).tolist() == [True, True, True, False]
    X = torch.stack([near, near * 2, near / 2, near.flip(0)])
    stats = ng.record(_identity(), (X, None), "0", rule="threshold", threshold=th)
    bits = X.double().numpy() > th[None, :]
    assert bits[0, :3].all()
    _check(stats, bits)


def test_quantile_and_zscore_cuts_compared_exactly_in_bf16():
    a = torch.tensor(0.5, dtype=torch.bfloat16)
    b = torch.nextafter(a, torch.tensor(1.0, dtype=torch.bfloat16))
    # quantile 0.55 of 5 a's and 5 b's, and the mean (z = 0) of 4 a's and 6 b's: just below b, rounding to b
    for rule, k, opts in [("quantile", 5, {"quantile": 0.55}), ("zscore", 4, {"z": 0.0})]:
        col = torch.stack([a] * k + [b] * (10 - k))
        X = torch.stack([col, col.flip(0), col * 2], dim=1)
        th = ng.calibrate(_identity(), (X, None), "0", rule=rule, **opts)
        assert float(a) < th[0] < float(b) and float(torch.tensor(th[0]).to(torch.bfloat16)) == float(b), rule
        stats = ng.record(_identity(), (X, None), "0", rule=rule, **opts)
        bits = X.double().numpy() > th[None, :]
        assert bits[:, 0].sum() == 10 - k
        _check(stats, bits)


def test_exact_cut_property_against_float64():
    from neurograph.recording.firing import exact_cut

    g = torch.Generator().manual_seed(0)
    cuts = torch.randn(200, generator=g, dtype=torch.float64)
    cuts = torch.cat([cuts, torch.tensor([0.0, 1e6, -1e6, 70000.0, -70000.0], dtype=torch.float64)])
    for dtype in (torch.bfloat16, torch.float16, torch.float32):
        c = exact_cut(cuts, dtype)
        vals = torch.cat([cuts.to(dtype), c, torch.nextafter(c, torch.full_like(c, 1.0))])
        for k in range(0, cuts.shape[0], 37):
            assert torch.equal(vals > c[k], vals.double() > cuts[k]), (dtype, float(cuts[k]))


# ---------------------------------------------------------------------------- collated labels

class _Pets(Dataset):
    def __init__(self, n=10):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 4, generator=g)
        self.y = ["cat", "dog", "cat", "bird", "dog"] * (n // 5)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def test_string_labels_from_a_default_collate_are_labels():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU())
    ds = _Pets()
    loader = DataLoader(ds, batch_size=3)
    assert isinstance(next(iter(loader))[1], (tuple, list))
    stats = ng.record(model, loader, "1")
    with torch.no_grad():
        bits = (model(ds.x).double() > 0).numpy()
    _check(stats, bits)
    assert stats.classes.tolist() == ["bird", "cat", "dog"]
    labels = np.asarray(ds.y)
    for k, c in enumerate(stats.classes):
        assert np.array_equal(stats.class_fire_counts[k], bits[labels == c].sum(0))
        assert stats.class_counts[k] == (labels == c).sum()


def test_int_labels_as_a_tuple_and_malformed_batches():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    x = torch.randn(4, 4)
    stats = ng.record(model, [(x, (0, 1, 1, 0))], "1")
    assert stats.classes.tolist() == [0, 1] and stats.class_counts.tolist() == [2, 2]
    for bad in ([(x, ("cat", torch.zeros(1), "dog", "cat"))], [(x, ("a", "b", "c", "d"), "extra")], [(x, ())]):
        with pytest.raises(DataError, match=r"batch 0 of data is a (tuple|list); expected an \(inputs, labels\) pair"):
            ng.record(model, bad, "1")
    with pytest.raises(DataError, match="labels of batch 0 have 3 entries"):
        ng.record(model, [(x, ("cat", "dog", "cat"))], "1")


# ---------------------------------------------------------------------------- ModelScores is a Mapping

def test_model_scores_is_a_mapping():
    s = ModelScores(values={"modularity": 0.4, "test_accuracy": float("nan"), "n_params": 7},
                    layers=pd.DataFrame(), analysis=None)
    assert isinstance(s, Mapping)
    assert "test_accuracy" in s and "modularity" in s
    assert 0 not in s and "nope" not in s and None not in s
    assert len(s) == 3 and list(s) == ["modularity", "test_accuracy", "n_params"]
    assert list(s.keys()) == list(s) and list(s.items())[0] == ("modularity", 0.4)
    assert list(s.values())[2] == 7 and s.values["n_params"] == 7  # the method and the dict
    assert s.get("modularity") == 0.4 and s.get("nope") is None and s.get("nope", 1.5) == 1.5
    assert s["n_params"] == 7 and dict(s) == dict(s.values) and {**s}["modularity"] == 0.4
    with pytest.raises(KeyError):
        s["nope"]
    assert s == s and s != ModelScores(values=dict(s.values), layers=pd.DataFrame(), analysis=None)
    assert hash(s) == hash(s)
    assert s.to_series()["n_params"] == 7


# ---------------------------------------------------------------------------- torch.compile

class OptimizedModule(nn.Module):
    """Stands for torch.compile's wrapper: runs the wrapped weights without calling its submodules."""

    def __init__(self, mod):
        super().__init__()
        self._orig_mod = mod

    def forward(self, x):
        return F.relu(F.linear(x, self._orig_mod[0].weight, self._orig_mod[0].bias))


def test_compiled_model_is_recorded_through_its_original_module():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU())
    X, y = torch.randn(10, 4), np.arange(10) % 2
    with torch.no_grad():
        bits = (model(X).double() > 0).numpy()
    wrapped = OptimizedModule(model)
    for name in ("1", "_orig_mod.1"):
        _check(ng.record(wrapped, (X, y), name), bits)
    assert ng.list_layers(wrapped)["name"].tolist() == ["0", "1"]


@pytest.mark.slow  # importing torch._dynamo takes seconds; nothing is compiled
def test_real_torch_compile_wrapper_is_unwrapped_without_compiling():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU())
    compiled = torch.compile(model, backend="eager")  # compiles lazily, on a first call that never comes
    assert type(compiled).__name__ == "OptimizedModule"
    X = torch.randn(8, 4)
    with torch.no_grad():
        bits = (model(X).double() > 0).numpy()
    _check(ng.record(compiled, (X, None), "_orig_mod.1"), bits)


def test_layer_inside_a_compiled_submodule_that_never_runs_names_the_cause():
    torch.manual_seed(0)
    outer = nn.Sequential(OptimizedModule(nn.Sequential(nn.Linear(4, 6), nn.ReLU())), nn.Identity())
    with pytest.raises(LayerError, match=r"'0\._orig_mod\.0'.*never ran.*inside '0'.*torch\.compile.*_orig_mod"):
        ng.record(outer, (torch.randn(5, 4), None), "0._orig_mod.0")


@pytest.mark.parametrize("masked", [False, True])
def test_bf16_means_over_positions_are_not_rounded_to_bf16_before_the_rule(masked):
    g = torch.Generator().manual_seed(1)
    X = (0.1 + 0.01 * torch.randn(40, 3, 4, generator=g)).to(torch.bfloat16)  # (batch, neurons, positions)
    model = _identity()
    mask = torch.ones(40, 4, dtype=torch.long)
    if masked:
        mask[::3, 3] = 0
    valid = mask.bool()[:, None, :].double()
    mean64 = (X.double() * valid).sum(-1) / valid.sum(-1)  # four bf16 values: exact in float32 as in float64
    stats = ng.record(model, (X, None), "0", rule="threshold", threshold=0.1, neuron_axis=1, positions="mean",
                      mask=(lambda inputs: mask[: inputs.shape[0]]) if masked else None, batch_size=40)
    bits = (mean64 > 0.1).numpy()
    assert not np.array_equal(bits, (mean64.to(torch.bfloat16).double() > 0.1).numpy())  # the test can fail
    _check(stats, bits)
