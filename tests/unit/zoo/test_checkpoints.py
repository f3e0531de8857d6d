"""The user's own models: factory strings, checkpoints (weights_only), data files, scoring."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import torch

from neurograph.zoo.checkpoints import (ConfigError, CustomSpec, load_checkpoint, load_data_file, load_factory,
                                    parse_custom_spec, score_checkpoints)
from neurograph.errors import FileFormatError, ModelError
from neurograph.models import MLP
from neurograph.zoo.training import accuracy

FACTORY = textwrap.dedent("""
    from neurograph.models import MLP

    def build(width=8):
        return MLP(4, hidden=(width,), n_classes=3)

    def broken():
        raise RuntimeError("no GPU here")

    not_callable = 3
""")


@pytest.fixture()
def user_files(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "userfactory_ng_test", raising=False)  # each test imports its own copy
    (tmp_path / "userfactory_ng_test.py").write_text(FACTORY)
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(90, 4, generator=gen)
    y = torch.randint(0, 3, (90,), generator=gen)
    np.savez(tmp_path / "data.npz", X=X.numpy(), y=y.numpy())
    torch.save({"X": X, "y": y}, tmp_path / "data.pt")
    paths = []
    for k in range(2):
        torch.manual_seed(k)
        m = MLP(4, hidden=(8,), n_classes=3)
        torch.save(m.state_dict(), tmp_path / f"m{k}.pt")
        paths.append(tmp_path / f"m{k}.pt")
    return tmp_path, X, y, paths


def test_score_checkpoints_npz_and_pt_give_exact_accuracy(user_files):
    tmp, X, y, paths = user_files
    for data in ("data.npz", "data.pt"):
        spec = CustomSpec(name="mine", factory="userfactory_ng_test:build", kwargs={"width": 8},
                          checkpoints=tuple(paths), data=tmp / data, layers=("layers.1",))
        res = score_checkpoints(spec, n_null=0, search_path=tmp)
        assert res.table["epoch"].tolist() == [0, 1] and res.table["run"].tolist() == ["mine", "mine"]
        for k, path in enumerate(paths):
            m = MLP(4, hidden=(8,), n_classes=3)
            m.load_state_dict(torch.load(path, weights_only=True))
            assert res.table.loc[k, "test_accuracy"] == pytest.approx(accuracy(m, X, y))
        assert set(res.neurons["epoch"]) == {0, 1} and len(res.neurons) == 16


def test_factory_strings(tmp_path, user_files):
    tmp = user_files[0]
    assert load_factory("userfactory_ng_test:build", search_path=tmp)().hidden == (8,)
    for bad, match in (("nocolon", "package.module:function"), ("a:b:c", "package.module"),
                       ("no_such_module_xyz:f", "not allowed nor found in"),
                       ("userfactory_ng_test:nope", "no attribute"),
                       ("userfactory_ng_test:not_callable", "not callable")):
        with pytest.raises(ConfigError, match=match):
            load_factory(bad, search_path=tmp)
    spec = CustomSpec(name="x", factory="userfactory_ng_test:broken", kwargs={}, checkpoints=(tmp / "m0.pt",),
                      data=tmp / "data.npz", layers=("layers.1",))
    with pytest.raises(ModelError, match="no GPU here"):
        score_checkpoints(spec, n_null=0, search_path=tmp)


def test_checkpoints_load_weights_only_and_errors_name_the_file(tmp_path):
    m = MLP(4, hidden=(8,), n_classes=3)
    torch.save(m.state_dict(), tmp_path / "ok.pt")
    m2 = load_checkpoint(MLP(4, hidden=(8,), n_classes=3), tmp_path / "ok.pt")
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), m2.state_dict().values()))
    with pytest.raises(ModelError, match="ok.pt"):
        load_checkpoint(MLP(4, hidden=(9,), n_classes=3), tmp_path / "ok.pt")
    torch.save({"w": torch.zeros(2), "obj": np.random.default_rng(0)}, tmp_path / "pickled.pt")
    with pytest.raises(FileFormatError, match="pickled.pt"):    # weights_only refuses arbitrary objects
        load_checkpoint(m, tmp_path / "pickled.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(FileFormatError, match="junk.pt"):
        load_checkpoint(m, tmp_path / "junk.pt")
    with pytest.raises(FileFormatError, match="missing.pt"):
        load_checkpoint(m, tmp_path / "missing.pt")


def test_data_files(tmp_path):
    np.savez(tmp_path / "xonly.npz", X=np.zeros((3, 2), np.float32))
    X, y = load_data_file(tmp_path / "xonly.npz")
    assert X.shape == (3, 2) and y is None
    np.savez(tmp_path / "noX.npz", inputs=np.zeros(3))
    with pytest.raises(FileFormatError, match="no tensor 'X'"):
        load_data_file(tmp_path / "noX.npz")
    (tmp_path / "d.csv").write_text("1,2")
    with pytest.raises(FileFormatError, match=".npz or .pt"):
        load_data_file(tmp_path / "d.csv")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(FileFormatError, match="dict of tensors"):
        load_data_file(tmp_path / "list.pt")
    with pytest.raises(FileFormatError, match="none.npz"):
        load_data_file(tmp_path / "none.npz")


def test_parse_custom_spec(tmp_path):
    spec = parse_custom_spec({"name": "a", "factory": "m:f", "checkpoints": ["c/1.pt"], "data": "d.npz",
                              "layers": "layers.1", "z": 2}, tmp_path)
    assert spec.checkpoints == (tmp_path / "c" / "1.pt",) and spec.layers == ("layers.1",) and spec.z == 2.0
    with pytest.raises(ConfigError, match="missing key 'data'"):
        parse_custom_spec({"name": "a", "factory": "m:f", "checkpoints": ["x"], "layers": "l"}, tmp_path)
    with pytest.raises(ConfigError, match="unknown key"):
        parse_custom_spec({"name": "a", "factory": "m:f", "checkpoints": ["x"], "layers": "l", "data": "d",
                           "colour": 1}, tmp_path)
    with pytest.raises(ConfigError, match="z must be a number"):
        parse_custom_spec({"name": "a", "factory": "m:f", "checkpoints": ["x"], "layers": "l", "data": "d",
                           "z": "high"}, tmp_path)
