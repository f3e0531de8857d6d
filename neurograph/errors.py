"""Exceptions raised by neurograph.

Every error neurograph raises on bad input derives from :class:`NeurographError`
and names the thing at fault (the layer, the argument, the file)::

    NeurographError
     ├── LayerError            unknown layer name, a layer that never ran, bad layer output
     ├── DataError             empty data, label/input length mismatch, wrong dtypes, non-finite values
     │    └── IncompatibleStatsError  merging statistics over different neurons or readings
     ├── ModelError            the model's forward pass failed on a batch
     ├── OptionError           an argument outside its allowed choices, range, type or shape
     ├── FileFormatError       a file that is missing, unreadable, corrupt, or not of the expected format
     │    └── StatsFileError   ... a statistics (or moments) file in particular
     ├── GraphError            a graph or partition that cannot be used as given
     ├── ConfigError           a zoo configuration or model factory string that cannot be used
     └── MemoryBudgetError     a recording whose counts would not fit in memory (refused up front)

Warnings derive from :class:`NeurographWarning` (a ``UserWarning``)::

    NeurographWarning
     ├── DegenerateLayerWarning  most neurons of a layer dead or always on under the chosen rule
     └── DegenerateGraphWarning  a co-activation graph with no edge: modularity and communities are NaN

``ConfigError``, ``LayerError``, ``DataError``, ``OptionError``, ``IncompatibleStatsError`` and
``GraphError`` are also ``ValueError``; ``FileFormatError`` (and so ``StatsFileError``) is also
``OSError``; ``MemoryBudgetError`` is also ``MemoryError``, so callers that catch the built-in
kinds keep working.

Which class a fault raises: a bad *option value* (a keyword argument such as ``rule``, ``positions``,
``batch_size``) is always :class:`OptionError`; bad *data* (inputs, labels, arrays the user passes as
the thing to analyse) is :class:`DataError`; a bad *file* is :class:`FileFormatError`.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DegenerateGraphWarning",
    "DegenerateLayerWarning",
    "FileFormatError",
    "GraphError",
    "IncompatibleStatsError",
    "LayerError",
    "MemoryBudgetError",
    "ModelError",
    "NeurographError",
    "NeurographWarning",
    "OptionError",
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


class OptionError(NeurographError, ValueError):
    """An argument (option) outside its allowed choices, range, type or shape; the message names it."""


class FileFormatError(NeurographError, OSError):
    """A file that is missing, unreadable, corrupt, or not of the expected format; the message names it."""


class StatsFileError(FileFormatError):
    """A saved statistics file is missing, corrupt, or of an incompatible format version."""


class MemoryBudgetError(NeurographError, MemoryError):
    """A recording whose count matrices would not fit in memory; refused before any work is done."""


class NeurographWarning(UserWarning):
    """Base class of every warning neurograph issues."""


class DegenerateLayerWarning(NeurographWarning):
    """Most neurons of a layer are dead or always on under the chosen firing rule."""


class IncompatibleStatsError(DataError):
    """Two sets of statistics that cannot be merged: different neurons, or a different reading.

    The message names the field that differs (``rule``, ``positions``, ``neuron_axis``, ``mask``,
    ``dtype``, the neurons, the classes) and both values. A :class:`DataError` (and so a
    ``ValueError``).
    """


class GraphError(NeurographError, ValueError):
    """A graph or partition that cannot be used as given."""


class ConfigError(NeurographError, ValueError):
    """A zoo configuration (TOML) or a model factory string that cannot be used."""


class DegenerateGraphWarning(NeurographWarning):
    """A co-activation graph with no edge, so modularity and the community scores are NaN (says why)."""
