"""Forward hooks that cannot leak, layer-name resolution, and restoring every submodule's mode.

House rule 7: hooks are only ever registered inside :func:`capture`, which removes
them in ``finally`` whatever happens in the block.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import logging
from collections.abc import Iterator, Sequence

from torch import nn

from ..errors import LayerError

log = logging.getLogger(__name__)

_COMPILED_PREFIX = "_orig_mod."


def is_compiled(module: nn.Module) -> bool:
    """True for the wrapper ``torch.compile`` returns (``OptimizedModule``, holding ``_orig_mod``)."""
    return type(module).__name__ == "OptimizedModule" and isinstance(getattr(module, "_orig_mod", None), nn.Module)


def original_module(model: nn.Module) -> nn.Module:
    """``model`` itself, or for a ``torch.compile``'d model the module it compiled (``model._orig_mod``).

    Forward hooks do not run inside compiled code, so every recorder runs the original module
    (the same weights, run eagerly): the counts are those of the model as written.
    """
    seen = 0
    while is_compiled(model) and seen < 8:
        if seen == 0:
            log.info("recording %s through its original module (model._orig_mod): forward hooks do not run "
                     "inside torch.compile'd code", type(model._orig_mod).__name__)
        model = model._orig_mod
        seen += 1
    return model


def compiled_ancestor(model: nn.Module, name: str) -> str | None:
    """Name of the closest ``torch.compile``'d module that contains the module ``name``, if any."""
    parts = name.split(".")
    for k in range(len(parts) - 1, -1, -1):
        prefix = ".".join(parts[:k])
        try:
            mod = model.get_submodule(prefix) if prefix else model
        except AttributeError:
            continue
        if is_compiled(mod):
            return prefix
    return None


def resolve_layers(model: nn.Module, layers: str | Sequence[str]) -> list[tuple[str, nn.Module]]:
    """Match ``layers`` (names or glob patterns) against ``model.named_modules()``.

    Returns ``(name, module)`` pairs without duplicates, in the order the patterns
    are given (glob matches in module order). Raises :class:`LayerError` naming
    any pattern that matches nothing, with close names as a hint.
    """
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, Sequence) or len(layers) == 0:
        raise LayerError("layers must be a non-empty module name, glob pattern, or list of them")
    model = original_module(model)
    layers = [p[len(_COMPILED_PREFIX):] if isinstance(p, str) and p.startswith(_COMPILED_PREFIX) else p
              for p in layers]
    named = {name: mod for name, mod in model.named_modules() if name}
    chosen: dict[str, nn.Module] = {}
    for pattern in layers:
        if not isinstance(pattern, str):
            raise LayerError(f"layer names must be strings, got {pattern!r}")
        if pattern in named:
            chosen.setdefault(pattern, named[pattern])
            continue
        matches = [n for n in named if fnmatch.fnmatchcase(n, pattern)]
        if not matches:
            hint = difflib.get_close_matches(pattern, list(named), n=3)
            more = f"; did you mean {hint}?" if hint else ""
            raise LayerError(f"layer {pattern!r} matches no module of {type(model).__name__}{more} "
                             f"(see neurograph.list_layers(model))")
        for n in matches:
            chosen.setdefault(n, named[n])
    return list(chosen.items())


@contextlib.contextmanager
def capture(modules: Sequence[tuple[str, nn.Module]]) -> Iterator[dict[str, object]]:
    """Register a forward hook on each module; yield the dict the outputs land in.

    The dict maps layer name to the module's latest output. Hooks are removed on
    exit, also when the block raises.
    """
    outputs: dict[str, object] = {}
    handles = []

    def saver(name):
        def hook(module, inputs, output):
            outputs[name] = output
        return hook

    try:
        for name, module in modules:
            handles.append(module.register_forward_hook(saver(name)))
        yield outputs
    finally:
        for h in handles:
            h.remove()


@contextlib.contextmanager
def restored_modes(model: nn.Module) -> Iterator[None]:
    """Put every submodule back into its own train/eval mode on exit, also on error."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training
