"""Recording: forward hooks on a model over labelled data → exact co-firing statistics.

One capture loop (:mod:`.capture`) runs every model pass; :mod:`.reading` says how a layer is read
(neuron axis, positions, masks, firing rule); :func:`record` counts, :func:`preview` is its dry run;
blockwise and top-k recorders for wide models; distributed all-reduce; hidden states of RNNs.
"""

from .._lazy import attach

__all__ = [
    "BlockCounts",
    "POSITIONS",
    "RULES",
    "Reading",
    "RecordingPlan",
    "StateTrace",
    "all_reduce_stats",
    "calibrate",
    "list_layers",
    "preview",
    "record",
    "record_blocks",
    "record_states",
    "record_top_k",
    "spawn_local",
]

__getattr__, __dir__ = attach(__name__, {
    "BlockCounts": ".blockwise",
    "POSITIONS": ".reading",
    "RULES": ".reading",
    "Reading": ".reading",
    "RecordingPlan": ".plan",
    "StateTrace": ".states",
    "all_reduce_stats": ".distributed",
    "calibrate": ".recorder",
    "list_layers": ".recorder",
    "preview": ".plan",
    "record": ".recorder",
    "record_blocks": ".blockwise",
    "record_states": ".states",
    "record_top_k": ".blockwise",
    "spawn_local": ".distributed",
})
