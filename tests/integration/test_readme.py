"""README's Python tour runs as written (with fewer epochs, in a temporary folder)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_tour_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    start = text.index("## Core pipeline: a tour")
    block = re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)
    assert "epochs=40" in block
    monkeypatch.chdir(tmp_path)
    exec(compile(block.replace("epochs=40", "epochs=3"), "README tour", "exec"), {})
    out = capsys.readouterr().out
    assert "test accuracy" in out and "Q = " in out
    assert (tmp_path / "mlp.gexf").stat().st_size > 0 and (tmp_path / "mlp_stats.npz").stat().st_size > 0


def test_readme_transformer_example_runs(capsys):
    import pytest
    pytest.importorskip("transformers", reason="Hugging Face transformers is not installed")
    text = README.read_text()
    start = text.index("## Any model: transformers")
    block = re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)
    exec(compile(block, "README transformer example", "exec"), {})
    out = capsys.readouterr().out
    assert "400 40 ['neg' 'pos']" in out and "intermediate_act_fn" in out
