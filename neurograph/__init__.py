"""neurograph: graph-analytic interpretability of PyTorch classifiers.

Data flow (each arrow a plain function, see README)::

    model + labelled inputs --record--> CoactivationStats
    CoactivationStats --activation_graph--> ActivationGraph --detect_communities--> Partition
    CoactivationStats --neuron_entropy / layer_entropy--> tables (pandas)
    ActivationGraph + Partition --export_gexf / export_graphml--> Gephi
    many models --score_model / zoo--> table --correlate--> correlations, report
    recurrent model --record_states--> StateTrace --extract_fsa--> FSA
    cell(x, h) --find_fixed_points / find_limit_cycle--> dynamics
"""

from __future__ import annotations

from .communities import (ModularitySignificance, Partition, detect_communities, modularity,
                          modularity_significance, resolution_profile)
from .distributed import all_reduce_stats, spawn_local
from .dynamics import (AttractorDimension, FixedPoints, attractor_dimension, cell_from_layer, find_fixed_points,
                       sample_initial_states)
from .entropy import layer_entropy, neuron_entropy
from .errors import (ConfigError, DataError, DegenerateGraphWarning, DegenerateLayerWarning, FileFormatError, GraphError, IncompatibleStatsError,
                     LayerError, MemoryBudgetError, ModelError, NeurographError, NeurographWarning, OptionError,
                     StatsFileError)
from .export import export_gexf, export_graphml
from .fsa import FSA
from .fsa_extract import cluster_states, extract_fsa
from .fsa_structure import fsa_graph, fsa_scores, fsa_state_table, state_words
from .blockwise import BlockCounts, record_blocks, record_top_k
from .checkpoints import (CustomSpec, ZooResult, load_checkpoint, load_data_file, load_factory, parse_custom_spec,
                          score_checkpoints)
from .correlation import Ranking, composite_score, correlate, label_free_ranking
from .graph import ActivationGraph, activation_graph, edge_weights
from .limit_cycle import LimitCycle, find_limit_cycle
from .moments import ActivationMoments
from .npk import gate_layers, gate_patterns, neural_path_kernel, path_kernel, record_gates
from .phase_code import PhaseAutomaton, PhaseShifts, phase_shifts, relative_phases
from .pipeline import Analysis, analyze, write_analysis
from .plots import (figure_png, plot_coactivation, plot_entropy, plot_ranking, plot_score_grid,
                    plot_score_vs_accuracy, plot_training_curves, save_figure)
from .preview import RecordingPlan, preview
from .reading import Reading
from .record import calibrate, list_layers, record
from .report import ReportResult, correlation_table, render_report, write_report
from .scores import LABEL_FREE_SCORES, SCORE_DEFINITIONS, ModelScores, score_model, score_stats
from .states import StateTrace, record_states
from .stats import CoactivationStats
from .timeline import export_dynamic_gexf, snapshot_intervals
from .zoo import RunSpec, ZooConfig, load_zoo_config, noisy_labels, parse_zoo_config, run_zoo, train_run

__version__ = "0.1.0"

__all__ = [
    "ActivationGraph",
    "ActivationMoments",
    "Analysis",
    "AttractorDimension",
    "BlockCounts",
    "CoactivationStats",
    "ConfigError",
    "CustomSpec",
    "DataError",
    "DegenerateGraphWarning",
    "DegenerateLayerWarning",
    "FSA",
    "FileFormatError",
    "FixedPoints",
    "GraphError",
    "IncompatibleStatsError",
    "LABEL_FREE_SCORES",
    "LayerError",
    "LimitCycle",
    "MemoryBudgetError",
    "ModelError",
    "ModelScores",
    "ModularitySignificance",
    "NeurographError",
    "NeurographWarning",
    "OptionError",
    "Partition",
    "PhaseAutomaton",
    "PhaseShifts",
    "Ranking",
    "Reading",
    "RecordingPlan",
    "ReportResult",
    "RunSpec",
    "SCORE_DEFINITIONS",
    "StateTrace",
    "StatsFileError",
    "ZooConfig",
    "ZooResult",
    "activation_graph",
    "all_reduce_stats",
    "analyze",
    "attractor_dimension",
    "calibrate",
    "cell_from_layer",
    "cluster_states",
    "composite_score",
    "correlate",
    "correlation_table",
    "detect_communities",
    "edge_weights",
    "export_dynamic_gexf",
    "export_gexf",
    "export_graphml",
    "extract_fsa",
    "figure_png",
    "find_fixed_points",
    "find_limit_cycle",
    "fsa_graph",
    "fsa_scores",
    "fsa_state_table",
    "gate_layers",
    "gate_patterns",
    "label_free_ranking",
    "layer_entropy",
    "list_layers",
    "load_checkpoint",
    "load_data_file",
    "load_factory",
    "load_zoo_config",
    "modularity",
    "modularity_significance",
    "neural_path_kernel",
    "neuron_entropy",
    "noisy_labels",
    "parse_custom_spec",
    "parse_zoo_config",
    "path_kernel",
    "phase_shifts",
    "plot_coactivation",
    "plot_entropy",
    "plot_ranking",
    "plot_score_grid",
    "plot_score_vs_accuracy",
    "plot_training_curves",
    "preview",
    "record",
    "record_blocks",
    "record_gates",
    "record_states",
    "record_top_k",
    "relative_phases",
    "render_report",
    "resolution_profile",
    "run_zoo",
    "sample_initial_states",
    "save_figure",
    "score_checkpoints",
    "score_model",
    "score_stats",
    "snapshot_intervals",
    "spawn_local",
    "state_words",
    "train_run",
    "write_analysis",
    "write_report",
]
