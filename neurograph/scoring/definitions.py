"""What every score means: the single source of the score definitions (code, report page and docs).

:data:`SCORE_DEFINITIONS` maps each score's name to its :class:`ScoreDefinition` (what it
is, its range, what a high value means, whether it needs labels, and its role).
:func:`neurograph.scoring.score_model` computes the scores of role ``"target"``,
``"structure"``, ``"reference"`` and ``"covariate"`` for one model;
``"composite"`` scores are computed across a table of models
(:func:`neurograph.scoring.composite_score`). The HTML report prints these definitions,
and ``docs/reference/scores.md`` is generated from them::

    python -m neurograph.scoring.definitions            # writes docs/reference/scores.md
    python -m neurograph.scoring.definitions --check    # exit 1 if that file is out of date

A unit test checks that the committed page equals :func:`scores_markdown`, so the docs
cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

__all__ = ["LABEL_FREE_SCORES", "PER_LAYER_SCORES", "ROLES", "SCORE_DEFINITIONS", "ScoreDefinition", "definition_rows",
           "scores_markdown"]

#: Roles a score plays: the accuracy it is compared with, a structure score of one model, a
#: reference value, a size covariate, or a composite computed across a table of models.
ROLES: tuple[str, ...] = ("target", "structure", "reference", "covariate", "composite")


@dataclass(frozen=True)
class ScoreDefinition:
    """The definition of one score.

    Attributes
    ----------
    name : str
        Column name in score tables (``scores.csv``) and key of :attr:`ModelScores.values`.
    definition : str
        What is computed.
    range : str
        Its range and unit ("" when unbounded).
    high : str
        What a high value means (the direction in which to read it; "" when neutral).
    labels : bool
        True if computing it needs the class labels; False for label-free scores, usable
        to rank unlabelled models.
    role : str
        One of :data:`ROLES`.
    per_layer : bool
        Also computed on each recorded layer alone, as ``"<name>@<layer>"``.

    Examples
    --------
    >>> d = SCORE_DEFINITIONS["dead_fraction"]
    >>> d.labels, d.role, str(d)
    (False, 'structure', 'share of recorded neurons that never fire on the data, in [0, 1]')
    """

    name: str
    definition: str
    range: str = ""
    high: str = ""
    labels: bool = False
    role: str = "structure"
    per_layer: bool = False

    def __str__(self) -> str:
        """One sentence: definition, range, what high means, whether labels are needed."""
        text = self.definition + (f", in {self.range}" if self.range else "")
        if self.high:
            text += f"; high = {self.high}"
        return text + (" (needs labels)" if self.labels else "")


_DEFINITIONS = (
    ScoreDefinition("test_accuracy", "fraction of samples whose largest logit is the true label", "[0, 1]",
                    "the model classifies better", labels=True, role="target"),
    ScoreDefinition("modularity", "Newman modularity Q of the communities (Leiden by default) of the "
                    "co-activation graph (NPMI weights by default); NaN without edges", "[-1/2, 1)",
                    "neurons form groups that fire together more than chance", per_layer=True),
    ScoreDefinition("modularity_z", "(Q - null mean) / null sd over degree- and strength-preserving rewired "
                    "graphs; NaN without edges or nulls", "",
                    "community structure beyond what the degrees alone give (not that training made it: read it "
                    "against the untrained twin's z, often already large)", per_layer=True),
    ScoreDefinition("modularity_null", "mean Q found on the rewired null graphs", "[-1/2, 1)", role="reference"),
    ScoreDefinition("n_communities", "number of communities found (singletons included)", "integer >= 0",
                    per_layer=True),
    ScoreDefinition("mean_entropy", "mean binary firing entropy H(F) of all recorded neurons; dead and "
                    "always-on neurons count as 0", "[0, 1] bits",
                    "neurons fire on about half the inputs (least predictable)", per_layer=True),
    ScoreDefinition("mean_entropy_active", "mean firing entropy over neurons neither dead nor always on",
                    "[0, 1] bits", "active neurons fire on about half the inputs"),
    ScoreDefinition("mean_mutual_info", "mean mutual information I(F; C) between a neuron's firing and the class",
                    "[0, min(1, log2 c)] bits", "neurons are class detectors", labels=True,
                    per_layer=True),
    ScoreDefinition("pattern_entropy", "mean over layers of the Shannon entropy of whole-layer binary firing "
                    "patterns", "[0, min(log2 n, width)] bits", "the layer uses many distinct codes",
                    per_layer=True),
    ScoreDefinition("dead_fraction", "share of recorded neurons that never fire on the data", "[0, 1]",
                    per_layer=True),
    ScoreDefinition("always_on_fraction", "share of recorded neurons that fire on every sample", "[0, 1]"),
    ScoreDefinition("n_neurons", "number of recorded neurons (units of the recorded layers)", "integer >= 0",
                    role="reference"),
    ScoreDefinition("n_nodes", "number of nodes of the co-activation graph: recorded neurons that are neither "
                    "dead nor always on", "integer >= 0", role="reference"),
    ScoreDefinition("n_edges", "number of edges of the co-activation graph", "integer >= 0", role="reference"),
    ScoreDefinition("n_params", "number of trainable parameters (model size)", "integer >= 0",
                    role="covariate"),
    ScoreDefinition("composite", "mean of the z-scored (within task) modularity and minus mean_entropy; signs "
                    "fixed in advance, never fitted to accuracy; relative to the table of models it is "
                    "computed on", "", "modular and predictable", role="composite"),
)

#: Every score by name (read-only), in table order. ``str(SCORE_DEFINITIONS[name])`` is one sentence.
SCORE_DEFINITIONS: MappingProxyType = MappingProxyType({d.name: d for d in _DEFINITIONS})

#: Scores also computed on each recorded layer alone (``"<score>@<layer>"``), in table order.
PER_LAYER_SCORES: tuple[str, ...] = tuple(d.name for d in _DEFINITIONS if d.per_layer)

#: Structure scores computed from the inputs alone (no labels): usable to rank unlabelled models.
LABEL_FREE_SCORES: tuple[str, ...] = tuple(sorted(d.name for d in _DEFINITIONS
                                                  if d.role == "structure" and not d.labels))


def definition_rows() -> list[dict[str, str]]:
    """One dict per score of :data:`SCORE_DEFINITIONS`: the rows of the definitions table (docs and report).

    Keys: ``score``, ``definition``, ``range``, ``a high value means``, ``labels`` (``"needed"``
    or ``"label-free"``), ``role`` and ``per layer`` (``"yes"`` or ``"-"``); an empty range or
    direction reads ``"-"``.

    Examples
    --------
    >>> definition_rows()[0]["score"], definition_rows()[0]["labels"]
    ('test_accuracy', 'needed')
    """
    return [{"score": d.name, "definition": d.definition, "range": d.range or "-", "a high value means": d.high or "-",
             "labels": "needed" if d.labels else "label-free", "role": d.role,
             "per layer": "yes" if d.per_layer else "-"} for d in SCORE_DEFINITIONS.values()]


def scores_markdown() -> str:
    """The Markdown page ``docs/reference/scores.md``: one table row per score of :data:`SCORE_DEFINITIONS`.

    Examples
    --------
    >>> page = scores_markdown()
    >>> page.splitlines()[0], "| `modularity` |" in page
    ('# Scores', True)
    """
    lines = [
        "# Scores",
        "",
        "<!-- Generated by `python -m neurograph.scoring.definitions` from",
        "     neurograph.scoring.definitions.SCORE_DEFINITIONS; do not edit by hand. -->",
        "",
        "One row per score (columns of `scores.csv`; keys of `ModelScores.values`, but for the composite,",
        "which is computed across a table of models). Scores marked *per layer* are also computed on each",
        "recorded layer alone, under `<score>@<layer>`. *Label-free* scores are computed from the inputs",
        "alone; those of role *structure* (`LABEL_FREE_SCORES`) can rank models without labels.",
        "",
    ]
    rows = definition_rows()
    lines.append("| " + " | ".join(rows[0]) + " |")
    lines.append("|" + "---|" * len(rows[0]))
    for row in rows:
        cells = [f"`{row['score']}`", *list(row.values())[1:]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the scores page; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m neurograph.scoring.definitions",
                                     description="Write the Markdown table of score definitions.")
    parser.add_argument("--out", default="docs/reference/scores.md", help="file to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only check that --out is up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    page = scores_markdown()
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != page:
            print(f"{out} is out of date: run python -m neurograph.scoring.definitions", file=sys.stderr)
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    from ..io.atomic import atomic_path

    with atomic_path(out, suffix=".md") as tmp:
        tmp.write_text(page, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
