"""Model factories: which ``"package.module:function"`` strings neurograph imports and calls, and how.

A *factory* is given as ``"package.module:function"`` and called with keyword arguments to
build a fresh model (``[[custom]]`` entries of a zoo config, ``neurograph score``).

Factory policy (what :func:`load_factory` imports and calls):

* A factory is imported only from a module that is already importable (an installed
  package, or a module on ``sys.path``), or from folders the caller names explicitly with
  ``search_path=`` (``--factory-path DIR`` on the command line); never implicitly from the
  folder of a zoo configuration, nor from the current folder.
* Modules of the standard library (``os``, ``sys``, ``subprocess``, ``shutil``,
  ``builtins``, ``importlib``, ``runpy``, ``pty``, ``socket``, ``ctypes``, ``pickle``, ...,
  and their submodules, see :data:`DENIED_FACTORY_MODULES`) are refused before anything
  is imported, and so is any function defined in one of them, whatever module re-exports
  it. From general-purpose libraries (:data:`CLASS_ONLY_FACTORY_PACKAGES`: numpy,
  pandas, torch, ...) only ``torch.nn.Module`` subclasses are accepted.
* The factory must be an ``nn.Module`` subclass or a Python function (not a built-in, not
  reached through another module's attribute); what it returns must be an ``nn.Module``,
  else :class:`~neurograph.errors.ConfigError` naming the factory.
* A zoo configuration is validated whole (keys, types, that checkpoints and data files
  exist and the data file reads) before any factory is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, ModelError
from ..io.atomic import first_line

if TYPE_CHECKING:  # torch is imported when a factory is loaded or called, not to check a config
    from torch import nn

__all__ = ["CLASS_ONLY_FACTORY_PACKAGES", "DENIED_FACTORY_MODULES", "load_factory"]

#: Top-level modules no factory may come from (nor their submodules): process control, shells,
#: imports, code execution, pickles, sockets, native code, and every other module of the
#: standard library (``sys.stdlib_module_names``): no model factory lives there.
DENIED_FACTORY_MODULES = frozenset({
    "os", "posix", "nt", "sys", "subprocess", "_posixsubprocess", "shutil", "builtins", "importlib", "runpy",
    "pty", "socket", "ctypes", "pickle", "_pickle", "marshal", "multiprocessing", "signal", "code", "codeop",
    "io", "_io", "pathlib", "tempfile", "shelve", "webbrowser", "timeit", "cProfile", "profile", "pdb",
} | set(getattr(sys, "stdlib_module_names", ())))

#: General-purpose packages whose functions can read, write or unpickle files or run code
#: (``numpy.save``, ``pandas.read_pickle``, ``torch.load``, ``torch.hub.load``, ...): from them
#: only ``torch.nn.Module`` subclasses are accepted as factories (``neurograph.models`` and
#: ``torch.nn`` functions too).
CLASS_ONLY_FACTORY_PACKAGES = frozenset({
    "torch", "numpy", "pandas", "scipy", "sklearn", "joblib", "dill", "cloudpickle", "yaml", "IPython", "pip",
    "setuptools", "pkg_resources", "matplotlib", "networkx", "igraph", "leidenalg", "pytest", "_pytest",
    "hypothesis", "tqdm", "neurograph"})
_FUNCTION_OK = ("neurograph.models", "torch.nn")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def check_factory_spec(spec) -> tuple[str, str]:
    """Check a factory string without importing anything; returns ``(module, attribute)``.

    The string must be ``"package.module:function"`` (dotted Python names, no ``__dunder__``
    parts) and its module must not be in :data:`DENIED_FACTORY_MODULES`.

    Raises
    ------
    ConfigError
        Naming the factory and what is wrong.
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"factory must look like 'package.module:function', got {spec!r}")
    mod_name, attr = spec.split(":")
    if not _DOTTED.match(mod_name) or not _DOTTED.match(attr):
        raise ConfigError(f"factory {spec!r}: module and function must be dotted Python names "
                          "('package.module:function')")
    if any(part.startswith("__") for part in (*mod_name.split("."), *attr.split("."))):
        raise ConfigError(f"factory {spec!r}: names starting with '__' are not allowed")
    if _denied(mod_name):
        raise ConfigError(f"factory {spec!r}: module {mod_name!r} is refused (standard library and "
                          "process-control modules never provide model factories; zoo configs hold data only)")
    return mod_name, attr


def load_factory(spec: str, *, search_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                 config_dir: str | os.PathLike | None = None) -> Callable[..., nn.Module]:
    """Resolve ``"package.module:function"`` to the factory, following the factory policy.

    The module is imported from what is already importable (installed packages,
    ``sys.path``) or from the folder(s) ``search_path`` names explicitly (tried first,
    for this import only). A module found in ``config_dir`` (the folder of a zoo
    configuration) is refused unless that folder is named in ``search_path``: a config
    never brings its own code. See the module docstring for the whole policy.

    Examples
    --------
    >>> load_factory("neurograph.models:MLP").__name__
    'MLP'

    Raises
    ------
    ConfigError
        A malformed string; a refused module (:data:`DENIED_FACTORY_MODULES`); a module that
        cannot be imported or lies beside the configuration; a missing attribute; an
        attribute reached through another module; or an object that is neither an
        ``nn.Module`` subclass nor a Python function (or a function from a class-only package).
    """
    mod_name, attr = check_factory_spec(spec)
    paths = _search_paths(search_path, spec)
    added = [p for p in paths if p not in sys.path]
    sys.path[:0] = added
    try:
        if config_dir is not None:
            _refuse_beside_config(spec, mod_name, Path(config_dir), paths)
        module = importlib.import_module(mod_name)
    except ConfigError:
        raise
    except ImportError as exc:
        where = f" or in {paths}" if paths else ""
        raise ConfigError(f"factory {spec!r}: cannot import module {mod_name!r} from the installed packages"
                          f"{where}: {first_line(exc)} (to import code from a folder, name it with --factory-path "
                          "DIR or search_path=)") from exc
    except Exception as exc:  # noqa: BLE001 - the module's own code failed (SyntaxError, RuntimeError, ...)
        raise ConfigError(f"factory {spec!r}: importing module {mod_name!r} raised "
                          f"{type(exc).__name__}: {first_line(exc)}") from exc
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"factory {spec!r}: module {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
        if inspect.ismodule(obj):
            raise ConfigError(f"factory {spec!r}: {attr!r} reaches into another module ({obj.__name__!r}); name "
                              "the factory by its own module")
    _check_factory_object(spec, mod_name, obj)
    return obj


def build_model(factory: Callable[..., nn.Module], kwargs: dict, spec: str) -> nn.Module:
    """Call ``factory(**kwargs)``; ModelError if it raises, ConfigError if it returns no ``nn.Module``."""
    from torch import nn

    try:
        model = factory(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's code
        raise ModelError(f"factory {spec!r} raised: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise ConfigError(f"factory {spec!r} returned a {type(model).__name__}, not a torch.nn.Module")
    return model


# ---------------------------------------------------------------------- helpers


def _denied(mod_name: str) -> bool:
    return mod_name.split(".")[0] in DENIED_FACTORY_MODULES


def _search_paths(search_path, spec: str) -> list[str]:
    if search_path is None:
        return []
    items = [search_path] if isinstance(search_path, (str, os.PathLike)) else list(search_path)
    paths = []
    for p in items:
        if not isinstance(p, (str, os.PathLike)) or not Path(p).is_dir():
            raise ConfigError(f"factory {spec!r}: search path {str(p)!r} is not a folder")
        paths.append(str(Path(p).resolve()))
    return paths


def _refuse_beside_config(spec: str, mod_name: str, config_dir: Path, paths: list[str]) -> None:
    """ConfigError if ``mod_name``'s top-level module would come from ``config_dir`` (not named explicitly)."""
    folder = config_dir.resolve()
    if str(folder) in paths:
        return
    top = mod_name.split(".")[0]
    module = sys.modules.get(top)
    if module is not None:
        origin = getattr(module, "__file__", None)
        locations = list(getattr(module, "__path__", None) or [])
    else:
        try:
            found = importlib.util.find_spec(top)  # a top-level name: locates it, executes nothing
        except (ImportError, ValueError):
            return  # import_module reports it
        if found is None:
            return
        origin = found.origin if found.has_location else None
        locations = list(found.submodule_search_locations or [])
    homes = [Path(loc).resolve().parent for loc in locations]  # a package: the folder holding it
    if origin and not locations:
        homes.append(Path(origin).resolve().parent)  # a plain module: its folder
    if folder in homes:
        raise ConfigError(f"factory {spec!r}: module {top!r} lies in the configuration's folder {str(folder)!r}; a "
                          "config never brings its own code: name that folder explicitly (--factory-path DIR, or "
                          "search_path=) or install the package")


def _check_factory_object(spec: str, mod_name: str, obj) -> None:
    from torch import nn

    if not callable(obj):
        raise ConfigError(f"factory {spec!r} is not callable (a {type(obj).__name__})")
    if inspect.isclass(obj):
        if not issubclass(obj, nn.Module):
            raise ConfigError(f"factory {spec!r} is a class ({obj.__name__}) but not a torch.nn.Module subclass")
        return
    func = obj.__func__ if inspect.ismethod(obj) else obj
    defined_in = getattr(func, "__module__", None) or mod_name
    if not isinstance(defined_in, str) or _denied(defined_in):
        raise ConfigError(f"factory {spec!r} is defined in module {defined_in!r}, which is refused (standard "
                          "library and process-control modules never provide model factories)")
    for name in {defined_in, mod_name}:
        if name.split(".")[0] in CLASS_ONLY_FACTORY_PACKAGES and not any(
                name == ok or name.startswith(ok + ".") for ok in _FUNCTION_OK):
            raise ConfigError(f"factory {spec!r}: from {name.split('.')[0]!r} only torch.nn.Module subclasses are "
                              "accepted as factories, not functions")
    if inspect.isbuiltin(func) or not inspect.isfunction(func):
        kind = "a built-in function" if inspect.isbuiltin(func) else f"a {type(obj).__name__}"
        raise ConfigError(f"factory {spec!r} is {kind}, not a model factory (an nn.Module subclass or a "
                          "Python function returning one)")
