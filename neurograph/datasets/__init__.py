"""Built-in data sets that need no download."""

from .digits import *  # noqa: F401,F403
from .digits import __all__ as _digits_all

__all__ = sorted(_digits_all)
