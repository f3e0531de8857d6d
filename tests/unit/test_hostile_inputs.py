"""Hostile inputs: every fault gives the documented error class, naming the culprit, and leaves no files.

CLI: exit status 2 with exactly one line on stderr naming the argument (``--verbose`` adds the
traceback). Library: a bad option value is OptionError, bad data DataError, an unusable graph
GraphError, an unwritable output an OSError naming the path. Tiny generated data only.
"""

from __future__ import annotations

import errno
import math

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

from neurograph._main import main
from neurograph.graph.communities import detect_communities, modularity, modularity_significance, resolution_profile
from neurograph.scoring.correlation import composite_score, correlate, label_free_ranking
from neurograph.dynamics.fixed_points import attractor_dimension, find_fixed_points, sample_initial_states
from neurograph.errors import DataError, GraphError, NeurographWarning, OptionError
from neurograph.io.export import export_gexf, export_graphml
from neurograph.automata.extract import cluster_states, extract_fsa
from neurograph.automata.structure import fsa_graph, state_words
from neurograph.graph.activation import ActivationGraph, activation_graph
from neurograph.dynamics.limit_cycle import find_limit_cycle
from neurograph.dynamics.phase_code import phase_shifts
from neurograph.scoring.pipeline import analyze, write_analysis
from neurograph.io.plots import plot_entropy, plot_score_grid, save_figure
from neurograph.io.report import write_report
from neurograph.recording.states import StateTrace
from neurograph.stats import CoactivationStats
from neurograph.io.timeline import export_dynamic_gexf


# ---------------------------------------------------------------------------- tiny data
def _stats(seed: int = 0, n: int = 120) -> CoactivationStats:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = rng.random((n, 4)) < np.where(y[:, None] == 1, 0.8, 0.1)
    b = rng.random((n, 4)) < np.where(y[:, None] == 1, 0.1, 0.8)
    return CoactivationStats.from_binary(np.hstack([a, b]), y)


def _graph(weights=(1.0, 2.0, 0.5), edges=((0, 1), (1, 2), (2, 3))) -> ActivationGraph:
    n = 4
    nodes = pd.DataFrame({"neuron": np.arange(n), "layer": "l", "unit": np.arange(n), "fire_prob": 0.5})
    excluded = pd.DataFrame({"neuron": [], "layer": [], "unit": [], "fire_prob": [], "reason": []})
    return ActivationGraph(nodes=nodes, edges=np.asarray(edges, dtype=np.int64).reshape(-1, 2),
                           weights=np.asarray(weights, dtype=float), weight="npmi", n_samples=10,
                           excluded=excluded, params={})


def _trace(nan_row: int | None = None) -> StateTrace:
    states = np.array([[0.0], [0.1], [5.0], [0.0], [5.1], [0.0], [0.2]], np.float32)
    if nan_row is not None:
        states[nan_row] = np.nan
    return StateTrace(states=states, tokens=np.array([[0, 1], [1, 0], [0, 0]]), lengths=np.array([2, 1, 1]),
                      labels=None, predictions=np.array([1, 1, 0]))


def _rotation(x, h):
    a = 2 * math.pi * (0.125 + x[:, 0])
    return torch.stack([h[:, 0] * a.cos() - h[:, 1] * a.sin(), h[:, 0] * a.sin() + h[:, 1] * a.cos()], 1)


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*"))


# ---------------------------------------------------------------------------- CLI: exit 2, one line, the argument
def _cli(argv, capsys) -> str:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"neurograph {argv[0]}: error: "), err
    assert "Traceback" not in err and "\x1b[" not in err
    return lines[0]


@pytest.fixture
def files(tmp_path):
    """A folder with a good stats file, an ordinary file, an empty file, garbage, a sub-folder."""
    _stats().save(tmp_path / "s.npz")
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "garbage.npz").write_bytes(b"\xff\xfe\x00 not an archive")
    (tmp_path / "adir").mkdir()
    pd.DataFrame({"modularity": [0.1, 0.3, 0.2, 0.5], "test_accuracy": [0.5, 0.7, 0.6, 0.9]}).to_csv(
        tmp_path / "t.csv", index=False)
    return tmp_path


CLI_CASES = [
    # (argv with {d} for the folder, argument that must be named, another word that must appear)
    (["graph", "{d}/s.npz", "--out", "{d}/afile"], "--out", "file, not a folder"),
    (["graph", "{d}/s.npz", "--out", "{d}/afile/sub"], "--out", "afile"),
    (["demo", "--out", "{d}/afile"], "--out", "file, not a folder"),
    (["demo", "--out", "{d}/o", "--epochs", "0"], "--epochs", ">= 1"),
    (["graph", "{d}/adir", "--out", "{d}/o"], "STATS", "folder"),
    (["graph", "{d}/missing.npz", "--out", "{d}/o"], "STATS", "does not exist"),
    (["graph", "{d}/empty.npz", "--out", "{d}/o"], "STATS", "empty"),
    (["graph", "{d}/garbage.npz", "--out", "{d}/o"], "STATS", "garbage.npz"),
    (["graph", "{d}/t.csv", "--out", "{d}/o"], "STATS", "t.csv"),
    (["graph", "{d}/s.npz", "--out", "{d}/o", "--threshold", "nan"], "--threshold", "finite"),
    (["graph", "{d}/s.npz", "--out", "{d}/o", "--top-k", "-1"], "--top-k", "-1"),
    (["graph", "{d}/s.npz", "--out", "{d}/o", "--alpha", "1.5"], "--alpha", "1.5"),
    (["graph", "{d}/s.npz", "--out", "{d}/o", "--resolution", "0"], "--resolution", "0"),
    (["graph", "{d}/s.npz", "--out", "{d}/o", "--n-null", "1"], "--n-null", "1"),
    (["correlate", "{d}/adir"], "TABLE", "folder"),
    (["correlate", "{d}/garbage.npz"], "TABLE", "garbage.npz"),
    (["correlate", "{d}/t.csv", "--out", "{d}/afile"], "--out", "folder"),
    (["correlate", "{d}/t.csv", "--out", "{d}/nowhere/c.csv"], "--out", "nowhere"),
    (["correlate", "{d}/t.csv", "--metrics", "nope"], "--metrics", "'nope'"),
    (["correlate", "{d}/t.csv", "--n-boot", "-1"], "--n-boot", "-1"),
    (["report", "{d}/afile"], "DIR", "not a folder"),
    (["report", "{d}/adir"], "DIR", "scores.csv"),
    (["zoo", "{d}/adir", "--out", "{d}/o"], "CONFIG", "folder"),
    (["zoo", "{d}/t.csv", "--out", "{d}/afile"], "--out", "file, not a folder"),
]


@pytest.mark.parametrize("argv, culprit, word", CLI_CASES)
def test_cli_bad_input_is_one_line_naming_the_argument(files, capsys, argv, culprit, word):
    line = _cli([a.replace("{d}", str(files)) for a in argv], capsys)
    assert culprit in line and word in line
    assert not (files / "o").exists()                     # nothing made for a failed command


@pytest.mark.parametrize("name, content", [("neurons.csv", b"\xff\xfe\x00binary"),
                                           ("summary.csv", b"a,b\n1,2,3\n\"unterminated"),
                                           ("summary.csv", b"caf\xe9,x\n1,2\n")])
def test_cli_report_unreadable_optional_table_names_it(files, capsys, name, content):
    run = files / "run"
    run.mkdir()
    pd.DataFrame({"run": list("abcd"), "epoch": [1] * 4, "modularity": [0.1, 0.3, 0.2, 0.5],
                  "test_accuracy": [0.5, 0.7, 0.6, 0.9]}).to_csv(run / "scores.csv", index=False)
    (run / name).write_bytes(content)
    line = _cli(["report", run], capsys)
    assert name in line and "DIR" in line
    assert _files(run) == sorted(["scores.csv", name])     # failed before writing anything


def test_cli_checkpoint_refused_by_weights_only_is_one_line(tmp_path, capsys):
    torch.save(torch.nn.Linear(4, 2), tmp_path / "bad.pt")      # a pickled module, not its state_dict
    np.savez(tmp_path / "d.npz", X=np.zeros((6, 4), np.float32), y=np.arange(6) % 2)
    line = _cli(["score", "--factory", "neurograph.models:MLP", "--kwargs",
                 '{"in_features": 4, "hidden": [3], "n_classes": 2}', "--checkpoint", tmp_path / "bad.pt",
                 "--data", tmp_path / "d.npz", "--layers", "layers.*"], capsys)
    assert "--checkpoint" in line and "bad.pt" in line and "Linear" in line


def test_cli_multi_line_library_messages_become_one_line(files, capsys, monkeypatch):
    import neurograph._main as cli

    torch_text = ("Weights only load failed. This file can still be loaded, to do so you have two options, "
                  "\x1b[1mdo those steps only if you trust the source of the checkpoint\x1b[0m. \n\t(1) In PyTorch "
                  "2.6, we changed the default.\n\tWeightsUnpickler error: Unsupported global: GLOBAL a.B was not "
                  "an allowed global by default. Please use `torch.serialization.add_safe_globals([a.B])`.\n\n"
                  "Check the documentation of torch.load.")

    def boom(args):
        raise DataError(f"checkpoint {str(files / 'x.pt')!r} is not readable: {torch_text}")

    monkeypatch.setitem(cli._COMMANDS, "graph", boom)
    line = _cli(["graph", files / "x.pt", "--out", files / "o"], capsys)
    assert "Unsupported global: GLOBAL a.B" in line and "weights_only=True" in line and "(1)" not in line


def test_cli_verbose_shows_the_traceback_before_or_after_the_command(files, capsys):
    for argv in (["--verbose", "graph", files / "adir", "--out", files / "o"],
                 ["graph", files / "adir", "--out", files / "o", "--verbose"]):
        assert main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err
        assert err.strip().splitlines()[-1].startswith("neurograph graph: error: STATS")


def test_cli_usage_error_is_one_line_and_exit_2(files, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["graph", str(files / "s.npz"), "--out", str(files / "o"), "--method", "magic"])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--method" in lines[0] and lines[0].startswith("neurograph graph: error:")


# ---------------------------------------------------------------------------- graphs and communities
@pytest.mark.parametrize("weights, word", [((1.0, -1.0, 0.5), "negative"), ((1.0, np.nan, 0.5), "NaN"),
                                           ((1.0, np.inf, 0.5), "infinite")])
def test_activation_graph_refuses_bad_weights_on_construction(weights, word):
    with pytest.raises(GraphError, match=word) as exc:
        _graph(weights)
    assert "ActivationGraph weights" in str(exc.value) and "(1, 2)" in str(exc.value)


def test_activation_graph_refuses_repeated_or_out_of_range_edges():
    with pytest.raises(GraphError, match="repeat"):
        _graph((1.0, 1.0), ((0, 1), (0, 1)))
    with pytest.raises(GraphError, match="0..3"):
        _graph((1.0,), ((0, 7),))
    with pytest.raises(GraphError, match="shape"):
        _graph((1.0, 2.0), ((0, 1),))


@pytest.mark.parametrize("call", [lambda g: detect_communities(g), lambda g: modularity(g, [0, 0, 1, 1]),
                                  lambda g: modularity_significance(g, n_null=2),
                                  lambda g: resolution_profile(g, [1.0])])
def test_weights_changed_after_construction_are_caught_on_every_path(call):
    g = _graph()
    g.weights[1] = -2.0                                   # numpy arrays stay writable
    with pytest.raises(GraphError, match="ActivationGraph weights must be >= 0"):
        call(g)
    g.weights[1] = np.nan
    with pytest.raises(GraphError, match="finite"):
        call(g)


def test_igraph_and_networkx_inputs_are_checked_like_activation_graphs():
    gi = ig.Graph(n=3, edges=[(0, 1), (1, 2)])
    gi.es["weight"] = [1.0, float("nan")]
    with pytest.raises(GraphError, match="'weight' must be finite"):
        detect_communities(gi)
    with pytest.raises(GraphError, match="'weight' must hold numbers"):
        detect_communities(nx.Graph([(0, 1, {"weight": "heavy"})]))
    with pytest.raises(GraphError, match="negative"):
        modularity(nx.Graph([(0, 1, {"weight": -1.0})]), [0, 1])
    with pytest.raises(GraphError, match="undirected"):
        detect_communities(ig.Graph(n=2, edges=[(0, 1)], directed=True))
    with pytest.raises(GraphError, match="DiGraph"):
        modularity_significance(nx.DiGraph([(0, 1)]))
    with pytest.raises(GraphError, match="graph must be"):
        resolution_profile(np.eye(3), [1.0])


def test_missing_weights_count_one_and_empty_graphs_give_the_documented_result():
    unweighted = nx.barbell_graph(4, 0)
    weighted = nx.barbell_graph(4, 0)
    nx.set_edge_attributes(weighted, 1.0, "weight")
    assert detect_communities(unweighted).modularity == detect_communities(weighted).modularity
    empty = detect_communities(_graph((), np.zeros((0, 2), np.int64)))
    assert empty.n_communities == 4 and math.isnan(empty.modularity)       # every node alone, Q undefined
    none = detect_communities(nx.Graph())
    assert none.n_communities == 0 and none.membership.shape == (0,)
    sig = modularity_significance(nx.empty_graph(3), n_null=2)
    assert math.isnan(sig.z) and sig.null_values.shape == (2,)


@pytest.mark.parametrize("call, name", [
    (lambda g: detect_communities(g, "girvan_newman"), "method"),
    (lambda g: detect_communities(g, resolution=0.0), "resolution"),
    (lambda g: detect_communities(g, resolution=float("nan")), "resolution"),
    (lambda g: detect_communities(g, seed="zero"), "seed"),
    (lambda g: detect_communities(g, seed=1.5), "seed"),
    (lambda g: detect_communities(g, objective="surprise"), "objective"),
    (lambda g: modularity(g, [0] * 8, resolution=-1.0), "resolution"),
    (lambda g: modularity_significance(g, n_null=1), "n_null"),
    (lambda g: modularity_significance(g, n_null=2.0), "n_null"),
    (lambda g: modularity_significance(g, n_jobs=0), "n_jobs"),
    (lambda g: resolution_profile(g, []), "resolutions"),
    (lambda g: resolution_profile(g, [1.0, -2.0]), r"resolutions\[1\]"),
    (lambda g: resolution_profile(g, ["high"]), "resolutions"),
])
def test_community_option_values_raise_option_error(call, name):
    with pytest.raises(OptionError, match=name):
        call(nx.barbell_graph(4, 0))


@pytest.mark.parametrize("kwargs, name", [({"weight": "pearson"}, "weight"), ({"threshold": float("nan")}, "threshold"),
                                          ({"top_k": -1}, "top_k"), ({"top_k": 2.5}, "top_k"),
                                          ({"alpha": 1.0}, "alpha"), ({"drop_inactive": "yes"}, "drop_inactive")])
def test_activation_graph_option_values_raise_option_error(kwargs, name):
    with pytest.raises(OptionError, match=name):
        activation_graph(_stats(), **kwargs)


# ---------------------------------------------------------------------------- writers: named path, no partial files
@pytest.mark.parametrize("writer", [export_gexf, export_graphml])
def test_export_to_a_folder_or_missing_folder_names_the_path(tmp_path, writer):
    (tmp_path / "taken").mkdir()
    with pytest.raises(IsADirectoryError, match="taken") as exc:
        writer(_graph(), tmp_path / "taken")
    assert exc.value.errno == errno.EISDIR and "\n" not in str(exc.value)
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        writer(_graph(), tmp_path / "no_such_folder" / "g.xml")
    (tmp_path / "plain").write_text("x")
    with pytest.raises(NotADirectoryError, match="plain"):
        writer(_graph(), tmp_path / "plain" / "g.xml")
    assert _files(tmp_path) == ["plain", "taken"]


def test_export_bad_version_and_os_error_mid_write_leave_no_file(tmp_path, monkeypatch):
    with pytest.raises(OptionError, match="version"):
        export_gexf(_graph(), tmp_path / "g.gexf", version="2.0")

    def full(G, path, *args, **kwargs):
        with open(path, "w") as fh:
            fh.write("<gexf")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(nx, "write_gexf", full)
    with pytest.raises(OSError, match=r"cannot write '.*g\.gexf': No space left") as exc:
        export_gexf(_graph(), tmp_path / "g.gexf")
    assert exc.value.errno == errno.ENOSPC
    assert _files(tmp_path) == []


def test_dynamic_gexf_and_figures_refuse_bad_options_and_paths(tmp_path):
    g = activation_graph(_stats())
    with pytest.raises(OptionError, match="increasing"):
        export_dynamic_gexf([g, g], tmp_path / "t.gexf", times=[1, 1])
    with pytest.raises(OptionError, match="times has 1"):
        export_dynamic_gexf([g, g], tmp_path / "t.gexf", times=[1])
    with pytest.raises(IsADirectoryError, match="cannot write"):
        export_dynamic_gexf([g], tmp_path, times=[0])
    fig = plot_entropy(pd.DataFrame({"entropy": [0.1, 0.5], "layer": ["a", "b"]}))
    with pytest.raises(IsADirectoryError, match=str(tmp_path.name)):
        save_figure(fig, tmp_path)
    with pytest.raises(OptionError, match="dpi"):
        save_figure(fig, tmp_path / "f.png", dpi=0)
    assert _files(tmp_path) == []


def test_pipeline_and_plots_name_the_bad_argument(tmp_path):
    stats = _stats()
    for n_null in (1, -3, 2.5):
        with pytest.raises(OptionError, match="n_null"):
            analyze(stats, n_null=n_null)
    with pytest.raises(OptionError, match="resolution"):
        analyze(stats, resolution=-1.0, n_null=0)
    with pytest.raises(DataError, match="stats"):
        analyze(np.zeros((3, 3)))
    a = analyze(stats, n_null=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="file"):
        write_analysis(a, tmp_path / "file")
    with pytest.raises(OptionError, match="name"):
        write_analysis(a, tmp_path / "out", name="../escape")
    assert _files(tmp_path) == ["file"]
    table = pd.DataFrame({"m": [0.1, 0.2, 0.3], "test_accuracy": [0.4, 0.5, 0.7]})
    with pytest.raises(OptionError, match="ncols"):
        plot_score_grid(table, ["m"], ncols=0)
    with pytest.raises(DataError, match="'nope'"):
        plot_score_grid(table, ["nope"])


# ---------------------------------------------------------------------------- correlation and report options
@pytest.mark.parametrize("call, name", [
    (lambda t: correlate(t, "m", methods=["magic"]), "methods"),
    (lambda t: correlate(t, "m", n_boot=-1), "n_boot"),
    (lambda t: correlate(t, "m", confidence=1.0), "confidence"),
    (lambda t: correlate(t, "m", seed="s"), "seed"),
    (lambda t: correlate(t, []), "metrics"),
    (lambda t: label_free_ranking(t, ["m"], alpha=0.0), "alpha"),
    (lambda t: composite_score(t, ["m"], [1.0, -1.0]), "signs"),
])
def test_correlation_option_values_raise_option_error(call, name):
    t = pd.DataFrame({"m": [0.1, 0.3, 0.2, 0.5], "test_accuracy": [0.5, 0.7, 0.6, 0.9]})
    with pytest.raises(OptionError, match=name):
        call(t)


def test_report_bad_options_write_nothing(tmp_path):
    pd.DataFrame({"modularity": [0.1, 0.3, 0.2], "test_accuracy": [0.5, 0.7, 0.6]}).to_csv(
        tmp_path / "scores.csv", index=False)
    with pytest.raises(OptionError, match="n_boot"):
        write_report(tmp_path, n_boot=-1)
    with pytest.raises(OptionError, match="seed"):
        write_report(tmp_path, seed=0.5)
    (tmp_path / "neurons.csv").write_bytes(b"\x00\x01binary")
    with pytest.raises(OSError, match="neurons.csv"):
        write_report(tmp_path, n_boot=10)
    assert _files(tmp_path) == ["neurons.csv", "scores.csv"]


# ---------------------------------------------------------------------------- dynamics
def test_chaotic_map_reports_no_cycle_instead_of_crashing():
    c = find_limit_cycle(lambda x, h: 3.99 * h * (1 - h), np.zeros(1), [0.3])
    assert c.kind == "none" and not c.is_cycle and math.isnan(c.period)


def test_fixed_points_of_a_cell_with_nan_weights_name_the_parameter():
    cell = torch.nn.RNNCell(1, 3)
    with torch.no_grad():
        cell.weight_hh[0, 1] = float("nan")
    with pytest.raises(DataError, match="'weight_hh'"):
        find_fixed_points(cell, torch.zeros(1), np.zeros((4, 3)))
    with pytest.raises(DataError, match="'weight_hh'"):
        find_limit_cycle(cell, torch.zeros(1), np.zeros(3))


def test_fixed_points_of_a_cell_giving_nan_say_so():
    with pytest.raises(DataError, match="NaN or infinite states .* from all 4 initial_states"):
        find_fixed_points(lambda x, h: torch.log(h - 10.0), torch.zeros(1), np.zeros((4, 2)))
    with pytest.raises(DataError, match="x contains NaN"):
        find_fixed_points(torch.nn.RNNCell(1, 2), torch.tensor([float("nan")]), np.zeros((2, 2)))
    partly = lambda x, h: torch.where(h[:, :1] > 0, torch.full_like(h, float("nan")), 0.5 * h)  # noqa: E731
    with pytest.warns(NeurographWarning, match="1 of 3 initial_states"):
        fps = find_fixed_points(partly, torch.zeros(1), np.array([[1.0, 0.0], [-1.0, 0.0], [-2.0, 1.0]]))
    assert len(fps) == 1 and np.allclose(fps.states, 0.0, atol=1e-6)


def test_limit_cycle_nan_input_and_diverging_state_are_data_errors():
    with pytest.raises(DataError, match="x contains NaN"):
        find_limit_cycle(_rotation, np.array([np.nan]), [1.0, 0.0])
    with pytest.raises(DataError, match="NaN or infinite"):
        find_limit_cycle(lambda x, h: torch.sqrt(h - 10.0), np.zeros(1), [1.0], n_transient=3)


@pytest.mark.parametrize("call, name", [
    (lambda: find_fixed_points(_rotation, np.zeros(1), np.ones((2, 2)), q_tol=-1.0), "q_tol"),
    (lambda: find_fixed_points(_rotation, np.zeros(1), np.ones((2, 2)), max_iters=1.5), "max_iters"),
    (lambda: find_fixed_points(_rotation, np.zeros(1), np.ones((2, 2)), seed="x"), "seed"),
    (lambda: find_fixed_points(_rotation, np.zeros(1), np.ones((2, 2)), state_pair="yes"), "state_pair"),
    (lambda: find_limit_cycle(_rotation, np.zeros(1), [1.0, 0.0], n_transient=-1), "n_transient"),
    (lambda: find_limit_cycle(_rotation, np.zeros(1), [1.0, 0.0], tol=0.0), "tol"),
    (lambda: find_limit_cycle(_rotation, np.zeros(1), [1.0, 0.0], n_loops=True), "n_loops"),
    (lambda: sample_initial_states(np.zeros((5, 2)), 0), "n must"),
    (lambda: sample_initial_states(np.zeros((5, 2)), 3, noise_sd=-1.0), "noise_sd"),
    (lambda: attractor_dimension(np.random.default_rng(0).normal(size=(9, 3)), variance=0.0), "variance"),
])
def test_dynamics_option_values_raise_option_error(call, name):
    with pytest.raises(OptionError, match=name):
        call()


def test_phase_shifts_name_bad_inputs_and_options():
    cycle = find_limit_cycle(_rotation, np.zeros(1), [1.0, 0.0], n_transient=0)
    with pytest.raises(DataError, match=r"inputs_by_value\['b'\] contains NaN"):
        phase_shifts(_rotation, {"a": [0.1], "b": [np.nan]}, cycle)
    with pytest.raises(OptionError, match="n_phases"):
        phase_shifts(_rotation, {"a": [0.1]}, cycle, n_phases=0)
    with pytest.raises(OptionError, match="n_relax"):
        phase_shifts(_rotation, {"a": [0.1]}, cycle, n_relax=-1)
    shifts = phase_shifts(_rotation, {"a": [0.25], "b": [0.0]}, cycle, input_steps=1, n_phases=4)
    with pytest.raises(OptionError, match="n_states"):
        shifts.automaton(0)
    with pytest.raises(OptionError, match="reference"):
        shifts.automaton(4, reference="zz")
    with pytest.raises(DataError, match="states contain NaN"):
        attractor_dimension(np.array([[0.0, 1.0], [np.nan, 2.0]]))


# ---------------------------------------------------------------------------- FSA extraction
def test_extract_fsa_on_nan_states_names_the_trace_field():
    with pytest.raises(DataError, match=r"trace\.states .*row 2, sequence 0"):
        extract_fsa(_trace(nan_row=2), 2)
    with pytest.raises(DataError, match=r"trace\.states .*row 3, sequence 1"):
        extract_fsa(_trace(nan_row=3), 2)             # an initial state (the start state's centre)
    with pytest.raises(DataError, match=r"trace\.states"):
        cluster_states(_trace(nan_row=6), 2)


@pytest.mark.parametrize("kwargs, name", [({"method": "dbscan"}, "method"), ({"n_states": 0}, "n_states"),
                                          ({"accept": "vote"}, "accept"), ({"unseen": "stay"}, "unseen"),
                                          ({"transition_weight": -1.0}, "transition_weight"),
                                          ({"seed": "s"}, "seed"), ({"n_init": 0}, "n_init"),
                                          ({"accept": "readout", "readout": 3}, "readout"),
                                          ({"alphabet": ["a", "b"]}, "alphabet")])
def test_extract_fsa_option_values_raise_option_error(kwargs, name):
    kwargs = {"n_states": 2, **kwargs}
    with pytest.raises(OptionError, match=name):
        extract_fsa(_trace(), **kwargs)


def test_fsa_structure_option_values_raise_option_error():
    fsa = extract_fsa(_trace(), 2)
    with pytest.raises(OptionError, match="weight"):
        fsa_graph(fsa, weight="edges")
    with pytest.raises(OptionError, match="self_loops"):
        fsa_graph(fsa, self_loops=1)
    with pytest.raises(OptionError, match="top"):
        state_words(fsa, _trace(), top=0)
    with pytest.raises(OptionError, match="vocab"):
        state_words(fsa, _trace(), vocab=["only one"])
    with pytest.raises(DataError, match="fsa must be an FSA"):
        fsa_graph("not an fsa")
