"""neurograph: graph-analytic interpretability of PyTorch classifiers.

Data flow (each arrow a plain function, see README)::

    model + labelled inputs --record--> CoactivationStats
    CoactivationStats --activation_graph--> ActivationGraph --detect_communities--> Partition
    CoactivationStats --neuron_entropy / layer_entropy--> tables (pandas)
    ActivationGraph + Partition --export_gexf / export_graphml--> Gephi
"""

from __future__ import annotations

from .communities import (ModularitySignificance, Partition, detect_communities, modularity,
                          modularity_significance)
from .entropy import layer_entropy, neuron_entropy
from .errors import (DataError, GraphError, IncompatibleStatsError, LayerError, ModelError, NeurographError,
                     StatsFileError)
from .export import export_gexf, export_graphml
from .graph import ActivationGraph, activation_graph, edge_weights
from .pipeline import Analysis, analyze, write_analysis
from .plots import plot_coactivation, plot_entropy, save_figure
from .record import calibrate, list_layers, record
from .stats import CoactivationStats

__version__ = "0.1.0"

__all__ = [
    "ActivationGraph",
    "Analysis",
    "CoactivationStats",
    "DataError",
    "GraphError",
    "IncompatibleStatsError",
    "LayerError",
    "ModelError",
    "ModularitySignificance",
    "NeurographError",
    "Partition",
    "StatsFileError",
    "activation_graph",
    "analyze",
    "calibrate",
    "detect_communities",
    "edge_weights",
    "export_gexf",
    "export_graphml",
    "layer_entropy",
    "list_layers",
    "modularity",
    "modularity_significance",
    "neuron_entropy",
    "plot_coactivation",
    "plot_entropy",
    "record",
    "save_figure",
    "write_analysis",
]
