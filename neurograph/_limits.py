"""Upper bounds of the numbers that size memory or time, for every API argument and CLI option.

A number given by the user (a keyword argument, a command-line option, a zoo configuration)
that sets how much is allocated or how long a loop runs is checked against one of these
before anything is allocated: a value above its bound raises
:class:`~neurograph.errors.OptionError` (:class:`~neurograph.errors.ConfigError` in a zoo
configuration) naming the option and the limit. The bounds are far above any useful value
(a 95% bootstrap interval needs about 2,000 resamples; a modularity z-score about 20 null
graphs) and far below what would exhaust a machine, so a typo (``--n-boot 1000000000000``)
fails at once instead of asking for terabytes.

Examples
--------
>>> MAX_N_BOOT, MAX_RUNS
(100000, 100000)
"""

from __future__ import annotations

__all__ = ["MAX_CONFIG_BYTES", "MAX_CSV_COLUMNS", "MAX_EPOCHS", "MAX_HIDDEN_LAYERS", "MAX_N_BOOT", "MAX_N_NULL",
           "MAX_RUNS", "MAX_SAMPLES", "MAX_SEED", "MAX_TASK_VALUES", "MAX_WIDTH", "MAX_WORKERS"]

#: Bootstrap resamples (``n_boot``, ``--n-boot``): memory is ``n_boot x rows`` floats.
MAX_N_BOOT = 100_000
#: Rewired null graphs (``n_null``, ``--n-null``, ``[score] n_null``): time is ``n_null`` graphs.
MAX_N_NULL = 10_000
#: Training epochs (``epochs``, ``--epochs``, a zoo family's ``epochs``).
MAX_EPOCHS = 100_000
#: Runs of a zoo configuration (the product of each family's grid sizes, summed), counted before expanding.
MAX_RUNS = 100_000
#: Random seeds (``seed``, ``--seed``, a zoo's ``seeds``/``data_seed``): torch's ``manual_seed`` takes at most a
#: 64-bit unsigned int.
MAX_SEED = 2**64 - 1
#: Columns of a CSV table read by ``neurograph correlate`` or ``report`` (checked on its header line, before parsing).
MAX_CSV_COLUMNS = 10_000
#: Bytes of a zoo configuration (TOML), checked before it is read (a zoo config is a few kilobytes; a 10 MB
#: one costs tomllib seconds and hundreds of megabytes).
MAX_CONFIG_BYTES = 1 << 20
#: Worker processes / Ray CPUs (``workers``, ``--workers``).
MAX_WORKERS = 4096
#: Units of one hidden layer of a zoo family (``hidden``) and the layers of one architecture.
MAX_WIDTH = 1_000_000
MAX_HIDDEN_LAYERS = 1_000
#: Samples of a generated task (``[blobs] n_samples``) and its features (``n_features``, ``n_classes``).
MAX_SAMPLES = 10_000_000
#: Values of a generated task, ``n_samples x n_features`` (scikit-learn makes them in float64: 800 MB).
MAX_TASK_VALUES = 100_000_000
