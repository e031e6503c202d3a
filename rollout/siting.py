"""Recommended sites for each street's remaining stations.

1. Fixed stations: the project's stations on air, under construction or with a secured site
   on the day, and the existing network. Each street's quota is its remaining target less its
   stations under construction or with a secured site (they will close part of it).
2. Demand (:mod:`rollout.demand`): uncovered area, garage households without indoor coverage,
   busy-hour traffic no cell can carry, weak MR samples and 12345 complaints, each with its
   weight from ``[coverage.demand]``.
3. Candidates (:mod:`rollout.candidates`): a grid or a file, minus exclusion zones and the
   places closer than ``min_spacing_m`` to a fixed station. A candidate serves a demand point
   where a new station there (default band, the candidate's height, the band's tilt) closes
   both links at the point's clutter class; traffic only where it would be the best server.
4. A maximal covering location problem (:mod:`rollout.mclp`) with the street quotas and the
   spacing: lazy greedy, and the exact optimum (HiGHS) for small instances to report the
   greedy's gap. Streets whose quota is not filled once demand runs out get the remaining
   sites where the network is thinnest (farthest from any station); a street that still
   cannot be filled says why (no candidate, all excluded or too close, spacing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from rollout.candidates import CandidateSet, filter_candidates, grid_candidates
from rollout.clutter import ClutterMap
from rollout.coverage import district_crs, project_clutter, project_stations
from rollout.coverage_settings import CoverageSettings, DemandWeights, load_coverage_settings
from rollout.demand import COMPONENTS, build_demand
from rollout.mclp import LOWER_BOUND, MCLP, exact_mclp, greedy_mclp, random_instance
from rollout.measurements import TableLoad
from rollout.network import ExistingNetwork
from rollout.progress import street_rows
from rollout.schema import MACRO
from rollout.servers import clutter_index, link_pairs, station_table
from rollout.siting_report import site_rows
from rollout.status import status_as_of

__all__ = ["LOWER_BOUND", "MCLP", "SitingResult", "exact_mclp", "greedy_mclp", "plan_sites", "random_instance"]

#: Run the exact solver by default up to this many candidates.
EXACT_MAX_CANDIDATES = 400


@dataclass(frozen=True)
class SitingResult:
    """Recommended sites in rank order, the streets' quotas, the demand, and how good the choice is."""

    sites: gpd.GeoDataFrame  # rank, street, what each site serves (by component), WGS-84 points
    streets: pd.DataFrame  # per street: remaining, pipeline, quota, placed, shortfall, reason
    demand: pd.DataFrame  # per component: total, fixed, open, added, weight
    total_demand: float  # weighted
    fixed_demand: float
    optimum: float | None  # exact optimum of the covering problem, when solved
    greedy_value: float
    candidates: int = 0

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
    candidates: CandidateSet | None = None,
    exclude: gpd.GeoDataFrame | None = None,
    min_spacing_m: float = 200.0,
    candidate_spacing_m: float = 150.0,
    demand_grid: str = "100m",
    weights: DemandWeights | None = None,
    existing: ExistingNetwork | pd.DataFrame | None = None,
    mr: TableLoad | None = None,
    complaints: TableLoad | None = None,
    exact: bool | None = None,
    service: str = "outdoor",
    settings: CoverageSettings | None = None,
    clutter: ClutterMap | None = None,
) -> SitingResult:
    """Choose where each street's remaining stations should go to serve the most demand."""
    settings = settings or load_coverage_settings(project.config)
    if weights is not None:
        settings = replace(settings, weights=weights)
    clutter = project_clutter(project, settings, clutter)
    crs = district_crs(project.streets)
    fixed = _fixed_stations(project, settings, crs, existing)
    table = _quotas(project, streets)
    demand = build_demand(project, fixed, settings, crs, clutter, grid=demand_grid, service=service, mr=mr, complaints=complaints)
    pool = candidates if candidates is not None else grid_candidates(project.streets, candidate_spacing_m)
    usable, counts = filter_candidates(pool.frame, fixed, exclude=exclude, min_spacing_m=min_spacing_m, crs=crs)
    stations = station_table(usable.assign(site_id=usable["candidate_id"], band=settings.default_band), settings, crs, source="candidate")
    points = demand.points
    coverage = _coverage(stations, points, settings, clutter_codes=points["clutter"].to_numpy(), service=service)
    unit_weight = points["component"].map(settings.weights.as_dict()).to_numpy(float)
    weights_vector = points["open"].to_numpy(float) * unit_weight
    codes = list(table.index)
    groups = np.array([codes.index(c) if c in codes else -1 for c in usable["street_code"]], dtype=np.int64)
    conflicts = _conflicts(usable["x"].to_numpy(), usable["y"].to_numpy(), min_spacing_m)
    problem = MCLP(coverage, weights_vector, groups, table["quota"].to_numpy(), conflicts, n)
    chosen, marginals = greedy_mclp(problem)
    greedy_value = float(sum(marginals))
    run_exact = exact if exact is not None else len(usable) <= EXACT_MAX_CANDIDATES
    optimum = exact_mclp(problem)[1] if run_exact and len(usable) else None
    filled = _fill(problem, chosen, usable, fixed)
    order = chosen + filled
    site_clutter = clutter_index(clutter.classes_at(usable["lon"].to_numpy(), usable["lat"].to_numpy(), usable["street_code"].to_numpy()))
    sites = site_rows(order, len(chosen), usable, stations, coverage, points, demand, settings, clutter_codes=site_clutter)
    placed = sites.groupby("street_code").size() if len(sites) else pd.Series(dtype=int)
    table = _reasons(table, placed, counts, n, len(order))
    added = sites[list(COMPONENTS)].sum() if len(sites) else pd.Series(0.0, index=list(COMPONENTS))
    summary = demand.totals.assign(added=[float(added[c]) for c in COMPONENTS])
    total = float((demand.totals["total"] * demand.totals["weight"]).sum())
    fixed_weighted = float((demand.totals["fixed"] * demand.totals["weight"]).sum())
    names = project.streets.set_index("street_code")
    sites.insert(3, "street_name", sites["street_code"].map(names["name"]))
    sites.insert(4, "street_name_en", sites["street_code"].map(names["name_en"]))
    table.insert(0, "street_name", table.index.map(names["name"]))
    table.insert(1, "street_name_en", table.index.map(names["name_en"]))
    return SitingResult(
        sites,
        table.reset_index(),
        summary,
        round(total, 4),
        round(fixed_weighted, 4),
        None if optimum is None else round(optimum, 4),
        round(greedy_value, 4),
        len(usable),
    )


def _fixed_stations(project, settings: CoverageSettings, crs, existing) -> pd.DataFrame:
    on_air = project_stations(project, settings, crs, existing=existing)
    records = project.macro.records
    if not len(records):
        return on_air
    pipeline = records[status_as_of(records, MACRO, project.as_of).isin(["site_secured", "under_construction"]).to_numpy()]
    extra = station_table(pipeline, settings, crs, source="pipeline")
    return pd.concat([on_air, extra], ignore_index=True)


def _quotas(project, streets: list[str] | None) -> pd.DataFrame:
    """Per street: remaining target, stations in the pipeline that count toward it, quota."""
    progress = street_rows(project.progress()).set_index("street_code")
    records = project.macro.records
    pipeline = pd.Series(0, index=progress.index)
    if len(records):
        state = status_as_of(records, MACRO, project.as_of)
        counted = records["counts_toward_target"].fillna(True).astype(bool) if "counts_toward_target" in records else True
        mask = state.isin(["site_secured", "under_construction"]) & counted
        pipeline = records[mask.to_numpy()].groupby("street_code").size().reindex(progress.index, fill_value=0)
    table = pd.DataFrame({"remaining": progress["macro_remaining"].astype(int), "pipeline": pipeline.astype(int)})
    table["quota"] = (table["remaining"] - table["pipeline"]).clip(lower=0)
    table["selected"] = table.index.isin(streets) if streets else True
    table.loc[~table["selected"], "quota"] = 0
    return table


def _coverage(stations, points, settings, *, clutter_codes, service) -> sparse.csr_matrix:
    """Candidates x demand points: 1 where the candidate serves the point (see the module docstring)."""
    component = points["component"].to_numpy()
    indoor_mask = (component == "households") | ((component == "area_km2") & (service == "indoor"))
    rows, cols = [], []
    for indoor in (False, True):
        subset = np.flatnonzero(indoor_mask == indoor)
        if not len(subset) or stations.empty:
            continue
        p, s, value, closes = link_pairs(
            stations, points["x"].to_numpy()[subset], points["y"].to_numpy()[subset], clutter_codes[subset], settings, indoor=indoor
        )
        point = subset[p]
        is_traffic = component[point] == "traffic_mbps"
        takes = ~is_traffic | (value > points["best_rsrp"].to_numpy(float)[point])
        keep = closes & takes
        rows.append(s[keep])
        cols.append(point[keep])
    if not rows:
        return sparse.csr_matrix((len(stations), len(points)))
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(stations), len(points)))


def _conflicts(x: np.ndarray, y: np.ndarray, spacing: float) -> list[tuple[int, int]]:
    if spacing <= 0 or len(x) < 2:
        return []
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(spacing - 1e-9, output_type="ndarray")
    return [tuple(p) for p in pairs.tolist()]


def _fill(problem: MCLP, chosen: list[int], candidates: pd.DataFrame, fixed: pd.DataFrame) -> list[int]:
    """Sites for the quota left once demand runs out: where the network is thinnest."""
    left = problem.quotas.astype(int).copy()
    for j in chosen:
        if problem.groups[j] >= 0:
            left[problem.groups[j]] -= 1
    limit = (problem.limit if problem.limit is not None else len(candidates)) - len(chosen)
    if limit <= 0 or not (left > 0).any() or candidates.empty:
        return []
    xy = np.column_stack([candidates["x"], candidates["y"]])
    anchors = np.vstack([np.column_stack([fixed["x"], fixed["y"]]), xy[chosen]]) if len(fixed) or chosen else np.zeros((0, 2))
    nearest = cKDTree(anchors).query(xy)[0] if len(anchors) else np.full(len(xy), np.inf)
    blocked = np.zeros(len(xy), dtype=bool)
    neighbours: dict[int, list[int]] = {}
    for a, b in problem.conflicts:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    for j in chosen:
        blocked[j] = True
        blocked[neighbours.get(j, [])] = True
    filled: list[int] = []
    while len(filled) < limit:
        open_group = (problem.groups >= 0) & (left[np.maximum(problem.groups, 0)] > 0) & ~blocked
        if not open_group.any():
            break
        score = np.where(open_group, nearest, -np.inf)
        j = int(np.argmax(score))  # ties: the lowest index
        filled.append(j)
        left[problem.groups[j]] -= 1
        blocked[j] = True
        blocked[neighbours.get(j, [])] = True
        nearest = np.minimum(nearest, np.hypot(xy[:, 0] - xy[j, 0], xy[:, 1] - xy[j, 1]))
    return filled


def _reasons(table: pd.DataFrame, placed: pd.Series, counts: pd.DataFrame, limit: int | None, total: int) -> pd.DataFrame:
    """Placed and shortfall per street, and why a quota could not be filled."""
    table = table.copy()
    table["placed"] = placed.reindex(table.index, fill_value=0).astype(int)
    table["shortfall"] = (table["quota"] - table["placed"]).clip(lower=0)
    counts = counts.reindex(table.index, fill_value=0)
    table = table.join(counts)
    usable = table["candidates"] - table["excluded"] - table["too_close"]
    reason = np.select(
        [
            table["shortfall"] == 0,
            (limit is not None) & (total >= (limit or 0)),
            table["candidates"] == 0,
            usable <= 0,
        ],
        ["", "limit", "no_candidates", "all_excluded_or_close"],
        default="spacing",
    )
    table["reason"] = reason
    return table
