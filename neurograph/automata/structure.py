"""FSAs in the graph pipeline: state graph, communities, transition entropy, and words per state.

- :func:`fsa_graph`: the undirected weighted state graph that
  :func:`neurograph.graph.detect_communities` takes;
- :func:`fsa_state_table`: per state, the transition entropy (how spread out the next state
  is) and the non-determinism (how much the next state still varies once the symbol is
  known), from the observed transition counts, in bits;
- :func:`fsa_scores`: one flat dict of FSA numbers per model, ready to be a row of the
  score table beside the activation-graph scores;
- :func:`state_words`: for text, the words that lead into each state most often (the
  "semantic aggregation" view of Hou & Zhou).
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd

from .._validate import check_bool, check_choice, check_int, check_number, check_seed
from ..graph.communities import METHODS, detect_communities
from ..errors import DataError, OptionError
from .fsa import FSA
from ..recording.states import StateTrace

__all__ = ["fsa_graph", "fsa_scores", "fsa_state_table", "state_words"]


def fsa_graph(fsa: FSA, *, weight: str = "count", self_loops: bool = False) -> nx.Graph:
    """Undirected weighted graph of the states of ``fsa``.

    The weight of ``{s, t}`` is the number of observed transitions between ``s`` and ``t``
    in either direction (``weight="count"``, needs ``fsa.counts``), or the number of
    (state, symbol) pairs whose deterministic transition joins them (``weight="symbols"``).
    Self-loops are dropped unless ``self_loops``. Nodes are ``0..n-1`` with attributes
    ``label``, ``output``, ``is_start``.

    Examples
    --------
    >>> fsa = FSA.from_spec({"a": (1, {0: "a", 1: "b"}), "b": (0, {0: "a", 1: "b"})})
    >>> g = fsa_graph(fsa, weight="symbols")
    >>> sorted(g.edges(data="weight"))
    [(0, 1, 2.0)]
    """
    _check_fsa(fsa)
    check_choice("weight", weight, ("count", "symbols"))
    self_loops = check_bool("self_loops", self_loops)
    n = fsa.n_states
    w = np.zeros((n, n))
    if weight == "count":
        if fsa.counts is None:
            raise DataError("weight='count' needs an FSA with observed counts (from extract_fsa); "
                            "use weight='symbols'")
        c = fsa.counts
        np.add.at(w, (c["source"].to_numpy(), c["target"].to_numpy()), c["count"].to_numpy(float))
    else:
        np.add.at(w, (np.repeat(np.arange(n), fsa.n_symbols), fsa.transitions.ravel()), 1.0)
    w = w + w.T - np.diag(np.diag(w))
    g = nx.Graph()
    names = fsa.names()
    g.add_nodes_from((s, {"label": names[s], "output": int(fsa.outputs[s]), "is_start": s == fsa.start})
                     for s in range(n))
    i, j = np.nonzero(np.triu(w))
    for a, b in zip(i.tolist(), j.tolist()):
        if a != b or self_loops:
            g.add_edge(a, b, weight=float(w[a, b]))
    return g


def fsa_state_table(fsa: FSA) -> pd.DataFrame:
    """Per state: ``state``, ``label``, ``output``, ``visits``, ``n_out`` (observed transitions
    leaving it), ``n_targets`` (distinct next states observed), ``transition_entropy`` and
    ``nondeterminism`` (bits).

    With ``N[s, a, t]`` the observed counts, ``transition_entropy = H(T | S = s)`` of the
    next state pooled over symbols, ``p(t) = sum_a N[s, a, t] / sum_{a,t} N[s, a, t]``;
    ``nondeterminism = H(T | S = s, A) = sum_a P(a | s) H(T | s, a)``, 0 when every symbol
    leads from ``s`` to a single state (a perfectly deterministic RNN). A state never left
    has NaN for both. Needs ``fsa.counts``.

    Examples
    --------
    >>> import pandas as pd
    >>> fsa = FSA(transitions=np.array([[1], [1]]), outputs=np.array([0, 1]), alphabet=np.array([0]),
    ...           counts=pd.DataFrame({"source": [0, 0], "symbol": [0, 0], "target": [0, 1], "count": [1, 1]}))
    >>> fsa_state_table(fsa)["nondeterminism"].tolist()
    [1.0, nan]
    """
    _check_fsa(fsa)
    if fsa.counts is None:
        raise DataError("fsa_state_table needs an FSA with observed counts (from extract_fsa)")
    c = fsa.counts
    n = fsa.n_states
    n_out = np.bincount(c["source"].to_numpy(), c["count"].to_numpy(float), n)
    pooled = np.zeros((n, n))
    np.add.at(pooled, (c["source"].to_numpy(), c["target"].to_numpy()), c["count"].to_numpy(float))
    trans_h = _entropy_rows(pooled)
    per_sym = c.groupby(["source", "symbol"])["count"].agg(list)
    cond = np.zeros(n)
    for (s, _), counts in per_sym.items():
        counts = np.asarray(counts, float)
        cond[s] += counts.sum() * _entropy_rows(counts[None])[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        cond = np.where(n_out > 0, cond / n_out, np.nan)
    return pd.DataFrame({"state": np.arange(n), "label": fsa.names(), "output": fsa.outputs,
                         "visits": fsa.visits if fsa.visits is not None else np.full(n, -1),
                         "n_out": n_out.astype(np.int64), "n_targets": (pooled > 0).sum(axis=1),
                         "transition_entropy": np.where(n_out > 0, trans_h, np.nan), "nondeterminism": cond})


def fsa_scores(fsa: FSA, *, sequences=None, labels=None, rnn_predictions=None, lengths=None,
               method: str = "leiden", resolution: float = 1.0, seed: int = 0, prefix: str = "fsa_") -> dict:
    """One flat dict of numbers describing ``fsa``, for the score table.

    Keys (with ``prefix``): ``n_states``, ``n_states_min`` (after :meth:`FSA.minimize`),
    ``n_accepting``; with counts: ``transition_entropy`` and ``nondeterminism`` (visit-
    weighted means over states of :func:`fsa_state_table`, bits), ``modularity`` and
    ``n_communities`` of :func:`fsa_graph` (observed counts, no self-loops) under
    :func:`~neurograph.graph.detect_communities` (NaN / 0 for a graph without edges);
    with ``sequences``: ``accuracy`` (needs ``labels``) and ``fidelity`` (needs
    ``rnn_predictions``).

    Examples
    --------
    >>> fsa = FSA.from_spec({"a": (1, {0: "a", 1: "b"}), "b": (0, {0: "b", 1: "a"})})
    >>> s = fsa_scores(fsa, sequences=[[1], [1, 1]], labels=[0, 1])
    >>> s["fsa_n_states"], s["fsa_n_states_min"], s["fsa_accuracy"]
    (2, 2, 1.0)
    """
    _check_fsa(fsa)
    check_choice("method", method, METHODS)
    check_number("resolution", resolution, low=0.0, low_open=True)
    check_seed("seed", seed)
    if not isinstance(prefix, str):
        raise OptionError(f"prefix must be a str, got {prefix!r}")
    out: dict = {"n_states": fsa.n_states, "n_states_min": fsa.minimize().n_states,
                 "n_accepting": int(fsa.accepting.sum())}
    if fsa.counts is not None:
        table = fsa_state_table(fsa)
        w = table["n_out"].to_numpy(float)
        ok = w > 0
        out["transition_entropy"] = float(np.average(table["transition_entropy"][ok], weights=w[ok])) \
            if ok.any() else float("nan")
        out["nondeterminism"] = float(np.average(table["nondeterminism"][ok], weights=w[ok])) \
            if ok.any() else float("nan")
        g = fsa_graph(fsa, weight="count")
        if g.number_of_edges():
            part = detect_communities(g, method=method, resolution=resolution, seed=seed)
            out["modularity"], out["n_communities"] = float(part.modularity), int(part.n_communities)
        else:
            out["modularity"], out["n_communities"] = float("nan"), 0
    if sequences is not None:
        if labels is not None:
            out["accuracy"] = fsa.accuracy(sequences, labels, lengths)
        if rnn_predictions is not None:
            out["fidelity"] = fsa.fidelity(sequences, rnn_predictions, lengths)
    return {f"{prefix}{k}": v for k, v in out.items()}


def state_words(fsa: FSA, trace: StateTrace, vocab: Sequence[str] | None = None, top: int = 10) -> pd.DataFrame:
    """The tokens that lead into each state most often when ``fsa`` reads the trace's sequences.

    Every step ``x_t`` of every sequence moves the FSA into some state (its deterministic
    run, so this works for minimised FSAs too); this counts the (state, token) pairs.

    Parameters
    ----------
    fsa : FSA
    trace : StateTrace
        Its ``tokens`` and ``lengths`` are read.
    vocab : sequence of str, optional
        Word of each token id (a :class:`~neurograph.datasets.text.Vocabulary` works);
        default: the id as text.
    top : int, default 10
        Tokens kept per state.

    Returns
    -------
    pandas.DataFrame
        Columns ``state``, ``output``, ``rank`` (1 = most frequent), ``token``, ``word``,
        ``count`` and ``share`` (count / all steps into the state), sorted by state, rank.

    Examples
    --------
    >>> from neurograph.recording import StateTrace
    >>> fsa = FSA.from_spec({"a": (1, {0: "a", 1: "b"}), "b": (0, {0: "a", 1: "b"})})
    >>> trace = StateTrace(states=np.zeros((6, 1), np.float32), tokens=np.array([[0, 1, 1], [1, 0, 0]]),
    ...                    lengths=np.array([3, 1]), labels=None, predictions=np.array([0, 0]))
    >>> state_words(fsa, trace, vocab=["good", "bad"])[["state", "word", "count"]].values.tolist()
    [[0, 'good', 1], [1, 'bad', 3]]
    """
    _check_fsa(fsa)
    if not isinstance(trace, StateTrace):
        raise DataError(f"trace must be a StateTrace (see record_states), got {type(trace).__name__}")
    top = check_int("top", top, min=1)
    seqs, ts = trace.step_index()
    toks = trace.tokens[seqs, ts - 1]
    cols = fsa.symbol_index(trace.tokens)
    state = np.full(trace.n_sequences, int(fsa.start), np.int64)
    after = np.empty(trace.tokens.shape, np.int64)            # state after reading token t
    for t in range(trace.tokens.shape[1]):
        move = (trace.lengths > t) & (cols[:, t] >= 0)
        state[move] = fsa.transitions[state[move], cols[move, t]]
        after[:, t] = state
    into = after[seqs, ts - 1]
    df = pd.DataFrame({"state": into, "token": toks}).value_counts().rename("count").reset_index()
    totals = df.groupby("state")["count"].transform("sum")
    df["share"] = df["count"] / totals
    df = df.sort_values(["state", "count", "token"], ascending=[True, False, True], kind="stable")
    df["rank"] = df.groupby("state").cumcount() + 1
    df = df[df["rank"] <= top].reset_index(drop=True)
    df["output"] = fsa.outputs[df["state"].to_numpy()]
    if vocab is not None and len(df) and len(vocab) <= int(df["token"].max()):
        raise OptionError(f"vocab has {len(vocab)} words but the trace holds token id {int(df['token'].max())}; "
                          "give one word per token id")
    df["word"] = [str(vocab[t]) if vocab is not None else str(t) for t in df["token"].tolist()]
    return df[["state", "output", "rank", "token", "word", "count", "share"]]


def _check_fsa(fsa) -> None:
    if not isinstance(fsa, FSA):
        raise DataError(f"fsa must be an FSA, got {type(fsa).__name__}")


def _entropy_rows(m: np.ndarray) -> np.ndarray:
    tot = m.sum(axis=1, keepdims=True)
    p = np.divide(m, tot, out=np.zeros_like(m, dtype=float), where=tot > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(p > 0, np.log2(p), 0.0)
    return -(p * logs).sum(axis=1)
