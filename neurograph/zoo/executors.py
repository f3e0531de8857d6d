"""Where a zoo's independent tasks (train one model, score one model) run: in-process, a local process
pool, or a Ray cluster — with the same results whatever runs them.

Every task is a module-level function of one picklable argument that returns a picklable result and
sets its own seeds; :func:`run_tasks` returns the results in task order. Workers run torch on one
thread each (the zoo's models are small: one thread per worker and one worker per core is the fastest
layout, and it makes results independent of the number of workers).

* ``"inprocess"``: a plain loop (debugging, tiny zoos).
* ``"process"`` (default): a local pool of ``workers`` processes started with ``spawn`` (safe with
  torch; each worker imports torch once).
* ``"ray"``: Ray tasks (``pip install 'neurograph[ray]'``), on a running cluster at ``address``
  (``ray start --head`` on one machine, ``ray start --address=HEAD:6379`` on the others, then
  ``--executor ray --address HEAD:6379``) or, with ``address=None``, a local Ray instance started
  for the call with ``workers`` CPUs and shut down after it. Code and data must be importable on
  every node (install neurograph there).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from tqdm.auto import tqdm

from .._validate import check_choice, check_int
from .._limits import MAX_WORKERS
from ..errors import OptionError

__all__ = ["EXECUTORS", "Executor", "run_tasks"]

EXECUTORS = ("inprocess", "process", "ray")


@dataclass(frozen=True)
class Executor:
    """How to run a zoo's tasks.

    Parameters
    ----------
    kind : {"inprocess", "process", "ray"}
    workers : int or None
        Processes for ``"process"`` (default: the number of CPUs), CPUs of a local Ray instance
        for ``"ray"`` without ``address`` (default: all). Ignored by ``"inprocess"``.
    address : str or None
        Ray cluster address (``"HOST:6379"`` or ``"auto"``); only for ``kind="ray"``.

    Examples
    --------
    >>> Executor("process", workers=2)
    Executor(kind='process', workers=2, address=None)
    """

    kind: str = "process"
    workers: int | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        check_choice("executor", self.kind, EXECUTORS)
        if self.workers is not None:
            check_int("workers", self.workers, min=1, max=MAX_WORKERS)
        if self.address is not None and self.kind != "ray":
            raise OptionError(f"address is for the Ray executor only, got address={self.address!r} with "
                              f"executor {self.kind!r}")
        if self.address is not None and (not isinstance(self.address, str) or not self.address):
            raise OptionError(f"address must be a Ray address such as 'HOST:6379' or 'auto', got {self.address!r}")


def run_tasks(fn: Callable, tasks: Sequence, executor: Executor | None = None, *, progress: bool = False,
              desc: str = "") -> list:
    """``[fn(t) for t in tasks]`` on ``executor``; results in task order.

    Parameters
    ----------
    fn : callable
        A module-level function (pickled by name) of one task; it must set its own seeds.
    tasks : sequence
        Picklable task descriptions.
    executor : Executor, optional
        Default: ``Executor("process")``.
    progress : bool
        A tqdm bar over finished tasks.

    Examples
    --------
    >>> run_tasks(abs, [-1, 2, -3], Executor("inprocess"))
    [1, 2, 3]
    """
    executor = executor or Executor()
    if not isinstance(executor, Executor):
        raise OptionError(f"executor must be a neurograph.zoo.Executor, got {type(executor).__name__}")
    tasks = list(tasks)
    if not tasks:
        return []
    bar = tqdm(total=len(tasks), desc=desc, disable=not progress, unit="task", leave=False)
    try:
        if executor.kind == "inprocess":
            out = []
            for t in tasks:
                out.append(fn(t))
                bar.update(1)
            return out
        if executor.kind == "process":
            return _run_pool(fn, tasks, executor.workers or os.cpu_count() or 1, bar)
        return _run_ray(fn, tasks, executor, bar)
    finally:
        bar.close()


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _run_pool(fn: Callable, tasks: list, workers: int, bar) -> list:
    workers = max(1, min(workers, len(tasks)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_one_thread) as pool:
        futures = [pool.submit(fn, t) for t in tasks]
        out = []
        for f in futures:  # in task order; the bar advances as each is collected
            out.append(f.result())
            bar.update(1)
        return out


def _run_ray(fn: Callable, tasks: list, executor: Executor, bar) -> list:
    try:
        import ray
    except ImportError as exc:
        raise OptionError("executor 'ray' needs Ray: pip install 'neurograph[ray]' (or pip install ray)") from exc
    started = False
    if not ray.is_initialized():
        kwargs = {"address": executor.address} if executor.address else {"num_cpus": executor.workers or os.cpu_count()}
        ray.init(include_dashboard=False, ignore_reinit_error=True, log_to_driver=False, **kwargs)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_ray_task)
        refs = [remote.remote(fn, t) for t in tasks]
        out = []
        for r in refs:
            out.append(ray.get(r))
            bar.update(1)
        return out
    finally:
        if started:
            ray.shutdown()


def _ray_task(fn: Callable, task):
    _one_thread()
    return fn(task)
