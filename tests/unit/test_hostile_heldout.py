"""Held-out hostile inputs found in review: each case failed (traceback, or work done before a check) before its fix."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
import torch

from neurograph._limits import MAX_SEED
from neurograph._main import main
from neurograph.errors import ConfigError, OptionError
from neurograph.models import MLP
from neurograph.scoring.twin import untrained_twin
from neurograph.zoo.config import parse_zoo_config


def _cli(argv, capsys, *fragments: str) -> str:
    """Run the CLI: exit status 2, one line on stderr containing every fragment."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def _user_files(folder):
    torch.save(MLP(4, hidden=(5,), n_classes=3).state_dict(), folder / "c.pt")
    rng = np.random.default_rng(0)
    np.savez(folder / "d.npz", X=rng.normal(size=(12, 4)).astype(np.float32), y=rng.integers(0, 3, 12))


# ---------------------------------------------------------------------- seeds above 2**64 - 1
def test_seed_limit_is_what_torch_accepts():
    torch.manual_seed(MAX_SEED)  # the limit itself is a valid torch seed
    with pytest.raises((ValueError, RuntimeError)):
        torch.manual_seed(MAX_SEED + 1)


def test_untrained_twin_refuses_a_seed_torch_cannot_take():
    with pytest.raises(OptionError, match="seed"):
        untrained_twin(MLP(4, hidden=(5,), n_classes=3), seed=MAX_SEED + 1)


@pytest.mark.parametrize("seed", [MAX_SEED + 1, 2**80])
def test_cli_score_baseline_with_huge_seed_is_one_line(tmp_path, capsys, seed):
    _user_files(tmp_path)
    out = tmp_path / "o"
    _cli(["score", "--factory", "neurograph.models:MLP",
          "--kwargs", '{"in_features": 4, "hidden": [5], "n_classes": 3}',
          "--checkpoint", tmp_path / "c.pt", "--data", tmp_path / "d.npz", "--layers", "layers.1", "--out", out,
          "--baseline", "untrained", "--seed", seed], capsys, "--seed")
    assert not out.exists()


def test_cli_demo_with_huge_seed_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "o"
    _cli(["demo", "--out", out, "--seed", MAX_SEED + 1, "--epochs", 1, "--n-null", 0], capsys, "--seed")
    assert not out.exists()


@pytest.mark.parametrize("toml", [
    "[[family]]\nseeds = [18446744073709551616]\n",
    "data_seed = 18446744073709551616\n[[family]]\n",
    "[score]\nseed = 18446744073709551616\n[[family]]\n",
])
def test_zoo_config_refuses_huge_seeds(toml):
    with pytest.raises(ConfigError, match="seed"):
        parse_zoo_config(tomllib.loads(toml), source="zoo.toml")


# ---------------------------------------------------------------------- a CSV of a million columns
def test_cli_correlate_refuses_a_too_wide_table_before_parsing_it(tmp_path, capsys, monkeypatch):
    import neurograph.io.atomic as atomic

    from neurograph._limits import MAX_CSV_COLUMNS

    wide = tmp_path / "wide.csv"
    n = MAX_CSV_COLUMNS + 1
    wide.write_text(",".join(f"c{i}" for i in range(n - 1)) + ",test_accuracy\n" + ",".join(["1"] * n) + "\n")
    parsed = []
    monkeypatch.setattr(atomic, "read_csv", lambda p: parsed.append(p))  # pandas must never see it
    out = tmp_path / "o"
    _cli(["correlate", wide, "--out", out], capsys, "wide.csv", f"{MAX_CSV_COLUMNS:,}")
    assert parsed == [] and not out.exists()


def test_cli_correlate_reads_a_table_at_the_column_limit(tmp_path, capsys):
    from neurograph._limits import MAX_CSV_COLUMNS
    from neurograph._main import _check_csv_width

    ok = tmp_path / "ok.csv"
    ok.write_text(",".join(f"c{i}" for i in range(MAX_CSV_COLUMNS)) + "\n")
    _check_csv_width(ok, "TABLE")  # no error at the limit


# ---------------------------------------------------------------------- --allow-package and the current folder
def test_allow_package_never_imports_a_package_of_the_current_folder(tmp_path, monkeypatch):
    """``python -m neurograph`` puts the current folder first on sys.path: a package there named like the one the
    user allowed (meaning the installed one) must not be imported."""
    import sys

    from neurograph.zoo.factories import load_factory

    sentinel = tmp_path / "SENTINEL"
    pkg = tmp_path / "ng_cwd_evil"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(f"open({str(sentinel)!r}, 'w').write('ran')\n"
                                     "from torch import nn\nclass M(nn.Linear):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend("")  # what `python -m` does
    with pytest.raises(ConfigError, match="ng_cwd_evil.*current folder"):
        load_factory("ng_cwd_evil:M", allow_packages=["ng_cwd_evil"])
    assert not sentinel.exists() and "ng_cwd_evil" not in sys.modules
    # named explicitly, the folder is used
    assert load_factory("ng_cwd_evil:M", factory_path=tmp_path).__name__ == "M"


# ---------------------------------------------------------------------- a zoo config of megabytes
def test_zoo_config_larger_than_the_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    import tomllib as toml

    from neurograph._limits import MAX_CONFIG_BYTES
    from neurograph.zoo.config import load_zoo_config

    big = tmp_path / "big.toml"
    big.write_text("[[family]]\nseeds = [" + "0," * (MAX_CONFIG_BYTES // 2) + "0]\n")
    parsed = []
    monkeypatch.setattr(toml, "loads", lambda text: parsed.append(text))
    with pytest.raises(ConfigError, match=r"big\.toml.*1,048,576 bytes"):
        load_zoo_config(big)
    assert parsed == []


def test_cli_zoo_with_a_huge_config_is_one_line_and_writes_nothing(tmp_path, capsys):
    from neurograph._limits import MAX_CONFIG_BYTES

    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * MAX_CONFIG_BYTES + "\n[[family]]\n")
    out = tmp_path / "o"
    _cli(["zoo", big, "--out", out], capsys, "big.toml", "bytes")
    assert not out.exists()


def test_cli_report_refuses_a_too_wide_csv_in_the_folder_before_parsing(tmp_path, capsys, monkeypatch):
    import neurograph.io.atomic as atomic

    from neurograph._limits import MAX_CSV_COLUMNS

    folder = tmp_path / "rep"
    folder.mkdir()
    n = MAX_CSV_COLUMNS + 1
    (folder / "scores.csv").write_text(",".join(f"c{i}" for i in range(n - 1)) + ",test_accuracy\n"
                                       + ",".join(["1"] * n) + "\n")
    parsed = []
    monkeypatch.setattr(atomic, "read_csv", lambda p: parsed.append(p))
    before = sorted(p.name for p in folder.iterdir())
    _cli(["report", folder], capsys, "scores.csv", f"{MAX_CSV_COLUMNS:,}")
    assert parsed == [] and sorted(p.name for p in folder.iterdir()) == before
