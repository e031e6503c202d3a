"""Recommended sites for the remaining stations: a maximal covering location problem (MCLP).

Demand points are grid cells (weight: ``area_weight`` per km²) and garage compounds (weight:
``household_weight`` per household). Demand already reached by stations on air or under
construction is removed: those stations are fixed. Each candidate (a grid, or a file of smart
poles, rooftops, parks) covers the demand within the range of a new station (default band
and height, outdoor link budget). Candidates inside exclusion zones (限建/禁建) or closer
than ``min_spacing_m`` to a fixed or chosen station are not used. Each street may receive at
most its remaining macro target.

:func:`greedy_mclp` is the lazy greedy (CELF): marginal gains only shrink as demand gets
covered, so a stale gain that still tops the heap after recomputation is the true best. It
attains at least (1 - 1/e) of the optimum for the plain MCLP. :func:`exact_mclp` solves the
integer programme with HiGHS (``scipy.optimize.milp``) for small instances, so the greedy's gap can be
reported.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from rollout.coverage import CoverageSettings, best_server, load_coverage_settings, make_grid, station_table
from rollout.crs import METRIC_CRS
from rollout.errors import ConfigError
from rollout.join import assign_streets
from rollout.progress import street_rows
from rollout.propagation import cell_range_m
from rollout.schema import MACRO
from rollout.status import status_as_of

__all__ = ["MCLP", "SitingResult", "exact_mclp", "greedy_mclp", "plan_sites"]

_TO_METRIC = pyproj.Transformer.from_crs(4326, METRIC_CRS, always_xy=True)


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
        msg = f"the exact solver stopped: {result.message}"
        raise ConfigError(msg)
    chosen = [int(j) for j in np.flatnonzero(result.x[:n_candidates] > 0.5)]
    return chosen, float(-result.fun)


@dataclass(frozen=True)
class SitingResult:
    """Recommended sites in rank order, and how good the choice is."""

    sites: gpd.GeoDataFrame  # rank, street, marginal and cumulative demand, WGS-84 points
    total_demand: float
    fixed_demand: float  # demand already covered by fixed stations
    optimum: float | None  # exact optimum of the same problem, when solved
    greedy_value: float

    @property
    def gap_to_optimum_pct(self) -> float | None:
        """How far the greedy choice is below the optimum, in %."""
        if self.optimum is None or self.optimum <= 0:
            return None
        return round((self.optimum - self.greedy_value) / self.optimum * 100, 3)


def plan_sites(
    project,
    *,
    n: int | None = None,
    streets: list[str] | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    exclude: gpd.GeoDataFrame | None = None,
    min_spacing_m: float = 200.0,
    candidate_spacing_m: float = 150.0,
    demand_grid: str = "100m",
    area_weight: float = 1.0,
    household_weight: float = 0.01,
    exact: bool | None = None,
    service: str = "outdoor",
    settings: CoverageSettings | None = None,
) -> SitingResult:
    """Choose where each street's remaining stations should go to cover the most demand."""
    settings = settings or load_coverage_settings(project.config)
    progress = street_rows(project.progress()).set_index("street_code")
    quota = progress["macro_remaining"].astype(int)
    if streets:
        quota = quota.where(quota.index.isin(streets), 0)
    # Fixed stations: on air or under construction on the day.
    records = project.macro.records
    states = status_as_of(records, MACRO, project.as_of) if len(records) else pd.Series(dtype=object)
    fixed_records = records[states.isin(["on_air", "under_construction"]).to_numpy()].assign(status="on_air") if len(records) else records
    fixed = station_table(fixed_records, settings, as_of=project.as_of, all_on_air=True)
    cells = make_grid(project.streets, demand_grid)
    demand_x, demand_y = cells["x"].to_numpy(), cells["y"].to_numpy()
    weights = cells["area_m2"].to_numpy() / 1e6 * area_weight
    garage = project.garage.records
    if len(garage) and household_weight > 0:
        gx, gy = _TO_METRIC.transform(garage["lon"].to_numpy(), garage["lat"].to_numpy())
        households = pd.to_numeric(garage["households"], errors="coerce").fillna(0).to_numpy()
        demand_x = np.concatenate([demand_x, gx])
        demand_y = np.concatenate([demand_y, gy])
        weights = np.concatenate([weights, households * household_weight])
    budget = settings.budget
    indoor = service == "indoor"
    rsrp, _ = best_server(fixed, demand_x, demand_y, budget, indoor=indoor)
    already = rsrp >= budget.rsrp_threshold_dbm
    total = float(weights.sum())
    fixed_demand = float(weights[already].sum())
    open_weights = np.where(already, 0.0, weights)
    cand = _candidates(project, candidates, candidate_spacing_m, exclude)
    if len(fixed) and len(cand):
        distance, _ = cKDTree(np.column_stack([fixed["x"], fixed["y"]])).query(np.column_stack([cand["x"], cand["y"]]))
        cand = cand[distance >= min_spacing_m].reset_index(drop=True)
    band = settings.bands[settings.default_band]
    reach = float(
        cell_range_m(
            budget.model, band.f_mhz, settings.default_height_m, budget.max_path_loss(band, indoor=indoor), h_ut_m=budget.ue_height_m
        )
    )
    coverage = _coverage_matrix(cand["x"].to_numpy(), cand["y"].to_numpy(), demand_x, demand_y, reach)
    codes = list(quota.index)
    groups = np.array([codes.index(c) if c in codes else -1 for c in cand["street_code"]], dtype=np.int64)
    conflicts = _conflicts(cand["x"].to_numpy(), cand["y"].to_numpy(), min_spacing_m)
    problem = MCLP(coverage, open_weights, groups, quota.to_numpy(), conflicts, n)
    chosen, marginals = greedy_mclp(problem)
    greedy_value = float(sum(marginals))
    run_exact = exact if exact is not None else len(cand) <= 400
    optimum = exact_mclp(problem)[1] if run_exact and len(cand) else None
    sites = cand.iloc[chosen].copy()
    sites.insert(0, "rank", range(1, len(sites) + 1))
    sites["marginal_demand"] = np.round(marginals, 4)
    sites["cumulative_demand"] = np.round(np.cumsum(marginals), 4)
    sites["cumulative_coverage_pct"] = np.round((fixed_demand + np.cumsum(marginals)) / total * 100, 2) if total else 0.0
    sites["range_m"] = round(reach)
    points = gpd.GeoSeries(gpd.points_from_xy(sites["x"], sites["y"]), crs=METRIC_CRS).to_crs(4326)
    sites["lon"], sites["lat"] = points.x.round(6).to_numpy(), points.y.round(6).to_numpy()
    names = project.streets.set_index("street_code")["name"]
    sites["street_name"] = sites["street_code"].map(names)
    keep = [
        "rank",
        "candidate_id",
        "street_code",
        "street_name",
        "lon",
        "lat",
        "marginal_demand",
        "cumulative_demand",
        "cumulative_coverage_pct",
        "range_m",
    ]
    result = gpd.GeoDataFrame(sites[keep].reset_index(drop=True), geometry=points.to_numpy(), crs=4326)
    return SitingResult(
        result, round(total, 4), round(fixed_demand, 4), None if optimum is None else round(optimum, 4), round(greedy_value, 4)
    )


def _candidates(project, candidates: gpd.GeoDataFrame | None, spacing_m: float, exclude: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if candidates is None:
        grid = make_grid(project.streets, f"{spacing_m:g}m")
        frame = pd.DataFrame(
            {"candidate_id": [f"C{i:05d}" for i in range(len(grid))], "x": grid["x"], "y": grid["y"], "street_code": grid["street_code"]}
        )
    else:
        points = candidates.to_crs(4326)
        placed = assign_streets(points, project.streets, tolerance_m=0.0)
        x, y = _TO_METRIC.transform(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
        ids = (
            candidates["candidate_id"].astype(str)
            if "candidate_id" in candidates
            else pd.Series([f"F{i:05d}" for i in range(len(candidates))])
        )
        frame = pd.DataFrame({"candidate_id": ids.to_numpy(), "x": x, "y": y, "street_code": placed["street_code"].to_numpy()})
        frame = frame[frame["street_code"].notna()]
        if frame.empty:
            msg = f"none of the {len(candidates)} candidate points lies in a street; check the file's coordinates and CRS."
            raise ConfigError(msg)
    if exclude is not None and len(exclude) and len(frame):
        zones = shapely.union_all(exclude.to_crs(METRIC_CRS).geometry.to_numpy())
        shapely.prepare(zones)
        frame = frame[~shapely.intersects_xy(zones, frame["x"].to_numpy(), frame["y"].to_numpy())]
    return frame.reset_index(drop=True)


def _coverage_matrix(cx: np.ndarray, cy: np.ndarray, dx: np.ndarray, dy: np.ndarray, reach: float) -> sparse.csr_matrix:
    if not len(cx) or not len(dx):
        return sparse.csr_matrix((len(cx), len(dx)))
    pairs = cKDTree(np.column_stack([cx, cy])).sparse_distance_matrix(cKDTree(np.column_stack([dx, dy])), reach, output_type="ndarray")
    data = np.ones(len(pairs), dtype=np.float64)
    return sparse.csr_matrix((data, (pairs["i"], pairs["j"])), shape=(len(cx), len(dx)))


def _conflicts(x: np.ndarray, y: np.ndarray, spacing: float) -> list[tuple[int, int]]:
    if spacing <= 0 or len(x) < 2:
        return []
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(spacing - 1e-9, output_type="ndarray")
    return [tuple(p) for p in pairs.tolist()]


def random_instance(n_candidates: int, n_demand: int, *, seed: int = 0, reach: float = 0.15, limit: int = 5) -> MCLP:
    """A random MCLP on the unit square (for tests and benchmarks)."""
    rng = np.random.default_rng(seed)
    cx, cy = rng.random(n_candidates), rng.random(n_candidates)
    dx, dy = rng.random(n_demand), rng.random(n_demand)
    coverage = _coverage_matrix(cx, cy, dx, dy, reach)
    return MCLP(coverage, rng.uniform(0.5, 2.0, n_demand), np.full(n_candidates, -1), np.array([], dtype=int), [], limit)


LOWER_BOUND = 1 - 1 / math.e
