"""Exceptions raised by neurograph.

Every error neurograph raises on bad input derives from :class:`NeurographError`
and names the thing at fault (the layer, the argument, the file)::

    NeurographError
     ├── LayerError            unknown layer name, a layer that never ran, bad layer output
     ├── DataError             empty data, label/input length mismatch, wrong dtypes, non-finite values
     ├── ModelError            the model's forward pass failed on a batch
     ├── StatsFileError        a statistics file is missing, corrupt or of another format version
     ├── IncompatibleStatsError  merging statistics over different neurons
     ├── GraphError            a graph or partition that cannot be used as given
     └── ConfigError           a zoo configuration or model factory string that cannot be used

``ConfigError``, ``LayerError``, ``DataError``, ``StatsFileError``, ``IncompatibleStatsError`` and
``GraphError`` are also ``ValueError``; ``StatsFileError`` is also ``OSError``
so callers that catch the built-in kinds keep working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "GraphError",
    "IncompatibleStatsError",
    "LayerError",
    "ModelError",
    "NeurographError",
    "StatsFileError",
]


class NeurographError(Exception):
    """Base class of every error neurograph raises on bad input."""


class LayerError(NeurographError, ValueError):
    """A layer name that matches no module, a layer that never ran, or an unusable layer output."""


class DataError(NeurographError, ValueError):
    """Inputs or labels that cannot be used: empty, mismatched lengths, wrong dtypes, non-finite."""


class ModelError(NeurographError, RuntimeError):
    """The model raised while running a batch."""


class StatsFileError(NeurographError, OSError):
    """A saved statistics file is missing, corrupt, or of an incompatible format version."""


class IncompatibleStatsError(NeurographError, ValueError):
    """Two sets of statistics that cannot be merged (different neurons)."""


class GraphError(NeurographError, ValueError):
    """A graph or partition that cannot be used as given."""


class ConfigError(NeurographError, ValueError):
    """A zoo configuration (TOML) or a model factory string that cannot be used."""
