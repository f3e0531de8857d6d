"""Read Graphviz DOT written by :meth:`FSA.to_dot <neurograph.automata.FSA.to_dot>` back into an FSA."""

from __future__ import annotations

import re
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
            nodes[int(m.group(1))] = (_dot_unescape(m.group(2)), m.group(3))
        elif m := edge_re.match(line):
            if m.group(1) == "__start0":
                start = int(m.group(2))
            else:
                edges.append((int(m.group(1)[1:]), int(m.group(2)), _dot_unescape(m.group(3))))
    n = len(nodes)
    if n == 0 or sorted(nodes) != list(range(n)):
        raise DataError(f"from_dot: the states must be s0 .. s{{n-1}}, got {sorted(nodes)[:10]}")
    if start is None:
        raise DataError("from_dot: no start arrow '__start0 -> sN' in the text")
    index = {str(name): i for i, name in enumerate(symbols)} if symbols is not None else None
    moves = []
    for a, b, label in edges:
        for name in label.split(", "):
            if re.fullmatch(r"\+\d+", name):
                raise DataError(f"from_dot: the label of s{a} -> s{b} is truncated ({name!r}); write the DOT "
                                "again with a larger max_symbols")
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
    labels = [nodes[i][0] for i in range(n)]
    multi = [re.fullmatch(r"(.*) / (-?\d+)", lab, re.DOTALL) for lab in labels]
    if all(multi) and {int(m.group(2)) for m in multi} - {0, 1}:
        outputs = np.array([int(m.group(2)) for m in multi], np.int64)
        labels = [m.group(1) for m in multi]
    else:
        outputs = np.array([int(nodes[i][1] == "doublecircle") for i in range(n)], np.int64)
    names = tuple(str(symbols[t]) for t in tokens) if symbols is not None else None
    return cls(transitions=trans, outputs=outputs, alphabet=np.array(tokens, np.int64).reshape(-1),
               start=start, state_names=tuple(labels), symbol_names=names, params={"source": "dot"})


def _dot_unescape(text: str) -> str:
    """Inverse of ``dot_escape``: ``\\\\`` -> backslash, ``\\"`` -> quote, ``\\n`` -> newline."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)
