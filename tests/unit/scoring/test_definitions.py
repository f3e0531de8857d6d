"""Score definitions: one source (SCORE_DEFINITIONS) for code, report and docs; the docs page cannot drift."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurograph.scoring.definitions import (LABEL_FREE_SCORES, PER_LAYER_SCORES, ROLES, SCORE_DEFINITIONS,
                                            definition_rows, main, scores_markdown)
from neurograph.scoring.scores import score_stats
from neurograph.stats import CoactivationStats

DOCS_PAGE = Path(__file__).resolve().parents[3] / "docs" / "reference" / "scores.md"


def test_committed_docs_page_equals_the_generator():
    assert DOCS_PAGE.is_file(), f"{DOCS_PAGE} is missing: run python -m neurograph.scoring.definitions"
    assert DOCS_PAGE.read_text(encoding="utf-8") == scores_markdown(), (
        "docs/reference/scores.md is out of date: run python -m neurograph.scoring.definitions")


def test_generator_writes_and_checks(tmp_path, capsys):
    out = tmp_path / "ref" / "scores.md"
    assert main(["--check", "--out", str(out)]) == 1
    assert main(["--out", str(out)]) == 0 and out.read_text(encoding="utf-8") == scores_markdown()
    assert main(["--check", "--out", str(out)]) == 0
    capsys.readouterr()


def test_every_score_a_model_gets_is_defined():
    rng = np.random.default_rng(0)
    stats = CoactivationStats.from_binary(rng.random((300, 10)) < 0.3, rng.integers(0, 2, 300))
    values = score_stats(stats, n_null=0).values
    overall = {k for k in values if "@" not in k}
    assert overall | {"n_params", "composite"} == set(SCORE_DEFINITIONS)
    assert {k.split("@")[0] for k in values if "@" in k} == set(PER_LAYER_SCORES)


def test_definitions_are_well_formed_and_derived_lists_agree():
    for name, d in SCORE_DEFINITIONS.items():
        assert d.name == name and d.definition and d.role in ROLES
        assert str(d).startswith(d.definition) and ("needs labels" in str(d)) == d.labels
    assert LABEL_FREE_SCORES == ("always_on_fraction", "dead_fraction", "mean_entropy", "mean_entropy_active",
                                 "modularity", "modularity_z", "n_communities", "pattern_entropy")
    assert SCORE_DEFINITIONS["mean_mutual_info"].labels and not SCORE_DEFINITIONS["modularity"].labels
    rows = definition_rows()
    assert [r["score"] for r in rows] == list(SCORE_DEFINITIONS)
    page = scores_markdown()
    for name in SCORE_DEFINITIONS:
        assert f"| `{name}` |" in page


def test_report_page_prints_the_same_definitions(tmp_path):
    import html

    import pandas as pd

    from neurograph.io.report import render_report

    t = pd.DataFrame({"run": ["a"], "test_accuracy": [0.5]})
    page = render_report(table=t, correlations=pd.DataFrame(), rankings=pd.DataFrame(), figures={},
                         coactivation=[], run_dir=tmp_path, target="test_accuracy", title="t")
    section = page.split('<section id="definitions">')[1].split("</section>")[0]
    for d in SCORE_DEFINITIONS.values():
        assert html.escape(d.definition, quote=False) in section
