"""PEP 562 lazy exports: a package lists its public names and the module each lives in; a name's
module is imported on first access, so importing a package imports none of its heavy dependencies."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def attach(package: str, exports: dict[str, str],
           submodules: tuple[str, ...] = ()) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, exporting ``exports`` ({name: ".module"}) and
    the ``submodules`` (imported on first attribute access, as ``package.submodule``).

    No exported name may equal the name of a submodule of ``package`` (importing the submodule
    would rebind the package attribute to the module).
    """

    def __getattr__(name: str):
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # cache: later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | set(submodules))

    return __getattr__, __dir__
