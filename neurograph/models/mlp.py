"""A multilayer perceptron whose ReLU activations are named, recordable modules."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._validate import positive_int as _positive_int
from ..errors import OptionError

__all__ = ["MLP"]


class MLP(nn.Module):
    """Fully connected ReLU classifier: ``Linear -> ReLU -> Dropout`` per hidden layer, then ``Linear``.

    All layers sit in one :class:`torch.nn.Sequential` called ``layers``, so their
    names in ``model.named_modules()`` do not depend on the options. For hidden
    layer ``i`` (0-based) of ``len(hidden)``:

    ==================  ================  ===========================
    name                module            output shape
    ==================  ================  ===========================
    ``layers.{3i}``     ``nn.Linear``     (N, hidden[i])
    ``layers.{3i+1}``   ``nn.ReLU``       (N, hidden[i]), the neurons
    ``layers.{3i+2}``   ``nn.Dropout``    (N, hidden[i]) (identity if ``dropout=0``)
    ``layers.{3L}``     ``nn.Linear``     (N, n_classes), the logits
    ==================  ================  ===========================

    With the default ``hidden=(64, 32)`` the neurons are ``layers.1`` (64 units) and
    ``layers.4`` (32 units) and the logits come from ``layers.6``;
    :meth:`activation_layers` lists the ReLU names.

    Parameters
    ----------
    in_features : int
        Size of one input; inputs of shape (N, ...) are flattened to (N, in_features).
    hidden : sequence of int, default (64, 32)
        Widths of the hidden layers (may be empty: a linear classifier).
    n_classes : int, default 10
        Number of output logits.
    dropout : float, default 0.0
        Dropout probability after each ReLU, in ``[0, 1)``.

    Raises
    ------
    ValueError
        If a size is not a positive int or ``dropout`` is outside ``[0, 1)``.

    Notes
    -----
    Weights are initialised from torch's global RNG; call ``torch.manual_seed``
    first for a reproducible model.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> model = MLP(64, hidden=(64, 32), n_classes=10)
    >>> model.activation_layers()
    ['layers.1', 'layers.4']
    >>> tuple(model(torch.zeros(5, 64)).shape)
    (5, 10)
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (64, 32),
        n_classes: int = 10,
        *,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _positive_int("in_features", in_features)
        _positive_int("n_classes", n_classes)
        hidden = tuple(hidden)
        for i, width in enumerate(hidden):
            _positive_int(f"hidden[{i}]", width)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise OptionError(f"dropout must be a number in [0, 1), got {dropout!r}")
        self.in_features = int(in_features)
        self.hidden = tuple(int(h) for h in hidden)
        self.n_classes = int(n_classes)
        self.dropout = float(dropout)
        mods: list[nn.Module] = []
        width = self.in_features
        for h in self.hidden:
            mods += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(self.dropout)]
            width = h
        mods.append(nn.Linear(width, self.n_classes))
        self.layers = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (N, n_classes) for inputs of shape (N, in_features) or (N, ...)."""
        if x.dim() != 2:
            x = x.flatten(1)
        return self.layers(x)

    def activation_layers(self) -> list[str]:
        """Names (as in ``named_modules()``) of the ReLU modules, input side first."""
        return [f"layers.{3 * i + 1}" for i in range(len(self.hidden))]

