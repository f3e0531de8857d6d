"""Share independent tasks out to worker processes, keeping their order.

Workers are forked on Linux (they start at once and need not import neurograph and torch
again; the tasks run igraph, leidenalg and numpy only, never torch) and spawned elsewhere.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor


def run_pool(fn: Callable, tasks: list, n_jobs: int, *, init: Callable | None = None, initargs: tuple = (),
             wrap: Callable | None = None) -> list:
    """``[fn(t) for t in tasks]`` on ``min(n_jobs, len(tasks))`` worker processes, results in task order.

    ``fn`` and ``init`` must be module-level functions (pickled by name); ``init(*initargs)``
    runs once per worker (to install data shared by all tasks); ``wrap`` may wrap the result
    iterator (a progress bar).
    """
    workers = max(1, min(int(n_jobs), len(tasks)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork" if sys.platform.startswith("linux") else "spawn"), initializer=init,
                             initargs=initargs) as pool:
        it = pool.map(fn, tasks)
        if wrap is not None:
            it = wrap(it)
        return list(it)
