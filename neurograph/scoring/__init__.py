"""Scoring: entropy tables, the analysis pipeline, per-model scores and their correlation with accuracy.
"""

from .._lazy import attach

__all__ = [
    "Analysis",
    "LABEL_FREE_SCORES",
    "METHODS",
    "ModelScores",
    "Ranking",
    "SCORE_DEFINITIONS",
    "analyze",
    "composite_score",
    "correlate",
    "label_free_ranking",
    "layer_entropy",
    "neuron_entropy",
    "score_model",
    "score_stats",
    "write_analysis",
]

__getattr__, __dir__ = attach(__name__, {
    "Analysis": ".pipeline",
    "LABEL_FREE_SCORES": ".scores",
    "METHODS": ".correlation",
    "ModelScores": ".scores",
    "Ranking": ".correlation",
    "SCORE_DEFINITIONS": ".scores",
    "analyze": ".pipeline",
    "composite_score": ".correlation",
    "correlate": ".correlation",
    "label_free_ranking": ".correlation",
    "layer_entropy": ".entropy",
    "neuron_entropy": ".entropy",
    "score_model": ".scores",
    "score_stats": ".scores",
    "write_analysis": ".pipeline",
})
