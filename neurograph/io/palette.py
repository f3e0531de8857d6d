"""The one palette of neurograph: the colour of community ``k`` (and of the ``i``-th layer) everywhere.

Static GEXF / GraphML files (:mod:`neurograph.io.export`), the dynamic timeline GEXF
(:mod:`neurograph.io.timeline`) and the figures (:mod:`neurograph.io.plots`) all take their
colours from :func:`community_color`, so community ``k`` has the same colour in Gephi and in
the co-activation figure of the same partition.

The palette is matplotlib's qualitative ``tab20`` with its 10 dark hues first, then their 10
light versions (so the 10 largest communities get 10 clearly different hues), cycling after
20. It is written out here so that exporting a graph never needs matplotlib.
"""

from __future__ import annotations

from .._validate import check_int

__all__ = ["PALETTE", "community_color", "community_color_hex", "layer_color"]

#: RGB colours (ints 0-255): tab20's 10 dark hues (tab10), then their 10 light versions.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    (174, 199, 232), (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213),
    (196, 156, 148), (247, 182, 210), (199, 199, 199), (219, 219, 141), (158, 218, 229),
)


def community_color(k: int) -> tuple[int, int, int]:
    """RGB colour (ints 0-255) of community ``k``: ``PALETTE[k % 20]``.

    Communities are numbered by decreasing size (:class:`neurograph.graph.Partition`), so
    the largest ones get the ten distinct dark hues. A negative id (``-1`` marks neurons
    outside the graph in neuron tables) cycles the same way (``-1`` gets the last colour).

    Raises
    ------
    OptionError
        ``k`` not an integer.

    Examples
    --------
    >>> community_color(0), community_color(10), community_color(20) == community_color(0)
    ((31, 119, 180), (174, 199, 232), True)
    """
    return PALETTE[check_int("k", k) % len(PALETTE)]


def community_color_hex(k: int) -> str:
    """``"#rrggbb"`` of :func:`community_color` (for matplotlib and HTML).

    Examples
    --------
    >>> community_color_hex(1)
    '#ff7f0e'
    """
    return "#{:02x}{:02x}{:02x}".format(*community_color(k))


def layer_color(i: int) -> tuple[int, int, int]:
    """RGB colour of the ``i``-th layer (in order of first appearance): the same palette.

    Used where nodes are coloured by layer because no partition is given.

    Examples
    --------
    >>> layer_color(2) == community_color(2)
    True
    """
    return community_color(i)
