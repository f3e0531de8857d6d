"""Old import paths (``neurograph.record``, ``neurograph.fsa``, ...) for one release, with a DeprecationWarning.

Until 0.2 every module lived flat in ``neurograph/``; they now live in one subpackage per wing of the
data flow. :class:`OldPaths` (a :mod:`importlib` meta-path finder, installed by ``neurograph/__init__``)
maps each old module name to its new module: ``import neurograph.fsa_extract`` warns and gives
``neurograph.automata.extract``. Names imported from the top level (``from neurograph import record``)
never warn. These aliases go away in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

OLD_PATHS = {
    "blockwise": "recording.blockwise",
    "checkpoints": "zoo.checkpoints",
    "communities": "graph.communities",
    "correlation": "scoring.correlation",
    "demo": "zoo.demo",
    "distributed": "recording.distributed",
    "entropy": "scoring.entropy",
    "export": "io.export",
    "fsa": "automata.fsa",
    "fsa_algorithms": "automata.algorithms",
    "fsa_extract": "automata.extract",
    "fsa_structure": "automata.structure",
    "limit_cycle": "dynamics.limit_cycle",
    "npk": "gating.npk",
    "phase_code": "dynamics.phase_code",
    "pipeline": "scoring.pipeline",
    "plots": "io.plots",
    "preview": "recording.plan",
    "reading": "recording.reading",
    "record": "recording.recorder",
    "report": "io.report",
    "scores": "scoring.scores",
    "states": "recording.states",
    "timeline": "io.timeline",
    "train": "zoo.training",
}


class _CallableModule(types.ModuleType):
    """An old module whose name is also a top-level function (``neurograph.record``): importing the
    module rebinds ``neurograph.record`` to it, so it stays callable as the function."""

    def __call__(self, *args, **kwargs):
        return getattr(self, self.__name__.rsplit(".", 1)[1])(*args, **kwargs)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec):
        return _CallableModule(spec.name)

    def exec_module(self, module) -> None:
        warnings.warn(f"neurograph.{self.old} is deprecated and goes away in neurograph 0.3: import from "
                      f"neurograph.{self.new.split('.')[0]} (or from neurograph itself)", DeprecationWarning,
                      stacklevel=2)
        real = importlib.import_module(f"neurograph.{self.new}")
        module.__dict__.update({k: v for k, v in real.__dict__.items() if k not in ("__name__", "__spec__",
                                                                                   "__loader__")})
        module.__doc__ = f"Deprecated alias of :mod:`neurograph.{self.new}`."


class OldPaths(importlib.abc.MetaPathFinder):
    """Finds ``neurograph.<old name>`` and loads it as an alias of its new module."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, name = fullname.partition(".")
        if head != "neurograph" or name not in OLD_PATHS:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(name, OLD_PATHS[name]))


def install() -> None:
    """Put :class:`OldPaths` on ``sys.meta_path`` once."""
    if not any(isinstance(f, OldPaths) for f in sys.meta_path):
        sys.meta_path.append(OldPaths())
