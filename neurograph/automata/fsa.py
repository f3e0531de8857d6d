"""Finite-state automata (Moore machines over token ids): run, score, minimise, compare, draw.

An :class:`FSA` reads a sequence of token ids from its ``start`` state, one transition per
token, and answers the ``output`` (class label) of the state it ends in. For binary tasks
(Tomita grammars) output 1 means *accept*. The transition table is total over the
``alphabet``; a token outside the alphabet leaves the state unchanged (a self-loop), so
every FSA is defined on every sequence of ints, and two FSAs over different alphabets can
be compared exactly.

FSAs are extracted from RNN hidden states by :func:`neurograph.automata.extract_fsa`
(which also keeps the observed transition ``counts``: the probabilistic view), or written
by hand with :meth:`FSA.from_spec` in the style of AALpy's ``from_state_setup``.
:func:`neurograph.io.export_gexf` writes an FSA (through :meth:`FSA.to_networkx`) for
Gephi; :meth:`FSA.to_dot` writes Graphviz DOT as AALpy / Automata Wiki do (an arrow from
an invisible ``__start0`` node into the start state, accepting states as double circles).
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.atomic import atomic_path, check_file
from ..errors import DataError, FileFormatError
from .algorithms import (COUNT_COLUMNS, agreement, merge_centres, merge_counts,
                             one_sequence, symbol_token, as_padded, bfs_order, hopcroft_partition)

__all__ = ["FSA"]

_COUNT_COLUMNS = COUNT_COLUMNS


@dataclass(frozen=True, eq=False)
class FSA:
    """A deterministic finite-state automaton with an output class per state.

    ``fsa == other`` is *behavioural* equivalence (same output on every sequence), as in
    AALpy; use :meth:`counterexample` for a shortest sequence on which two FSAs differ.

    Attributes
    ----------
    transitions : numpy.ndarray of int64, shape (n_states, n_symbols)
        ``transitions[s, j]`` is the state after reading ``alphabet[j]`` in state ``s``.
    outputs : numpy.ndarray of int64, shape (n_states,)
        Class label of each state (1 = accepting for binary tasks).
    alphabet : numpy.ndarray of int64, shape (n_symbols,)
        Token ids, sorted, unique.
    start : int
        Start state.
    counts : pandas.DataFrame or None
        Observed transitions (columns ``source``, ``symbol`` (token id), ``target``,
        ``count``), one row per distinct triple; None for a hand-written FSA.
    centres : numpy.ndarray, shape (n_states, H), or None
        Mean hidden state of each state (the start state: mean initial state).
    visits : numpy.ndarray of int64, shape (n_states,), or None
        Number of recorded hidden states assigned to each state.
    state_names, symbol_names : tuple of str or None
        Display names (default ``s0, s1, ...`` and the token ids).
    params : dict
        How the FSA was made (method, k, rules, ...).

    Examples
    --------
    >>> parity = FSA.from_spec({"even": (True, {0: "even", 1: "odd"}),
    ...                         "odd": (False, {0: "odd", 1: "even"})})
    >>> parity.predict([[1, 1, 0], [1], []]).tolist()
    [1, 0, 1]
    >>> parity.n_states, parity.minimize().n_states
    (2, 2)
    """

    transitions: np.ndarray
    outputs: np.ndarray
    alphabet: np.ndarray
    start: int = 0
    counts: pd.DataFrame | None = None
    centres: np.ndarray | None = None
    visits: np.ndarray | None = None
    state_names: tuple[str, ...] | None = None
    symbol_names: tuple[str, ...] | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        t, o, a = self.transitions, self.outputs, self.alphabet
        if not (isinstance(t, np.ndarray) and t.ndim == 2 and np.issubdtype(t.dtype, np.integer)):
            raise DataError("FSA transitions must be a 2-D integer array (n_states, n_symbols)")
        n, m = t.shape
        if n == 0:
            raise DataError("an FSA needs at least one state")
        if t.size and (t.min() < 0 or t.max() >= n):
            raise DataError(f"FSA transitions must be state ids in [0, {n})")
        if not (isinstance(o, np.ndarray) and o.shape == (n,) and np.issubdtype(o.dtype, np.integer)):
            raise DataError(f"FSA outputs must be {n} ints (one per state)")
        if not (isinstance(a, np.ndarray) and a.shape == (m,) and np.issubdtype(a.dtype, np.integer)):
            raise DataError(f"FSA alphabet must be {m} ints (one per transition column)")
        if m > 1 and np.any(np.diff(a) <= 0):
            raise DataError("FSA alphabet must be sorted and unique")
        if isinstance(self.start, bool) or not 0 <= int(self.start) < n:
            raise DataError(f"FSA start must be a state id in [0, {n}), got {self.start!r}")
        for name, names, size in (("state_names", self.state_names, n), ("symbol_names", self.symbol_names, m)):
            if names is not None and len(names) != size:
                raise DataError(f"FSA {name} must have {size} entries, got {len(names)}")
            if names is not None and not all(isinstance(x, str) for x in names):
                raise DataError(f"FSA {name} must be strings, got {list(names)[:5]}")
            if names is not None and len(set(names)) != len(names):
                dup = next(x for i, x in enumerate(names) if x in names[:i])
                raise DataError(f"FSA {name} must be unique: {dup!r} names two {name[:-6]}s")
        problem = fsa_tables_problem(n, a, self.counts, self.centres, self.visits)
        if problem is not None:
            key, msg = problem
            raise DataError(f"FSA {key} {msg}")

    def __repr__(self) -> str:
        return (f"FSA(n_states={self.n_states}, n_symbols={self.n_symbols}, start={self.start}, "
                f"n_accepting={int(self.accepting.sum())}, classes={sorted(set(self.outputs.tolist()))})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FSA):
            return NotImplemented
        return self.equivalent(other)

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ basic views
    @property
    def n_states(self) -> int:
        """Number of states."""
        return int(self.transitions.shape[0])

    @property
    def n_symbols(self) -> int:
        """Size of the alphabet."""
        return int(self.transitions.shape[1])

    @property
    def accepting(self) -> np.ndarray:
        """Boolean mask (n_states,) of states whose output is 1."""
        return self.outputs == 1

    def names(self) -> list[str]:
        """State display names."""
        return list(self.state_names) if self.state_names is not None else [f"s{i}" for i in range(self.n_states)]

    def symbol_name(self, j: int) -> str:
        """Display name of alphabet column ``j``."""
        return self.symbol_names[j] if self.symbol_names is not None else str(int(self.alphabet[j]))

    def symbol_index(self, tokens) -> np.ndarray:
        """Alphabet column of each token id (same shape), -1 for tokens outside the alphabet."""
        tokens = np.asarray(tokens, dtype=np.int64)
        if self.n_symbols == 0:
            return np.full(tokens.shape, -1, np.int64)
        j = np.clip(np.searchsorted(self.alphabet, tokens), 0, self.n_symbols - 1)
        return np.where(self.alphabet[j] == tokens, j, -1)

    # ------------------------------------------------------------------ running
    def run(self, sequence) -> np.ndarray:
        """States visited on one sequence of token ids, start state first, shape (len + 1,)."""
        seq = one_sequence(sequence)
        path = np.empty(len(seq) + 1, np.int64)
        path[0] = s = int(self.start)
        for t, j in enumerate(self.symbol_index(seq)):
            if j >= 0:
                s = int(self.transitions[s, j])
            path[t + 1] = s
        return path

    def final_states(self, sequences, lengths=None) -> np.ndarray:
        """State reached at the end of each sequence, shape (n,) int64.

        ``sequences``: a list of sequences (lists, 1-D arrays or tensors of token ids) or
        a padded 2-D array / tensor (n, T) with optional ``lengths`` (n,) (default T).
        """
        tokens, lengths = as_padded(sequences, lengths)
        cols = self.symbol_index(tokens)
        state = np.full(tokens.shape[0], int(self.start), np.int64)
        for t in range(tokens.shape[1]):
            live = (lengths > t) & (cols[:, t] >= 0)
            state[live] = self.transitions[state[live], cols[live, t]]
        return state

    def predict(self, sequences, lengths=None) -> np.ndarray:
        """Output class of each sequence, shape (n,) int64 (inputs as in :meth:`final_states`)."""
        return self.outputs[self.final_states(sequences, lengths)]

    def accuracy(self, sequences, labels, lengths=None) -> float:
        """Fraction of sequences whose predicted class equals ``labels`` (n,)."""
        return agreement(self.predict(sequences, lengths), labels, "labels")

    def fidelity(self, sequences, rnn_predictions, lengths=None) -> float:
        """Fraction of sequences on which the FSA agrees with the RNN's predictions (n,)."""
        return agreement(self.predict(sequences, lengths), rnn_predictions, "rnn_predictions")

    # ------------------------------------------------------------------ structure
    def reachable(self) -> np.ndarray:
        """Boolean mask (n_states,) of states reachable from the start state."""
        seen = np.zeros(self.n_states, bool)
        seen[self.start] = True
        queue = deque([int(self.start)])
        while queue:
            s = queue.popleft()
            for nxt in np.unique(self.transitions[s]).tolist():
                if not seen[nxt]:
                    seen[nxt] = True
                    queue.append(nxt)
        return seen

    def minimize(self) -> FSA:
        """The minimal equivalent FSA (Hopcroft's algorithm on the reachable part).

        Unreachable states are dropped, then states that no sequence can tell apart are
        merged (Hopcroft's partition refinement, starting from the partition by output).
        States are renumbered in breadth-first order from the start (symbols in alphabet
        order), so the start state is 0 and two equivalent minimal FSAs over one alphabet
        have identical tables. ``counts`` and ``visits`` are summed over merged states and
        ``centres`` averaged weighted by visits; ``params["state_map"]`` gives, for each old
        state, its new state (-1 if unreachable).
        """
        keep = np.flatnonzero(self.reachable())
        old_to_sub = np.full(self.n_states, -1, np.int64)
        old_to_sub[keep] = np.arange(keep.size)
        sub_trans = old_to_sub[self.transitions[keep]]
        block = hopcroft_partition(sub_trans, self.outputs[keep])
        n_blocks = int(block.max()) + 1
        rep = np.zeros(n_blocks, np.int64)
        rep[block[::-1]] = np.arange(keep.size)[::-1]  # first member of each block
        b_trans = block[sub_trans[rep]]
        order = bfs_order(b_trans, int(block[old_to_sub[self.start]]))
        new_of_block = np.empty(n_blocks, np.int64)
        new_of_block[order] = np.arange(n_blocks)
        state_map = np.full(self.n_states, -1, np.int64)
        state_map[keep] = new_of_block[block]
        trans = np.empty_like(b_trans)
        trans[new_of_block] = new_of_block[b_trans]
        outputs = np.empty(n_blocks, np.int64)
        outputs[new_of_block] = self.outputs[keep[rep]]
        return FSA(transitions=trans, outputs=outputs, alphabet=self.alphabet.copy(), start=0,
                   counts=merge_counts(self.counts, state_map), centres=merge_centres(self, state_map, n_blocks),
                   visits=None if self.visits is None else np.bincount(state_map[keep], self.visits[keep],
                                                                       n_blocks).astype(np.int64),
                   symbol_names=self.symbol_names,
                   params={**self.params, "minimized": True, "state_map": state_map.tolist()})

    def counterexample(self, other: FSA) -> list[int] | None:
        """A shortest sequence of token ids on which ``self`` and ``other`` give different outputs, or None.

        Breadth-first search over the product automaton from ``(start, other.start)`` on the
        union of the two alphabets (a token outside an FSA's alphabet is a self-loop in it).
        """
        if not isinstance(other, FSA):
            raise TypeError(f"other must be an FSA, got {type(other).__name__}")
        symbols = np.union1d(self.alphabet, other.alphabet)
        ja, jb = self.symbol_index(symbols), other.symbol_index(symbols)
        ta = np.concatenate([self.transitions, np.arange(self.n_states)[:, None]], axis=1)
        tb = np.concatenate([other.transitions, np.arange(other.n_states)[:, None]], axis=1)
        first = (int(self.start), int(other.start))
        parent: dict[tuple[int, int], tuple[tuple[int, int], int] | None] = {first: None}
        queue = deque([first])
        while queue:
            a, b = queue.popleft()
            if self.outputs[a] != other.outputs[b]:
                word = []
                node = (a, b)
                while parent[node] is not None:
                    node, sym = parent[node]
                    word.append(sym)
                return word[::-1]
            for k, sym in enumerate(symbols.tolist()):
                nxt = (int(ta[a, ja[k]]), int(tb[b, jb[k]]))
                if nxt not in parent:
                    parent[nxt] = ((a, b), sym)
                    queue.append(nxt)
        return None

    def equivalent(self, other: FSA) -> bool:
        """True when ``self`` and ``other`` give the same output on every sequence."""
        return self.counterexample(other) is None

    def transition_matrix(self, *, observed: bool = True) -> np.ndarray:
        """Row-stochastic matrix (n_states, n_states) of next-state probabilities pooled over symbols.

        With ``observed=True`` (needs ``counts``) row ``s`` is the observed frequency of each
        next state after ``s`` (all zeros for a state never left); with ``observed=False``
        every alphabet symbol counts once (the deterministic table).
        """
        n = self.n_states
        m = np.zeros((n, n))
        if observed:
            if self.counts is None:
                raise DataError("this FSA has no observed counts; use observed=False")
            c = self.counts
            np.add.at(m, (c["source"].to_numpy(), c["target"].to_numpy()), c["count"].to_numpy(float))
        else:
            np.add.at(m, (np.repeat(np.arange(n), self.n_symbols), self.transitions.ravel()), 1.0)
        rows = m.sum(axis=1, keepdims=True)
        return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)

    # ------------------------------------------------------------------ graphs and files
    def edge_table(self) -> pd.DataFrame:
        """One row per (source, target) pair joined by some symbol: source, target, symbols, n_symbols, count."""
        n, m = self.n_states, self.n_symbols
        src = np.repeat(np.arange(n), m)
        dst = self.transitions.ravel()
        col = np.tile(np.arange(m), n)
        observed = np.zeros(n * m)
        if self.counts is not None and len(self.counts):
            c = self.counts
            j = self.symbol_index(c["symbol"].to_numpy())
            ok = (j >= 0) & (self.transitions[c["source"].to_numpy(), np.maximum(j, 0)] == c["target"].to_numpy())
            np.add.at(observed, c["source"].to_numpy()[ok] * m + j[ok], c["count"].to_numpy(float)[ok])
        df = pd.DataFrame({"source": src, "target": dst, "col": col, "count": observed})
        rows = []
        for (s, t), g in df.groupby(["source", "target"], sort=True):
            rows.append((int(s), int(t), [self.symbol_name(j) for j in g["col"]], len(g), int(g["count"].sum())))
        return pd.DataFrame(rows, columns=["source", "target", "symbols", "n_symbols", "count"])

    def to_networkx(self):
        """The transition graph as a ``networkx.DiGraph``.

        Nodes ``0..n-1`` with attributes ``label`` (state name), ``output``, ``accepting``,
        ``is_start`` and ``visits`` (when known); one edge per (source, target) pair reached by
        some symbol, with ``symbols`` (comma-separated names), ``n_symbols``, ``count``
        (observed transitions along it, 0 without counts) and ``weight`` (``count`` when
        the FSA has counts, else ``n_symbols``). :func:`neurograph.io.export_gexf`
        accepts an FSA directly through this method.
        """
        import networkx as nx

        g = nx.DiGraph(start_state=int(self.start))
        names = self.names()
        for s in range(self.n_states):
            attrs = {"label": names[s], "output": int(self.outputs[s]), "accepting": bool(self.outputs[s] == 1),
                     "is_start": s == int(self.start)}
            if self.visits is not None:
                attrs["visits"] = int(self.visits[s])
            g.add_node(s, **attrs)
        for r in self.edge_table().itertuples(index=False):
            weight = float(r.count) if self.counts is not None else float(r.n_symbols)
            g.add_edge(r.source, r.target, symbols=", ".join(r.symbols), n_symbols=int(r.n_symbols),
                       count=int(r.count), weight=weight)
        return g

    def to_dot(self, *, max_symbols: int = 8) -> str:
        """Graphviz DOT text in the AALpy style.

        States are circles labelled by name (and ``/ output`` when there are more than two
        classes), accepting states (output 1) double circles; an invisible ``__start0``
        node points at the start state; one edge per (source, target) labelled with up to
        ``max_symbols`` symbol names (``+N`` more).

        Examples
        --------
        >>> fsa = FSA.from_spec({"a": (True, {0: "a", 1: "b"}), "b": (False, {0: "b", 1: "a"})})
        >>> print(fsa.to_dot())
        digraph FSA {
        s0 [label="a", shape=doublecircle];
        s1 [label="b", shape=circle];
        s0 -> s0 [label="0"];
        s0 -> s1 [label="1"];
        s1 -> s0 [label="1"];
        s1 -> s1 [label="0"];
        __start0 [label="", shape=none];
        __start0 -> s0 [label=""];
        }
        """
        from .dot import escape_state, escape_symbol

        multi = len(set(self.outputs.tolist()) - {0, 1}) > 0
        lines = ["digraph FSA {"]
        for s, name in enumerate(self.names()):
            label = f"{escape_state(name)} / {int(self.outputs[s])}" if multi else escape_state(name)
            shape = "doublecircle" if self.outputs[s] == 1 else "circle"
            lines.append(f's{s} [label="{label}", shape={shape}];')
        for r in self.edge_table().itertuples(index=False):
            shown = [escape_symbol(x) for x in r.symbols[:max_symbols]] + (
                [f"+{len(r.symbols) - max_symbols}"] if len(r.symbols) > max_symbols else [])
            lines.append(f's{r.source} -> s{r.target} [label="{", ".join(shown)}"];')
        lines += ['__start0 [label="", shape=none];', f'__start0 -> s{int(self.start)} [label=""];', "}"]
        return "\n".join(lines)

    @classmethod
    def from_dot(cls, text: str, *, symbols: Sequence[str] | None = None) -> FSA:
        """Read back the DOT text that :meth:`to_dot` writes.

        States are the nodes ``s0, s1, ...`` (their labels become the state names), the
        start state is the target of the ``__start0`` arrow, a ``doublecircle`` has output
        1 and a ``circle`` output 0 (when every label ends in ``" / <int>"`` with some class
        other than 0 and 1, as :meth:`to_dot` writes for multi-class FSAs, those are the
        outputs). Edge labels list symbol names separated by ``", "``: token ids, or the
        names in ``symbols`` (whose positions are their token ids, as in :meth:`from_spec`).
        Names are escaped exactly (:func:`neurograph.automata.dot.escape_symbol`), so any
        state and symbol names (commas, quotes, slashes, line breaks) read back unchanged.

        Raises
        ------
        DataError
            Text that is not :meth:`to_dot` output: no ``digraph``, no start arrow, a state
            without a transition on some symbol or with two, an edge label truncated by
            ``max_symbols`` (``+N``; write it again with a larger ``max_symbols``), or a
            symbol that is neither an int nor in ``symbols``.

        Examples
        --------
        >>> fsa = FSA.from_spec({"a": (True, {0: "a", 1: "b"}), "b": (False, {0: "b", 1: "a"})})
        >>> back = FSA.from_dot(fsa.to_dot())
        >>> back == fsa, back.state_names, back.to_dot() == fsa.to_dot()
        (True, ('a', 'b'), True)
        """
        from .dot import fsa_from_dot

        return fsa_from_dot(cls, text, symbols=symbols)

    def to_aalpy(self):
        """This FSA as an AALpy ``Dfa`` (optional extra: ``pip install aalpy``); see :mod:`neurograph.automata.aalpy`."""
        from .aalpy import to_aalpy

        return to_aalpy(self)

    @classmethod
    def from_aalpy(cls, automaton) -> FSA:
        """An FSA from an AALpy ``Dfa`` or ``MooreMachine`` over int token ids; see :mod:`neurograph.automata.aalpy`."""
        from .aalpy import from_aalpy

        return from_aalpy(automaton)

    def save_dot(self, path: str | os.PathLike, *, max_symbols: int = 8) -> Path:
        """Write :meth:`to_dot` to ``path``, whole or not at all; returns the path."""
        with atomic_path(path, suffix=".dot") as tmp:
            Path(tmp).write_text(self.to_dot(max_symbols=max_symbols) + "\n", encoding="utf-8")
        return Path(path)

    # ------------------------------------------------------------------ specs and files
    @classmethod
    def from_spec(cls, spec: Mapping, *, start=None, alphabet: Sequence | None = None) -> FSA:
        """Build an FSA from ``{state: (output, {symbol: next_state})}`` (AALpy's ``from_state_setup``).

        The first state listed is the start unless ``start`` names another. Outputs are
        bools (accepting) or int class labels. Symbols are token ids (ints or digit
        strings such as ``"0"``) unless ``alphabet`` lists symbol names, whose positions
        are then their token ids. Every state must have a transition on every symbol.
        """
        if not isinstance(spec, Mapping) or not spec:
            raise DataError("spec must be a non-empty dict {state: (output, {symbol: next_state})}")
        states = list(spec)
        index = {s: i for i, s in enumerate(states)}
        start = states[0] if start is None else start
        if start not in index:
            raise DataError(f"start state {start!r} is not in spec")
        names = list(alphabet) if alphabet is not None else None
        token_of: dict = {}
        for state, entry in spec.items():
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2 and isinstance(entry[1], Mapping)):
                raise DataError(f"spec[{state!r}] must be (output, {{symbol: next_state}})")
            for sym in entry[1]:
                token_of.setdefault(sym, symbol_token(sym, names))
        tokens = sorted(set(token_of.values()))
        col = {tok: j for j, tok in enumerate(tokens)}
        trans = np.full((len(states), len(tokens)), -1, np.int64)
        outputs = np.zeros(len(states), np.int64)
        for state, (out, moves) in spec.items():
            outputs[index[state]] = int(out)
            for sym, nxt in moves.items():
                if nxt not in index:
                    raise DataError(f"spec[{state!r}] moves on {sym!r} to unknown state {nxt!r}")
                trans[index[state], col[token_of[sym]]] = index[nxt]
        missing = np.argwhere(trans < 0)
        if missing.size:
            s, j = missing[0]
            raise DataError(f"spec[{states[s]!r}] has no transition on symbol {tokens[j]} "
                            f"({missing.shape[0]} missing); an FSA must be complete")
        symbol_names = tuple(names[t] for t in tokens) if names is not None else None
        return cls(transitions=trans, outputs=outputs, alphabet=np.array(tokens, np.int64), start=index[start],
                   state_names=tuple(str(s) for s in states), symbol_names=symbol_names, params={"source": "spec"})

    def to_spec(self) -> dict:
        """``{state name: (output, {token id: next state name})}``, the inverse of :meth:`from_spec`.

        The start state comes first.
        """
        names = self.names()
        order = [int(self.start)] + [s for s in range(self.n_states) if s != int(self.start)]
        return {names[s]: (int(self.outputs[s]), {int(a): names[int(self.transitions[s, j])]
                                                  for j, a in enumerate(self.alphabet)}) for s in order}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the FSA (table, outputs, names, counts, visits, params) as JSON, whole or not at all."""
        doc = {"format": "neurograph-fsa", "version": 1, "transitions": self.transitions.tolist(),
               "outputs": self.outputs.tolist(), "alphabet": self.alphabet.tolist(), "start": int(self.start),
               "counts": None if self.counts is None else self.counts.to_numpy(np.int64).tolist(),
               "centres": None if self.centres is None else self.centres.tolist(),
               "visits": None if self.visits is None else self.visits.tolist(),
               "state_names": self.state_names, "symbol_names": self.symbol_names,
               "params": json.loads(json.dumps(self.params, default=_jsonable))}
        with atomic_path(path, suffix=".json") as tmp:
            Path(tmp).write_text(json.dumps(doc), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FSA:
        """Read an FSA written by :meth:`save`, checking its structure and every table.

        The file must be UTF-8 JSON: an object with ``format`` ``"neurograph-fsa"``,
        ``version`` 1 and exactly the keys :meth:`save` writes, whose ``transitions`` is a
        rectangular table of state ids (ints in ``[0, n_states)``), ``outputs`` one int per
        state, ``alphabet`` sorted unique ints (one per column), ``start`` a state id,
        ``counts`` null or rows ``[source, symbol, target, count]`` of ints (states in
        range, ``count >= 0``), ``centres`` null or one row of numbers per state,
        ``visits`` null or one int >= 0 per state, ``state_names`` / ``symbol_names`` null
        or strings (one per state / symbol), and ``params`` an object.

        Raises
        ------
        FileFormatError
            Naming the file and the key at fault: missing, a folder, unreadable, not UTF-8,
            not JSON, not a neurograph FSA file, a missing or unexpected key, a value of the
            wrong type or shape, or a table that breaks an FSA invariant. (Building an FSA
            in memory from bad arrays raises :class:`~neurograph.errors.DataError`.)
        """
        path = check_file(path, "FSA file")
        name = str(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise FileFormatError(f"FSA file {name!r} cannot be read: {exc.strerror or exc}") from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"FSA file {name!r} is not UTF-8 text (a binary file?): invalid byte at "
                                  f"offset {exc.start}") from exc
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"FSA file {name!r} is not valid JSON: {exc.msg} at line {exc.lineno} "
                                  f"column {exc.colno}") from exc
        except RecursionError as exc:
            raise FileFormatError(f"FSA file {name!r} is not a neurograph FSA file (JSON nested too deeply)") from exc
        if not isinstance(doc, dict) or doc.get("format") != "neurograph-fsa":
            raise FileFormatError(f"{name!r} is not a neurograph FSA file (version 1)")
        if doc.get("version") != 1 or isinstance(doc.get("version"), bool):
            raise FileFormatError(f"{name!r} is a neurograph FSA file of version {doc.get('version')!r}; this "
                                  "neurograph reads version 1")
        missing, extra = sorted(_FILE_KEYS - set(doc)), sorted(set(doc) - _FILE_KEYS)
        if missing:
            raise FileFormatError(f"FSA file {name!r} is incomplete: missing key(s) {missing}")
        if extra:
            raise FileFormatError(f"FSA file {name!r} has unknown key(s) {extra}")

        def bad(key: str, msg: str) -> FileFormatError:
            return FileFormatError(f"FSA file {name!r}: {key!r} {msg}")

        outputs = _json_ints(doc["outputs"], 1, "outputs", bad)
        n = outputs.shape[0]
        if n == 0:
            raise bad("outputs", "is empty: an FSA needs at least one state")
        transitions = _json_ints(doc["transitions"], 2, "transitions", bad, rows=n)
        m = transitions.shape[1]
        if transitions.size and (transitions.min() < 0 or transitions.max() >= n):
            raise bad("transitions", f"must hold state ids in [0, {n}), got values in "
                                     f"[{int(transitions.min())}, {int(transitions.max())}]")
        alphabet = _json_ints(doc["alphabet"], 1, "alphabet", bad)
        if alphabet.shape[0] != m:
            raise bad("alphabet", f"has {alphabet.shape[0]} symbols but the transition table {m} columns")
        if m > 1 and np.any(np.diff(alphabet) <= 0):
            raise bad("alphabet", "must be sorted and unique")
        start = doc["start"]
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < n:
            raise bad("start", f"must be a state id in [0, {n}), got {start!r}")
        counts = doc["counts"]
        if counts is not None:
            counts = pd.DataFrame(_json_ints(counts, 2, "counts", bad, cols=len(_COUNT_COLUMNS)),
                                  columns=_COUNT_COLUMNS)
        centres = doc["centres"]
        if centres is not None:
            centres = _json_numbers(centres, "centres", bad, rows=n)
        visits = doc["visits"]
        if visits is not None:
            visits = _json_ints(visits, 1, "visits", bad)
        problem = fsa_tables_problem(n, alphabet, counts, centres, visits)
        if problem is not None:
            raise bad(*problem)
        names = {}
        for key, size in (("state_names", n), ("symbol_names", m)):
            value = doc[key]
            if value is not None and not (isinstance(value, list) and len(value) == size
                                          and all(isinstance(x, str) for x in value)):
                raise bad(key, f"must be null or a list of {size} strings")
            if value is not None and len(set(value)) != len(value):
                raise bad(key, f"must name each {key[:-6]} once, got {next(x for i, x in enumerate(value) if x in value[:i])!r} twice")
            names[key] = None if value is None else tuple(value)
        if not isinstance(doc["params"], dict):
            raise bad("params", f"must be a JSON object, got {type(doc['params']).__name__}")
        try:
            return cls(transitions=transitions, outputs=outputs, alphabet=alphabet, start=start, counts=counts,
                       centres=centres, visits=visits, params=doc["params"], **names)
        except DataError as exc:  # not reached for a file that passed the checks above; kept as a guard
            raise FileFormatError(f"FSA file {name!r} is invalid: {exc}") from exc


def fsa_tables_problem(n: int, alphabet: np.ndarray, counts, centres, visits) -> tuple[str, str] | None:
    """``(field, what is wrong)`` with the optional tables of an FSA of ``n`` states, or None.

    ``counts``: int rows (source, symbol, target, count) with states in ``[0, n)``, symbols in
    ``alphabet``, counts >= 0 and no (source, symbol, target) twice; ``centres``: a finite float
    table of ``n`` rows; ``visits``: ``n`` ints >= 0.
    """
    if counts is not None:
        if not isinstance(counts, pd.DataFrame) or list(counts.columns) != _COUNT_COLUMNS:
            return "counts", f"must be a table with columns {_COUNT_COLUMNS}"
        table = counts.to_numpy()
        if table.size and table.dtype.kind not in "iu":
            return "counts", f"must hold integers, got dtype {table.dtype}"
        if table.size and ((table[:, [0, 2]] < 0).any() or (table[:, [0, 2]] >= n).any()):
            return "counts", f"must have source and target state ids in [0, {n})"
        if table.size and not np.isin(table[:, 1], alphabet).all():
            bad_sym = int(table[~np.isin(table[:, 1], alphabet), 1][0])
            return "counts", f"has symbol {bad_sym}, which is not in the alphabet {alphabet.tolist()[:20]}"
        if table.size and (table[:, 3] < 0).any():
            return "counts", "must have counts >= 0"
        if table.size and len(np.unique(table[:, :3], axis=0)) != table.shape[0]:
            return "counts", "lists a (source, symbol, target) transition twice"
    if centres is not None:
        if not isinstance(centres, np.ndarray) or centres.ndim != 2 or centres.shape[0] != n \
                or centres.dtype.kind not in "iuf":
            what = f"shape {centres.shape}" if isinstance(centres, np.ndarray) else type(centres).__name__
            return "centres", f"must be a table of numbers with {n} rows (one per state), got {what}"
        if not np.isfinite(centres).all():
            s = int(np.argwhere(~np.isfinite(centres))[0][0])
            return "centres", f"must be finite numbers; the centre of state {s} holds NaN or infinity"
    if visits is not None:
        if not isinstance(visits, np.ndarray) or visits.shape != (n,) or visits.dtype.kind not in "iu" \
                or (visits < 0).any():
            return "visits", f"must be {n} ints >= 0 (one per state)"
    return None


_FILE_KEYS = {"format", "version", "transitions", "outputs", "alphabet", "start", "counts", "centres", "visits",
              "state_names", "symbol_names", "params"}


def _json_ints(value, ndim: int, key: str, bad, *, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """A JSON list (of lists) of ints as an int64 array; ``bad(key, msg)`` for anything else."""
    shape = "a list of ints" if ndim == 1 else "a list of equally long lists of ints"
    if not isinstance(value, list) or (ndim == 2 and not all(isinstance(r, list) for r in value)):
        raise bad(key, f"must be {shape}")
    flat = value if ndim == 1 else [x for r in value for x in r]
    if not all(type(x) is int for x in flat):  # noqa: E721 - bools and floats are not ids
        raise bad(key, f"must be {shape} (found {_first_non_int(flat)!r})")
    if any(not -2**63 <= x < 2**63 for x in flat):
        raise bad(key, "holds a number beyond the int64 range")
    if ndim == 1:
        return np.array(value, np.int64)
    width = cols if cols is not None else (len(value[0]) if value else 0)
    if any(len(r) != width for r in value):
        raise bad(key, f"must be a table of rows of {width} ints (rows differ in length)")
    if rows is not None and len(value) != rows:
        raise bad(key, f"has {len(value)} rows but there are {rows} states")
    return np.array(value, np.int64).reshape(len(value), width)


def _first_non_int(flat):
    return next(x for x in flat if type(x) is not int)  # noqa: E721


def _json_numbers(value, key: str, bad, *, rows: int) -> np.ndarray:
    """A JSON table of numbers (``rows`` equally long rows) as a float64 array."""
    if not (isinstance(value, list) and len(value) == rows and all(isinstance(r, list) for r in value)):
        raise bad(key, f"must be a table of {rows} rows of numbers (one per state)")
    width = len(value[0]) if value else 0
    if any(len(r) != width for r in value):
        raise bad(key, "must have rows of equal length")
    if not all(type(x) in (int, float) for r in value for x in r):
        raise bad(key, "must hold numbers only")
    try:
        return np.array(value, np.float64).reshape(rows, width)
    except OverflowError as exc:
        raise bad(key, "holds a number beyond the float64 range") from exc


def _jsonable(obj):
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)
