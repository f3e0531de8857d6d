"""Finite-state automata: the FSA type, its extraction from RNN hidden states, its graph and scores.
"""

from .._lazy import attach

__all__ = [
    "AALPY_HINT",
    "FSA",
    "KSelection",
    "METHODS",
    "NetworkCheck",
    "as_padded",
    "bfs_order",
    "classifier_sul",
    "cluster_states",
    "extract_fsa",
    "from_aalpy",
    "fsa_from_dot",
    "fsa_graph",
    "fsa_scores",
    "fsa_state_table",
    "hopcroft_partition",
    "network_counterexample",
    "select_k",
    "state_words",
    "to_aalpy",
    "w_method_words",
]

__getattr__, __dir__ = attach(__name__, {
    "AALPY_HINT": ".aalpy",
    "FSA": ".fsa",
    "KSelection": ".select",
    "METHODS": ".extract",
    "NetworkCheck": ".counterexample",
    "as_padded": ".algorithms",
    "bfs_order": ".algorithms",
    "classifier_sul": ".aalpy",
    "cluster_states": ".extract",
    "extract_fsa": ".extract",
    "from_aalpy": ".aalpy",
    "fsa_from_dot": ".dot",
    "fsa_graph": ".structure",
    "fsa_scores": ".structure",
    "fsa_state_table": ".structure",
    "hopcroft_partition": ".algorithms",
    "network_counterexample": ".counterexample",
    "select_k": ".select",
    "state_words": ".structure",
    "to_aalpy": ".aalpy",
    "w_method_words": ".counterexample",
})
