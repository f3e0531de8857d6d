"""Finite-state automata: the FSA type, its extraction from RNN hidden states, its graph and scores.
"""

from .._lazy import attach

__all__ = [
    "FSA",
    "METHODS",
    "as_padded",
    "bfs_order",
    "cluster_states",
    "extract_fsa",
    "fsa_graph",
    "fsa_scores",
    "fsa_state_table",
    "hopcroft_partition",
    "state_words",
]

__getattr__, __dir__ = attach(__name__, {
    "FSA": ".fsa",
    "METHODS": ".extract",
    "as_padded": ".algorithms",
    "bfs_order": ".algorithms",
    "cluster_states": ".extract",
    "extract_fsa": ".extract",
    "fsa_graph": ".structure",
    "fsa_scores": ".structure",
    "fsa_state_table": ".structure",
    "hopcroft_partition": ".algorithms",
    "state_words": ".structure",
})
