"""Griffe extension for the docs build: Sphinx roles in docstrings become Markdown code spans.

neurograph's docstrings are numpy style and cross-reference with reST roles
(``:func:`~neurograph.recording.record```). mkdocstrings renders Markdown, where such a role would
show up literally; this extension rewrites each role to an inline code span as the docstring is
loaded: ``:func:`~a.b.c``` -> ```c```, ``:class:`a.b.C``` -> ```a.b.C```. Only the docs build uses
it (``mkdocs.yml`` → ``plugins.mkdocstrings.handlers.python.options.extensions``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const|ref|term|math):`(~?)([^`]+)`")


def _replace(match: re.Match) -> str:
    tilde, target = match.groups()
    target = target.strip()
    label = re.match(r"^(.*?)\s*<(.+)>$", target)  # :ref:`text <target>`
    if label:
        target = label.group(1)
    elif tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def convert(text: str) -> str:
    """Rewrite every reST role in ``text`` to a Markdown code span."""
    return _ROLE.sub(_replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite reST roles in every docstring Griffe loads."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
