"""Built-in data sets that need no download, and loaders for data that installs offline."""

from .digits import *  # noqa: F401,F403
from .digits import __all__ as _digits_all
from .text import *  # noqa: F401,F403
from .text import __all__ as _text_all
from .tomita import *  # noqa: F401,F403
from .tomita import __all__ as _tomita_all
from .fashion import *  # noqa: F401,F403
from .fashion import __all__ as _fashion_all
from .evidence import *  # noqa: F401,F403
from .evidence import __all__ as _evidence_all
from .set_game import *  # noqa: F401,F403
from .set_game import __all__ as _set_game_all
from .regular import *  # noqa: F401,F403
from .regular import __all__ as _regular_all

__all__ = sorted([*_digits_all, *_text_all, *_tomita_all, *_fashion_all, *_evidence_all, *_set_game_all,
                  *_regular_all])
