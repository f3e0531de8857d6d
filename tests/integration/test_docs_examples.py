"""The docs' self-contained Python examples run as written (fewer epochs where noted) and print what they say.

Blocks that continue from names defined elsewhere on a page (``model``, ``X``) are not run here; the
README's are in ``test_readme.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"

# (page, index of the ```python block on it, {text: replacement}, substrings the printed output must hold)
EXAMPLES = [
    ("getting-started.md", 0, {"epochs=40": "epochs=5"}, ["test accuracy", "Q = "]),
    ("lines/dynamics.md", 0, {}, [lambda out: out.split()[-2:] == ["2", "2"]]),   # N - 1 twice, as it says
    ("lines/dynamics.md", 1, {}, ["periodic 10", "[0.   0.33 0.67]"]),
    ("lines/fsa.md", 0, {"fsa_scores(fsa)": "print(fsa_scores(fsa))"}, ["digraph", "fsa_"]),
    ("lines/generalization-benchmark.md", 0, {}, [
        "tomita: 36 cells, random measure CMI mean 9.64, q95 14.59; best of 34 random: q95 21.33, m23 15.13, p = 0.85",
        "digits: 81 cells, random measure CMI mean 1.88, q95 3.11; best of 24 random: q95 5.17, m11 3.51, p = 0.48"]),
]


def _block(page: str, index: int) -> str:
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)
    assert len(blocks) > index, f"{page} has {len(blocks)} python blocks"
    return blocks[index]


@pytest.mark.slow
@pytest.mark.parametrize("page, index, edits, expected", EXAMPLES, ids=[f"{p}#{i}" for p, i, _, _ in EXAMPLES])
def test_docs_example_runs(page, index, edits, expected, tmp_path, monkeypatch, capsys):
    code = _block(page, index)
    for old, new in edits.items():
        assert old in code, f"{page}: the example no longer contains {old!r}"
        code = code.replace(old, new)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{page} example {index}", "exec"), {})
    out = capsys.readouterr().out
    for check in expected:
        ok = check(out) if callable(check) else check in out
        assert ok, f"{page} example {index}: {check!r} fails on the output:\n{out[-2000:]}"
