"""Input/output: GEXF / GraphML export, timeline GEXF, figures, the one palette, the HTML report, atomic writes.
"""

from .._lazy import attach

__all__ = [
    "DEFAULT_METRICS",
    "PALETTE",
    "ReportResult",
    "community_color",
    "community_color_hex",
    "correlation_table",
    "export_dynamic_gexf",
    "export_gexf",
    "export_graphml",
    "figure_png",
    "layer_color",
    "plot_coactivation",
    "plot_entropy",
    "plot_ranking",
    "plot_score_grid",
    "plot_score_vs_accuracy",
    "plot_training_curves",
    "render_report",
    "save_figure",
    "snapshot_intervals",
    "write_report",
]

__getattr__, __dir__ = attach(__name__, {
    "DEFAULT_METRICS": ".report",
    "PALETTE": ".palette",
    "ReportResult": ".report",
    "community_color": ".palette",
    "community_color_hex": ".palette",
    "correlation_table": ".report",
    "export_dynamic_gexf": ".timeline",
    "export_gexf": ".export",
    "export_graphml": ".export",
    "figure_png": ".plots",
    "layer_color": ".palette",
    "plot_coactivation": ".plots",
    "plot_entropy": ".plots",
    "plot_ranking": ".plots",
    "plot_score_grid": ".plots",
    "plot_score_vs_accuracy": ".plots",
    "plot_training_curves": ".plots",
    "render_report": ".report",
    "save_figure": ".plots",
    "snapshot_intervals": ".timeline",
    "write_report": ".report",
})
