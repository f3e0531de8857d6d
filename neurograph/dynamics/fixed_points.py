"""Fixed points of recurrent cells, their linearisation, and the dimension of attractor manifolds.

A recurrent cell at a constant input ``x`` is a discrete map ``h -> F(h, x)``.
Its fixed points ``h* = F(h*, x)`` are found as the minima of the speed

    q(h) = 1/2 * ||F(h, x) - h||^2

from many initial states at once (Adam on q by autograd, then damped Newton steps),
as in the fixed-point-finder tradition (Sussillo & Barak 2013; Golub & Sussillo 2018).
Each point comes with its Jacobian ``dF/dh``, eigenvalues, a stability flag (all
|lambda| < 1) and time constants ``tau = |1 / ln|lambda||`` in steps. The dimension
of the attractor manifold that visited states or fixed points lie on is read from
PCA (:func:`attractor_dimension`), as in Aitken et al. (ICLR 2021).

States of an ``nn.LSTMCell`` are the concatenation ``[h, c]`` (size 2 * hidden).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .cells import StepMap, cell_from_layer, minimise_speed, newton_refine, visited_states
from ..io.atomic import atomic_path, read_npz
from ..io.names import plain_figure_text
from .._seed import as_generator, as_int_seed
from .._validate import check_bool, check_finite_array, check_int, check_module_finite, check_number, check_seed
from ..errors import DataError, FileFormatError, NeurographWarning

__all__ = ["AttractorDimension", "FixedPoints", "attractor_dimension", "cell_from_layer", "find_fixed_points",
           "sample_initial_states"]

logger = logging.getLogger(__name__)

_FORMAT = "neurograph.fixed_points"
_VERSION = 1


@dataclass(frozen=True, eq=False)
class FixedPoints:
    """Fixed points (or slow points) of a map ``h -> F(h, x)``, batch on axis 0.

    Attributes
    ----------
    states : numpy.ndarray of float64, shape (k, D)
        The points ``h*`` (for an LSTM, ``[h, c]``).
    q : numpy.ndarray of float64, shape (k,)
        Speed ``1/2 ||F(h*) - h*||^2`` at each point (0 for an exact fixed point).
    jacobians : numpy.ndarray of float64, shape (k, D, D)
        ``dF/dh`` at each point; row i is the gradient of output unit i.
    eigenvalues : numpy.ndarray of complex128, shape (k, D)
        Eigenvalues of each Jacobian, by decreasing modulus.
    inputs : numpy.ndarray of float64, shape (k, input_size)
        The constant input ``x`` each point belongs to.

    Examples
    --------
    >>> import numpy as np
    >>> fp = FixedPoints(states=np.zeros((1, 2)), q=np.zeros(1), jacobians=np.diag([0.5, 0.9])[None],
    ...                  eigenvalues=np.array([[0.9, 0.5]], dtype=complex), inputs=np.zeros((1, 1)))
    >>> len(fp), bool(fp.is_stable[0]), round(float(fp.time_constants[0, 0]), 2)
    (1, True, 9.49)
    """

    states: np.ndarray
    q: np.ndarray
    jacobians: np.ndarray
    eigenvalues: np.ndarray
    inputs: np.ndarray

    def __post_init__(self):
        k = self.states.shape[0] if self.states.ndim == 2 else -1
        d = self.states.shape[1] if self.states.ndim == 2 else -1
        if (k < 0 or self.q.shape != (k,) or self.jacobians.shape != (k, d, d) or self.eigenvalues.shape != (k, d)
                or self.inputs.ndim != 2 or self.inputs.shape[0] != k):
            raise DataError(f"inconsistent FixedPoints shapes: states {self.states.shape}, q {self.q.shape}, "
                            f"jacobians {self.jacobians.shape}, eigenvalues {self.eigenvalues.shape}, "
                            f"inputs {self.inputs.shape}")

    def __len__(self) -> int:
        return int(self.states.shape[0])

    def __getitem__(self, index) -> FixedPoints:
        """Points selected by an int, slice, index array or boolean mask (always a FixedPoints)."""
        if isinstance(index, Integral):
            index = [int(index)]
        return FixedPoints(states=self.states[index], q=self.q[index], jacobians=self.jacobians[index],
                           eigenvalues=self.eigenvalues[index], inputs=self.inputs[index])

    @property
    def n_states(self) -> int:
        """Size D of a state."""
        return int(self.states.shape[1])

    @property
    def is_stable(self) -> np.ndarray:
        """(k,) bool: every eigenvalue strictly inside the unit circle."""
        return np.all(np.abs(self.eigenvalues) < 1.0, axis=1)

    @property
    def time_constants(self) -> np.ndarray:
        """(k, D) time constants ``|1 / ln|lambda||`` in steps, slowest first (inf for |lambda| = 1)."""
        with np.errstate(divide="ignore"):
            return np.abs(1.0 / np.log(np.abs(self.eigenvalues)))

    def n_slow_modes(self, min_time_constant: float = 10.0) -> np.ndarray:
        """(k,) number of modes with a time constant of at least ``min_time_constant`` steps."""
        return np.sum(self.time_constants >= float(min_time_constant), axis=1)

    @staticmethod
    def concatenate(parts: list[FixedPoints]) -> FixedPoints:
        """One FixedPoints holding the points of all ``parts`` in order."""
        if not parts:
            raise DataError("concatenate needs at least one FixedPoints")
        if len({p.n_states for p in parts}) > 1 or len({p.inputs.shape[1] for p in parts}) > 1:
            raise DataError("cannot concatenate FixedPoints of different state or input sizes")
        return FixedPoints(states=np.concatenate([p.states for p in parts]), q=np.concatenate([p.q for p in parts]),
                           jacobians=np.concatenate([p.jacobians for p in parts]),
                           eigenvalues=np.concatenate([p.eigenvalues for p in parts]),
                           inputs=np.concatenate([p.inputs for p in parts]))

    def unique(self, tol: float = 1e-3) -> FixedPoints:
        """Drop duplicates: greedily keep points (smallest q first) farther than ``tol`` (Euclidean) from all
        kept points with the same input. Kept points stay in their original order."""
        order = np.argsort(self.q, kind="stable")
        kept: list[int] = []
        for i in order:
            if all(np.linalg.norm(self.states[i] - self.states[j]) > tol
                   or not np.array_equal(self.inputs[i], self.inputs[j]) for j in kept):
                kept.append(int(i))
        return self[np.sort(np.asarray(kept, dtype=np.int64))]

    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` (``.npz``), whole or not at all; returns the path.

        Raises
        ------
        DataError
            If the points break an invariant :meth:`load` checks (nothing is written).
        """
        path = Path(path)
        problem = FixedPoints._file_problem(self.states, self.q, self.jacobians, self.eigenvalues, self.inputs)
        if problem is not None:
            raise DataError(f"cannot save fixed points to {str(path)!r}: {problem}")
        header = {"format": _FORMAT, "version": _VERSION}
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, header=np.array(json.dumps(header)), states=self.states, q=self.q,
                                jacobians=self.jacobians, eigenvalues=self.eigenvalues, inputs=self.inputs)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> FixedPoints:
        """Read a file written by :meth:`save`, checking its structure and invariants.

        Nothing is unpickled. The file must hold exactly the members :meth:`save` writes:
        float ``states`` (k, D), ``q`` (k,) >= 0, ``jacobians`` (k, D, D), real or complex
        ``eigenvalues`` (k, D) by non-increasing modulus, ``inputs`` (k, m), all finite.

        Raises
        ------
        FileFormatError
            Naming the file and what is wrong: missing, a folder, not a ``.npz`` archive,
            corrupt or truncated, not a fixed-point file of this format version, a missing or
            unexpected member, or an array of the wrong type, shape or value. Member names and
            the sizes the ``.npy`` headers declare are checked before any array is read: an
            unexpected member, or one declaring more than ``k`` points of dimension ``D``
            (``states``) imply, is refused unread.
        """
        path = Path(path)
        name = str(path)
        _check_declared(path)  # member names and declared sizes, before any array is read
        data = read_npz(path, "fixed-point file", FileFormatError)
        header = data.get("header")
        try:
            header = json.loads(str(header)) if (isinstance(header, np.ndarray) and header.shape == ()
                                                 and header.dtype.kind == "U") else None
        except (ValueError, RecursionError):
            header = None
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise FileFormatError(f"{name!r} is not a neurograph fixed-point file (no valid header)")
        if header.get("version") != _VERSION or isinstance(header.get("version"), bool) or set(header) != {
                "format", "version"}:
            raise FileFormatError(f"{name!r} is not a fixed-point file of format version {_VERSION} "
                                  f"(header {header})")
        members = ("states", "q", "jacobians", "eigenvalues", "inputs")
        missing = [m for m in members if m not in data]
        extra = sorted(set(data) - {"header", *members})
        if missing or extra:
            raise FileFormatError(f"fixed-point file {name!r} is incomplete or inconsistent: "
                                  + (f"missing member(s) {missing}" if missing else f"unexpected member(s) {extra}"))
        problem = cls._file_problem(*(data[m] for m in members))
        if problem is not None:
            raise FileFormatError(f"fixed-point file {name!r} is invalid: {problem}")
        return cls(states=data["states"].astype(np.float64), q=data["q"].astype(np.float64),
                   jacobians=data["jacobians"].astype(np.float64),
                   eigenvalues=data["eigenvalues"].astype(np.complex128), inputs=data["inputs"].astype(np.float64))

    @staticmethod
    def _file_problem(states, q, jacobians, eigenvalues, inputs) -> str | None:
        """What is wrong with these arrays as saved fixed points, or None."""
        arrays = {"states": (states, 2, "fiu"), "q": (q, 1, "fiu"), "jacobians": (jacobians, 3, "fiu"),
                  "eigenvalues": (eigenvalues, 2, "fiuc"), "inputs": (inputs, 2, "fiu")}
        for key, (arr, ndim, kinds) in arrays.items():
            if not isinstance(arr, np.ndarray) or arr.ndim != ndim or arr.dtype.kind not in kinds:
                what = f"dtype {arr.dtype} shape {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
                return f"{key} must be a {ndim}-D {'complex or real' if 'c' in kinds else 'real'} array, got {what}"
        k, d = states.shape
        shapes = {"q": (q, (k,)), "jacobians": (jacobians, (k, d, d)), "eigenvalues": (eigenvalues, (k, d))}
        for key, (arr, shape) in shapes.items():
            if arr.shape != shape:
                return f"{key} has shape {arr.shape}, expected {shape} for states of shape {states.shape}"
        if inputs.shape[0] != k:
            return f"inputs has {inputs.shape[0]} rows, expected one per point ({k})"
        for key, (arr, _, _) in arrays.items():
            if not np.isfinite(arr).all():
                return f"{key} holds NaN or infinite values"
        if (q < 0).any():
            return f"q (a squared speed) must be >= 0, got {float(q.min())!r}"
        modulus = np.abs(eigenvalues)
        if d > 1 and (np.diff(modulus, axis=1) > 1e-12 * (1.0 + modulus[:, :-1])).any():
            i = int(np.flatnonzero((np.diff(modulus, axis=1) > 1e-12 * (1.0 + modulus[:, :-1])).any(axis=1))[0])
            return f"eigenvalues of point {i} are not ordered by decreasing modulus"
        return None

    def plot(self, *, states: np.ndarray | None = None, title: str = "") -> Figure:
        """Fixed points in the plane of the first two principal components, coloured by stability.

        ``states`` (n, D), e.g. visited hidden states, are drawn in grey and define the
        PCA plane; without them the plane is fitted to the fixed points.
        """
        fig = Figure(figsize=(5.2, 4.6), layout="constrained")
        ax = fig.add_subplot()
        ref = self.states if states is None else np.asarray(states, dtype=float).reshape(-1, self.n_states)
        if len(ref) == 0:
            ax.text(0.5, 0.5, "no points", ha="center", va="center")
            return plain_figure_text(fig)  # a title's $ is drawn as written
        dim = attractor_dimension(ref)
        if states is not None:
            bg = dim.project(ref, 2)
            ax.scatter(bg[:, 0], bg[:, 1], s=3, c="0.75", label="visited states", rasterized=True)
        pts = dim.project(self.states, 2)
        stable = self.is_stable
        ax.scatter(pts[stable, 0], pts[stable, 1], s=28, c="tab:blue", label=f"stable ({int(stable.sum())})")
        ax.scatter(pts[~stable, 0], pts[~stable, 1], s=28, marker="x", c="tab:red",
                   label=f"unstable ({int((~stable).sum())})")
        ev = dim.explained_variance_ratio
        ax.set_xlabel(f"PC1 ({100 * ev[0]:.0f}% var)" if ev.size else "PC1")
        ax.set_ylabel(f"PC2 ({100 * ev[1]:.0f}% var)" if ev.size > 1 else "PC2")
        ax.legend(loc="best", fontsize=8)
        ax.set_title(title or f"{len(self)} fixed points")
        return plain_figure_text(fig)  # a title's $ is drawn as written


def find_fixed_points(
    cell: Callable,
    x: ArrayLike | torch.Tensor,
    initial_states: ArrayLike | torch.Tensor,
    *,
    q_tol: float = 1e-12,
    unique_tol: float | None = 1e-3,
    outlier_distance: float | None = None,
    max_q: float | None = None,
    max_iters: int = 2000,
    lr: float = 1e-2,
    newton_steps: int = 20,
    state_pair: bool | None = None,
    seed: int | np.random.Generator | None = 0,
) -> FixedPoints:
    """Find fixed points of ``h -> cell(x, h)`` from a batch of initial states.

    Minimises ``q(h) = 1/2 ||F(h, x) - h||^2`` for all initial states at once:
    Adam (learning rate ``lr`` decaying to ``lr / 100``, at most ``max_iters`` steps,
    stopping early when every point has ``q < q_tol`` or progress stalls), then up to
    ``newton_steps`` damped Newton (Levenberg-Marquardt) steps on ``F(h) - h = 0``,
    each accepted only where it lowers q. Computation is in float64 on a frozen deep
    copy of a module cell (or of the module owning a method such as
    ``RecurrentLayer.step``); the user's cell and its parameters are left as they were.
    Then points with ``q > max_q`` and distance outliers are dropped, and duplicates
    merged (:meth:`FixedPoints.unique`).

    Parameters
    ----------
    cell : callable
        ``cell(x, h) -> h_next`` on batches (``x`` (n, input_size), ``h`` (n, hidden)),
        e.g. ``nn.RNNCell`` / ``nn.GRUCell``; ``nn.LSTMCell`` (``cell(x, (h, c))``) is
        handled with states ``[h, c]``. See :func:`cell_from_layer` for trained layers.
    x : array-like, shape (input_size,)
        The constant input (e.g. zeros for "no input").
    initial_states : array-like, shape (n, D)
        Starting points, e.g. from :func:`sample_initial_states`. For an ``nn.LSTMCell``
        D is ``2 * hidden``; an (n, hidden) array is taken as ``h`` with ``c = 0``.
    q_tol : float, default 1e-12
        A point counts as converged, and stops moving, once ``q < q_tol``.
    unique_tol : float or None, default 1e-3
        Points closer than this (Euclidean) are merged, keeping the lowest q; None keeps all.
    outlier_distance : float or None, default None
        Drop points farther from the centroid of the initial states than this many
        times the initial states' mean distance to it; None keeps all.
    max_q : float or None, default None
        Drop points whose final q exceeds this (slow points); None keeps all.
    max_iters : int, default 2000
        Maximum Adam iterations.
    lr : float, default 1e-2
        Initial Adam learning rate.
    newton_steps : int, default 20
        Damped Newton steps after Adam (0 for none).
    state_pair : bool or None, default None
        The cell takes and returns ``(h, c)``; None: only for ``nn.LSTMCell``.
    seed : int, numpy Generator or None, default 0
        Seeds torch's RNG (in a forked state) while the cell runs, for cells that draw
        random numbers; the search itself is deterministic.

    Returns
    -------
    FixedPoints
        Sorted by increasing q.

    Raises
    ------
    OptionError
        If an option is of the wrong type or out of range (``q_tol``, ``lr`` > 0; ``max_iters``,
        ``newton_steps`` ints >= 0; ``unique_tol`` None or >= 0; ``max_q`` None or finite;
        ``outlier_distance`` None or > 0; ``state_pair`` None or a bool; ``seed``).
    DataError
        If ``initial_states`` is empty, not 2-D or not finite; ``x`` is not finite; a parameter
        (or buffer) of the cell is not finite (the message names it, e.g. ``'weight_hh'``); or
        the cell gives NaN or infinite states at ``x`` from every initial state (from only
        some of them: a :class:`~neurograph.errors.NeurographWarning`, and those are dropped).
    ModelError
        If the cell raises or returns states of the wrong shape.

    Examples
    --------
    >>> import torch
    >>> cell = torch.nn.RNNCell(1, 2)
    >>> with torch.no_grad():
    ...     _ = cell.weight_hh.zero_(); _ = cell.bias_ih.fill_(0.5); _ = cell.bias_hh.zero_()
    >>> fps = find_fixed_points(cell, torch.zeros(1), torch.randn(5, 2))
    >>> len(fps), bool(fps.is_stable[0]), round(float(fps.states[0, 0]), 4)
    (1, True, 0.4621)
    """
    q_tol = check_number("q_tol", q_tol, low=0.0, low_open=True)
    lr = check_number("lr", lr, low=0.0, low_open=True)
    max_iters = check_int("max_iters", max_iters, min=0)
    newton_steps = check_int("newton_steps", newton_steps, min=0)
    if unique_tol is not None:
        unique_tol = check_number("unique_tol", unique_tol, low=0.0)
    if outlier_distance is not None:
        outlier_distance = check_number("outlier_distance", outlier_distance, low=0.0, low_open=True)
    if max_q is not None:
        max_q = check_number("max_q", max_q)
    if state_pair is not None:
        state_pair = check_bool("state_pair", state_pair)
    check_seed("seed", seed)
    try:
        init = np.asarray(initial_states.detach().cpu() if isinstance(initial_states, torch.Tensor)
                          else initial_states, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"initial_states must be a numeric (n, D) array: {exc}") from exc
    if init.ndim != 2 or init.shape[0] == 0:
        raise DataError(f"initial_states must be a non-empty (n, D) array, got shape {init.shape}")
    if not np.all(np.isfinite(init)):
        raise DataError("initial_states contain NaN or infinite values")
    check_finite_array("x", x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    check_module_finite("cell", cell)
    if isinstance(cell, torch.nn.LSTMCell) and init.shape[1] == cell.hidden_size:
        init = np.concatenate([init, np.zeros_like(init)], axis=1)
    step = StepMap(cell, x, state_pair=state_pair, probe_dim=init.shape[1])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(as_int_seed(seed))
        init = _drop_non_finite_starts(step, init)
        z = minimise_speed(step, step.as_tensor(init), q_tol=float(q_tol), max_iters=int(max_iters), lr=float(lr))
        z = newton_refine(step, z, q_tol=float(q_tol), n_steps=int(newton_steps))
        with torch.no_grad():
            q = 0.5 * ((step(z) - z) ** 2).sum(1)
        jac = step.jacobians(z)
    states = z.cpu().double().numpy()
    q_np = q.cpu().double().numpy()
    keep = np.isfinite(q_np) & np.all(np.isfinite(states), axis=1)
    if max_q is not None:
        keep &= q_np <= float(max_q)
    if outlier_distance is not None:
        centre = init.mean(axis=0)
        scale = np.linalg.norm(init - centre, axis=1).mean()
        keep &= np.linalg.norm(states - centre, axis=1) <= float(outlier_distance) * max(scale, 1e-12)
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(q_np[idx], kind="stable")]
    jac_np = jac.cpu().double().numpy()[idx]
    eig = np.linalg.eigvals(jac_np) if len(idx) else np.zeros((0, states.shape[1]), complex)
    eig = np.take_along_axis(eig, np.argsort(-np.abs(eig), axis=1, kind="stable"), axis=1).astype(np.complex128)
    x_np = step.x.cpu().double().numpy()
    fps = FixedPoints(states=states[idx], q=q_np[idx], jacobians=jac_np, eigenvalues=eig,
                      inputs=np.repeat(x_np[None], len(idx), axis=0))
    n_found = len(fps)
    if unique_tol is not None and len(fps):
        fps = fps.unique(float(unique_tol))
    logger.debug("fixed points: %d initial states, %d kept after q/outlier filters, %d unique",
                 len(init), n_found, len(fps))
    return fps


def _drop_non_finite_starts(step: StepMap, init: np.ndarray) -> np.ndarray:
    """The initial states at which the cell gives a finite next state; DataError if there are none."""
    with torch.no_grad():
        out = step(step.as_tensor(init))
    ok = torch.isfinite(out).all(dim=1).cpu().numpy()
    if not ok.any():
        raise DataError(f"cell {step.name} gives NaN or infinite states at input x from all {len(init)} "
                        "initial_states; no fixed point can be searched for (check the input and the cell)")
    if not ok.all():
        bad = np.flatnonzero(~ok)
        warnings.warn(f"cell {step.name} gives NaN or infinite states at input x from {bad.size} of {len(init)} "
                      f"initial_states (rows {bad[:10].tolist()}); they are left out", NeurographWarning,
                      stacklevel=3)
    return init[ok]


def sample_initial_states(
    trace_or_states: Any,
    n: int,
    *,
    noise_sd: float = 0.4,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """Draw ``n`` states from visited states and add Gaussian noise, as starting points for the search.

    Parameters
    ----------
    trace_or_states : StateTrace or array-like
        A ``StateTrace`` from ``record_states`` (its valid states of every sequence,
        initial state included, are used), a :class:`FixedPoints`, or an array of
        states of shape (..., D).
    n : int
        Number of states to draw (without replacement when there are enough).
    noise_sd : float, default 0.4
        Standard deviation of the independent N(0, noise_sd^2) noise on each coordinate.
    seed : int, numpy Generator or None, default 0
        Seed of the draw and the noise.

    Returns
    -------
    numpy.ndarray of float64, shape (n, D)

    Examples
    --------
    >>> import numpy as np
    >>> sample_initial_states(np.zeros((10, 4, 3)), 6, noise_sd=0.1, seed=0).shape
    (6, 3)
    """
    n = check_int("n", n, min=1)
    noise_sd = check_number("noise_sd", noise_sd, low=0.0)
    check_seed("seed", seed)
    pool = visited_states(trace_or_states)
    rng = as_generator(seed)
    idx = rng.choice(len(pool), size=int(n), replace=len(pool) < n)
    return pool[idx] + rng.normal(0.0, float(noise_sd), size=(int(n), pool.shape[1]))


@dataclass(frozen=True, eq=False)
class AttractorDimension:
    """Dimension of a cloud of states by PCA.

    Attributes
    ----------
    n_components : int
        Fewest principal components explaining at least ``variance`` of the variance
        (see also :attr:`gap_components`).
    explained_variance_ratio : numpy.ndarray, shape (r,)
        Share of variance of every component, decreasing (r = min(n, D)).
    participation_ratio : float
        ``(sum lambda)^2 / sum lambda^2`` over the covariance eigenvalues (0 for no variance).
    variance : float
        The share asked for.
    mean : numpy.ndarray, shape (D,)
        Centre of the states.
    components : numpy.ndarray, shape (r, D)
        Principal axes (unit rows), by decreasing variance.
    n_samples : int
        Number of states.

    Examples
    --------
    >>> import numpy as np
    >>> pts = np.random.default_rng(0).normal(size=(200, 3)) * [3.0, 1.0, 0.0]
    >>> dim = attractor_dimension(pts, variance=0.99)
    >>> dim.n_components, dim.gap_components, dim.project(pts, 2).shape
    (2, 1, (200, 2))
    """

    n_components: int
    explained_variance_ratio: np.ndarray
    participation_ratio: float
    variance: float
    mean: np.ndarray
    components: np.ndarray
    n_samples: int

    @property
    def gap_components(self) -> int:
        """Components before the largest drop in variance (largest ratio of consecutive
        explained variances, among components holding at least 1% of the variance): an
        elbow estimate of the dimension that ignores a tail of small noise directions."""
        ev = self.explained_variance_ratio[self.explained_variance_ratio >= 0.01]
        if ev.size < 2:
            return int(ev.size)
        return int(np.argmax(ev[:-1] / ev[1:]) + 1)

    def project(self, states, n_components: int | None = None) -> np.ndarray:
        """Coordinates (n, k) of ``states`` (n, D) on the first k = ``n_components`` axes (default: all)."""
        s = np.asarray(states, dtype=float).reshape(-1, self.mean.shape[0])
        comps = self.components if n_components is None else self.components[:n_components]
        out = (s - self.mean) @ comps.T
        if n_components is not None and out.shape[1] < n_components:
            out = np.pad(out, ((0, 0), (0, n_components - out.shape[1])))
        return out


def attractor_dimension(states: ArrayLike | torch.Tensor | FixedPoints, variance: float = 0.95) -> AttractorDimension:
    """Dimension of the manifold that ``states`` lie on: PCA components for a share of the variance.

    Parameters
    ----------
    states : array-like of shape (..., D), or FixedPoints
        Visited hidden states (e.g. final states of many sequences) or fixed points;
        leading axes are flattened.
    variance : float, default 0.95
        Share of the variance to explain, in (0, 1].

    Returns
    -------
    AttractorDimension
        ``n_components``, ``explained_variance_ratio``, ``participation_ratio``.

    Raises
    ------
    DataError
        If there are fewer than 2 states or they are not finite.
    OptionError
        If ``variance`` is not a number in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> plane = np.random.default_rng(1).normal(size=(100, 2)) @ np.random.default_rng(2).normal(size=(2, 10))
    >>> attractor_dimension(plane).n_components
    2
    """
    from sklearn.decomposition import PCA

    if isinstance(states, FixedPoints):
        states = states.states
    if isinstance(states, torch.Tensor):
        states = states.detach().cpu().numpy()
    s = np.asarray(states, dtype=np.float64)
    if s.ndim < 2:
        raise DataError(f"states must have shape (..., D), got {s.shape}")
    s = s.reshape(-1, s.shape[-1])
    if s.shape[0] < 2:
        raise DataError(f"attractor_dimension needs at least 2 states, got {s.shape[0]}")
    if not np.all(np.isfinite(s)):
        raise DataError("states contain NaN or infinite values")
    variance = check_number("variance", variance, low=0.0, high=1.0, low_open=True)
    r = min(s.shape)
    if float(np.var(s, axis=0).sum()) <= 1e-300:      # all states equal: no variance, no direction
        return AttractorDimension(n_components=0, explained_variance_ratio=np.zeros(r), participation_ratio=0.0,
                                  variance=float(variance), mean=s.mean(axis=0), components=np.eye(r, s.shape[1]),
                                  n_samples=int(s.shape[0]))
    pca = PCA(n_components=r, svd_solver="full").fit(s)
    lam = pca.explained_variance_
    total = float(lam.sum())
    ratio = lam / total
    k = int(min(np.searchsorted(np.cumsum(ratio), float(variance) - 1e-12) + 1, len(ratio)))
    pr = float(total**2 / np.sum(lam**2))
    return AttractorDimension(n_components=k, explained_variance_ratio=ratio, participation_ratio=pr,
                              variance=float(variance), mean=pca.mean_.copy(), components=pca.components_.copy(),
                              n_samples=int(s.shape[0]))


_MEMBERS = ("header", "states", "q", "jacobians", "eigenvalues", "inputs")


def _check_declared(path: Path) -> None:
    """FileFormatError for an unexpected member, or one declaring more elements than ``states`` (k, D) implies,
    from the zip directory and ``.npy`` headers alone (nothing is inflated)."""
    from ..io.npzheaders import npz_headers

    name = str(path)
    heads = npz_headers(path, "fixed-point file", FileFormatError)
    if heads is None:
        return
    extra = sorted(set(heads) - set(_MEMBERS))
    if extra and "states" not in heads:
        shown = extra if len(extra) <= 8 else [*extra[:8], "..."]
        raise FileFormatError(f"{name!r} is not a neurograph fixed-point file (members {shown})")
    if extra:
        raise FileFormatError(f"fixed-point file {name!r} is incomplete or inconsistent: unexpected member(s) {extra}")
    header = heads.get("header")
    if header is not None and header.nbytes > 1 << 16:
        raise FileFormatError(f"{name!r} is not a neurograph fixed-point file (its header declares "
                              f"{header.nbytes:,} bytes)")
    states = heads.get("states")
    if states is None or len(states.shape) != 2:
        return  # load reports it
    k, d = states.shape
    for m, most in (("q", k), ("jacobians", k * d * d), ("eigenvalues", k * d)):
        if m in heads and heads[m].size > most:
            raise FileFormatError(f"fixed-point file {name!r} is invalid: {m} has shape {heads[m].shape} (declared: "
                                  f"{heads[m].nbytes:,} bytes), more than states of shape {(k, d)} imply "
                                  f"({most:,} elements)")
    if "inputs" in heads and heads["inputs"].shape[:1] not in ((), (k,)) and heads["inputs"].shape[0] > k:
        raise FileFormatError(f"fixed-point file {name!r} is invalid: inputs has {heads['inputs'].shape[0]:,} rows "
                              f"(declared), expected one per point ({k:,})")
