"""Reference models whose hidden activations are named modules, ready to be recorded."""

from .cnn import *  # noqa: F401,F403
from .cnn import __all__ as _cnn_all
from .mlp import *  # noqa: F401,F403
from .mlp import __all__ as _mlp_all
from .recurrent import *  # noqa: F401,F403
from .recurrent import __all__ as _recurrent_all
from .gated import *  # noqa: F401,F403
from .gated import __all__ as _gated_all
from .oscillator import *  # noqa: F401,F403
from .oscillator import __all__ as _oscillator_all
from .ctrnn import *  # noqa: F401,F403
from .ctrnn import __all__ as _ctrnn_all
from .ensemble import *  # noqa: F401,F403
from .ensemble import __all__ as _ensemble_all
from .recurrent_ensemble import *  # noqa: F401,F403
from .recurrent_ensemble import __all__ as _recurrent_ensemble_all

__all__ = sorted([*_cnn_all, *_mlp_all, *_recurrent_all, *_gated_all, *_oscillator_all, *_ctrnn_all, *_ensemble_all,
                  *_recurrent_ensemble_all])
