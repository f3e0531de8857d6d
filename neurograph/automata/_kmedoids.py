"""Position-aware k-medoids for :func:`neurograph.automata.extract_fsa` (``method="kmedoids_position"``)."""

from __future__ import annotations

import numpy as np

from .._seed import as_int_seed

__all__ = ["kmedoids_position"]


def kmedoids_position(trace, X, k, seed, n_init, n_iter, weight):
    """k-medoids (Voronoi iteration) on ``[h / s_h, sqrt(w) t / s_t]``; medoids are recorded states."""
    _, t = trace.step_index()
    s_h = np.sqrt(max(float(((X - X.mean(axis=0)) ** 2).sum(axis=1).mean()), 1e-12))
    t = t.astype(np.float64)
    s_t = max(float(t.std()), 1e-12)
    Z = np.hstack([X / s_h, np.sqrt(weight) * (t / s_t)[:, None]])
    rng = np.random.default_rng(as_int_seed(seed))
    best = None
    for _ in range(n_init):
        med = _plusplus(Z, k, rng)
        rounds = 0
        for rounds in range(1, max(n_iter, 1) + 1):
            d = _sq_dist(Z, Z[med])
            lab = d.argmin(axis=1)
            new = med.copy()
            for j in range(k):
                members = np.flatnonzero(lab == j)
                if members.size:
                    mean = Z[members].mean(axis=0)
                    new[j] = members[((Z[members] - mean) ** 2).sum(axis=1).argmin()]
            if np.array_equal(np.sort(new), np.sort(med)):
                med = new
                break
            med = new
        d = _sq_dist(Z, Z[med])
        lab = d.argmin(axis=1)
        cost = float(d[np.arange(Z.shape[0]), lab].sum())
        if best is None or cost < best[0]:
            best = (cost, lab.astype(np.int64), med.copy(), rounds)
    cost, labels, med, rounds = best
    return labels, X[med].astype(np.float64), {"medoid_rows": trace.step_rows()[med].tolist(), "cost": cost,
                                               "n_rounds": rounds, "position_weight": weight}


def _plusplus(Z, k, rng):
    """k-means++ seeding: indices of ``k`` distinct rows (fewer distinct rows: repeats avoided by distance)."""
    idx = [int(rng.integers(Z.shape[0]))]
    d = ((Z - Z[idx[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d.sum()
        nxt = int(rng.choice(Z.shape[0], p=d / total)) if total > 0 else int(rng.integers(Z.shape[0]))
        idx.append(nxt)
        d = np.minimum(d, ((Z - Z[nxt]) ** 2).sum(axis=1))
    return np.array(idx, np.int64)


def _sq_dist(A, B):
    return np.maximum((A ** 2).sum(1)[:, None] - 2 * A @ B.T + (B ** 2).sum(1)[None], 0.0)
