"""Hostile files: every loader refuses a bad file with neurograph's own error, naming the file and the fault.

Covers statistics (.npz), FSA (.json), fixed points (.npz), checkpoints and data files (torch /
npz), CSV tables, zoo configs (TOML) and the zoo's factory policy; failed writes leave nothing
behind; and random truncations and byte flips of the three neurograph formats never raise
anything but FileFormatError (or load something that still satisfies every invariant).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurograph.io.atomic import atomic_path, read_csv, remove_stale_temporaries, write_csv
from neurograph.zoo.checkpoints import (CustomSpec, build_model, check_factory_spec, load_checkpoint, load_data_file,
                                    load_factory, prepare_custom)
from neurograph.dynamics.fixed_points import FixedPoints
from neurograph.errors import (ConfigError, DataError, FileFormatError, ModelError, NeurographError,
                               StatsFileError)
from neurograph.automata.fsa import FSA
from neurograph.models import MLP
from neurograph.moments import ActivationMoments
from neurograph.stats import CoactivationStats
from neurograph.zoo.runs import load_zoo_config, run_zoo


# ---------------------------------------------------------------------- helpers
def _raises(exc_type, culprit: str, *fragments: str):
    """Context manager: ``exc_type`` whose one-line message names ``culprit`` and every fragment."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc_type)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            out = self.ctx.__exit__(*exc)
            msg = str(self.info.value)
            assert culprit in msg, msg
            for f in fragments:
                assert f in msg, msg
            assert len(msg.splitlines()) == 1, msg
            assert isinstance(self.info.value, NeurographError)
            return out
    return _Check()


def _stats(patterns=True, moments=True) -> CoactivationStats:
    rng = np.random.default_rng(0)
    fired = (rng.random((40, 5)) < 0.4).astype(np.uint8)
    y = rng.integers(0, 3, 40)
    neurons = pd.DataFrame({"layer": ["a"] * 2 + ["b"] * 3, "unit": [0, 1, 0, 1, 2]})
    s = CoactivationStats.from_binary(fired, y, neurons=neurons)
    pc = None
    if patterns:
        pc = {}
        for name, cols in (("a", slice(0, 2)), ("b", slice(2, 5))):
            keys, counts = np.unique(fired[:, cols] @ (1 << np.arange(cols.stop - cols.start)), return_counts=True)
            pc[name] = {int(k) + 2**63: int(c) for k, c in zip(keys, counts)}
    mom = ActivationMoments.from_values(rng.normal(size=(40, 5))) if moments else None
    return CoactivationStats(**{**s.__dict__, "pattern_counts": pc, "moments": mom, "meta": {"spatial": "mean"}})


def _arrays(path: Path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _rewrite(src: Path, dst: Path, *, drop=(), edit_header=None, **arrays) -> Path:
    data = _arrays(src)
    for k in drop:
        data.pop(k)
    if edit_header is not None:
        h = edit_header(json.loads(str(data["header"])))
        data["header"] = np.array(json.dumps(h))
    data.update(arrays)
    np.savez(dst, **data)
    return dst


@pytest.fixture()
def stats_file(tmp_path):
    s = _stats()
    return s, s.save(tmp_path / "good.npz")


def _fixed_points() -> FixedPoints:
    jac = np.array([np.diag([0.9, 0.5]), np.diag([1.2, 0.1])])
    return FixedPoints(states=np.array([[0.0, 1.0], [2.0, 3.0]]), q=np.array([0.0, 1e-9]), jacobians=jac,
                       eigenvalues=np.array([[0.9, 0.5], [1.2, 0.1]], dtype=complex), inputs=np.zeros((2, 1)))


def _fsa() -> FSA:
    return FSA.from_spec({"even": (True, {0: "even", 1: "odd"}), "odd": (False, {0: "odd", 1: "even"})})


def _fsa_doc(tmp_path) -> dict:
    f = _fsa()
    f = FSA(**{**f.__dict__, "counts": pd.DataFrame([[0, 1, 1, 5], [1, 0, 1, 2]],
                                                    columns=["source", "symbol", "target", "count"]),
              "visits": np.array([3, 4]), "centres": np.array([[0.5, 1.0], [0.25, -1.0]])})
    return json.loads(f.save(tmp_path / "base.json").read_text())


def _write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _put(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------- statistics files
def test_stats_round_trip_keeps_everything(stats_file):
    s, path = stats_file
    back = CoactivationStats.load(path)
    assert back == s and back.pattern_counts == s.pattern_counts and back.meta == s.meta


@pytest.mark.parametrize("make, fragment", [
    (lambda d: d / "missing.npz", "does not exist"),
    (lambda d: (d / "folder.npz").mkdir() or d / "folder.npz", "is a folder"),
    (lambda d: _put(d / "empty.npz", b""), "corrupt"),
    (lambda d: _put(d / "text.npz", b"hello, not a zip"), "not a .npz archive"),
    (lambda d: _put(d / "pickle.npz", pickle.dumps({"header": 1})), "pickle"),
    (lambda d: np.save(d / "single.npy", np.zeros(3)) or (d / "single.npy").rename(d / "single.npz")
     or d / "single.npz", "single .npy array"),
    (lambda d: np.savez(d / "objects.npz", header=np.array([{"a": 1}], dtype=object)) or d / "objects.npz",
     "never unpickles"),
    (lambda d: np.savez(d / "other.npz", x=np.zeros(3)) or d / "other.npz", "not a neurograph statistics file"),
])
def test_stats_unreadable_files(tmp_path, make, fragment):
    path = make(tmp_path)
    with _raises(StatsFileError, path.name, fragment):
        CoactivationStats.load(path)


def test_stats_corrupted_compressed_member_is_stats_file_error(stats_file, tmp_path):
    _, path = stats_file
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("cofire_counts.npy")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(8):  # mangle the middle of the deflate stream
        raw[start + info.compress_size // 2 + k] ^= 0xA5
    bad = tmp_path / "zlib.npz"
    bad.write_bytes(bytes(raw))
    with _raises(StatsFileError, "zlib.npz", "corrupt", "cofire_counts"):
        CoactivationStats.load(bad)


def test_stats_truncated(stats_file, tmp_path):
    raw = stats_file[1].read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) * 2 // 3])
    with _raises(StatsFileError, "trunc.npz", "corrupt"):
        CoactivationStats.load(tmp_path / "trunc.npz")


_HEADER_CASES = [
    ("list", lambda h: [h], "not a JSON object"),
    ("string", lambda h: "neurograph", "not a JSON object"),
    ("n_str", lambda h: {**h, "n_samples": "40"}, "'n_samples'"),
    ("n_neg", lambda h: {**h, "n_samples": -1}, "'n_samples'"),
    ("n_bool", lambda h: {**h, "n_samples": True}, "'n_samples'"),
    ("rule", lambda h: {**h, "rule": 3}, "'rule'"),
    ("meta", lambda h: {**h, "meta": [1, 2]}, "'meta'"),
    ("patterns", lambda h: {**h, "pattern_layers": "a"}, "'pattern_layers'"),
    ("format", lambda h: {**h, "format": "other"}, "not a neurograph statistics file"),
    ("version", lambda h: {**h, "version": 99}, "version 99"),
    ("unknown", lambda h: {**h, "colour": "red"}, "colour"),
]


@pytest.mark.parametrize("tag, edit, fragment", _HEADER_CASES, ids=[c[0] for c in _HEADER_CASES])
def test_stats_header_of_wrong_type(stats_file, tmp_path, tag, edit, fragment):
    path = _rewrite(stats_file[1], tmp_path / f"h_{tag}.npz", edit_header=edit)
    with _raises(StatsFileError, path.name, fragment):
        CoactivationStats.load(path)


def test_stats_header_not_json_or_missing(stats_file, tmp_path):
    p1 = tmp_path / "notjson.npz"
    data = _arrays(stats_file[1])
    data["header"] = np.array("{not json")
    np.savez(p1, **data)
    with _raises(StatsFileError, "notjson.npz", "not a JSON object"):
        CoactivationStats.load(p1)
    data["header"] = np.array([1.0, 2.0])
    np.savez(p1, **data)
    with _raises(StatsFileError, "notjson.npz", "not a JSON object"):
        CoactivationStats.load(p1)
    p2 = _rewrite(stats_file[1], tmp_path / "noheader.npz", drop=("header",))
    with _raises(StatsFileError, "noheader.npz", "no header"):
        CoactivationStats.load(p2)


def _sym(m):
    return np.triu(m) + np.triu(m, 1).T


def _member_cases(s: CoactivationStats):
    fire, cof, cc, cf = s.fire_counts, s.cofire_counts, s.class_counts, s.class_fire_counts
    over = cof.copy()
    i, j = 0, 1
    over[i, j] = over[j, i] = min(fire[i], fire[j]) + 1
    asym = cof.copy()
    asym[0, 1] += 1
    diag = cof.copy()
    diag[2, 2] -= 1
    neg = fire.copy()
    neg[0] = -1
    big = fire.copy()
    big[0] = 41
    big_cof = cof.copy()
    big_cof[0, 0] = 41
    under = cof.copy()
    under[3, 4] = under[4, 3] = max(0, fire[3] + fire[4] - 40) - 1
    cf_over = cf.copy()
    cf_over[0, 0] = cc[0] + 1
    cf_sum = cf.copy()
    cf_sum[0, 0] = max(0, cf_sum[0, 0] - 1)
    return [
        ("missing", {"drop": ("fire_counts",)}, "missing member(s) ['fire_counts']"),
        ("extra", {"evil": np.zeros(2)}, "unexpected member(s) ['evil']"),
        ("layers_short", {"layer": np.array(["a"] * 4)}, "neuron table"),
        ("unit_float", {"unit": np.arange(5.0)}, "'unit' must hold integers"),
        ("layer_numbers", {"layer": np.arange(5)}, "'layer'"),
        ("fire_float", {"fire_counts": fire.astype(float) + 0.5}, "'fire_counts' must hold integers"),
        ("fire_2d", {"fire_counts": fire[None]}, "fire_counts"),
        ("cofire_shape", {"cofire_counts": cof[:4, :4]}, "cofire_counts has shape"),
        ("negative", {"fire_counts": neg}, "fire_counts[0] = -1"),
        ("above_n", {"fire_counts": big, "cofire_counts": big_cof}, "fire_counts[0] = 41"),
        ("asymmetric", {"cofire_counts": asym}, "not symmetric"),
        ("diagonal", {"cofire_counts": diag}, "differs from fire_counts[2]"),
        ("above_min", {"cofire_counts": over}, "exceeds min(fire_counts[0], fire_counts[1])"),
        ("below_bound", {"cofire_counts": under} if under[3, 4] < 0 else {"cofire_counts": -np.ones_like(cof)},
         "cofire_counts"),
        ("classes_unsorted", {"classes": s.classes[::-1].copy()}, "sorted"),
        ("class_sum", {"class_counts": cc + 1}, "class_counts sum to"),
        ("class_zero", {"class_counts": np.array([0, cc[0] + cc[1], cc[2]])}, "class_counts[0] = 0"),
        ("class_fire_over", {"class_fire_counts": cf_over}, "exceeds class_counts[0]"),
        ("class_fire_sum", {"class_fire_counts": cf_sum} if cf[0, 0] else {"class_fire_counts": cf + 1},
         "class_fire_counts"),
        ("class_fire_shape", {"class_fire_counts": cf[:, :4]}, "class_fire_counts has shape"),
        ("dup_neuron", {"unit": np.array([0, 0, 0, 1, 2])}, "twice"),
        ("pattern_sum", {"pattern_vals_0": _arrays_vals(s, 0) * 2}, "sum to"),
        ("pattern_dtype", {"pattern_keys_0": _arrays_keys(s, 0).astype(np.int64)}, "uint64"),
        ("pattern_len", {"pattern_vals_0": _arrays_vals(s, 0)[:-1]}, "differ in length"),
        ("moments_n", {"moments_n": np.array(39)}, "moments count 39"),
        ("moments_nan", {"moments_mean": np.full(5, np.nan)}, "NaN"),
        ("moments_asym", {"moments_comoment": s.moments.comoment + np.triu(np.ones((5, 5)), 1) * 5},
         "not symmetric"),
        ("moments_negvar", {"moments_comoment": -np.eye(5)}, "sum of squares"),
        ("moments_partial", {"drop": ("moments_comoment",)}, "missing member(s) ['moments_comoment']"),
        ("moments_shape", {"moments_mean": np.zeros(4)}, "comoment has shape"),
    ]


def _arrays_keys(s, i):
    return np.fromiter(list(s.pattern_counts.values())[i].keys(), np.uint64)


def _arrays_vals(s, i):
    return np.fromiter(list(s.pattern_counts.values())[i].values(), np.int64)


_S = _stats()
_MEMBER_CASES = _member_cases(_S)


@pytest.mark.parametrize("tag, change, fragment", _MEMBER_CASES, ids=[c[0] for c in _MEMBER_CASES])
def test_stats_members_and_invariants(stats_file, tmp_path, tag, change, fragment):
    change = dict(change)
    drop = change.pop("drop", ())
    path = _rewrite(stats_file[1], tmp_path / f"m_{tag}.npz", drop=drop, **change)
    with _raises(StatsFileError, path.name, fragment):
        CoactivationStats.load(path)


def test_stats_without_labels_patterns_or_moments_load(tmp_path):
    rng = np.random.default_rng(1)
    s = CoactivationStats.from_binary((rng.random((10, 3)) < 0.5).astype(np.uint8))
    assert CoactivationStats.load(s.save(tmp_path / "plain.npz")) == s


def test_stats_save_refuses_invalid_and_writes_nothing(tmp_path):
    s = _stats()
    bad = CoactivationStats(**{**s.__dict__, "fire_counts": s.fire_counts + 1})
    with _raises(DataError, "bad.npz", "differs from fire_counts"):
        bad.save(tmp_path / "bad.npz")
    assert _listing(tmp_path) == []


def test_merging_labelled_with_unlabelled_is_refused():
    s = _stats(patterns=False, moments=False)
    plain = CoactivationStats.from_binary(np.ones((3, 5), np.uint8), neurons=s.neurons)
    from neurograph.errors import IncompatibleStatsError
    with pytest.raises(IncompatibleStatsError, match="without labels"):
        s + plain


# ---------------------------------------------------------------------- FSA files
def test_fsa_round_trip(tmp_path):
    doc = _fsa_doc(tmp_path)
    back = FSA.load(_write_json(tmp_path / "ok.json", doc))
    assert back == _fsa() and back.counts["count"].tolist() == [5, 2]


_FSA_CASES = [
    ("missing_start", lambda d: {k: v for k, v in d.items() if k != "start"}, "missing key(s) ['start']"),
    ("unknown_key", lambda d: {**d, "evil": 1}, "unknown key(s) ['evil']"),
    ("list", lambda d: [d], "not a neurograph FSA file"),
    ("version", lambda d: {**d, "version": 2}, "version 2"),
    ("ragged", lambda d: {**d, "transitions": [[0, 1], [1]]}, "'transitions'"),
    ("rows", lambda d: {**d, "transitions": [[0, 1], [1, 0], [0, 0]]}, "'transitions' has 3 rows"),
    ("range", lambda d: {**d, "transitions": [[0, 7], [1, 0]]}, "'transitions' must hold state ids"),
    ("floats", lambda d: {**d, "transitions": [[0, 1.5], [1, 0]]}, "'transitions'"),
    ("bools", lambda d: {**d, "outputs": [True, 0]}, "'outputs'"),
    ("strings", lambda d: {**d, "outputs": ["1", "0"]}, "'outputs'"),
    ("empty", lambda d: {**d, "outputs": [], "transitions": []}, "at least one state"),
    ("alphabet_len", lambda d: {**d, "alphabet": [0]}, "'alphabet' has 1 symbols"),
    ("alphabet_order", lambda d: {**d, "alphabet": [1, 0]}, "sorted and unique"),
    ("start_range", lambda d: {**d, "start": 5}, "'start'"),
    ("start_bool", lambda d: {**d, "start": True}, "'start'"),
    ("counts_width", lambda d: {**d, "counts": [[0, 1, 1]]}, "'counts'"),
    ("counts_state", lambda d: {**d, "counts": [[0, 1, 9, 1]]}, "'counts' must have source and target"),
    ("counts_negative", lambda d: {**d, "counts": [[0, 1, 1, -4]]}, "counts >= 0"),
    ("centres_rows", lambda d: {**d, "centres": [[0.0, 1.0]]}, "'centres'"),
    ("centres_text", lambda d: {**d, "centres": [["a", 1.0], [0.0, 1.0]]}, "'centres'"),
    ("visits", lambda d: {**d, "visits": [3, -1]}, "'visits'"),
    ("state_names", lambda d: {**d, "state_names": ["a"]}, "'state_names'"),
    ("symbol_names", lambda d: {**d, "symbol_names": [1, 2]}, "'symbol_names'"),
    ("params", lambda d: {**d, "params": []}, "'params'"),
    ("huge_int", lambda d: {**d, "outputs": [2**70, 0]}, "int64 range"),
]


@pytest.mark.parametrize("tag, edit, fragment", _FSA_CASES, ids=[c[0] for c in _FSA_CASES])
def test_fsa_bad_tables(tmp_path, tag, edit, fragment):
    path = _write_json(tmp_path / f"f_{tag}.json", edit(_fsa_doc(tmp_path)))
    with _raises(FileFormatError, path.name, fragment):
        FSA.load(path)


@pytest.mark.parametrize("content, fragment", [
    (bytes(range(256)) * 4, "not UTF-8"),
    (b"{not json", "not valid JSON"),
    (b"", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_fsa_garbage(tmp_path, content, fragment):
    path = tmp_path / "garbage.json"
    path.write_bytes(content)
    with _raises(FileFormatError, "garbage.json", fragment):
        FSA.load(path)


def test_fsa_missing_and_folder(tmp_path):
    with _raises(FileFormatError, "nope.json", "does not exist"):
        FSA.load(tmp_path / "nope.json")
    (tmp_path / "dir.json").mkdir()
    with _raises(FileFormatError, "dir.json", "is a folder"):
        FSA.load(tmp_path / "dir.json")


# ---------------------------------------------------------------------- fixed-point files
def test_fixed_points_round_trip(tmp_path):
    fp = _fixed_points()
    back = FixedPoints.load(fp.save(tmp_path / "fp.npz"))
    np.testing.assert_array_equal(back.eigenvalues, fp.eigenvalues)
    np.testing.assert_array_equal(back.jacobians, fp.jacobians)


_FP_CASES = [
    ("missing_q", {"drop": ("q",)}, "missing member(s) ['q']"),
    ("extra", {"evil": np.zeros(1)}, "unexpected member(s) ['evil']"),
    ("q_shape", {"q": np.zeros(3)}, "q has shape"),
    ("jac_shape", {"jacobians": np.zeros((2, 3, 3))}, "jacobians has shape"),
    ("eig_shape", {"eigenvalues": np.zeros((2, 3), complex)}, "eigenvalues has shape"),
    ("inputs_rows", {"inputs": np.zeros((3, 1))}, "inputs has 3 rows"),
    ("states_text", {"states": np.array([["a", "b"], ["c", "d"]])}, "states must be"),
    ("states_1d", {"states": np.zeros(4)}, "states must be a 2-D"),
    ("nan", {"states": np.array([[np.nan, 1.0], [2.0, 3.0]])}, "NaN"),
    ("negative_q", {"q": np.array([0.0, -1.0])}, "q (a squared speed) must be >= 0"),
    ("order", {"eigenvalues": np.array([[0.5, 0.9], [1.2, 0.1]], complex)}, "decreasing modulus"),
    ("header_list", {"header": np.array(json.dumps([1]))}, "no valid header"),
    ("header_version", {"header": np.array(json.dumps({"format": "neurograph.fixed_points", "version": 7}))},
     "format version"),
    ("no_header", {"drop": ("header",)}, "no valid header"),
]


@pytest.mark.parametrize("tag, change, fragment", _FP_CASES, ids=[c[0] for c in _FP_CASES])
def test_fixed_point_files(tmp_path, tag, change, fragment):
    src = _fixed_points().save(tmp_path / "src.npz")
    change = dict(change)
    drop = change.pop("drop", ())
    path = _rewrite(src, tmp_path / f"fp_{tag}.npz", drop=drop, **change)
    with _raises(FileFormatError, path.name, fragment) as info:
        FixedPoints.load(path)
    assert not isinstance(info.value, StatsFileError)  # a fixed-point file is not a statistics file


def test_fixed_points_unreadable(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    with _raises(FileFormatError, "dir.npz", "is a folder"):
        FixedPoints.load(tmp_path / "dir.npz")
    stats = _stats().save(tmp_path / "stats.npz")
    with _raises(FileFormatError, "stats.npz", "not a neurograph fixed-point file"):
        FixedPoints.load(stats)


# ---------------------------------------------------------------------- checkpoints and data files
class _Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_faults(tmp_path):
    m = MLP(4, hidden=(8,), n_classes=3)
    with _raises(FileFormatError, "missing.pt", "does not exist"):
        load_checkpoint(m, tmp_path / "missing.pt")
    (tmp_path / "dir.pt").mkdir()
    with _raises(FileFormatError, "dir.pt", "is a folder"):
        load_checkpoint(m, tmp_path / "dir.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with _raises(FileFormatError, "junk.pt", "not a PyTorch"):
        load_checkpoint(m, tmp_path / "junk.pt")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with _raises(FileFormatError, "list.pt", "expected a state_dict"):
        load_checkpoint(m, tmp_path / "list.pt")
    torch.save({"layers.0.weight": 3}, tmp_path / "ints.pt")
    with _raises(FileFormatError, "ints.pt", "not a tensor"):
        load_checkpoint(m, tmp_path / "ints.pt")
    torch.save(m.state_dict(), tmp_path / "ok.pt")
    raw = (tmp_path / "ok.pt").read_bytes()
    (tmp_path / "trunc.pt").write_bytes(raw[: len(raw) // 2])
    with _raises(FileFormatError, "trunc.pt", "corrupt"):
        load_checkpoint(m, tmp_path / "trunc.pt")
    with _raises(ModelError, "ok.pt", "does not fit"):
        load_checkpoint(MLP(4, hidden=(9,), n_classes=3), tmp_path / "ok.pt")


def test_checkpoint_with_code_is_refused_in_one_line_and_never_run(tmp_path):
    marker = tmp_path / "PWNED"
    torch.save({"w": torch.zeros(2), "x": _Evil(marker)}, tmp_path / "evil.pt")
    with _raises(FileFormatError, "evil.pt", "never unpickles", "tensors") as info:
        load_checkpoint(MLP(4, hidden=(8,), n_classes=3), tmp_path / "evil.pt")
    assert "system" in str(info.value) and not marker.exists()
    torch.save({"w": torch.zeros(2), "obj": np.random.default_rng(0)}, tmp_path / "numpy.pt")
    with _raises(FileFormatError, "numpy.pt", "numpy.random"):
        load_checkpoint(MLP(4, hidden=(8,), n_classes=3), tmp_path / "numpy.pt")


@pytest.mark.parametrize("tag, write, exc, fragment", [
    ("missing", lambda p: None, FileFormatError, "does not exist"),
    ("folder", lambda p: p.mkdir(), FileFormatError, "is a folder"),
    ("objects", lambda p: np.savez(p, X=np.array([{"a": 1}, None], dtype=object)), FileFormatError,
     "never unpickles"),
    ("text_X", lambda p: np.savez(p, X=np.array(["a", "b"])), DataError, "'X' must be a numeric array"),
    ("complex_X", lambda p: np.savez(p, X=np.ones((2, 2), complex)), DataError, "'X' must be a numeric array"),
    ("nan_X", lambda p: np.savez(p, X=np.array([[1.0, np.nan]])), DataError, "NaN"),
    ("empty_X", lambda p: np.savez(p, X=np.zeros((0, 3))), DataError, "no samples"),
    ("y_length", lambda p: np.savez(p, X=np.zeros((3, 2)), y=np.zeros(2, int)), DataError, "one label per sample"),
    ("y_float", lambda p: np.savez(p, X=np.zeros((2, 2)), y=np.array([0.5, 1.0])), DataError, "integer class"),
    ("y_negative", lambda p: np.savez(p, X=np.zeros((2, 2)), y=np.array([0, -1])), DataError, "negative"),
    ("no_X", lambda p: np.savez(p, inputs=np.zeros(3)), FileFormatError, "no tensor 'X'"),
    ("garbage", lambda p: p.write_bytes(b"\x00\x01garbage"), FileFormatError, "corrupt"),
])
def test_npz_data_files(tmp_path, tag, write, exc, fragment):
    path = tmp_path / f"d_{tag}.npz"
    write(path)
    with _raises(exc, path.name, fragment):
        load_data_file(path)


def test_pt_data_files(tmp_path):
    marker = tmp_path / "PWNED"
    torch.save({"X": torch.zeros(2, 2), "y": _Evil(marker)}, tmp_path / "evil.pt")
    with _raises(FileFormatError, "evil.pt", "never unpickles"):
        load_data_file(tmp_path / "evil.pt")
    assert not marker.exists()
    torch.save({"X": torch.zeros(2, 2), "y": [0, 1]}, tmp_path / "ylist.pt")
    with _raises(FileFormatError, "ylist.pt", "'y' must be a tensor"):
        load_data_file(tmp_path / "ylist.pt")
    torch.save({"X": torch.tensor([[float("inf")]])}, tmp_path / "inf.pt")
    with _raises(DataError, "inf.pt", "NaN or infinite"):
        load_data_file(tmp_path / "inf.pt")
    (tmp_path / "d.csv").write_text("1,2\n")
    with _raises(FileFormatError, "d.csv", ".npz or .pt"):
        load_data_file(tmp_path / "d.csv")


# ---------------------------------------------------------------------- CSV
@pytest.mark.parametrize("tag, content, fragment", [
    ("binary", b"a,b\n\x00\x01\x02\n", "binary"),
    ("empty", b"", "empty"),
    ("blank", b"\n\n  \n", "empty"),
    ("latin1", "name,score\nJos\u00e9,1\n".encode("latin-1"), "not UTF-8"),
    ("ragged", b"a,b\n1,2\n3,4,5,6\n", "not a readable CSV table"),
])
def test_csv_faults(tmp_path, tag, content, fragment):
    path = tmp_path / f"{tag}.csv"
    path.write_bytes(content)
    with _raises(FileFormatError, path.name, fragment):
        read_csv(path)


def test_csv_missing_and_folder(tmp_path):
    with _raises(FileFormatError, "gone.csv", "does not exist"):
        read_csv(tmp_path / "gone.csv")
    (tmp_path / "dir.csv").mkdir()
    with _raises(FileFormatError, "dir.csv", "is a folder"):
        read_csv(tmp_path / "dir.csv")


# ---------------------------------------------------------------------- zoo configs
_FAMILY = '[[family]]\ntask = "blobs"\nhidden = [[4]]\nepochs = 1\n'


@pytest.mark.parametrize("tag, text, fragment", [
    ("not_toml", "[[family]\n", "not valid TOML"),
    ("name_type", 'name = 3\n' + _FAMILY, "name must be a string"),
    ("timeline_type", 'timeline = 1\n' + _FAMILY, "timeline must be a string"),
    ("blobs_type", '[blobs]\nn_samples = "many"\n' + _FAMILY, "n_samples"),
    ("blobs_key", '[blobs]\nseed = 3\n' + _FAMILY, "unknown key"),
    ("blobs_fraction", '[blobs]\ntest_fraction = 1.5\n' + _FAMILY, "test_fraction"),
    ("custom_factory_type", '[[custom]]\nname = "m"\nfactory = 3\ncheckpoints = ["a.pt"]\ndata = "d.npz"\n'
     'layers = "l"\n', "factory must be a non-empty string"),
    ("custom_rule", '[[custom]]\nname = "m"\nfactory = "pkg:f"\ncheckpoints = ["a.pt"]\ndata = "d.npz"\n'
     'layers = "l"\nrule = "magic"\n', "rule must be one of"),
    ("custom_data", '[[custom]]\nname = "m"\nfactory = "pkg:f"\ncheckpoints = ["a.pt"]\ndata = 5\n'
     'layers = "l"\n', "data must be a non-empty string"),
    ("custom_z", '[[custom]]\nname = "m"\nfactory = "pkg:f"\ncheckpoints = ["a.pt"]\ndata = "d"\n'
     'layers = "l"\nz = "high"\n', "z must be a number"),
])
def test_zoo_config_faults(tmp_path, tag, text, fragment):
    path = tmp_path / f"{tag}.toml"
    path.write_text(text)
    with _raises(ConfigError, path.name, fragment):
        load_zoo_config(path)


def test_zoo_config_unreadable(tmp_path):
    with _raises(ConfigError, "missing.toml", "does not exist"):
        load_zoo_config(tmp_path / "missing.toml")
    (tmp_path / "dir.toml").mkdir()
    with _raises(ConfigError, "dir.toml", "is a folder"):
        load_zoo_config(tmp_path / "dir.toml")
    (tmp_path / "bin.toml").write_bytes(b"name = \"\xff\xfe\"\n")
    with _raises(ConfigError, "bin.toml", "not UTF-8"):
        load_zoo_config(tmp_path / "bin.toml")


# ---------------------------------------------------------------------- zoo factory policy
def _custom_toml(folder: Path, factory: str, kwargs: str = "{}") -> Path:
    path = folder / "zoo.toml"
    path.write_text(f'[[custom]]\nname = "m"\nfactory = "{factory}"\nkwargs = {kwargs}\n'
                    'checkpoints = ["m.pt"]\ndata = "d.npz"\nlayers = ["layers.1"]\n')
    return path


def _user_files(folder: Path) -> None:
    torch.save(MLP(4, hidden=(8,), n_classes=3).state_dict(), folder / "m.pt")
    np.savez(folder / "d.npz", X=np.zeros((6, 4), np.float32), y=np.zeros(6, np.int64))


@pytest.mark.parametrize("factory", ["os:system", "subprocess:run", "shutil:rmtree", "builtins:eval",
                                     "importlib:import_module", "os.path:join", "runpy:run_path",
                                     "pickle:loads", "ctypes:CDLL", "socket:create_connection",
                                     "pty:spawn", "sys:exit"])
def test_zoo_refuses_stdlib_factories_before_running_anything(tmp_path, factory):
    marker = tmp_path / "MARKER"
    path = _custom_toml(tmp_path, factory, f'{{ command = "touch {marker}" }}')
    with _raises(ConfigError, "zoo.toml", factory, "refused"):
        load_zoo_config(path)
    assert not marker.exists()
    with _raises(ConfigError, factory, "refused"):
        load_factory(factory)


def test_zoo_refuses_a_module_beside_the_toml(tmp_path):
    marker = tmp_path / "IMPORTED"
    (tmp_path / "beside_ng_policy.py").write_text(textwrap.dedent(f"""
        open({str(marker)!r}, "w").close()
        from neurograph.models import MLP

        def build():
            return MLP(4, hidden=(8,), n_classes=3)
    """))
    _user_files(tmp_path)
    cfg = load_zoo_config(_custom_toml(tmp_path, "beside_ng_policy:build"))
    with _raises(ConfigError, "beside_ng_policy:build", "not allowed", "nothing was imported"):
        run_zoo(cfg, tmp_path / "out")
    assert not marker.exists() and not (tmp_path / "out").exists()
    # even when that folder is importable anyway and the name allowed, the config's own folder is refused
    sys.path.insert(0, str(tmp_path))
    try:
        with _raises(ConfigError, "beside_ng_policy:build", "not allowed"):
            prepare_custom(cfg.custom[0])
        with _raises(ConfigError, "beside_ng_policy:build", "configuration's folder"):
            prepare_custom(cfg.custom[0], allow_packages=["beside_ng_policy"])
    finally:
        sys.path.remove(str(tmp_path))
    assert not marker.exists() and "beside_ng_policy" not in sys.modules
    # named explicitly, the same folder is allowed
    factory, X, y = prepare_custom(cfg.custom[0], search_path=tmp_path)
    assert isinstance(build_model(factory, {}, "beside_ng_policy:build"), torch.nn.Module) and marker.exists()


def test_zoo_checks_files_before_importing_the_factory(tmp_path):
    marker = tmp_path / "lib" / "IMPORTED"
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "late_ng_policy.py").write_text(f"open({str(marker)!r}, 'w').close()\ndef build(): pass\n")
    cfg = load_zoo_config(_custom_toml(tmp_path, "late_ng_policy:build"))  # m.pt and d.npz do not exist
    with _raises(FileFormatError, "m.pt", "does not exist"):
        run_zoo(cfg, tmp_path / "out", search_path=tmp_path / "lib")
    assert not marker.exists()


def test_factory_objects_that_are_not_model_factories(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "odd_ng_policy.py").write_text(textwrap.dedent("""
        from os import system
        from subprocess import run as launch
        import numpy
        from numpy import save
        value = 3

        def not_a_model():
            return "a string"

        class Plain:
            pass
    """))
    for name, fragment in (("system", "refused"), ("launch", "refused"), ("value", "not callable"),
                           ("numpy.save", "reaches into another module"), ("save", "not a model factory"),
                           ("Plain", "not a torch.nn.Module subclass"), ("__name__", "'__'")):
        spec = f"odd_ng_policy:{name}"
        with _raises(ConfigError, spec, fragment):
            load_factory(spec, search_path=lib)
    (lib / "broken_ng_policy.py").write_text("def build(:\n")
    with _raises(ConfigError, "broken_ng_policy:build", "SyntaxError"):
        load_factory("broken_ng_policy:build", search_path=lib)
    factory = load_factory("odd_ng_policy:not_a_model", search_path=lib)
    with _raises(ConfigError, "odd_ng_policy:not_a_model", "returned a str, not a torch.nn.Module"):
        build_model(factory, {}, "odd_ng_policy:not_a_model")
    for spec in ("neurograph.zoo.runs:run_zoo", "torch:load", "torch.hub:load"):
        with _raises(ConfigError, spec, "only torch.nn.Module"):
            load_factory(spec)
    for spec in ("numpy:load", "pandas:read_pickle"):
        with _raises(ConfigError, spec, "not allowed", "nothing was imported"):
            load_factory(spec)
    assert load_factory("torch.nn:Linear") is torch.nn.Linear
    with _raises(ConfigError, "nowhere", "is not a folder"):
        load_factory("neurograph.models:MLP", search_path=tmp_path / "nowhere")
    with _raises(ConfigError, "a b:c", "dotted Python names"):
        check_factory_spec("a b:c")


def test_custom_factory_returning_no_module_is_config_error(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "nomodel_ng_policy.py").write_text("def build():\n    return 42\n")
    _user_files(tmp_path)
    from neurograph.zoo.checkpoints import score_checkpoints
    spec = CustomSpec(name="m", factory="nomodel_ng_policy:build", kwargs={}, checkpoints=(tmp_path / "m.pt",),
                      data=tmp_path / "d.npz", layers=("layers.1",))
    with _raises(ConfigError, "nomodel_ng_policy:build", "not a torch.nn.Module"):
        score_checkpoints(spec, n_null=0, search_path=lib)


def test_cli_zoo_with_os_system_exits_2_and_runs_nothing(tmp_path, capsys):
    from neurograph._main import main
    marker = tmp_path / "MARKER"
    path = _custom_toml(tmp_path, "os:system", f'{{ command = "touch {marker}" }}')
    assert main(["zoo", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "os:system" in err and len(err.splitlines()) == 1 and not marker.exists()


# ---------------------------------------------------------------------- writes: whole or nothing, no leftovers
def _boom(*_a, **_k):
    raise RuntimeError("disk full")


@pytest.mark.parametrize("kind", ["stats", "fsa", "fixed_points", "csv"])
def test_failed_writes_leave_nothing_and_keep_the_old_file(tmp_path, monkeypatch, kind):
    target = tmp_path / f"out.{'json' if kind == 'fsa' else 'csv' if kind == 'csv' else 'npz'}"
    target.write_bytes(b"previous")
    if kind == "stats":
        monkeypatch.setattr(np, "savez_compressed", _boom)
        write = lambda: _stats().save(target)  # noqa: E731
    elif kind == "fixed_points":
        monkeypatch.setattr(np, "savez_compressed", _boom)
        write = lambda: _fixed_points().save(target)  # noqa: E731
    elif kind == "fsa":
        monkeypatch.setattr(Path, "write_text", _boom)
        write = lambda: _fsa().save(target)  # noqa: E731
    else:
        monkeypatch.setattr(pd.DataFrame, "to_csv", _boom)
        write = lambda: write_csv(pd.DataFrame({"a": [1]}), target)  # noqa: E731
    with pytest.raises(RuntimeError, match="disk full"):
        write()
    assert _listing(tmp_path) == [target.name] and target.read_bytes() == b"previous"


def test_writing_onto_a_folder_is_refused(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="dir.npz.*folder"):
        _stats().save(tmp_path / "dir.npz")
    assert _listing(tmp_path) == ["dir.npz"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.skipif(os.name != "posix", reason="stale temporaries are only cleaned where pids can be probed")
def test_stale_temporaries_of_killed_writers_are_removed(tmp_path):
    target = tmp_path / "s.npz"
    with atomic_path(target, suffix=".npz") as tmp:
        name = tmp.name
        tmp.write_bytes(b"x")
    tag = name.split(".ngtmp-")[1].split("-")[0]
    dead, alive = _dead_pid(), os.getppid()
    stale = tmp_path / f".s.npz.ngtmp-{tag}-{dead}-abc123_x.npz"
    live = tmp_path / f".s.npz.ngtmp-{tag}-{alive}-def456_y.npz"
    other_host = tmp_path / f".s.npz.ngtmp-00000000-{dead}-ghi789_z.npz"
    other_target = tmp_path / f".t.npz.ngtmp-{tag}-{dead}-jkl012_w.npz"
    foreign = tmp_path / ".s.npz.user-notes.txt"
    for p in (stale, live, other_host, other_target, foreign):
        p.write_bytes(b"partial")
    if other_host.name.split("-")[1] == tag:  # this host hashes to 00000000: nothing to compare against
        other_host.unlink()
    _stats().save(target)  # the next write to the same target cleans up
    left = set(_listing(tmp_path))
    assert stale.name not in left and target.name in left
    assert {live.name, other_target.name, foreign.name} <= left
    assert remove_stale_temporaries(target) == []


def test_killed_writer_leftover_is_cleaned_on_next_write(tmp_path):
    target = tmp_path / "k.npz"
    code = textwrap.dedent(f"""
        import os, signal
        from neurograph.io.atomic import atomic_path
        with atomic_path({str(target)!r}, suffix=".npz") as tmp:
            tmp.write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    if os.name != "posix":
        pytest.skip("SIGKILL is POSIX")
    subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert len(_listing(tmp_path)) == 1 and _listing(tmp_path)[0].startswith(".k.npz.ngtmp-")
    _fixed_points().save(target)
    assert _listing(tmp_path) == ["k.npz"]


# ---------------------------------------------------------------------- fuzzing the three formats
_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                 derandomize=True)


def _mutation():
    flips = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=3)
    return st.one_of(st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
                     st.tuples(st.just("flip"), flips))


def _mutate(raw: bytes, mutation) -> bytes:
    kind, arg = mutation
    if kind == "truncate":
        return raw[: int(arg * len(raw))]
    out = bytearray(raw)
    for pos, xor in arg:
        out[int(pos * len(out))] ^= xor
    return bytes(out)


def _fuzz_load(raw: bytes, mutation, suffix: str, load, check) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzzed{suffix}"
        path.write_bytes(_mutate(raw, mutation))
        try:
            obj = load(path)
        except FileFormatError as exc:
            assert "fuzzed" in str(exc) and len(str(exc).splitlines()) == 1
            return
        check(obj)


def _check_stats(s: CoactivationStats) -> None:
    f, c, n = s.fire_counts, s.cofire_counts, s.n_samples
    assert c.shape == (len(f), len(f)) == (len(s.neurons), len(s.neurons))
    assert np.array_equal(c, c.T) and np.array_equal(np.diag(c), f)
    assert (c >= 0).all() and (c <= np.minimum.outer(f, f)).all() and (f <= n).all()
    if s.n_classes:
        assert s.class_counts.sum() == n and (s.class_fire_counts <= s.class_counts[:, None]).all()
        assert np.array_equal(s.class_fire_counts.sum(0), f)
    if s.moments is not None:
        assert s.moments.n_samples == n and np.isfinite(s.moments.comoment).all()


def _check_fsa(f: FSA) -> None:
    assert f.transitions.min() >= 0 and f.transitions.max() < f.n_states and 0 <= f.start < f.n_states
    f.predict([[0, 1, 1], [1]])


def _check_fixed_points(fp: FixedPoints) -> None:
    k, d = fp.states.shape
    assert fp.jacobians.shape == (k, d, d) and np.isfinite(fp.states).all() and (fp.q >= 0).all()


def _bytes_of(write) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return Path(write(Path(folder))).read_bytes()


_STATS_RAW = _bytes_of(lambda d: _stats().save(d / "s.npz"))
_FP_RAW = _bytes_of(lambda d: _fixed_points().save(d / "f.npz"))
_FSA_RAW = _bytes_of(lambda d: _write_json(d / "f.json", _fsa_doc(d)))


@_FUZZ
@given(mutation=_mutation())
def test_fuzz_stats_file(mutation):
    _fuzz_load(_STATS_RAW, mutation, ".npz", CoactivationStats.load, _check_stats)


@_FUZZ
@given(mutation=_mutation())
def test_fuzz_fixed_point_file(mutation):
    _fuzz_load(_FP_RAW, mutation, ".npz", FixedPoints.load, _check_fixed_points)


@_FUZZ
@given(mutation=_mutation())
def test_fuzz_fsa_file(mutation):
    _fuzz_load(_FSA_RAW, mutation, ".json", FSA.load, _check_fsa)


# ---------------------------------------------------------------------- declared sizes, checked before reading
def _lying_member(path: Path, member: str, shape: tuple, descr: str = "<f8", data: bytes = b"\0" * 16,
                  compress: bool = False) -> Path:
    """Add (or replace) ``member`` in the .npz ``path``: its .npy header declares ``shape`` but holds only ``data``."""
    import io

    from numpy.lib import format as npy

    head = io.BytesIO()
    npy.write_array_header_1_0(head, {"descr": descr, "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path) as zf:
        kept = [(i.filename, zf.read(i)) for i in zf.infolist() if i.filename != f"{member}.npy"]
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=mode) as zf:
        for name, content in kept:
            zf.writestr(name, content)
        zf.writestr(f"{member}.npy", head.getvalue() + data)
    return path


def _load_fast(path: Path, exc_type, *fragments: str, seconds: float = 1.0) -> None:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with _raises(exc_type, path.name, *fragments):
        CoactivationStats.load(path) if exc_type is StatsFileError else load_data_file(path)
    assert time.perf_counter() - t0 < seconds
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # ru_maxrss is KiB on Linux
    assert grown_mib < 100, f"peak memory grew by {grown_mib:.0f} MiB"


@pytest.mark.parametrize("compress", [False, True])
def test_stats_unexpected_800mb_member_is_refused_unread(stats_file, tmp_path, compress):
    path = _lying_member(stats_file[1], "junk", (100_000_000,), compress=compress)
    assert path.stat().st_size < 100_000
    _load_fast(path, StatsFileError, "unexpected member(s) ['junk']")


@pytest.mark.parametrize("member, shape, descr, fragment", [
    ("cofire_counts", (100_000, 100_000), "<i8", "more elements than the neuron table (5 neurons)"),
    ("class_fire_counts", (30_000, 30_000), "<i8", "more elements than the neuron table (5 neurons) and 3 classes"),
    ("fire_counts", (10**8,), "<i8", "more elements than the neuron table imply (5)"),
    ("moments_comoment", (50_000, 50_000), "<f8", "'moments_comoment' declares shape (50000, 50000)"),
    ("header", (), "<U100000000", "a header holds at most"),
    ("layer", (5,), "<U10000000", "a name holds at most"),
    ("pattern_vals_0", (10**8,), "<i8", "more patterns than the 40 samples"),
])
def test_stats_member_declaring_more_than_d_and_c_imply_is_refused_unread(stats_file, tmp_path, member, shape,
                                                                          descr, fragment):
    path = _lying_member(stats_file[1], member, shape, descr)
    _load_fast(path, StatsFileError, repr(member) if member != "pattern_vals_0" else "pattern_vals_0", fragment)


def test_stats_zip_member_that_is_not_npy_is_named(stats_file):
    path = stats_file[1]
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("notes.txt", b"x" * 1000)
    with _raises(StatsFileError, "good.npz", "'notes.txt'", "not a numpy array"):
        CoactivationStats.load(path)


def test_cli_graph_on_a_lying_stats_file_exits_2_and_writes_nothing(stats_file, tmp_path, capsys):
    from neurograph._main import main

    path = _lying_member(stats_file[1], "junk", (100_000_000,))
    assert main(["graph", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'junk'" in err[0] and err[0].startswith("neurograph graph: error: STATS"), err
    assert not (tmp_path / "out").exists()


def test_data_file_with_a_huge_unused_member_or_too_many_labels(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((6, 4), np.float32), y=np.zeros(6, np.int64), names=np.array(["a", "b"]))
    assert load_data_file(path)[0].shape == (6, 4)  # small extra members are still read and ignored
    _lying_member(path, "junk", (100_000_000,))
    _load_fast(path, FileFormatError, "'junk': 800,000,000", "not X or y", "more than 1,048,576 bytes")
    np.savez(path, X=np.zeros((6, 4), np.float32), y=np.zeros(6, np.int64))
    _lying_member(path, "y", (100_000_000,), "<i8")
    _load_fast(path, DataError, "'y' declares 100,000,000 labels", "6 samples of 'X'")


@pytest.mark.parametrize("member, shape, fragment", [
    ("junk", (100_000_000,), "unexpected member(s) ['junk']"),
    ("jacobians", (10_000, 100, 100), "more than states of shape (2, 2) imply (8 elements)"),
    ("inputs", (100_000_000, 1), "inputs has 100,000,000 rows (declared), expected one per point (2)"),
])
def test_fixed_point_file_declaring_too_much_is_refused_unread(tmp_path, member, shape, fragment):
    path = _lying_member(_fixed_points().save(tmp_path / "fp.npz"), member, shape)
    t0 = time.perf_counter()
    with _raises(FileFormatError, "fp.npz", fragment):
        FixedPoints.load(path)
    assert time.perf_counter() - t0 < 1.0


def test_stats_pattern_member_beyond_the_header_layers_is_refused_unread(stats_file):
    path = _lying_member(stats_file[1], "pattern_vals_7", (30,), "<i8")  # the header lists 2 pattern layers
    _load_fast(path, StatsFileError, "unexpected member(s) ['pattern_vals_7']")


def test_gzipped_idx_file_is_inflated_only_as_far_as_its_header_declares(tmp_path):
    import gzip
    import resource

    from neurograph.datasets.fashion import read_idx

    header = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big")
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as fh:  # 3 labels declared, then 400 MB of zeros (a 400 KB file)
        fh.write(header + b"\x01\x02\x03")
        chunk = bytes(1 << 22)
        for _ in range(100):
            fh.write(chunk)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with _raises(DataError, "t10k-labels-idx1-ubyte.gz", "holds 12 bytes but its header", "needs 11"):
        read_idx(path)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 100


def test_checkpoint_declaring_far_more_than_the_model_holds_is_refused_unread(tmp_path):
    path = tmp_path / "big.pt"
    torch.save(MLP(4, hidden=(8,), n_classes=3).state_dict(), path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("big/data/99", "w") as fh:  # 64 MiB of zeros in a few KB
            chunk = bytes(1 << 22)
            for _ in range(16):
                fh.write(chunk)
    assert path.stat().st_size < 200_000
    with _raises(FileFormatError, "big.pt", "declares 67,1", "far more than", "refused before reading"):
        load_checkpoint(MLP(4, hidden=(8,), n_classes=3), path)
    good = tmp_path / "good.pt"
    torch.save(MLP(4, hidden=(8,), n_classes=3).state_dict(), good)
    load_checkpoint(MLP(4, hidden=(8,), n_classes=3), good)
