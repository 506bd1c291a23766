"""A deterministic box-constrained minimiser for the estimators' 1-4 parameters.

A grid, then zooming stencils with Newton steps of a fitted quadratic; each round
evaluates many points in one vectorised call (see `box_minimise`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

_MAX_ROUNDS = 60
"""Most refinement rounds of ``box_minimise``: a bound on a fit's cost."""


def box_minimise(
    objective: Callable[[np.ndarray], np.ndarray],
    lower: Sequence[float],
    upper: Sequence[float],
    counts: Sequence[int],
    *,
    zoom: int,
    tol: float,
) -> np.ndarray:
    """Minimise ``objective`` over a box; return the best point found.

    ``objective`` maps a (G, d) array of points to G values (non-finite values
    count as infeasible). A coarse grid of ``counts`` points per axis is
    searched first. Then each round evaluates a stencil of ``zoom`` (odd,
    >= 3) points per axis spanning +/- ``step`` around the best point so far,
    together with the points the previous round suggested: further along its
    move and (with two or more axes) along the Newton step of a quadratic
    fitted to its stencil, which follows curved valleys and ridges quickly.
    The best of all becomes the centre; ``step`` shrinks by
    ``min(2 / (zoom - 1), 1/4)`` unless the centre moved (by more than
    rounding) to the edge of the stencil or beyond. It stops when ``step`` is
    below ``tol`` times the box width on every axis, or after ``_MAX_ROUNDS``
    rounds (a bound on the cost).
    Deterministic: the same data give the same point.
    """
    low = np.asarray(lower, dtype=float)
    high = np.asarray(upper, dtype=float)
    width = high - low
    axes = [np.linspace(lo, hi, count) for lo, hi, count in zip(low, high, counts, strict=True)]
    grid = np.array(list(itertools.product(*axes)))
    values = _values(objective, grid)
    best, value = grid[int(np.argmin(values))], float(values.min())
    step = width / (np.asarray(counts) - 1)
    unit = np.array(list(itertools.product(np.linspace(-1.0, 1.0, zoom), repeat=len(low))))
    inner = np.abs(unit).max(axis=1) < 1
    shrink = min(2 / (zoom - 1), 0.25)
    suggested = np.empty((0, len(low)))
    for _ in range(_MAX_ROUNDS):
        if np.all(step <= tol * width):
            break
        stencil = np.clip(best + unit * step, low, high)
        points = np.vstack([stencil, suggested])
        values = _values(objective, points)
        newton = None
        if len(low) > 1:  # in one dimension the fine stencil is enough
            z_low, z_high = (low - best) / step, (high - best) / step
            newton = _newton_step((stencil - best) / step, values[: len(unit)], z_low, z_high)
        centre, i = best, int(np.argmin(values))
        moved = values[i] < value
        far = moved and value - values[i] > 1e-12 * abs(value) and not (i < len(unit) and inner[i])
        if moved:
            best, value = points[i], float(values[i])
        if not far:
            step = step * shrink
        suggested = (
            [centre + t * step * newton for t in (0.5, 1.0, 2.0)] if newton is not None else []
        )
        if moved:
            suggested += [best + t * (best - centre) for t in (1.0, 3.0)]
        suggested = np.clip(np.array(suggested).reshape(-1, len(low)), low, high)
    return best


def _newton_step(
    z: np.ndarray, values: np.ndarray, z_low: np.ndarray, z_high: np.ndarray
) -> np.ndarray | None:
    """Minimum in [z_low, z_high] of the quadratic fitted to ``values`` at offsets ``z``.

    None when the quadratic is not convex. Coordinates whose unconstrained
    minimum lies outside the box are held at the bound and the rest re-solved.
    """
    d = z.shape[1]
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    ok = np.isfinite(values)
    if ok.sum() < 1 + d + len(pairs):
        return None
    design = np.column_stack([np.ones(len(z)), z, *(z[:, i] * z[:, j] for i, j in pairs)])
    coef = np.linalg.lstsq(design[ok], values[ok] - values[ok].min(), rcond=None)[0]
    gradient, hessian = coef[1 : 1 + d], np.zeros((d, d))
    for (i, j), c in zip(pairs, coef[1 + d :], strict=True):
        hessian[i, j] += c
        hessian[j, i] += c
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    point, free = np.zeros(d), np.ones(d, dtype=bool)
    for _ in range(d):
        rhs = -(gradient[free] + hessian[np.ix_(free, ~free)] @ point[~free])
        point[free] = np.linalg.solve(hessian[np.ix_(free, free)], rhs)
        outside = free & ((point < z_low) | (point > z_high))
        point = np.clip(point, z_low, z_high)
        if not outside.any():
            break
        free &= ~outside
        if not free.any():
            break
    return point


def _values(objective: Callable[[np.ndarray], np.ndarray], points: np.ndarray) -> np.ndarray:
    values = np.asarray(objective(points), dtype=float)
    return np.where(np.isfinite(values), values, np.inf)


def minimise_1d(objective: Callable[[np.ndarray], np.ndarray], low: float, high: float) -> float:
    """Minimise a scalar function, vectorised over its argument, on [low, high] (to ~1e-8)."""
    return float(
        box_minimise(lambda p: objective(p[:, 0]), [low], [high], (41,), zoom=17, tol=1e-8)[0]
    )
