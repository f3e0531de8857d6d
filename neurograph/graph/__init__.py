"""Graphs: co-activation graphs from statistics (weights, sparsification), communities, null models.
"""

from .._lazy import attach

__all__ = [
    "ActivationGraph",
    "METHODS",
    "ModularitySignificance",
    "Partition",
    "WEIGHTS",
    "activation_graph",
    "detect_communities",
    "edge_weights",
    "modularity",
    "modularity_significance",
    "resolution_profile",
]

__getattr__, __dir__ = attach(__name__, {
    "ActivationGraph": ".activation",
    "METHODS": ".communities",
    "ModularitySignificance": ".communities",
    "Partition": ".communities",
    "WEIGHTS": ".activation",
    "activation_graph": ".activation",
    "detect_communities": ".communities",
    "edge_weights": ".activation",
    "modularity": ".communities",
    "modularity_significance": ".communities",
    "resolution_profile": ".communities",
})
