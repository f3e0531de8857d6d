"""Hostile configurations and options: nothing runs that the user did not allow, nothing huge is allocated.

Each case checks the error type, that the message names the culprit, that nothing executed (a
sentinel file that the hostile code would write stays absent; modules stay unimported) and that
nothing was written. CLI cases: exit status 2 and one line on stderr.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from neurograph._limits import MAX_EPOCHS, MAX_N_BOOT, MAX_N_NULL, MAX_RUNS, MAX_WORKERS
from neurograph._main import main
from neurograph.errors import ConfigError, NeurographError, OptionError
from neurograph.models import MLP
from neurograph.zoo.checkpoints import prepare_custom, score_checkpoints
from neurograph.zoo.config import CustomSpec, load_zoo_config, parse_zoo_config
from neurograph.zoo.factories import MAX_KWARGS_DEPTH, build_model, check_factory_kwargs, load_factory
from neurograph.zoo.runs import run_zoo


# ---------------------------------------------------------------------- helpers
def _raises(exc_type, *fragments: str):
    """``pytest.raises(exc_type)`` whose one-line message contains every fragment."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc_type)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            out = self.ctx.__exit__(*exc)
            msg = str(self.info.value)
            for f in fragments:
                assert f in msg, msg
            assert len(msg.splitlines()) == 1, msg
            assert isinstance(self.info.value, NeurographError)
            return out
    return _Check()


def _cli(argv, capsys, *fragments: str) -> str:
    """Run the CLI: exit status 2, one line on stderr containing every fragment."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"neurograph {argv[0]}: error: "), err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def _user_files(folder: Path) -> None:
    torch.save(MLP(4, hidden=(8,), n_classes=3).state_dict(), folder / "m.pt")
    np.savez(folder / "d.npz", X=np.zeros((6, 4), np.float32), y=np.zeros(6, np.int64))


def _toml(folder: Path, factory: str, kwargs: str = "{}") -> Path:
    path = folder / "zoo.toml"
    path.write_text(f'[[custom]]\nname = "m"\nfactory = "{factory}"\nkwargs = {kwargs}\n'
                    'checkpoints = ["m.pt"]\ndata = "d.npz"\nlayers = ["layers.1"]\n')
    return path


def _sympy_payload(sentinel: Path) -> str:
    """A string that creates ``sentinel`` if sympy evaluates it."""
    return f"__import__('pathlib').Path({str(sentinel)!r}).touch()"


def _evil_model_folder(folder: Path, sentinel: Path) -> Path:
    """A transformers model folder whose remote code writes ``sentinel`` when imported."""
    model = folder / "evil_model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({
        "model_type": "evil", "architectures": ["EvilModel"],
        "auto_map": {"AutoConfig": "modeling_evil.EvilConfig", "AutoModel": "modeling_evil.EvilModel"}}))
    (model / "modeling_evil.py").write_text(f"open({str(sentinel)!r}, 'w').close()\n")
    return model


@pytest.fixture
def unimported():
    """Names of modules not imported yet: the test asserts they stay so."""
    return lambda name: name not in sys.modules


# ---------------------------------------------------------------------- A. configs never reach code
def test_sympify_in_a_zoo_config_is_refused_before_import(tmp_path, capsys):
    sentinel = tmp_path / "SENTINEL"
    _user_files(tmp_path)
    was_imported = "sympy" in sys.modules
    path = _toml(tmp_path, "sympy:sympify", f"{{ a = {json.dumps(_sympy_payload(sentinel))} }}")
    cfg = load_zoo_config(path)  # reading a config runs nothing
    with _raises(ConfigError, "sympy:sympify", "package 'sympy' is not allowed", "nothing was imported"):
        run_zoo(cfg, tmp_path / "out")
    _cli(["zoo", path, "--out", tmp_path / "out"], capsys, "sympy:sympify", "not allowed")
    assert not sentinel.exists() and not (tmp_path / "out").exists()
    assert was_imported or "sympy" not in sys.modules


def test_sympify_on_the_command_line_is_refused(tmp_path, capsys):
    sentinel = tmp_path / "SENTINEL"
    _user_files(tmp_path)
    kwargs = json.dumps({"a": _sympy_payload(sentinel)})
    for command in (["score", "--checkpoint", tmp_path / "m.pt", "--data", tmp_path / "d.npz",
                     "--layers", "layers.1", "--out", tmp_path / "out"],
                    ["record", tmp_path / "d.npz", "--layers", "layers.1", "--out", tmp_path / "out"]):
        _cli([*command, "--factory", "sympy:sympify", "--kwargs", kwargs], capsys, "sympy:sympify", "not allowed")
    assert not sentinel.exists() and not (tmp_path / "out").exists()


def test_a_function_re_exported_from_an_unallowed_package_is_refused(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "reexport_ng_hostile.py").write_text("from sympy import sympify\n")
    with _raises(ConfigError, "reexport_ng_hostile:sympify", "defined in 'sympy", "not allowed"):
        load_factory("reexport_ng_hostile:sympify", factory_path=lib)
    spec = CustomSpec(name="m", factory="reexport_ng_hostile:sympify", kwargs={"a": _sympy_payload(sentinel)},
                      checkpoints=(tmp_path / "m.pt",), data=tmp_path / "d.npz", layers=("layers.1",))
    _user_files(tmp_path)
    with _raises(ConfigError, "reexport_ng_hostile:sympify", "not allowed"):
        score_checkpoints(spec, n_null=0, factory_path=lib)
    assert not sentinel.exists()


@pytest.mark.parametrize("option", ["trust_remote_code", "code_revision", "auto_map", "Trust_Remote_Code"])
def test_transformers_remote_code_options_are_refused_in_a_config(tmp_path, option, unimported):
    sentinel = tmp_path / "SENTINEL"
    model = _evil_model_folder(tmp_path, sentinel)
    value = "{ AutoModel = 'modeling_evil.EvilModel' }" if option == "auto_map" else "true"
    kwargs = f'{{ pretrained_model_name_or_path = {json.dumps(str(model))}, {option} = {value} }}'
    with _raises(ConfigError, "zoo.toml", "kwargs", f"option {option!r} is refused"):
        load_zoo_config(_toml(tmp_path, "transformers:AutoModel.from_pretrained", kwargs))
    assert not sentinel.exists()


def test_transformers_remote_code_refused_even_when_transformers_is_allowed(tmp_path, capsys):
    sentinel = tmp_path / "SENTINEL"
    model = _evil_model_folder(tmp_path, sentinel)
    _user_files(tmp_path)
    kwargs = {"pretrained_model_name_or_path": str(model), "trust_remote_code": True}
    spec = CustomSpec(name="m", factory="transformers:AutoModel.from_pretrained", kwargs=kwargs,
                      checkpoints=(tmp_path / "m.pt",), data=tmp_path / "d.npz", layers=("layers.1",))
    with _raises(ConfigError, "trust_remote_code", "refused"):
        score_checkpoints(spec, n_null=0, allow_packages=["transformers"])
    # nested deeper (a config table handed on to the library) it is refused too
    nested = {"config": {"name": str(model), "auto_map": {"AutoModel": "modeling_evil.EvilModel"}}}
    with _raises(ConfigError, "auto_map", "refused"):
        build_model(MLP, nested, "transformers:AutoModel.from_config")
    _cli(["score", "--factory", "transformers:AutoModel.from_pretrained", "--allow-package", "transformers",
          "--kwargs", json.dumps(kwargs), "--checkpoint", tmp_path / "m.pt", "--data", tmp_path / "d.npz",
          "--layers", "layers.1", "--out", tmp_path / "out"], capsys, "--kwargs", "trust_remote_code")
    assert not sentinel.exists() and not (tmp_path / "out").exists()


def test_transformers_is_not_allowed_by_default(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    model = _evil_model_folder(tmp_path, sentinel)
    with _raises(ConfigError, "transformers:AutoModel.from_pretrained", "package 'transformers' is not allowed",
                 "--allow-package"):
        load_factory("transformers:AutoModel.from_pretrained")
    with _raises(ConfigError, "transformers:AutoModel", "not allowed"):
        load_factory("transformers:AutoModel", factory_path=model)  # a factory path does not allow a package
    assert not sentinel.exists()


def test_a_module_on_sys_path_is_not_imported_unless_its_folder_is_named(tmp_path, monkeypatch):
    sentinel = tmp_path / "IMPORTED"
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "onpath_ng_hostile.py").write_text(textwrap.dedent(f"""
        open({str(sentinel)!r}, "w").close()
        from neurograph.models import MLP

        def build(width=8):
            return MLP(4, hidden=(width,), n_classes=3)
    """))
    monkeypatch.syspath_prepend(str(lib))  # importable, as the current folder often is
    monkeypatch.delitem(sys.modules, "onpath_ng_hostile", raising=False)
    with _raises(ConfigError, "onpath_ng_hostile:build", "not allowed", "nothing was imported"):
        load_factory("onpath_ng_hostile:build")
    assert not sentinel.exists() and "onpath_ng_hostile" not in sys.modules
    # kwargs are checked before the (allowed) module is imported
    _user_files(tmp_path)
    spec = CustomSpec(name="m", factory="onpath_ng_hostile:build", kwargs={"width": 8, "trust_remote_code": True},
                      checkpoints=(tmp_path / "m.pt",), data=tmp_path / "d.npz", layers=("layers.1",))
    with _raises(ConfigError, "trust_remote_code"):
        prepare_custom(spec, factory_path=lib)
    assert not sentinel.exists()
    # named explicitly, by folder or by package, it is allowed
    assert load_factory("onpath_ng_hostile:build", factory_path=lib)().layers[0].out_features == 8
    assert sentinel.exists()
    assert load_factory("onpath_ng_hostile:build", allow_packages=["onpath_ng_hostile"]).__name__ == "build"


@pytest.mark.parametrize("spec, fragment", [
    ("torch:load", "only torch.nn.Module"), ("torch.hub:load", "only torch.nn.Module"),
    ("neurograph.zoo.runs:run_zoo", "only torch.nn.Module"), ("numpy:load", "not allowed"),
    ("pandas:read_pickle", "not allowed"), ("os:system", "refused"), ("builtins:eval", "refused")])
def test_functions_that_load_or_run_code_are_refused(spec, fragment):
    with _raises(ConfigError, spec, fragment):
        load_factory(spec)


def test_standard_library_cannot_be_allowed(tmp_path):
    for name, fragment in (("os", "standard-library"), ("a.b", "top-level package"), ("", "top-level package")):
        with _raises(ConfigError, "allow_packages", fragment):
            load_factory("neurograph.models:MLP", allow_packages=[name])
    with _raises(ConfigError, "os:system", "refused"):
        load_factory("os:system", allow_packages=["posixpath"])


@pytest.mark.parametrize("kwargs, fragment", [
    ({"x": object()}, "not plain data"),
    ({"x": {1: 2}}, "key 1 is not a string"),
    ({"x": {"__class__": 1}}, "'__class__' is refused"),
    ({"not an identifier": 1}, "not a keyword-argument name"),
    ({"pickle_module": "pickle"}, "'pickle_module' is refused"),
    ({"x": json.loads("[" * 20 + "1" + "]" * 20)}, f"nested more than {MAX_KWARGS_DEPTH} levels"),
])
def test_factory_kwargs_are_plain_data(tmp_path, kwargs, fragment):
    with _raises(ConfigError, fragment):
        check_factory_kwargs(kwargs)
    with _raises(ConfigError, fragment):
        build_model(MLP, kwargs, "neurograph.models:MLP")


def test_deep_kwargs_in_a_config_and_on_the_command_line(tmp_path, capsys):
    deep = "[" * 40 + "1" + "]" * 40
    with _raises(ConfigError, "zoo.toml", "kwargs", "nested more than"):
        load_zoo_config(_toml(tmp_path, "neurograph.models:MLP", f"{{ x = {deep} }}"))
    _user_files(tmp_path)
    base = ["score", "--factory", "neurograph.models:MLP", "--checkpoint", tmp_path / "m.pt", "--data",
            tmp_path / "d.npz", "--layers", "layers.1", "--out", tmp_path / "out"]
    _cli([*base, "--kwargs", "[" * 100_000 + "]" * 100_000], capsys, "--kwargs", "nested too deeply")
    _cli([*base, "--kwargs", '{"x": ' + "1" * 5000 + "}"], capsys, "--kwargs", "not valid JSON")
    _cli([*base, "--kwargs", json.dumps({"x": json.loads(deep)})], capsys, "--kwargs", "nested more than")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------- B. nothing huge before the checks
def test_a_tiny_config_asking_for_millions_of_runs_is_refused_before_expanding(tmp_path, capsys):
    values = ", ".join(f"{k / 1000:.3f}" for k in range(100))
    path = tmp_path / "huge.toml"
    path.write_text(f'[[family]]\ntask = "blobs"\nhidden = [{", ".join(f"[{k + 1}]" for k in range(100))}]\n'
                    f"dropout = [{values}]\nlabel_noise = [{values}]\nseeds = {list(range(100))}\n")
    assert path.stat().st_size < 5000
    t0 = time.perf_counter()
    with _raises(ConfigError, "huge.toml", "100,000,000 runs", f"the limit is {MAX_RUNS:,}"):
        load_zoo_config(path)
    assert time.perf_counter() - t0 < 2.0
    _cli(["zoo", path, "--out", tmp_path / "out"], capsys, "100,000,000 runs")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, fragments", [
    ("a = " + "[" * 100_000 + "]" * 100_000, ("nested too deeply",)),
    ("data_seed = " + "9" * 5000, ("not valid TOML",)),
    ('[[family]]\ntask = "blobs"\nepochs = 1000000000000\n', ("epochs must be <=", f"{MAX_EPOCHS:,}")),
    ('[[family]]\ntask = "blobs"\nhidden = [[1000000000]]\n', ("hidden must be a list of ints",)),
    ('[[family]]\ntask = "blobs"\n[score]\nn_null = 1000000000\n', ("n_null must be <=", f"{MAX_N_NULL:,}")),
    ('[[family]]\ntask = "blobs"\n[blobs]\nn_samples = 100000000000\n', ("n_samples must be <=",)),
])
def test_config_parser_failures_are_one_line_naming_the_file(tmp_path, capsys, text, fragments):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with _raises(ConfigError, "bad.toml", *fragments):
        load_zoo_config(path)
    _cli(["zoo", path, "--out", tmp_path / "out"], capsys, "bad.toml")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, fragment", [
    (["correlate", "{table}", "--n-boot", "1000000000000", "--out", "{out}"], "--n-boot must be <="),
    (["report", "{tmp}", "--n-boot", "1000000000000", "--out", "{out}"], "--n-boot must be <="),
    (["zoo", "{toml}", "--n-boot", "1000000000000", "--out", "{out}"], "--n-boot must be <="),
    (["zoo", "{toml}", "--workers", "1000000000", "--out", "{out}"], "--workers must be <="),
    (["demo", "--epochs", "1000000000000", "--out", "{out}"], "--epochs must be <="),
    (["demo", "--n-null", "1000000000", "--out", "{out}"], "--n-null must be <="),
    (["graph", "{stats}", "--n-null", "1000000000", "--out", "{out}"], "--n-null must be <="),
    (["record", "{data}", "--factory", "neurograph.models:MLP", "--layers", "layers.1", "--memory-limit",
      "9" * 5000, "--out", "{out}"], "--memory-limit"),
    (["record", "{data}", "--factory", "neurograph.models:MLP", "--layers", "layers.1", "--neuron-axis",
      "9" * 5000, "--out", "{out}"], "--neuron-axis"),
])
def test_cli_numbers_that_size_memory_or_time_are_bounded(tmp_path, capsys, argv, fragment):
    import pandas as pd
    from neurograph.stats import CoactivationStats

    table = tmp_path / "scores.csv"
    pd.DataFrame({"modularity": [0.1, 0.2, 0.3, 0.4], "test_accuracy": [0.5, 0.6, 0.7, 0.9]}).to_csv(table, index=False)
    toml = tmp_path / "z.toml"
    toml.write_text('[[family]]\ntask = "blobs"\nepochs = 1\nhidden = [4]\n')
    stats = tmp_path / "s.npz"
    CoactivationStats.from_binary(np.eye(4, dtype=np.uint8)).save(stats)
    _user_files(tmp_path)
    subst = {"{table}": table, "{out}": tmp_path / "out", "{tmp}": tmp_path, "{toml}": toml, "{stats}": stats,
             "{data}": tmp_path / "d.npz"}
    t0 = time.perf_counter()
    _cli([subst.get(a, a) for a in argv], capsys, fragment)
    assert time.perf_counter() - t0 < 5.0
    assert not (tmp_path / "out").exists()


def test_api_numbers_are_bounded_before_allocating():
    import pandas as pd
    from neurograph.automata.counterexample import w_method_words
    from neurograph.automata.fsa import FSA
    from neurograph.scoring.correlation import correlate
    from neurograph.zoo.executors import Executor

    table = pd.DataFrame({"m": [0.1, 0.2, 0.3, 0.4], "test_accuracy": [0.5, 0.6, 0.7, 0.9]})
    with _raises(OptionError, "n_boot must be <=", f"{MAX_N_BOOT}"):
        correlate(table, ["m"], n_boot=10**12)
    with _raises(OptionError, "workers must be <=", f"{MAX_WORKERS}"):
        Executor("process", workers=10**9)
    parity = FSA.from_spec({"e": (True, {0: "e", 1: "o"}), "o": (False, {0: "o", 1: "e"})})
    with _raises(OptionError, "depth 1000000000000", "test words"):
        w_method_words(parity, depth=10**12)
    with _raises(ConfigError, "n_null must be <="):
        parse_zoo_config({"family": [{"task": "blobs"}], "score": {"n_null": 10**9}})


def test_the_allow_list_is_checked_before_any_file_is_read(tmp_path, capsys):
    sentinel = tmp_path / "SENTINEL"
    spec = CustomSpec(name="m", factory="sympy:sympify", kwargs={"a": _sympy_payload(sentinel)},
                      checkpoints=(tmp_path / "missing.pt",), data=tmp_path / "missing.npz", layers=("layers.1",))
    with _raises(ConfigError, "sympy:sympify", "not allowed"):  # not "missing.pt does not exist"
        prepare_custom(spec)
    _cli(["record", tmp_path / "missing.npz", "--factory", "sympy:sympify", "--layers", "l", "--out",
          tmp_path / "out"], capsys, "sympy:sympify", "not allowed")
    assert not sentinel.exists() and not (tmp_path / "out").exists()


def test_generated_task_sizes_are_bounded_before_generating(tmp_path):
    from neurograph.datasets import make_blobs_task

    t0 = time.perf_counter()
    with _raises(OptionError, "n_samples=1,000,000", "n_features=1,000", "100,000,000 values"):
        make_blobs_task(n_samples=10**6, n_features=1000)
    with _raises(ConfigError, "[blobs]", "1,000,000,000 values"):
        parse_zoo_config({"family": [{"task": "blobs"}], "blobs": {"n_samples": 10**6, "n_features": 1000}})
    assert time.perf_counter() - t0 < 1.0


def test_a_module_name_from_an_earlier_factory_path_or_an_installed_package(tmp_path, monkeypatch):
    import pandas  # noqa: F401 - installed and imported: a factory-path module of that name cannot replace it

    monkeypatch.delitem(sys.modules, "twin_ng_hostile", raising=False)
    widths = {}
    for name, width in (("a", 3), ("b", 5)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "twin_ng_hostile.py").write_text(
            f"from neurograph.models import MLP\ndef build():\n    return MLP(4, hidden=({width},), n_classes=2)\n")
        widths[name] = load_factory("twin_ng_hostile:build", factory_path=tmp_path / name)().layers[0].out_features
    assert widths == {"a": 3, "b": 5}  # the folder named now, not the module imported first
    sentinel = tmp_path / "SENTINEL"
    (tmp_path / "a" / "pandas.py").write_text(f"open({str(sentinel)!r}, 'w').close()\ndef build(): pass\n")
    with _raises(ConfigError, "pandas:build", "already imported in this process"):
        load_factory("pandas:build", factory_path=tmp_path / "a")
    assert not sentinel.exists()
    sys.modules.pop("twin_ng_hostile", None)
