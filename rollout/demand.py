"""Demand for new sites, in the units people use: km², households, Mbit/s, MR samples, complaints.

Each demand point has a component, a quantity in that component's unit, the part of it that
the fixed stations (on air, under construction, site secured, and the existing network)
leave open, and what a new station must do to serve it:

- ``area_km2``: demand-grid cells without (outdoor, or indoor with ``service="indoor"``)
  coverage; served by a station that closes both links there;
- ``households``: garage compounds without indoor coverage (their residents' homes); served
  by a station that closes both links indoors;
- ``traffic_mbps``: busy-hour traffic no cell can carry, from the residents of each street
  (``population`` in streets.csv) and each station's capacity (:class:`TrafficModel`): all of
  a cell's traffic where no station covers it, and the overloaded share where its best
  server carries more than ``max_utilisation`` of its capacity; served by a station that
  would become the cell's best server;
- ``weak_mr_samples``: samples of MR/drive-test cells whose mean RSRP is below the threshold
  (measured, so stations already on air do not remove them; stations in the pipeline do);
- ``complaints``: 12345 complaints about signal, likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from rollout.clutter import ClutterMap
from rollout.coverage import district_crs, make_grid
from rollout.coverage_settings import CoverageSettings, TrafficModel
from rollout.crs import metric_transformer
from rollout.measurements import TableLoad, weak_samples
from rollout.servers import clutter_index, serve

__all__ = ["COMPONENTS", "Demand", "build_demand", "street_density"]

#: The components, in the order they are shown.
COMPONENTS = ("area_km2", "households", "traffic_mbps", "weak_mr_samples", "complaints")
_INDOOR = {"households"}


@dataclass(frozen=True)
class Demand:
    """Demand points and, per component, the total, what the fixed stations serve and what is open.

    ``points`` columns: ``component``, ``x``, ``y`` (metric), ``clutter`` (index),
    ``street_code``, ``quantity``, ``open`` (quantity left to serve), ``indoor`` (served
    indoors), ``label`` (compound name, MR cell or complaint id), ``best_rsrp`` and
    ``best_site`` (the current best server), ``traffic_mbps`` (a cell's whole traffic, for
    the load a new site takes off its neighbours).
    """

    points: pd.DataFrame
    totals: pd.DataFrame  # component, total, fixed, open, weight
    stations: pd.DataFrame  # fixed stations with their busy-hour load and capacity


def build_demand(
    project,
    fixed: pd.DataFrame,
    settings: CoverageSettings,
    crs: pyproj.CRS,
    clutter: ClutterMap,
    *,
    grid: str = "100m",
    service: str = "outdoor",
    mr: TableLoad | None = None,
    complaints: TableLoad | None = None,
) -> Demand:
    """All demand points for ``project`` given the ``fixed`` stations (with a ``source`` column:
    ``project``, ``pipeline`` or ``existing``)."""
    cells = make_grid(project.streets, grid)
    centres = gpd.GeoSeries.from_xy(cells["x"], cells["y"], crs=crs).to_crs(4326)
    cell_clutter = clutter_index(clutter.classes_at(centres.x.to_numpy(), centres.y.to_numpy(), cells["street_code"].to_numpy()))
    frames = []
    area = serve(fixed, cells["x"].to_numpy(), cells["y"].to_numpy(), cell_clutter, settings, indoor=service == "indoor")
    frames.append(_points("area_km2", cells["x"], cells["y"], cell_clutter, cells["street_code"], cells["area_m2"] / 1e6, ~area.covered))
    outdoor = serve(fixed, cells["x"].to_numpy(), cells["y"].to_numpy(), cell_clutter, settings)
    traffic = _cell_traffic(project, cells, settings.traffic)
    excess, load = _excess(traffic, outdoor, fixed, settings.traffic)
    ids = fixed["site_id"].to_numpy()
    best_site = np.where(outdoor.best >= 0, ids[np.maximum(outdoor.best, 0)] if len(ids) else "", "")
    frames.append(
        _points("traffic_mbps", cells["x"], cells["y"], cell_clutter, cells["street_code"], traffic, excess).assign(
            best_rsrp=outdoor.rsrp, best_site=best_site, traffic_mbps=traffic
        )
    )
    garage = project.garage.records
    if len(garage):
        gx, gy = metric_transformer(crs).transform(garage["lon"].to_numpy(), garage["lat"].to_numpy())
        gc = clutter_index(clutter.classes_at(garage["lon"].to_numpy(), garage["lat"].to_numpy(), garage["street_code"].to_numpy()))
        indoor = serve(fixed, np.asarray(gx), np.asarray(gy), gc, settings, indoor=True)
        households = pd.to_numeric(garage["households"], errors="coerce").fillna(0).to_numpy(float)
        frames.append(
            _points("households", gx, gy, gc, garage["street_code"], households, ~indoor.covered, indoor=True).assign(
                label=garage["name"].fillna("").astype(str).to_numpy()
            )
        )
    pipeline = fixed[fixed["source"] == "pipeline"].reset_index(drop=True)
    for component, load_, quantity, label in (
        ("weak_mr_samples", mr, (lambda r: weak_samples(r)), "grid_id"),
        ("complaints", complaints, (lambda r: np.ones(len(r))), "complaint_id"),
    ):
        if load_ is None or load_.records.empty:
            continue
        records = load_.records
        if component == "weak_mr_samples":
            records = records[records["weak"].to_numpy()].reset_index(drop=True)
        px, py = metric_transformer(crs).transform(records["lon"].to_numpy(), records["lat"].to_numpy())
        pc = clutter_index(clutter.classes_at(records["lon"].to_numpy(), records["lat"].to_numpy(), records["street_code"].to_numpy()))
        fixed_now = serve(pipeline, np.asarray(px), np.asarray(py), pc, settings)
        labels = records[label].astype(str) if label in records else "row " + records["source_row"].astype(str)
        labels = labels.where(labels.str.strip() != "", "row " + records["source_row"].astype(str))
        frames.append(
            _points(component, px, py, pc, records["street_code"], quantity(records), ~fixed_now.covered).assign(label=labels.to_numpy())
        )
    points = pd.concat(frames, ignore_index=True)
    for column, default in (("label", ""), ("best_site", ""), ("best_rsrp", -np.inf), ("traffic_mbps", 0.0)):
        points[column] = points[column].fillna(default) if column in points else default
    weights = settings.weights.as_dict()
    totals = pd.DataFrame(
        {
            "component": list(COMPONENTS),
            "total": [float(points.loc[points["component"] == c, "quantity"].sum()) for c in COMPONENTS],
            "open": [float(points.loc[points["component"] == c, "open"].sum()) for c in COMPONENTS],
            "weight": [weights[c] for c in COMPONENTS],
            "given": [True, True, True, mr is not None, complaints is not None],
        }
    )
    totals["fixed"] = totals["total"] - totals["open"]
    stations = fixed.assign(load_mbps=np.round(load, 1))
    return Demand(points, totals, stations)


def street_density(project, traffic: TrafficModel) -> pd.Series:
    """Residents per km² per street: streets.csv's ``population`` over the street's area; streets
    without one share ``district_population`` less the known ones by area (or, without it,
    get the known streets' density)."""
    table = project.street_table.set_index("street_code")
    crs = district_crs(project.streets)
    area = project.streets.to_crs(crs).set_index("street_code").area / 1e6
    population = pd.to_numeric(table.get("population", pd.Series(dtype=str)), errors="coerce").reindex(area.index)
    known = population.notna()
    density = population / area
    if (~known).any():
        if traffic.district_population > population[known].sum() and known.any():
            rest = (traffic.district_population - population[known].sum()) / area[~known].sum()
        else:
            rest = population[known].sum() / area[known].sum() if known.any() else 0.0
        density[~known] = rest
    return density.fillna(0.0)


def _cell_traffic(project, cells: pd.DataFrame, traffic: TrafficModel) -> np.ndarray:
    density = street_density(project, traffic)
    people = cells["street_code"].map(density).fillna(0.0).to_numpy() * cells["area_m2"].to_numpy() / 1e6
    return people * traffic.mbps_per_person


def _excess(traffic: np.ndarray, served, fixed: pd.DataFrame, model: TrafficModel) -> tuple[np.ndarray, np.ndarray]:
    """Traffic no cell can carry, per cell, and each fixed station's busy-hour load."""
    best = np.where(served.covered, served.best, -1)
    load = np.bincount(best[best >= 0], weights=traffic[best >= 0], minlength=len(fixed)) if len(fixed) else np.zeros(0)
    capacity = fixed["capacity_mbps"].to_numpy(float) * model.max_utilisation if len(fixed) else np.zeros(0)
    over = np.where(load > 0, np.maximum(load - capacity, 0.0) / np.where(load > 0, load, 1.0), 0.0)
    excess = np.where(best >= 0, traffic * over[np.maximum(best, 0)] if len(fixed) else 0.0, traffic)
    return excess, load


def _points(component, x, y, clutter, streets, quantity, open_, *, indoor: bool = False) -> pd.DataFrame:
    """Demand points; ``open_`` is a mask (the whole quantity is open) or the open quantities."""
    quantity = np.asarray(quantity, dtype=float)
    open_ = np.asarray(open_)
    open_values = np.where(open_, quantity, 0.0) if open_.dtype == bool else open_.astype(float)
    return pd.DataFrame(
        {
            "component": component,
            "x": np.asarray(x, dtype=float),
            "y": np.asarray(y, dtype=float),
            "clutter": np.asarray(clutter, dtype=np.int64),
            "street_code": np.asarray(streets, dtype=object),
            "quantity": quantity,
            "open": open_values,
            "indoor": indoor,
        }
    )
