"""Names from the data made safe for the place they are written to: file names, links, figures, XML, DOT.

A layer, task, model or file name comes from the user's model, tables or folder and may hold
anything: path separators, ``..``, control characters, ``<&"``, ``$...$``, a URL scheme. Every
writer of neurograph passes such a name through the one function here for its destination:

* :func:`check_plain_name` / :func:`is_plain_name`: a name read from a table that becomes part of
  a file name (``summary.csv``'s ``model`` column -> ``MODEL.gexf``) must be a plain name, checked
  *before* any file is opened;
* :func:`relative_href`: a link on a page is a relative path inside the page's folder, every part
  URL-quoted (so ``javascript:x.gexf`` becomes ``javascript%3Ax.gexf``, a file name, not a script);
* :func:`plain_figure_text`: the text of a matplotlib figure is drawn as written (no mathtext,
  so ``$\\frac{a$`` neither crashes nor turns into a formula);
* :func:`xml_text`: characters that XML 1.0 forbids are removed (the XML writers escape ``<&"``);
* :func:`dot_string`: a quoted, escaped DOT string.

HTML pages are rendered by Jinja2 with autoescaping on for every template
(:mod:`neurograph.io.report`).
"""

from __future__ import annotations

import os
import re
import unicodedata
import urllib.parse
from pathlib import Path

from ..errors import DataError

__all__ = ["check_plain_name", "dot_string", "is_plain_name", "plain_figure_text", "relative_href", "xml_text"]

#: Characters XML 1.0 does not allow anywhere in a document (not even escaped).
XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
#: The longest file name (in UTF-8 bytes) most file systems allow (NAME_MAX).
NAME_MAX = 255


def _name_problem(name) -> str | None:
    """Why ``name`` is not a plain file name (None when it is one)."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not a str"
    if not name:
        return "is empty"
    if name in (".", ".."):
        return "is a folder reference, not a name"
    if "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        return "holds a path separator"
    if name.startswith("~"):
        return "starts with '~' (a home folder)"
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        return "holds a control character"
    if _SCHEME.match(name):
        return "starts with a URL scheme"
    if len(name.encode("utf-8", "surrogatepass")) > NAME_MAX:
        return f"is longer than {NAME_MAX} bytes"
    return None


def is_plain_name(name) -> bool:
    """True when ``name`` is a plain file name: a non-empty str, no path separator, not ``.``/``..``,
    no control character, no URL scheme (``xx:``), at most 255 bytes.

    Examples
    --------
    >>> [is_plain_name(n) for n in ("mlp", "cnn-2.v1", "../etc/passwd", "/etc/passwd", "javascript:x", "a\\x00b")]
    [True, True, False, False, False, False]
    """
    return _name_problem(name) is None


def check_plain_name(name, what: str = "name", error: type[Exception] = DataError) -> str:
    """Return ``name`` if it is a plain file name (see :func:`is_plain_name`); else raise ``error`` naming it.

    Examples
    --------
    >>> check_plain_name("../../etc/passwd", "model name")
    Traceback (most recent call last):
    ...
    neurograph.errors.DataError: model name '../../etc/passwd' holds a path separator; a plain file name is needed
    """
    problem = _name_problem(name)
    if problem is not None:
        raise error(f"{what} {name!r} {problem}; a plain file name is needed")
    return name


def relative_href(path: str | os.PathLike, root: str | os.PathLike) -> str | None:
    """The URL-quoted relative link from a page in folder ``root`` to ``path``, or None if it leaves ``root``.

    ``path`` (a file or folder, relative paths taken from ``root``) is resolved with its links;
    a path outside ``root`` (``..``, an absolute path, a symbolic link pointing out) gets no link.
    Each part is quoted with :func:`urllib.parse.quote` (no character is left as is but
    letters, digits and ``_.-~``), so the link can never be read as a URL with a scheme.

    Examples
    --------
    >>> relative_href("javascript:alert(1).gexf", ".")
    'javascript%3Aalert%281%29.gexf'
    >>> relative_href("../secret.txt", ".") is None
    True
    """
    root_r = Path(root).resolve()
    p = Path(path)
    full = (p if p.is_absolute() else Path(root) / p)
    try:
        rel = full.resolve().relative_to(root_r)
    except (ValueError, OSError, RuntimeError):
        return None
    parts = rel.parts
    if not parts:  # the folder itself
        return None
    # the bytes of the name on disk: a name that is not UTF-8 (b"\xff") is linked as %FF, not refused
    href = "/".join(urllib.parse.quote(os.fsencode(part), safe="") for part in parts)
    if full.is_dir():
        href += "/"
    return href


def plain_figure_text(fig):
    """Draw every text of matplotlib figure ``fig`` as written: mathtext off; returns ``fig``.

    Titles, axis labels, legends, annotations and colour-bar labels made from layer, task or
    score names may hold ``$``; with mathtext on, ``$\\frac{a$`` makes drawing the figure raise
    and ``$x$`` is drawn as a formula. Numeric tick labels (made by matplotlib's formatters) are
    left alone.
    """
    from matplotlib.text import Text

    skip = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            skip.add(id(axis.offsetText))
            for tick in list(axis.majorTicks) + list(axis.minorTicks):
                skip.update((id(tick.label1), id(tick.label2)))
    for t in fig.findobj(Text):
        if id(t) not in skip:
            t.set_parse_math(False)
            text = t.get_text()
            if _SURROGATE.search(text):  # a file name that is not UTF-8: drawn as \udcff, not a crash
                t.set_text(text.encode("utf-8", "backslashreplace").decode("utf-8"))
    return fig


def xml_text(s) -> str:
    """``s`` (as str) without the characters XML 1.0 forbids, line ends as ``\\n``.

    Examples
    --------
    >>> xml_text("a\\x00b\\x1bc\\r\\nd")
    'abc\\nd'
    """
    return XML_ILLEGAL.sub("", str(s)).replace("\r\n", "\n").replace("\r", "\n")


def dot_string(s) -> str:
    """``s`` as a quoted Graphviz DOT string: backslashes and quotes escaped, line ends as ``\\n``,
    control characters removed.

    Examples
    --------
    >>> print(dot_string('a "b" \\\\ c\\nd'))
    "a \\"b\\" \\\\ c\\nd"
    """
    text = str(s).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cs"))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
