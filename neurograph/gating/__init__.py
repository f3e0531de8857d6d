"""The gating view of ReLU networks: gate patterns, the neural path kernel, gates as activation graphs.
"""

from .._lazy import attach

__all__ = [
    "gate_layers",
    "gate_patterns",
    "neural_path_kernel",
    "path_kernel",
    "record_gates",
]

__getattr__, __dir__ = attach(__name__, {
    "gate_layers": ".npk",
    "gate_patterns": ".npk",
    "neural_path_kernel": ".npk",
    "path_kernel": ".npk",
    "record_gates": ".npk",
})
