"""mkdocs hooks for the API reference: the module lists are read from the code, so they cannot drift.

A reference page holds a marker instead of a hand-kept list of ``::: module`` blocks:

* ``<!-- api-modules neurograph.scoring: entropy pipeline -->`` expands to one mkdocstrings block
  per module of ``neurograph.scoring`` that holds a public name (the modules named in its lazy
  ``attach(...)`` map or star-imported by its ``__init__``): the modules listed after the colon first,
  in that order, then the others alphabetically.
* ``<!-- api-toplevel -->`` expands to the table of the names ``neurograph`` itself exports, each
  linked to its documentation, grouped by subpackage.

The package is read with :mod:`ast` (nothing is imported). Registered in ``mkdocs.yml`` (``hooks:``).

:data:`QUIET` names single objects whose docstring Griffe cannot parse cleanly yet, with the reason:
they are documented in a block of their own with Griffe's docstring warnings off (the rest of their
module keeps the strict build), and the build says so in its log. Fix the docstring, then remove
the entry.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("mkdocs.plugins.neurograph")

QUIET: dict[str, str] = {}
_MODULES = re.compile(r"<!--\s*api-modules\s+([\w.]+)\s*(?::\s*([\w\s]*?))?\s*-->")
_TOPLEVEL = re.compile(r"<!--\s*api-toplevel\s*-->")

# Reference page of each place a top-level name can live (subpackage or top-level module).
_PAGES = {
    "recording": "recording.md", "stats": "stats.md", "moments": "stats.md", "graph": "graph.md",
    "scoring": "scoring.md", "automata": "automata.md", "dynamics": "dynamics.md", "gating": "gating.md",
    "zoo": "zoo.md", "io": "io.md", "errors": "errors.md",
}


def _init(package: str) -> ast.Module:
    path = ROOT.joinpath(*package.split("."), "__init__.py")
    return ast.parse(path.read_text(), str(path))


def exports(package: str) -> dict[str, str]:
    """``{name: ".module"}`` of ``package``'s lazy ``attach(...)`` map (empty if it has none)."""
    for node in ast.walk(_init(package)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "attach" and len(node.args) > 1:
            return ast.literal_eval(node.args[1])
    return {}


def public_modules(package: str) -> list[str]:
    """Modules of ``package`` (relative names) that hold its public names."""
    found = {m.lstrip(".") for m in exports(package).values()}
    for node in _init(package).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module \
                and any(a.name == "*" for a in node.names):
            found.add(node.module)
    return sorted(found)


def module_all(module: str) -> list[str]:
    """The ``__all__`` of ``module`` (a dotted name), read statically."""
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def _block(module: str) -> str:
    quiet = [q for q in QUIET if q.rsplit(".", 1)[0] == module]
    if not quiet:
        return f"::: {module}"
    members = [n for n in module_all(module) if f"{module}.{n}" not in quiet]
    parts = [f"::: {module}\n    options:\n      members: [{', '.join(members)}]"]
    for q in quiet:
        log.info("neurograph docs: Griffe docstring warnings are off for %s: %s", q, QUIET[q])
        parts.append(f"::: {q}\n    options:\n      heading_level: 3\n      docstring_options:\n"
                     f"        ignore_init_summary: true\n        warnings: false")
    return "\n\n".join(parts)


def _expand_modules(match: re.Match) -> str:
    package, first = match.group(1), (match.group(2) or "").split()
    modules = public_modules(package)
    order = [m for m in first if m in modules] + [m for m in modules if m not in first]
    return "\n\n".join(_block(f"{package}.{m}") for m in order)


def _expand_toplevel(match: re.Match) -> str:
    rows: dict[str, list[str]] = {}
    for name, where in sorted(exports("neurograph").items(), key=lambda kv: kv[0].lower()):
        sub = where.lstrip(".")
        if (ROOT / "neurograph" / sub / "__init__.py").exists():
            module = f"neurograph.{sub}{exports(f'neurograph.{sub}')[name]}"
        else:
            module = f"neurograph.{sub}"
        rows.setdefault(sub, []).append(f"[`{name}`][{module}.{name}]")
    lines = ["| where | names exported by `neurograph` itself |", "|---|---|"]
    for sub in sorted(rows, key=lambda s: list(_PAGES).index(s) if s in _PAGES else len(_PAGES)):
        page = _PAGES.get(sub, f"{sub}.md")
        lines.append(f"| [`neurograph.{sub}`]({page}) | " + ", ".join(rows[sub]) + " |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, **kwargs) -> str:
    markdown = _MODULES.sub(_expand_modules, markdown)
    return _TOPLEVEL.sub(_expand_toplevel, markdown)
