"""torch.distributed helpers without any neurograph import (so statistics and recorders can share them)."""

from __future__ import annotations

from .errors import NeurographError

__all__ = ["collective_device", "require_dist"]


def require_dist():
    """The initialised ``torch.distributed`` module, or NeurographError saying how to initialise it."""
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        raise NeurographError("torch.distributed is not initialised: call torch.distributed.init_process_group "
                              "first (torchrun sets up the environment for it), or record without distributed=True")
    return dist


def collective_device(dist, group):
    """Where a collective's tensors must live: the current CUDA device for nccl, else the CPU."""
    import torch

    if dist.get_backend(group) == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
