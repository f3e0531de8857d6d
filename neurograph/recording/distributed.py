"""Sum statistics over the processes of a ``torch.distributed`` group, and run such a group locally.

Counts are sufficient statistics, so a data set too large for one process is recorded in
shards, one per rank, and the shards' counts are summed::

    # on every rank (launched by torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR, ...)
    torch.distributed.init_process_group("gloo")        # "nccl" with one GPU per rank
    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    stats = record(model, (X[rank::world], y[rank::world]), layers, distributed=True)
    # every rank now holds the statistics of all of X, exactly as one process would get them

What is summed, and how:

* integer counts (samples, firing, co-firing, per class): ``all_reduce(SUM)`` in int64, exact.
  The co-firing matrix is reduced in chunks of 16 Mi entries, so the extra memory is one chunk.
* classes: ranks may have seen different classes; the class labels are all-gathered first
  and every rank aligns its per-class counts to the sorted union before the sum.
* pattern counts (``patterns=True``): dictionaries, all-gathered and merged (memory: all
  ranks' distinct patterns on every rank).
* moments (``moments=True``): all-gathered and merged pairwise in float64 in rank order
  (memory: ``world_size`` copies of the d x d comoment on every rank), so every rank gets
  the same floats.

Every rank must call the collectives: if one rank fails before them (empty shard, bad
input), :func:`neurograph.recording.record` with ``distributed=True`` tells the others, which
raise too instead of waiting for the time-out. Shard the data without overlap:
``DistributedSampler`` *repeats* samples to even out the shards unless the data size is a
multiple of the world size, which would count them twice; ``X[rank::world]`` does not.
"""

from __future__ import annotations

import datetime
import logging
import os
import queue as queue_mod
import socket
import time
import traceback
from collections.abc import Callable

import torch

from .._dist import require_dist
from .._validate import check_int
from ..errors import NeurographError
from ..stats import CoactivationStats

__all__ = ["all_reduce_stats", "spawn_local"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 24  # entries of the co-firing matrix reduced per collective call


def all_reduce_stats(stats: CoactivationStats, *, group=None) -> CoactivationStats:
    """Statistics of all ranks' samples, returned on every rank of ``group``.

    Parameters
    ----------
    stats : CoactivationStats
        This rank's statistics (of its own shard of the data).
    group : torch.distributed.ProcessGroup or None
        The group to sum over (None: the default group).

    Returns
    -------
    CoactivationStats
        Equal on every rank; equal to recording all shards in one process (counts
        exactly, moments up to float64 rounding).

    Raises
    ------
    NeurographError
        torch.distributed is not available or not initialised.
    IncompatibleStatsError
        Ranks recorded different neurons, rules or readings (positions, neuron axes, mask, dtype:
        :func:`neurograph.stats.reading_of`), compared before any count is reduced; raised on every
        rank, naming the field, the ranks and their values.

    Examples
    --------
    >>> import numpy as np
    >>> def work(rank, world):
    ...     fired = np.eye(3, dtype=np.uint8)[rank::world]
    ...     return all_reduce_stats(CoactivationStats.from_binary(fired, labels=[rank] * len(fired)))
    >>> a, b = spawn_local(work, 2, timeout=120)      # doctest: +SKIP
    >>> a == b == CoactivationStats.from_binary(np.eye(3), labels=[0, 1, 0])   # doctest: +SKIP
    True
    """
    if not isinstance(stats, CoactivationStats):
        raise TypeError(f"stats must be a CoactivationStats, got {type(stats).__name__}")
    return stats.all_reduce(group=group)


def spawn_local(fn: Callable, world_size: int = 2, *, args: tuple = (), backend: str = "gloo",
                timeout: float = 300.0, threads: int | None = 1) -> list:
    """Run ``fn(rank, world_size, *args)`` on ``world_size`` fresh local processes forming a process group.

    For trying distributed recording on one machine (tests, benchmarks); on a cluster use
    ``torchrun``. Each process is started with the ``spawn`` method, joins a group on
    ``127.0.0.1`` at a free port, runs ``fn`` and leaves the group.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled by name); its return value must pickle.
    world_size : int
        Number of processes.
    args : tuple
        Extra positional arguments for ``fn``.
    backend : str
        ``"gloo"`` (CPU) or ``"nccl"``.
    timeout : float
        Seconds before the group's collectives and this call give up; the processes are
        then terminated and ``TimeoutError`` raised.
    threads : int or None
        ``torch.set_num_threads`` in each process (None leaves torch's default).

    Returns
    -------
    list
        The return values of ranks 0..world_size-1.

    Raises
    ------
    RuntimeError
        A rank raised (its traceback is in the message) or died.
    TimeoutError
        Not every rank finished within ``timeout`` seconds.
    """
    import torch.multiprocessing as mp

    check_int("world_size", world_size, min=1)
    ctx = mp.get_context("spawn")
    results_q = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_entry, args=(fn, rank, world_size, port, backend, timeout, threads, args,
                                               results_q), daemon=True)
             for rank in range(world_size)]
    for p in procs:
        p.start()
    results: dict[int, object] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(results) < world_size:
            if time.monotonic() > deadline:
                raise TimeoutError(f"spawn_local: ranks {sorted(set(range(world_size)) - set(results))} did not "
                                   f"finish within {timeout} s")
            try:
                rank, ok, payload = results_q.get(timeout=0.2)
            except queue_mod.Empty:
                dead = [r for r, p in enumerate(procs) if r not in results and p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"spawn_local: rank {dead[0]} died with exit code {procs[dead[0]].exitcode}")
                continue
            if not ok:
                raise RuntimeError(f"spawn_local: rank {rank} raised:\n{payload}")
            results[rank] = payload
        for p in procs:
            p.join(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        results_q.close()
    return [results[r] for r in range(world_size)]


# ---------------------------------------------------------------------------- internals

def agree(error: BaseException | None, *, group=None, what: str = "recording") -> None:
    """Collective check that no rank failed: re-raise ``error`` here, or raise if another rank failed."""
    dist = require_dist()
    msgs: list = [None] * dist.get_world_size(group)
    dist.all_gather_object(msgs, None if error is None else f"{type(error).__name__}: {error}", group=group)
    if error is not None:
        raise error
    failed = [(r, m) for r, m in enumerate(msgs) if m is not None]
    if failed:
        r, m = failed[0]
        raise NeurographError(f"{what} failed on rank {r} of the process group: {m}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _entry(fn, rank, world_size, port, backend, timeout, threads, args, results_q) -> None:
    import torch.distributed as dist

    try:
        if threads is not None:
            torch.set_num_threads(int(threads))
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(port)
        dist.init_process_group(backend, rank=rank, world_size=world_size,
                                timeout=datetime.timedelta(seconds=timeout))
        try:
            out = fn(rank, world_size, *args)
        finally:
            dist.destroy_process_group()
        results_q.put((rank, True, out))
    except BaseException:  # report everything to the parent, which raises
        results_q.put((rank, False, traceback.format_exc()))
