"""Model factories: which ``"package.module:function"`` strings neurograph imports and calls, and how.

A *factory* is given as ``"package.module:function"`` and called with keyword arguments to
build a fresh model (``[[custom]]`` entries of a zoo config, ``neurograph record`` and
``neurograph score``).

Factory policy: an allow-list (what :func:`load_factory` imports and calls):

* The module's top-level package is checked against the allow-list **before anything is
  imported**. Allowed are: ``neurograph`` itself and ``torch``
  (:data:`ALLOWED_FACTORY_PACKAGES`); a module found in a folder the caller names explicitly
  (``factory_path=``, ``--factory-path DIR``); and the installed packages the caller names
  explicitly (``allow_packages=``, ``--allow-package NAME``). Any other package (``sympy``,
  ``transformers``, ``numpy``, ...) is refused with one line saying how to allow it; so is
  every module of the standard library (:data:`DENIED_FACTORY_MODULES`: ``os``,
  ``subprocess``, ``builtins``, ``importlib``, ``pickle``, ..., whatever is allowed). A
  module is never imported implicitly from the folder of a zoo configuration, nor from the
  current folder (``python -m neurograph`` puts it first on ``sys.path``: an ``allow_packages``
  package found there instead of installed is refused). A module of the same name imported
  earlier from another factory path is replaced by the one in the folder named now; a name taken
  by an installed package that is already imported is refused.
* What the factory may be: a ``torch.nn.Module`` subclass (from any allowed module), or a
  Python function (not a built-in) **defined** in a factory-path folder, in an
  explicitly allowed package, or in ``neurograph.models``; a function that an allowed module
  merely imports from elsewhere (``from sympy import sympify``) is refused, whatever module
  re-exports it. From ``torch`` and the rest of ``neurograph`` only ``nn.Module`` subclasses are
  accepted. What the factory returns must be an ``nn.Module``.
* Its keyword arguments are plain data (:func:`check_factory_kwargs`): strings, numbers,
  booleans, None, and lists and tables of these, at most :data:`MAX_KWARGS_DEPTH` deep and
  :data:`MAX_KWARGS_ITEMS` values in all; options that make a model library load code or
  pickles (:data:`REFUSED_KWARGS`: ``trust_remote_code``, ``code_revision``, ``auto_map``,
  ...) are refused wherever they appear, naming the option.
* A zoo configuration is validated whole (keys, types, kwargs, that checkpoints and data
  files exist and the data file reads) before any factory is imported.

An explicitly allowed package or factory-path folder is trusted as code you chose to run: what
its functions do with their (plain-data) arguments is theirs.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import keyword
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, ModelError
from ..io.atomic import first_line

if TYPE_CHECKING:  # torch is imported when a factory is loaded or called, not to check a config
    from torch import nn

__all__ = ["ALLOWED_FACTORY_PACKAGES", "CLASS_ONLY_FACTORY_PACKAGES", "DENIED_FACTORY_MODULES",
           "MAX_KWARGS_DEPTH", "MAX_KWARGS_ITEMS", "REFUSED_KWARGS", "check_factory_allowed", "check_factory_kwargs",
           "load_factory"]

#: Top-level modules no factory may come from (nor their submodules), even when named with
#: ``allow_packages``: process control, shells, imports, code execution, pickles, sockets, native
#: code, and every other module of the standard library (``sys.stdlib_module_names``).
DENIED_FACTORY_MODULES = frozenset({
    "os", "posix", "nt", "sys", "subprocess", "_posixsubprocess", "shutil", "builtins", "importlib", "runpy",
    "pty", "socket", "ctypes", "pickle", "_pickle", "marshal", "multiprocessing", "signal", "code", "codeop",
    "io", "_io", "pathlib", "tempfile", "shelve", "webbrowser", "timeit", "cProfile", "profile", "pdb",
} | set(getattr(sys, "stdlib_module_names", ())))

#: Packages factories may come from without being named: neurograph's own models (and its
#: ``nn.Module`` classes) and torch's ``nn.Module`` classes (``torch.nn:Linear``).
ALLOWED_FACTORY_PACKAGES = frozenset({"neurograph", "torch"})

#: Allowed packages from which only ``torch.nn.Module`` subclasses are accepted (functions such as
#: ``torch.load``, ``torch.hub.load`` or ``neurograph.zoo.run_zoo`` are not model factories), except
#: the functions of ``neurograph.models``.
CLASS_ONLY_FACTORY_PACKAGES = ALLOWED_FACTORY_PACKAGES
_FUNCTION_OK = ("neurograph.models",)

#: Keyword arguments refused wherever they appear in a factory's kwargs (any depth, any case):
#: options of model libraries that import code (transformers' ``trust_remote_code``,
#: ``code_revision``, ``auto_map``, ``custom_pipelines``; torch.hub's ``trust_repo``; hydra's
#: ``_target_``) or unpickle files (``pickle_module``, ``allow_pickle``, ``weights_only``; Keras's
#: ``custom_objects``, ``safe_mode``).
REFUSED_KWARGS = frozenset({"trust_remote_code", "code_revision", "auto_map", "custom_pipelines", "trust_repo",
                            "_target_", "_partial_", "pickle_module", "allow_pickle", "weights_only",
                            "custom_objects", "safe_mode"})
#: Deepest nesting of lists and tables in a factory's kwargs (the kwargs table itself is depth 1).
MAX_KWARGS_DEPTH = 16
#: Most values (scalars, lists and tables, counted together) in a factory's kwargs.
MAX_KWARGS_ITEMS = 100_000

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_HOW = ("a factory comes from neurograph, torch (nn.Module classes), a folder named with --factory-path DIR "
        "(factory_path=), or a package named with --allow-package NAME (allow_packages=)")


def check_factory_spec(spec) -> tuple[str, str]:
    """Check a factory string without importing anything; returns ``(module, attribute)``.

    The string must be ``"package.module:function"`` (dotted Python names, no ``__dunder__``
    parts) and its module must not be in :data:`DENIED_FACTORY_MODULES`. (Whether its package
    is allowed depends on ``factory_path`` and ``allow_packages``: :func:`load_factory`.)

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


def check_factory_kwargs(kwargs, where: str = "kwargs") -> dict:
    """Check that a factory's keyword arguments are plain data; returns them as a new dict.

    Plain data: str, int, float, bool, None, and lists (tuples) and dicts of these, with
    string keys, nested at most :data:`MAX_KWARGS_DEPTH` deep and :data:`MAX_KWARGS_ITEMS`
    values in all; no key of :data:`REFUSED_KWARGS` (options that load code or pickles) and
    no key starting with ``__``, at any depth. Top-level keys must be Python identifiers.

    Examples
    --------
    >>> check_factory_kwargs({"hidden": [8, 8], "n_classes": 3})
    {'hidden': [8, 8], 'n_classes': 3}
    >>> try:
    ...     check_factory_kwargs({"trust_remote_code": True})
    ... except ConfigError as exc:
    ...     print(str(exc).split(" (")[0])
    kwargs: option 'trust_remote_code' is refused

    Raises
    ------
    ConfigError
        Naming ``where`` and the key at fault.
    """
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{where} must be a table (a dict of keyword arguments), got {type(kwargs).__name__}")
    for key in kwargs:
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise ConfigError(f"{where}: key {key!r} is not a keyword-argument name")
    count = [0]
    _plain(kwargs, where, (), 1, count)
    return dict(kwargs)


def load_factory(spec: str, *, factory_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                 allow_packages: Iterable[str] = (), config_dir: str | os.PathLike | None = None,
                 search_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None
                 ) -> Callable[..., nn.Module]:
    """Resolve ``"package.module:function"`` to the factory, following the factory policy.

    The module's top-level package is checked against the allow-list before anything is
    imported: neurograph and torch, a module in a folder of ``factory_path`` (tried first, for
    this import only), or a package named in ``allow_packages``. A module found in
    ``config_dir`` (the folder of a zoo configuration) is refused unless that folder is named in
    ``factory_path``: a config never brings its own code. See the module docstring for the
    whole policy. ``search_path`` is the older name of ``factory_path``.

    Examples
    --------
    >>> load_factory("neurograph.models:MLP").__name__
    'MLP'
    >>> try:
    ...     load_factory("sympy:sympify")
    ... except ConfigError as exc:
    ...     print(str(exc).split(";")[0])
    factory 'sympy:sympify': package 'sympy' is not allowed (nothing was imported)

    Raises
    ------
    ConfigError
        A malformed string; a refused module (:data:`DENIED_FACTORY_MODULES`) or a package not
        allowed; a module that cannot be imported or lies beside the configuration; a missing
        attribute; an attribute reached through another module; or an object that is neither
        an ``nn.Module`` subclass nor a Python function defined where functions are allowed.
    """
    mod_name, attr, paths, allowed, stale = _check_allowed(
        spec, factory_path if factory_path is not None else search_path, allow_packages)
    if stale:  # imported from an earlier factory path: import the one named now
        top = mod_name.split(".")[0]
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]
    added = [p for p in paths if p not in sys.path]
    sys.path[:0] = added
    try:
        if config_dir is not None:
            _refuse_beside_config(spec, mod_name, Path(config_dir), paths)
        if mod_name.split(".")[0] in allowed - ALLOWED_FACTORY_PACKAGES:  # an installed package, not `python -m`'s CWD
            _refuse_beside_config(spec, mod_name, Path.cwd(), paths, "the current folder")
        module = importlib.import_module(mod_name)
    except ConfigError:
        raise
    except ImportError as exc:
        where = f" or in {paths}" if paths else ""
        raise ConfigError(f"factory {spec!r}: cannot import module {mod_name!r} from the installed packages"
                          f"{where}: {first_line(exc)} (to import code from a folder, name it with --factory-path "
                          "DIR or factory_path=)") from exc
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
    _check_factory_object(spec, mod_name, obj, paths, allowed)
    return obj


def check_factory_allowed(spec: str, *, factory_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                          allow_packages: Iterable[str] = ()) -> None:
    """The allow-list check of :func:`load_factory` alone: imports and executes nothing.

    Examples
    --------
    >>> check_factory_allowed("neurograph.models:MLP")
    >>> check_factory_allowed("sympy:sympify", allow_packages=["sympy"])

    Raises
    ------
    ConfigError
        Naming the factory: malformed, refused (standard library), or from a package that is not
        allowed.
    """
    _check_allowed(spec, factory_path, allow_packages)


def build_model(factory: Callable[..., nn.Module], kwargs: dict, spec: str) -> nn.Module:
    """Call ``factory(**kwargs)``; ModelError if it raises, ConfigError if it returns no ``nn.Module``.

    ``kwargs`` are checked first (:func:`check_factory_kwargs`): plain data only, no option that
    loads code.
    """
    from torch import nn

    kwargs = check_factory_kwargs(kwargs, f"factory {spec!r} kwargs")
    try:
        model = factory(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's code
        raise ModelError(f"factory {spec!r} raised: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise ConfigError(f"factory {spec!r} returned a {type(model).__name__}, not a torch.nn.Module")
    return model


# ---------------------------------------------------------------------- helpers


def _check_allowed(spec, factory_path, allow_packages) -> tuple[str, str, list[str], frozenset, bool]:
    """``(module, attribute, factory paths, allowed packages, stale)`` if ``spec`` passes the allow-list, else
    ConfigError. ``stale``: the module's name is taken by a module of an earlier factory path (one no longer on
    ``sys.path``), which :func:`load_factory` replaces by the one in ``factory_path``."""
    mod_name, attr = check_factory_spec(spec)
    paths = _search_paths(factory_path, spec)
    allowed = _allowed_packages(allow_packages)
    top = mod_name.split(".")[0]
    on_path = bool(paths) and _found_in(top, paths)
    stale = False
    cached = sys.modules.get(top)
    if paths and not on_path and cached is not None and _in_paths_uncached(top, paths):
        home = _locations(cached.__dict__.get("__file__"), cached.__dict__.get("__path__"))
        if not home or any(_under(h, [str(Path(p).resolve()) for p in sys.path if p]) for h in home):
            raise ConfigError(f"factory {spec!r}: a module {top!r} is already imported in this process from "
                              f"{home[0] if home else 'elsewhere'!r}, not from the factory path {paths}; one process "
                              "imports one module of a name (rename the module, or use a new process)")
        on_path = stale = True
    if not on_path and top not in allowed and top not in ALLOWED_FACTORY_PACKAGES:
        where = f" nor found in {paths}" if paths else ""
        raise ConfigError(f"factory {spec!r}: package {top!r} is not allowed{where} (nothing was imported); {_HOW}")
    return mod_name, attr, paths, allowed, stale


def _denied(mod_name: str) -> bool:
    return mod_name.split(".")[0] in DENIED_FACTORY_MODULES


def _plain(value, where: str, keys: tuple, depth: int, count: list) -> None:
    """ConfigError unless ``value`` is plain data (see :func:`check_factory_kwargs`)."""
    count[0] += 1
    at = "".join(f"[{k!r}]" for k in keys)
    if count[0] > MAX_KWARGS_ITEMS:
        raise ConfigError(f"{where}: more than {MAX_KWARGS_ITEMS:,} values (the limit of a factory's kwargs)")
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if not isinstance(value, (dict, list, tuple)):
        raise ConfigError(f"{where}{at}: a {type(value).__name__} is not plain data (str, int, float, bool, None, "
                          "lists and tables of these)")
    if depth >= MAX_KWARGS_DEPTH:
        raise ConfigError(f"{where}{at}: nested more than {MAX_KWARGS_DEPTH} levels deep (the limit of a factory's "
                          "kwargs)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(f"{where}{at}: key {key!r} is not a string")
            if key.lower() in REFUSED_KWARGS or key.startswith("__"):
                raise ConfigError(f"{where}: option {key!r} is refused (it makes a model library load code or "
                                  "pickles; neurograph passes plain data only)")
            _plain(item, where, (*keys, key), depth + 1, count)
    else:
        for i, item in enumerate(value):
            _plain(item, where, (*keys, i), depth + 1, count)


def _allowed_packages(names) -> frozenset:
    names = [names] if isinstance(names, str) else list(names or ())
    for n in names:
        if not isinstance(n, str) or not _DOTTED.match(n) or "." in n:
            raise ConfigError(f"allow_packages: {n!r} is not a top-level package name (e.g. 'transformers')")
        if n in DENIED_FACTORY_MODULES:
            raise ConfigError(f"allow_packages: {n!r} is a standard-library module; no model factory comes from it")
    return frozenset(names)


def _search_paths(search_path, spec: str) -> list[str]:
    if search_path is None:
        return []
    items = [search_path] if isinstance(search_path, (str, os.PathLike)) else list(search_path)
    paths = []
    for p in items:
        if not isinstance(p, (str, os.PathLike)) or not Path(p).is_dir():
            raise ConfigError(f"factory {spec!r}: factory path {str(p)!r} is not a folder")
        paths.append(str(Path(p).resolve()))
    return paths


def _found_in(top: str, paths: list[str]) -> bool:
    """Whether top-level module ``top`` would be imported from one of ``paths`` (nothing is executed)."""
    module = sys.modules.get(top)
    if module is not None:
        return any(_under(loc, paths) for loc in _locations(module.__dict__.get("__file__"),
                                                              module.__dict__.get("__path__")))
    try:
        found = importlib.machinery.PathFinder.find_spec(top, paths)
    except (ImportError, ValueError):
        return False
    return found is not None


def _in_paths_uncached(top: str, paths: list[str]) -> bool:
    try:
        return importlib.machinery.PathFinder.find_spec(top, paths) is not None
    except (ImportError, ValueError):
        return False


def _locations(origin, locations) -> list[str]:
    return [str(loc) for loc in (list(locations or []) or ([origin] if origin else []))]


def _under(location: str, paths: list[str]) -> bool:
    try:
        loc = Path(location).resolve()
    except (OSError, RuntimeError):
        return False
    return any(loc.is_relative_to(p) for p in paths)


def _refuse_beside_config(spec: str, mod_name: str, config_dir: Path, paths: list[str],
                          what: str = "the configuration's folder") -> None:
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
        raise ConfigError(f"factory {spec!r}: module {top!r} lies in {what} {str(folder)!r}; a "
                          "config never brings its own code: name that folder explicitly (--factory-path DIR, or "
                          "factory_path=) or install the package")


def _check_factory_object(spec: str, mod_name: str, obj, paths: list[str], allowed: frozenset) -> None:
    from torch import nn

    if not callable(obj):
        raise ConfigError(f"factory {spec!r} is not callable (a {type(obj).__name__})")
    if inspect.isclass(obj):
        if not issubclass(obj, nn.Module):
            raise ConfigError(f"factory {spec!r} is a class ({obj.__name__}) but not a torch.nn.Module subclass")
        return
    func = obj.__func__ if inspect.ismethod(obj) else obj
    defined_in = getattr(func, "__module__", None)
    if isinstance(defined_in, str) and _denied(defined_in):
        raise ConfigError(f"factory {spec!r} is defined in module {defined_in!r}, which is refused (standard "
                          "library and process-control modules never provide model factories)")
    if inspect.isbuiltin(func) or not inspect.isfunction(func) or not isinstance(defined_in, str):
        kind = "a built-in function" if inspect.isbuiltin(func) else f"a {type(obj).__name__}"
        raise ConfigError(f"factory {spec!r} is {kind}, not a model factory (an nn.Module subclass or a "
                          "Python function returning one)")
    top = defined_in.split(".")[0]
    if top in allowed or any(defined_in == ok or defined_in.startswith(ok + ".") for ok in _FUNCTION_OK):
        return
    code = getattr(func, "__code__", None)
    if paths and code is not None and _under(code.co_filename, paths) and top not in ALLOWED_FACTORY_PACKAGES:
        return
    if top in CLASS_ONLY_FACTORY_PACKAGES:
        raise ConfigError(f"factory {spec!r}: from {top!r} only torch.nn.Module subclasses are accepted as "
                          "factories, not functions")
    raise ConfigError(f"factory {spec!r} is a function defined in {defined_in!r}, which is not allowed "
                      f"(functions are accepted from a --factory-path folder, a package named with --allow-package, "
                      f"or neurograph.models); {_HOW}")
