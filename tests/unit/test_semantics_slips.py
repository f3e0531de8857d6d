"""Silent semantics slips, each now refused with the culprit named (or made exact).

* merging statistics read differently (rule, positions, neuron axis, mask, dtype), also in
  ``all_reduce`` and ``BlockCounts``; the reading saved with the counts (format version 2; version 1 loads);
* a module named like another module's k-th call (``blk#0`` beside ``blk``);
* a ``neuron_axis`` that does not exist in a layer, or a dict key matching no layer;
* options of another firing rule;
* FSA files with NaN centres, counts outside the alphabet, duplicate names;
* scalar ``X`` / ``y`` in data files and (X, y) pairs; StateTrace arrays of the wrong kind;
* ``correlate`` with the covariate equal to the target or a metric;
* DOT names with ", " and other separators (exact round trip, hypothesis).
"""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

import neurograph as ng
from neurograph.automata.fsa import FSA
from neurograph.errors import DataError, FileFormatError, IncompatibleStatsError, LayerError, OptionError
from neurograph.recording.batches import iter_batches
from neurograph.recording.blockwise import record_blocks
from neurograph.recording.states import StateTrace
from neurograph.scoring.correlation import correlate
from neurograph.stats import CoactivationStats, reading_mismatch, reading_of
from neurograph.zoo.checkpoints import load_data_file

pytestmark = pytest.mark.filterwarnings("ignore::neurograph.errors.DegenerateLayerWarning")


def _conv(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())


def _conv_data(n: int = 12, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


class _Scale(nn.Module):
    """A parameter-free op whose (batch, 4, 4) output has no known neuron axis."""

    def forward(self, x):
        return 2 * x


# ---------------------------------------------------------------------------- merging compares the reading

def test_per_image_and_per_pixel_recordings_do_not_merge():
    net, (X, y) = _conv(), _conv_data()
    per_image = ng.record(net, (X[:6], y[:6]), "1", positions="mean")
    per_pixel = ng.record(net, (X[6:], y[6:]), "1", positions="all")
    assert per_image.neurons.equals(per_pixel.neurons)       # the same neurons: only the reading differs
    with pytest.raises(IncompatibleStatsError, match=r"positions of layer '1' differ: 'mean' .* vs 'all'"):
        per_image + per_pixel
    with pytest.raises(DataError):                            # IncompatibleStatsError is a DataError
        per_pixel + per_image


@pytest.mark.parametrize("field, a, b", [
    ("positions", {"reading": {"positions": "all"}}, {"reading": {"positions": "mean"}}),
    ("neuron_axis", {"meta": {"neuron_axis": 1}}, {"meta": {"neuron_axis": 2}}),
    ("mask", {"reading": {"mask": None}}, {"reading": {"mask": "attention_mask"}}),
    ("mask", {"reading": {"mask": None}}, {"reading": {"mask": lambda inputs: inputs[:, :, 0]}}),
    ("dtype", {"dtype": torch.float32}, {"dtype": torch.float64}),
    ("rule", {"reading": {"rule": "threshold", "threshold": 0.1}}, {"reading": {"rule": "threshold",
                                                                               "threshold": 0.2}}),
])
def test_each_field_of_the_reading_must_match(field, a, b):
    """Two real recordings of the same neurons differing in one field: the merge names it and both values."""
    torch.manual_seed(0)
    X = torch.randn(10, 4, 4)
    net = nn.Sequential(nn.Linear(4, 4))

    def rec(spec):
        model = net.to(spec.get("dtype", torch.float32))
        kw = {"neuron_axis": 1, "positions": "all", **spec.get("reading", {})}
        if "meta" in spec:
            kw["neuron_axis"] = spec["meta"]["neuron_axis"]
        return ng.record(model, (X.to(spec.get("dtype", torch.float32)), None), "0", **kw)

    sa, sb = rec(a), rec(b)
    assert sa.neurons.equals(sb.neurons)
    va, vb = reading_of(sa).get(field), reading_of(sb).get(field)
    assert va != vb
    with pytest.raises(IncompatibleStatsError) as info:
        sa + sb
    text = str(info.value)
    assert field in text and (repr(va.get("0") if isinstance(va, dict) and field != "mask" else va) in text)
    assert sa + sa.select("0") is not None                    # the same reading merges (select keeps it)


@pytest.mark.parametrize("field, va, vb", [
    ("positions", {"layer": "first"}, {"layer": "last"}),
    ("neuron_axis", {"layer": 1}, {"layer": 3}),
    ("mask", "attention_mask", "padding"),
    ("dtype", "bfloat16", "float32"),
    ("per_position", True, False),
])
def test_every_reading_field_is_compared_and_survives_save(tmp_path, field, va, vb):
    base = CoactivationStats.from_binary(np.random.default_rng(1).integers(0, 2, (9, 2)))
    a = dataclasses.replace(base, meta={field: va})
    b = CoactivationStats.load(dataclasses.replace(base, meta={field: vb}).save(tmp_path / "b.npz"))
    assert reading_of(b)[field] == vb
    shown = (repr(va["layer"]), repr(vb["layer"])) if isinstance(va, dict) else (repr(va), repr(vb))
    with pytest.raises(IncompatibleStatsError, match=rf"{field}.*{re.escape(shown[0])} in the first vs "
                                                     rf"{re.escape(shown[1])} in the second"):
        a + b
    assert (a + a).n_samples == 18


def test_unknown_reading_does_not_merge_with_a_known_one_and_says_how():
    fired = np.random.default_rng(0).integers(0, 2, (20, 3))
    made = CoactivationStats.from_binary(fired)
    recorded = dataclasses.replace(made, meta={"mask": "attention_mask"})
    with pytest.raises(IncompatibleStatsError, match=r"mask is 'attention_mask' in the second but was not "
                                                     r"recorded in the first .*meta\['mask'\]"):
        made + recorded
    assert made + made == CoactivationStats.from_binary(np.concatenate([fired, fired]))
    assert reading_mismatch({"rule": "positive"}, {"rule": "positive"}) is None


def test_from_binary_refuses_non_binary_firing_and_fractional_labels():
    with pytest.raises(DataError, match=r"fired must hold 0/1 \(or bool\) values, got .*nan"):
        CoactivationStats.from_binary(np.array([[0.0, np.nan]]))
    with pytest.raises(DataError, match=r"fired must hold 0/1 .* got .*0\.3"):
        CoactivationStats.from_binary(np.array([[0.3, 1.0]]))
    with pytest.raises(DataError, match=r"labels must be class ids .* got e\.g\. .*1\.7"):
        CoactivationStats.from_binary(np.eye(2), labels=np.array([0.0, 1.7]))
    named = CoactivationStats.from_binary(np.eye(2), labels=np.array(["cat", "dog"]))
    assert named.classes.tolist() == ["cat", "dog"] and named.class_fire_counts.tolist() == [[1, 0], [0, 1]]


def test_merge_of_compatible_recordings_equals_recording_all_of_the_data_brute_force():
    net, (X, y) = _conv(), _conv_data(n=13)
    parts = [ng.record(net, (X[a:b], y[a:b]), "1", positions="all", batch_size=4) for a, b in ((0, 5), (5, 13))]
    merged = sum(parts)
    whole = ng.record(net, (X, y), "1", positions="all")
    out = net(X).detach().permute(0, 2, 3, 1).reshape(-1, 3).numpy()  # every pixel a sample
    brute = CoactivationStats.from_binary(out > 0, np.repeat(y.numpy(), 16), layer="1")
    assert merged == whole == brute
    assert reading_of(merged) == reading_of(whole)


def test_reading_is_saved_and_version_1_files_load_with_a_note(tmp_path):
    net, (X, y) = _conv(), _conv_data()
    s = ng.record(net, (X, y), "1", rule="threshold", threshold=0.05, positions="any")
    back = CoactivationStats.load(s.save(tmp_path / "s.npz"))
    assert reading_of(back) == reading_of(s) and back.meta["dtype"] == "float32"
    # a version-1 file: no mask, no dtype in its meta
    with np.load(tmp_path / "s.npz") as z:
        members = dict(z)
    header = json.loads(str(members["header"]))
    header["version"] = 1
    for key in ("mask", "dtype"):
        del header["meta"][key]
    members["header"] = np.array(json.dumps(header))
    np.savez(tmp_path / "old.npz", **members)
    old = CoactivationStats.load(tmp_path / "old.npz")
    assert "mask" not in reading_of(old) and old == s
    assert (old + old).n_samples == 2 * s.n_samples          # two version-1 files merge
    with pytest.raises(IncompatibleStatsError, match=r"mask is 'attention_mask' in the second but was not "
                                                     r"recorded in the first \(.*format version 1"):
        old + s
    # a reading field of the wrong type is refused on load, naming the file and the field
    header["version"] = 2
    header["meta"]["positions"] = {"1": "sideways"}
    members["header"] = np.array(json.dumps(header))
    np.savez(tmp_path / "bad.npz", **members)
    with pytest.raises(FileFormatError, match=r"bad\.npz.*meta\['positions'\]\['1'\].*'sideways'"):
        CoactivationStats.load(tmp_path / "bad.npz")


def test_all_reduce_compares_the_reading_before_any_collective(monkeypatch):
    import neurograph._dist as dist_mod

    net, (X, y) = _conv(), _conv_data()
    mine = ng.record(net, (X, y), "1", positions="mean")
    theirs = dataclasses.replace(mine, meta={**mine.meta, "positions": {"1": "max"}})

    class FakeDist:
        def get_world_size(self, group=None):
            return 2

        def all_gather_object(self, out, obj, group=None):
            out[0] = obj
            out[1] = {**obj, "reading": reading_of(theirs)}

        def all_reduce(self, *a, **k):  # pragma: no cover - must not be reached
            raise AssertionError("a collective ran before the readings were compared")

    monkeypatch.setattr(dist_mod, "require_dist", lambda: FakeDist())
    monkeypatch.setattr(dist_mod, "collective_device", lambda dist, group: torch.device("cpu"))
    with pytest.raises(IncompatibleStatsError, match=r"positions of layer '1' differ: 'mean' in rank 0 vs 'max' "
                                                     r"in rank 1"):
        mine.all_reduce()


def test_block_counts_merge_checks_the_reading():
    net, (X, y) = _conv(), _conv_data()
    a = record_blocks(net, (X[:6], y[:6]), ["0", "1"], positions="mean")
    b = record_blocks(net, (X[6:], y[6:]), ["0", "1"], positions="max")
    with pytest.raises(IncompatibleStatsError, match=r"positions of layer '0' differ: 'mean' .* 'max'"):
        a + b
    c = record_blocks(net, (X[6:], y[6:]), ["0", "1"], positions="mean")
    whole = record_blocks(net, (X, y), ["0", "1"], positions="mean")
    assert all((a + c).stats(layer) == whole.stats(layer) for layer in ("0", "1"))


# ---------------------------------------------------------------------------- site names, neuron axis, options

class _Twice(nn.Module):
    def __init__(self, literal: bool = True) -> None:
        super().__init__()
        self.blk = nn.Linear(3, 3)
        if literal:
            self.add_module("blk#0", nn.Linear(3, 3))

    def forward(self, x):
        x = self.blk(self.blk(x))
        return getattr(self, "blk#0")(x) if hasattr(self, "blk#0") else x


@pytest.mark.parametrize("layers", [["blk", "blk#0"], "blk#0", "blk"])
def test_a_module_named_like_another_modules_call_is_refused(layers):
    with pytest.raises(LayerError, match=r"module named 'blk#0' and a module named 'blk'.*rename the module"):
        ng.record(_Twice(), (torch.randn(8, 3), None), layers)


def test_repeated_calls_without_a_clash_are_still_sites():
    stats = ng.record(_Twice(literal=False), (torch.randn(8, 3), None), "blk")
    assert stats.layers == ["blk#0", "blk#1"]


@pytest.mark.parametrize("axis, culprit", [
    (2, r"neuron_axis 2 is not a non-batch axis of layer '0'"),
    (-2, r"neuron_axis -2 is not a non-batch axis of layer '0'"),
    ({"0": 3}, r"neuron_axis 3 is not a non-batch axis of layer '0'"),
    ({"nope*": 1}, r"neuron_axis\['nope\*'\] matches none of the recorded layers \['0'\]"),
])
def test_out_of_range_neuron_axis_on_a_flat_layer_is_refused(axis, culprit):
    with pytest.raises(OptionError, match=culprit):
        ng.record(nn.Sequential(nn.Linear(3, 4)), (torch.randn(8, 3), None), "0", neuron_axis=axis)


def test_neuron_axis_patterns_that_disagree_on_a_layer_are_refused():
    net, X = nn.Sequential(_Scale(), _Scale()), torch.randn(9, 4, 5)
    with pytest.raises(OptionError, match=r"patterns \['\*', '0\*'\] all match layer '0' but give different axes"):
        ng.record(net, (X, None), ["0", "1"], neuron_axis={"*": 1, "0*": 2})
    exact = ng.record(net, (X, None), ["0", "1"], neuron_axis={"*": 1, "0": 2}, positions="mean")
    assert exact.meta["neuron_axis"] == {"0": 2, "1": 1}      # the layer's own name wins over a pattern


def test_neuron_axis_of_3d_and_recurrent_outputs():
    net, X = nn.Sequential(_Scale()), torch.randn(9, 4, 5)
    with pytest.raises(OptionError, match=r"neuron_axis -3 is not a non-batch axis of layer '0'.*\(9, 4, 5\)"):
        ng.record(net, (X, None), "0", neuron_axis=-3)
    neg = ng.record(net, (X, None), "0", neuron_axis=-1, positions="all")
    pos = ng.record(net, (X, None), "0", neuron_axis=2, positions="all")
    assert neg == pos and reading_of(neg) == reading_of(pos) and neg.meta["neuron_axis"] == {"0": 2}
    rnn = nn.Sequential(nn.GRU(3, 5, batch_first=True))
    tokens = torch.randn(6, 4, 3)
    with pytest.raises(OptionError, match=r"neuron_axis 1 for layer '0' \(GRU\).*hidden units"):
        ng.record(rnn, (tokens, None), "0", neuron_axis=1)
    assert ng.record(rnn, (tokens, None), "0", neuron_axis=-1).n_neurons == 5


@pytest.mark.parametrize("kwargs, culprit", [
    ({"threshold": 0.5}, r"threshold=0.5 is used only by rule='threshold'; with rule='positive'"),
    ({"rule": "zscore", "quantile": 0.5}, r"quantile=0.5 is used only by rule='quantile'"),
    ({"rule": "quantile", "z": 2.0}, r"z=2.0 is used only by rule='zscore'"),
    ({"rule": "zscore", "calibration_samples": 50}, r"calibration_samples=50 is used only by rule='quantile'"),
])
def test_an_option_of_another_rule_is_refused_not_ignored(kwargs, culprit):
    with pytest.raises(OptionError, match=culprit):
        ng.record(nn.Sequential(nn.Linear(3, 4)), (torch.randn(8, 3), None), "0", **kwargs)


@pytest.mark.parametrize("kwargs, culprit", [
    ({"rule": "zscore", "quantile": 0.5}, r"quantile=0.5 is not used by rule='zscore'"),
    ({"rule": "quantile", "z": 0.5}, r"z=0.5 is not used by rule='quantile'"),
    ({"rule": "zscore", "group": object()}, r"group is used only with distributed=True"),
])
def test_calibrate_refuses_options_it_would_ignore(kwargs, culprit):
    rule = kwargs.pop("rule")
    with pytest.raises(OptionError, match=culprit):
        ng.calibrate(nn.Sequential(nn.Linear(3, 4)), (torch.randn(8, 3), None), "0", rule, **kwargs)
    with pytest.raises(OptionError, match="group is used only with distributed=True"):
        ng.record(nn.Sequential(nn.Linear(3, 4)), (torch.randn(8, 3), None), "0", group=object())


def test_cli_neuron_axis_twice_for_one_layer_is_refused():
    from neurograph._main import _neuron_axis

    with pytest.raises(OptionError, match=r"--neuron-axis gives layer 'conv' two axes \(1 and 2\)"):
        _neuron_axis(["conv=1", "conv=2"])
    assert _neuron_axis(["conv=1", "fc=-1"]) == {"conv": 1, "fc": -1}


def test_viewer_sparsify_checks_edges_against_n_nodes():
    from neurograph.errors import GraphError
    from neurograph.io.viewer import sparsify_top_k

    e = np.array([[0, 1], [1, 4]])
    with pytest.raises(GraphError, match=r"node 4, outside \[0, n_nodes = 3\)"):
        sparsify_top_k(e, np.array([1.0, 2.0]), 3)
    with pytest.raises(GraphError, match="finite"):
        sparsify_top_k(e, np.array([1.0, np.nan]), 5)
    assert sparsify_top_k(e, np.array([1.0, 2.0]), 5).tolist() == [True, True]


# ---------------------------------------------------------------------------- loaders

def _fsa_doc(**changes) -> dict:
    fsa = FSA(transitions=np.array([[1, 0], [0, 1]]), outputs=np.array([0, 1]), alphabet=np.array([0, 1]),
              counts=pd.DataFrame([[0, 0, 1, 3], [1, 1, 1, 2]], columns=["source", "symbol", "target", "count"]),
              centres=np.array([[0.0, 1.0], [2.0, 3.0]]), visits=np.array([3, 2]))
    doc = {"format": "neurograph-fsa", "version": 1, "transitions": fsa.transitions.tolist(),
           "outputs": fsa.outputs.tolist(), "alphabet": fsa.alphabet.tolist(), "start": 0,
           "counts": fsa.counts.to_numpy().tolist(), "centres": fsa.centres.tolist(), "visits": [3, 2],
           "state_names": None, "symbol_names": None, "params": {}}
    doc.update(changes)
    return doc


@pytest.mark.parametrize("changes, culprit", [
    ({"centres": [[float("nan"), 1.0], [2.0, 3.0]]}, r"'centres' must be finite numbers; the centre of state 0"),
    ({"centres": [[1.0, float("inf")], [2.0, 3.0]]}, r"'centres' must be finite"),
    ({"counts": [[0, 7, 1, 3]]}, r"'counts' has symbol 7, which is not in the alphabet"),
    ({"counts": [[0, 0, 1, 3], [0, 0, 1, 4]]}, r"'counts' lists a \(source, symbol, target\) transition twice"),
    ({"state_names": ["a", "a"]}, r"'state_names' must name each state once, got 'a' twice"),
    ({"symbol_names": ["x", "x"]}, r"'symbol_names' must name each symbol once"),
])
def test_fsa_load_refuses_bad_tables_naming_file_and_field(tmp_path, changes, culprit):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(_fsa_doc(**changes)))         # json writes NaN / Infinity tokens, as a file may hold
    with pytest.raises(FileFormatError, match=r"f\.json.*" + culprit):
        FSA.load(path)
    good = tmp_path / "g.json"
    good.write_text(json.dumps(_fsa_doc()))
    assert FSA.load(good).n_states == 2


def test_fsa_constructor_refuses_nan_centres():
    with pytest.raises(DataError, match="FSA centres must be finite"):
        FSA(transitions=np.array([[0]]), outputs=np.array([1]), alphabet=np.array([0]), centres=np.array([[np.nan]]))


@pytest.mark.parametrize("suffix", [".npz", ".pt"])
def test_data_file_with_a_scalar_x_or_y_is_refused(tmp_path, suffix):
    def write(name, **arrays):
        path = tmp_path / (name + suffix)
        if suffix == ".npz":
            np.savez(path, **arrays)
        else:
            torch.save({k: torch.as_tensor(v) for k, v in arrays.items()}, path)
        return path

    with pytest.raises(DataError, match=rf"x{suffix}.*'X' is a scalar \(shape \(\)\)"):
        load_data_file(write("x", X=np.array(3.0), y=np.array([1])))
    with pytest.raises(DataError, match=rf"y{suffix}.*'y' must be one label per sample, shape \(1,\); got shape \(\)"):
        load_data_file(write("y", X=np.ones((1, 2), np.float32), y=np.array(1)))
    X, y = load_data_file(write("ok", X=np.ones((2, 2), np.float32), y=np.array([0, 1])))
    assert X.shape == (2, 2) and y.tolist() == [0, 1]


@pytest.mark.parametrize("data, culprit", [
    ((torch.tensor(3.0), torch.tensor([1])), "inputs X of data"),
    ((np.array(3.0), None), "inputs X of data"),
    ((torch.ones(3, 2), torch.tensor(1)), "labels y of data"),
    ([torch.ones(2, 2), torch.tensor(5.0)], "inputs of batch 1 are a scalar"),
])
def test_scalar_inputs_or_labels_are_not_batches(data, culprit):
    with pytest.raises(DataError, match=culprit):
        list(iter_batches(data, 4))


def test_state_trace_refuses_non_integer_tokens_and_non_float_states():
    ok = dict(states=np.zeros((2, 1), np.float32), tokens=np.array([[1]]), lengths=np.array([1]), labels=None,
              predictions=np.array([0]))
    with pytest.raises(DataError, match=r"StateTrace tokens must hold integers, got dtype float64"):
        StateTrace(**{**ok, "tokens": np.array([[1.5]])})
    with pytest.raises(DataError, match=r"StateTrace states of layer 'rnn' must be floats"):
        StateTrace(**{**ok, "states": np.zeros((2, 1), np.int64)})
    assert StateTrace(**ok).n_sequences == 1


# ---------------------------------------------------------------------------- correlate

def _table() -> pd.DataFrame:
    r = np.random.default_rng(0)
    return pd.DataFrame({"modularity": r.random(8), "test_accuracy": r.random(8), "n_params": r.random(8)})


@pytest.mark.parametrize("metrics, covariate, culprit", [
    ("modularity", "test_accuracy", r"covariate 'test_accuracy' is the target"),
    (["modularity", "n_params"], "n_params", r"covariate 'n_params' is also one of the metrics"),
    (["test_accuracy"], None, r"metrics include the target 'test_accuracy'"),
])
def test_correlate_refuses_a_covariate_or_metric_that_is_the_target(metrics, covariate, culprit):
    with pytest.raises(OptionError, match=culprit):
        correlate(_table(), metrics, covariate=covariate, n_boot=0)


def test_cli_correlate_covariate_equal_to_target_exits_2_in_one_line(tmp_path, capsys):
    from neurograph._main import main

    _table().to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "c.csv"
    code = main(["correlate", str(tmp_path / "t.csv"), "--covariate", "test_accuracy", "--n-boot", "0",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.strip().count("\n") == 0 and "--covariate 'test_accuracy' is the target" in err


# ---------------------------------------------------------------------------- DOT names

_names = st.text(max_size=6)


@settings(max_examples=40, deadline=None)
@example(["a, b", "+1", "", ", "], ["x / 2", "q\\/", 'say "hi"\n\u2028\r'], 0, 3)
@example(["\\", "\\,", ",\\ "], ["a / 0", "b / 1"], 1, 2)
@given(st.lists(_names, min_size=1, max_size=4, unique=True), st.lists(_names, min_size=2, max_size=3, unique=True),
       st.integers(0, 2**32 - 1), st.sampled_from([2, 3]))
def test_dot_round_trip_is_exact_for_any_names(symbols, states, seed, classes):
    rng = np.random.default_rng(seed)
    n, m = len(states), len(symbols)
    fsa = FSA(transitions=rng.integers(0, n, (n, m)), outputs=rng.integers(0, classes, n),
              alphabet=np.arange(m), start=int(rng.integers(n)), state_names=tuple(states),
              symbol_names=tuple(symbols))
    text = fsa.to_dot(max_symbols=m)
    back = FSA.from_dot(text, symbols=symbols)
    assert back.state_names == fsa.state_names and back.start == fsa.start
    assert np.array_equal(back.outputs, fsa.outputs) and np.array_equal(back.transitions, fsa.transitions)
    assert back.symbol_names == tuple(symbols[t] for t in back.alphabet.tolist())
    assert back.to_dot(max_symbols=m) == text


def test_dot_symbol_with_comma_space_is_one_symbol():
    fsa = FSA(transitions=np.array([[0, 0]]), outputs=np.array([1]), alphabet=np.array([0, 1]),
              symbol_names=("a, b", "+1"))
    text = fsa.to_dot()
    assert 'label="a\\, b, \\+1"' in text
    back = FSA.from_dot(text, symbols=["a, b", "+1"])
    assert back.symbol_names == ("a, b", "+1") and back.n_symbols == 2
    with pytest.raises(DataError, match=r"symbols names 'x' twice"):
        FSA.from_dot(text, symbols=["x", "x"])
