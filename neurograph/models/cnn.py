"""A small convolutional classifier whose ReLU feature maps are named, recordable modules."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._validate import positive_int as _positive_int
from ..errors import OptionError

__all__ = ["ConvNet", "SmallCNN"]


class SmallCNN(nn.Module):
    """Two-block CNN: ``conv -> ReLU -> conv -> ReLU -> (global average pool) -> flatten -> linear``.

    Convolutions are 3x3 with padding 1, so feature maps keep the input's
    ``image_size x image_size``. Module names in ``model.named_modules()``:

    ===============  =========================================  ==============================
    name             module                                     output shape
    ===============  =========================================  ==============================
    ``features.0``   ``nn.Conv2d(in_channels, channels[0])``    (N, channels[0], S, S)
    ``features.1``   ``nn.ReLU``                                (N, channels[0], S, S), neurons
    ``features.2``   ``nn.Conv2d(channels[0], channels[1])``    (N, channels[1], S, S)
    ``features.3``   ``nn.ReLU``                                (N, channels[1], S, S), neurons
    ``pool``         ``nn.AdaptiveAvgPool2d(1)`` or identity    (N, channels[1], 1, 1) or as above
    ``flatten``      ``nn.Flatten``                             (N, F)
    ``classifier``   ``nn.Linear(F, n_classes)``                (N, n_classes), the logits
    ===============  =========================================  ==============================

    where ``S = image_size`` and ``F = channels[1]`` with ``global_pool=True``,
    else ``channels[1] * S * S``. :meth:`activation_layers` returns
    ``["features.1", "features.3"]``; their outputs are 4-D (N, C, H, W), one
    neuron per channel once a recorder reduces over space.

    Parameters
    ----------
    in_channels : int, default 1
        Channels of the input images of shape (N, in_channels, S, S).
    n_classes : int, default 10
        Number of output logits.
    channels : pair of int, default (16, 32)
        Output channels of the two convolutions.
    image_size : int, default 8
        Height and width ``S`` of the (square) input images.
    global_pool : bool, default False
        If True, average each final feature map over space before the linear layer
        (any image size then works, at some cost in accuracy); if False, flatten it.

    Raises
    ------
    ValueError
        If a size is not a positive int or ``channels`` does not have two entries.

    Notes
    -----
    Weights are initialised from torch's global RNG; call ``torch.manual_seed``
    first for a reproducible model.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> model = SmallCNN(in_channels=1, n_classes=10, image_size=8)
    >>> model.activation_layers()
    ['features.1', 'features.3']
    >>> tuple(model(torch.zeros(2, 1, 8, 8)).shape)
    (2, 10)
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 10,
        *,
        channels: Sequence[int] = (16, 32),
        image_size: int = 8,
        global_pool: bool = False,
    ) -> None:
        super().__init__()
        _positive_int("in_channels", in_channels)
        _positive_int("n_classes", n_classes)
        _positive_int("image_size", image_size)
        channels = tuple(channels)
        if len(channels) != 2:
            raise OptionError(f"channels must have exactly two entries, got {channels!r}")
        for i, c in enumerate(channels):
            _positive_int(f"channels[{i}]", c)
        self.in_channels = int(in_channels)
        self.n_classes = int(n_classes)
        self.channels = tuple(int(c) for c in channels)
        self.image_size = int(image_size)
        self.global_pool = bool(global_pool)
        c1, c2 = self.channels
        self.features = nn.Sequential(
            nn.Conv2d(self.in_channels, c1, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.pool: nn.Module = nn.AdaptiveAvgPool2d(1) if self.global_pool else nn.Identity()
        self.flatten = nn.Flatten()
        n_flat = c2 if self.global_pool else c2 * self.image_size * self.image_size
        self.classifier = nn.Linear(n_flat, self.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (N, n_classes) for images of shape (N, in_channels, S, S)."""
        return self.classifier(self.flatten(self.pool(self.features(x))))

    def activation_layers(self) -> list[str]:
        """Names (as in ``named_modules()``) of the two ReLU modules, input side first."""
        return ["features.1", "features.3"]



class ConvNet(nn.Module):
    """A small CNN in the spirit of Unterthiner et al.'s model zoos: ``depth`` 3x3 conv layers of
    ``width`` channels with ReLU, global average pooling, dropout, one linear layer.

    The first convolution keeps the image size (stride 1); every further one halves it (stride 2),
    as in the zoos of "Predicting neural network accuracy from weights" (3 conv x 16 channels,
    GAP, dense: about 5k parameters on MNIST-sized images). Module names: ``features.{2k}`` the
    k-th convolution, ``features.{2k+1}`` its ReLU (the neurons: one per channel after a spatial
    reduction), ``pool``, ``flatten``, ``dropout``, ``classifier`` (the logits).

    Parameters
    ----------
    in_channels : int, default 1
        Channels of the input images (N, in_channels, H, W).
    n_classes : int, default 10
    width : int, default 16
        Channels of every convolution.
    depth : int, default 3
        Number of convolutions.
    dropout : float in [0, 1), default 0.0
        Dropout before the linear layer.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = ConvNet(width=8, depth=3)
    >>> net.activation_layers(), tuple(net(torch.zeros(2, 1, 14, 14)).shape)
    (['features.1', 'features.3', 'features.5'], (2, 10))
    >>> sum(p.numel() for p in ConvNet(width=16, depth=3).parameters())
    4970
    """

    def __init__(self, in_channels: int = 1, n_classes: int = 10, *, width: int = 16, depth: int = 3,
                 dropout: float = 0.0) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("n_classes", n_classes), ("width", width),
                            ("depth", depth)):
            _positive_int(name, value)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= float(dropout) < 1.0:
            raise OptionError(f"dropout must be a number in [0, 1), got {dropout!r}")
        layers: list[nn.Module] = []
        for k in range(int(depth)):
            layers += [nn.Conv2d(in_channels if k == 0 else width, width, 3, stride=1 if k == 0 else 2, padding=1),
                       nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(float(dropout))
        self.classifier = nn.Linear(width, n_classes)

    def activation_layers(self) -> list[str]:
        """Names of the ReLU modules, in order."""
        return [f"features.{2 * k + 1}" for k in range(len(self.features) // 2)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.flatten(self.pool(self.features(x)))))
