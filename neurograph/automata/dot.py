"""Read Graphviz DOT written by :meth:`FSA.to_dot <neurograph.automata.FSA.to_dot>` back into an FSA.

State and symbol names are escaped inside the DOT labels (:func:`escape_state`,
:func:`escape_symbol`), so that any names read back exactly: ``FSA.from_dot(fsa.to_dot(),
symbols=names)`` has ``fsa``'s state names, symbol names, outputs and table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from ..errors import DataError

__all__ = ["fsa_from_dot"]


def fsa_from_dot(cls, text: str, *, symbols: Sequence[str] | None = None):
    """The FSA (of class ``cls``) that :meth:`FSA.to_dot` wrote as ``text``; see :meth:`FSA.from_dot`.

    Examples
    --------
    >>> from neurograph.automata.fsa import FSA
    >>> fsa = FSA.from_spec({"a": (True, {0: "a", 1: "b"}), "b": (False, {0: "b", 1: "a"})})
    >>> fsa_from_dot(FSA, fsa.to_dot()) == fsa
    True
    """
    if not isinstance(text, str) or not re.match(r"\s*digraph\b", text):
        raise DataError("from_dot needs the DOT text of FSA.to_dot (starting with 'digraph')")
    quoted = r'"((?:[^"\\]|\\.)*)"'
    node_re = re.compile(r"^\s*s(\d+)\s*\[label=" + quoted + r",\s*shape=(\w+)\];\s*$")
    edge_re = re.compile(r"^\s*(s\d+|__start0)\s*->\s*s(\d+)\s*\[label=" + quoted + r"\];\s*$")
    nodes, edges, start = {}, [], None
    for line in text.splitlines():
        if m := node_re.match(line):
            nodes[int(m.group(1))] = (m.group(2), m.group(3))
        elif m := edge_re.match(line):
            if m.group(1) == "__start0":
                start = int(m.group(2))
            else:
                edges.append((int(m.group(1)[1:]), int(m.group(2)), m.group(3)))
    n = len(nodes)
    if n == 0 or sorted(nodes) != list(range(n)):
        raise DataError(f"from_dot: the states must be s0 .. s{{n-1}}, got {sorted(nodes)[:10]}")
    if start is None:
        raise DataError("from_dot: no start arrow '__start0 -> sN' in the text")
    index = None
    if symbols is not None:
        index = {str(name): i for i, name in enumerate(symbols)}
        if len(index) != len(symbols):
            dup = next(str(x) for i, x in enumerate(symbols) if str(x) in map(str, list(symbols)[:i]))
            raise DataError(f"from_dot: symbols names {dup!r} twice; each token needs its own name")
    moves = []
    for a, b, raw in edges:
        for piece in _split_unescaped(raw, ", "):
            if re.fullmatch(r"\+\d+", piece):  # a symbol's own leading '+' is escaped, so this is to_dot's marker
                raise DataError(f"from_dot: the label of s{a} -> s{b} is truncated ({piece!r}); write the DOT "
                                "again with a larger max_symbols")
            name = unescape(piece)
            if index is not None:
                if name not in index:
                    raise DataError(f"from_dot: symbol {name!r} of s{a} -> s{b} is not in symbols")
                tok = index[name]
            elif re.fullmatch(r"-?\d+", name):
                tok = int(name)
            else:
                raise DataError(f"from_dot: symbol {name!r} of s{a} -> s{b} is not a token id; pass "
                                "symbols=[name of token 0, name of token 1, ...]")
            moves.append((a, tok, b))
    tokens = sorted({t for _, t, _ in moves})
    col = {t: j for j, t in enumerate(tokens)}
    trans = np.full((n, len(tokens)), -1, np.int64)
    for a, t, b in moves:
        if trans[a, col[t]] >= 0 and trans[a, col[t]] != b:
            raise DataError(f"from_dot: state s{a} has two transitions on symbol {t}")
        trans[a, col[t]] = b
    if (trans < 0).any():
        a, j = np.argwhere(trans < 0)[0]
        raise DataError(f"from_dot: state s{a} has no transition on symbol {tokens[j]}; an FSA must be complete")
    raw_labels = [nodes[i][0] for i in range(n)]
    multi = [_split_output(lab) for lab in raw_labels]  # "name / k": the name's own slashes are escaped
    if all(x is not None for x in multi) and {x[1] for x in multi} - {0, 1}:
        outputs = np.array([x[1] for x in multi], np.int64)
        labels = [unescape(x[0]) for x in multi]
    else:
        outputs = np.array([int(nodes[i][1] == "doublecircle") for i in range(n)], np.int64)
        labels = [unescape(lab) for lab in raw_labels]
    names = tuple(str(symbols[t]) for t in tokens) if symbols is not None else None
    return cls(transitions=trans, outputs=outputs, alphabet=np.array(tokens, np.int64).reshape(-1),
               start=start, state_names=tuple(labels), symbol_names=names, params={"source": "dot"})


# Names inside a DOT label: a backslash escapes the next character. Besides DOT's own escapes
# (backslash, double quote, newline as \n) to_dot escapes what would make a label ambiguous:
# every ',' of a symbol name (symbols are joined by ", "), a symbol's leading '+' (to_dot marks
# truncated labels with "+N"), every '/' of a state name (multi-class labels end in " / k"), and
# every other line break as \uXXXX (from_dot reads one statement per line).
_LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _escape(text: str, special: str) -> str:
    out = []
    for ch in str(text):
        if ch == "\n":
            out.append("\\n")
        elif ch in _LINE_BREAKS or unicodedata.category(ch) in ("Cc", "Cs"):  # NUL, ESC, ...: never raw in DOT
            out.append(f"\\u{ord(ch):04x}")
        elif ch in '\\"' or ch in special:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def escape_symbol(name: str) -> str:
    """A symbol name as it appears in an edge label of :meth:`FSA.to_dot` (inverse: :func:`unescape`).

    Examples
    --------
    >>> print(escape_symbol('a, "b"'), escape_symbol("+3"))
    a\\, \\"b\\" \\+3
    """
    text = _escape(name, ",")
    return "\\" + text if text.startswith("+") else text


def escape_state(name: str) -> str:
    """A state name as it appears in a node label of :meth:`FSA.to_dot` (inverse: :func:`unescape`)."""
    return _escape(name, "/")


def unescape(text: str) -> str:
    """Inverse of :func:`escape_symbol` and :func:`escape_state` (and of DOT's ``\\\\``, ``\\"``, ``\\n``).

    Examples
    --------
    >>> name = "x, y" + chr(92) + "z" + chr(0x2028)
    >>> unescape(escape_symbol(name)) == name
    True
    """
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-f]{4}", text[i + 2:i + 6]):
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _split_unescaped(text: str, sep: str) -> list[str]:
    """``text`` split at each ``sep`` that is not inside a backslash escape (pieces still escaped)."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(sep, i):
            parts.append(text[start:i])
            i += len(sep)
            start = i
        else:
            i += 1
    parts.append(text[start:])
    return parts


def _split_output(label: str) -> tuple[str, int] | None:
    """``(escaped name, k)`` of a multi-class node label ``"name / k"``, or None."""
    parts = _split_unescaped(label, " / ")
    if len(parts) < 2 or not re.fullmatch(r"-?\d+", parts[-1]):
        return None
    return " / ".join(parts[:-1]), int(parts[-1])
