"""The maximal covering location problem (MCLP) and its solvers.

Candidates cover weighted demand points; choose at most ``limit`` candidates (and at most a
quota per group, with no two closer than the minimum spacing) to cover the most weight.

:func:`greedy_mclp` is the lazy greedy (CELF): marginal gains only shrink as demand gets
covered, so a stale gain that still tops the heap after recomputation is the true best. It
attains at least (1 - 1/e) of the optimum for the plain MCLP. :func:`exact_mclp` solves the
integer programme with HiGHS (``scipy.optimize.milp``) for small instances, so the greedy's
gap can be reported.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from rollout.errors import ConfigError

__all__ = ["LOWER_BOUND", "MCLP", "coverage_matrix", "exact_mclp", "greedy_mclp", "random_instance"]


@dataclass(frozen=True)
class MCLP:
    """A covering problem: which candidates cover which demand, with quotas and spacing."""

    coverage: sparse.csr_matrix  # candidates x demand, 1 where a candidate covers a point
    weights: np.ndarray  # demand weights
    groups: np.ndarray  # candidate -> quota group index (street), -1 for none
    quotas: np.ndarray  # per group
    conflicts: list[tuple[int, int]]  # candidate pairs closer than the minimum spacing
    limit: int | None = None  # total number of sites, if any


def greedy_mclp(problem: MCLP) -> tuple[list[int], list[float]]:
    """Lazy greedy: the chosen candidates in order and the marginal weight each added."""
    coverage = problem.coverage.tocsr()
    weights = problem.weights.astype(float)
    covered = np.zeros(len(weights), dtype=bool)
    gains = np.asarray(coverage @ weights).ravel()
    heap = [(-g, j) for j, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    left = problem.quotas.astype(int).copy()
    blocked = np.zeros(coverage.shape[0], dtype=bool)
    neighbours: dict[int, list[int]] = {}
    for a, b in problem.conflicts:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    chosen: list[int] = []
    marginals: list[float] = []
    limit = problem.limit if problem.limit is not None else coverage.shape[0]
    while heap and len(chosen) < limit:
        _, j = heapq.heappop(heap)
        group = problem.groups[j]
        if blocked[j] or (group >= 0 and left[group] <= 0):
            continue
        row = coverage.indices[coverage.indptr[j] : coverage.indptr[j + 1]]
        gain = float(weights[row][~covered[row]].sum())
        if gain <= 0:
            continue
        if heap and gain < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-gain, j))  # stale: put back with its true gain
            continue
        chosen.append(j)
        marginals.append(gain)
        covered[row] = True
        if group >= 0:
            left[group] -= 1
        blocked[j] = True
        for k in neighbours.get(j, []):
            blocked[k] = True
    return chosen, marginals


def exact_mclp(problem: MCLP, *, time_limit_s: float = 60.0) -> tuple[list[int], float]:
    """The optimum by mixed-integer programming (HiGHS, through ``scipy.optimize.milp``).

    Variables: ``x_j`` (open candidate j, binary) and ``y_i`` (demand i covered, 0-1);
    maximise the covered weight subject to ``y_i <= sum of x_j covering i``, the quotas, the
    spacing conflicts and the total limit. For small instances.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    coverage = problem.coverage.tocsr()
    n_candidates, n_demand = coverage.shape
    objective = np.concatenate([np.zeros(n_candidates), -problem.weights.astype(float)])
    rows = [sparse.hstack([-coverage.T, sparse.identity(n_demand)]).tocsr()]
    upper = [np.zeros(n_demand)]
    for group, quota in enumerate(problem.quotas):
        members = problem.groups == group
        if members.any():
            rows.append(sparse.csr_matrix(np.concatenate([members.astype(float), np.zeros(n_demand)])[None, :]))
            upper.append(np.array([float(quota)]))
    if problem.conflicts:
        pairs = np.array(problem.conflicts)
        conflict = sparse.csr_matrix(
            (np.ones(2 * len(pairs)), (np.repeat(np.arange(len(pairs)), 2), pairs.ravel())), shape=(len(pairs), n_candidates + n_demand)
        )
        rows.append(conflict)
        upper.append(np.ones(len(pairs)))
    if problem.limit is not None:
        rows.append(sparse.csr_matrix(np.concatenate([np.ones(n_candidates), np.zeros(n_demand)])[None, :]))
        upper.append(np.array([float(problem.limit)]))
    matrix = sparse.vstack(rows).tocsr()
    bounds = np.concatenate(upper)
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, -np.inf, bounds),
        integrality=np.concatenate([np.ones(n_candidates), np.zeros(n_demand)]),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit_s, "disp": False},
    )
    if result.status != 0 or result.x is None:
        raise ConfigError("errors.solver_stopped", detail=str(result.message))
    chosen = [int(j) for j in np.flatnonzero(result.x[:n_candidates] > 0.5)]
    return chosen, float(-result.fun)


def coverage_matrix(cx: np.ndarray, cy: np.ndarray, dx: np.ndarray, dy: np.ndarray, reach: float) -> sparse.csr_matrix:
    if not len(cx) or not len(dx):
        return sparse.csr_matrix((len(cx), len(dx)))
    pairs = cKDTree(np.column_stack([cx, cy])).sparse_distance_matrix(cKDTree(np.column_stack([dx, dy])), reach, output_type="ndarray")
    data = np.ones(len(pairs), dtype=np.float64)
    return sparse.csr_matrix((data, (pairs["i"], pairs["j"])), shape=(len(cx), len(dx)))


def random_instance(n_candidates: int, n_demand: int, *, seed: int = 0, reach: float = 0.15, limit: int = 5) -> MCLP:
    """A random MCLP on the unit square (for tests and benchmarks)."""
    rng = np.random.default_rng(seed)
    cx, cy = rng.random(n_candidates), rng.random(n_candidates)
    dx, dy = rng.random(n_demand), rng.random(n_demand)
    coverage = coverage_matrix(cx, cy, dx, dy, reach)
    return MCLP(coverage, rng.uniform(0.5, 2.0, n_demand), np.full(n_candidates, -1), np.array([], dtype=int), [], limit)


LOWER_BOUND = 1 - 1 / math.e
