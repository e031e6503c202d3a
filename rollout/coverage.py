"""Modelled coverage: best-server SS-RSRP on a grid, coverage per street, gaps, uncovered compounds.

Stations on air on ``as_of`` (optionally for one operator), plus an existing network, close
their band's downlink and uplink budgets (:mod:`rollout.linkbudget`) with the clutter class of
each receiver point (:mod:`rollout.clutter`); each grid cell and each garage compound gets
the best server's SS-RSRP and is covered where some station closes both links
(:func:`rollout.servers.serve`). Grids are metric squares (``50m``) or H3 cells (``h3:10``),
kept where their centre lies in a street, in the UTM zone of the district.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from rollout.clutter import ClutterMap, load_clutter
from rollout.coverage_settings import CoverageSettings, load_coverage_settings
from rollout.crs import metric_crs, metric_transformer, wgs84_transformer
from rollout.errors import ConfigError, InvalidValueError
from rollout.join import assign_streets, covering_streets
from rollout.network import ExistingNetwork
from rollout.servers import clutter_index, serve, station_table
from rollout.writers import GeoLayers, Table, write_file, write_folder

__all__ = [
    "CoverageResult",
    "CoverageSettings",
    "coverage_analysis",
    "coverage_files",
    "district_crs",
    "load_coverage_settings",
    "make_grid",
    "project_clutter",
    "project_stations",
    "write_coverage",
]

_GRID = re.compile(r"^(?:(?P<metres>\d+(?:\.\d+)?)m|h3:(?P<res>\d{1,2}))$")


def district_crs(streets: gpd.GeoDataFrame) -> pyproj.CRS:
    """The metric CRS (UTM zone) in which the district's distances are measured."""
    return metric_crs(tuple(streets.total_bounds))


def make_grid(streets: gpd.GeoDataFrame, spec: str = "50m") -> gpd.GeoDataFrame:
    """Grid cells over the streets: ``"50m"`` squares or ``"h3:10"`` hexagons.

    Columns: ``x``, ``y`` (cell centre, metric), ``area_m2``, ``street_code``; geometry in the
    metric CRS. A cell belongs to the street that holds its centre; cells whose centre is
    outside every street are dropped, so the cells tile the district to within a cell.
    """
    match = _GRID.match(spec.strip().lower())
    if not match:
        raise ConfigError("errors.grid_spec", value=spec)
    crs = district_crs(streets)
    if match.group("metres"):
        size = float(match.group("metres"))
        if size < 5:
            raise ConfigError("errors.grid_too_small", value=spec)
        xmin, ymin, xmax, ymax = streets.to_crs(crs).total_bounds
        xs = np.arange(xmin + size / 2, xmax, size)
        ys = np.arange(ymin + size / 2, ymax, size)
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        # Only the squares whose centre lies in a street are made (about half of the bounding box's).
        codes = covering_streets(*wgs84_transformer(crs).transform(gx, gy), streets.to_crs(4326))
        keep = pd.notna(codes)
        gx, gy = gx[keep], gy[keep]
        geometry = shapely.box(gx - size / 2, gy - size / 2, gx + size / 2, gy + size / 2)
        cells = gpd.GeoDataFrame({"x": gx, "y": gy, "area_m2": size * size}, geometry=geometry, crs=crs)
        cells["street_code"] = codes[keep]
        return cells
    import h3

    resolution = int(match.group("res"))
    outline = streets.union_all()
    ids = sorted(h3.geo_to_cells(shapely.geometry.mapping(outline), resolution))
    boundaries = [shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in ids]
    lonlat = gpd.GeoSeries(boundaries, crs=4326)
    geometry = lonlat.to_crs(crs)
    centres = geometry.centroid
    cells = gpd.GeoDataFrame(
        {"h3": ids, "x": centres.x.to_numpy(), "y": centres.y.to_numpy(), "area_m2": geometry.area.to_numpy()},
        geometry=geometry.to_numpy(),
        crs=crs,
    )
    lon, lat = wgs84_transformer(crs).transform(cells["x"].to_numpy(), cells["y"].to_numpy())
    cells["street_code"] = covering_streets(lon, lat, streets.to_crs(4326))
    return cells[cells["street_code"].notna()].reset_index(drop=True)


def project_stations(
    project,
    settings: CoverageSettings,
    crs: pyproj.CRS,
    *,
    operator: str | None = None,
    existing: ExistingNetwork | pd.DataFrame | None = None,
    states: tuple[str, ...] = ("on_air",),
) -> pd.DataFrame:
    """The project's stations in ``states`` on ``project.as_of`` plus the existing network (its ids
    not already among the project's)."""
    from rollout.schema import MACRO
    from rollout.status import status_as_of

    records = project.macro.records
    if len(records):
        records = records[status_as_of(records, MACRO, project.as_of).isin(states).to_numpy()]
    stations = station_table(records, settings, crs, operator=operator)
    frame = existing.stations if isinstance(existing, ExistingNetwork) else existing
    if frame is not None and len(frame):
        extra = station_table(frame, settings, crs, operator=operator, source="existing")
        stations = pd.concat([stations, extra[~extra["site_id"].isin(stations["site_id"])]], ignore_index=True)
    return stations


def project_clutter(project, settings: CoverageSettings, clutter: ClutterMap | None = None) -> ClutterMap:
    """The clutter map given, else the one rollout.toml names, else per street."""
    if clutter is not None:
        return clutter
    return load_clutter(project.config, project.street_table, path=settings.clutter_file, default=settings.default_clutter)


@dataclass(frozen=True)
class CoverageResult:
    """Coverage on a day: cells, per-street table, gap polygons, uncovered compounds."""

    as_of: dt.date
    service: str
    threshold_dbm: float
    cells: gpd.GeoDataFrame
    by_street: pd.DataFrame
    gaps: gpd.GeoDataFrame
    compounds: pd.DataFrame
    stations: pd.DataFrame
    clutter_source: str = "streets"
    clutter_counts: dict[str, int] = field(default_factory=dict)

    def covered_area(self) -> gpd.GeoSeries:
        """The covered cells merged into one (multi)polygon, WGS-84."""
        covered = self.cells.geometry.to_numpy()[self.cells["covered"].to_numpy(dtype=bool)]
        # Grid cells do not overlap: a coverage union is much faster than a general union.
        merged = shapely.coverage_union_all(covered) if len(covered) else shapely.GeometryCollection()
        return gpd.GeoSeries([merged], crs=self.cells.crs).to_crs(4326)


def coverage_analysis(
    project,
    *,
    operator: str | None = None,
    service: str = "outdoor",
    grid: str | None = None,
    existing: ExistingNetwork | pd.DataFrame | None = None,
    settings: CoverageSettings | None = None,
    clutter: ClutterMap | None = None,
) -> CoverageResult:
    """Modelled coverage for ``project.as_of``: per street % of area and of households covered."""
    if service not in ("outdoor", "indoor"):
        raise InvalidValueError("errors.service_unknown", value=service)
    settings = settings or load_coverage_settings(project.config)
    clutter = project_clutter(project, settings, clutter)
    crs = district_crs(project.streets)
    indoor = service == "indoor"
    stations = project_stations(project, settings, crs, operator=operator, existing=existing)
    cells = make_grid(project.streets, grid or settings.grid)
    lon, lat = wgs84_transformer(crs).transform(cells["x"].to_numpy(), cells["y"].to_numpy())
    cells["clutter"] = clutter.classes_at(lon, lat, cells["street_code"].to_numpy())
    served = serve(
        stations, cells["x"].to_numpy(), cells["y"].to_numpy(), clutter_index(cells["clutter"].to_numpy()), settings, indoor=indoor
    )
    threshold = settings.receiver.rsrp_threshold_dbm
    cells["rsrp_dbm"] = np.where(np.isfinite(served.rsrp), np.round(served.rsrp, 1), np.nan)
    cells["covered"] = served.covered
    ids = stations["site_id"].to_numpy()
    cells["best_site"] = np.where(served.best >= 0, ids[np.maximum(served.best, 0)] if len(ids) else "", "")
    compounds = _compounds(project, stations, settings, clutter, crs)
    by_street = _by_street(project, cells, compounds, service=service)
    gaps = _gap_polygons(cells, project.streets, settings.min_gap_m2)
    return CoverageResult(
        project.as_of, service, threshold, cells, by_street, gaps, compounds, stations, clutter.source, clutter.counts(cells["clutter"])
    )


def _compounds(project, stations: pd.DataFrame, settings: CoverageSettings, clutter: ClutterMap, crs) -> pd.DataFrame:
    records = project.garage.records
    columns = [
        "compound_id",
        "name",
        "street_code",
        "street_name",
        "households",
        "clutter",
        "outdoor_rsrp_dbm",
        "outdoor_covered",
        "indoor_covered",
    ]
    if records.empty:
        return pd.DataFrame(columns=columns)
    lon, lat = records["lon"].to_numpy(), records["lat"].to_numpy()
    x, y = metric_transformer(crs).transform(lon, lat)
    classes = clutter.classes_at(lon, lat, records["street_code"].to_numpy())
    index = clutter_index(classes)
    outdoor = serve(stations, np.asarray(x), np.asarray(y), index, settings)
    indoor = serve(stations, np.asarray(x), np.asarray(y), index, settings, indoor=True)
    return pd.DataFrame(
        {
            "compound_id": records["compound_id"].astype(str).to_numpy(),
            "name": records["name"].astype(str).to_numpy(),
            "street_code": records["street_code"].to_numpy(),
            "street_name": records["street_name"].to_numpy(),
            "households": pd.to_numeric(records["households"], errors="coerce").fillna(0).astype(int).to_numpy(),
            "clutter": classes,
            "outdoor_rsrp_dbm": np.where(np.isfinite(outdoor.rsrp), np.round(outdoor.rsrp, 1), np.nan),
            "outdoor_covered": outdoor.covered,
            "indoor_covered": indoor.covered,
        },
        columns=columns,
    )


def _by_street(project, cells: gpd.GeoDataFrame, compounds: pd.DataFrame, *, service: str) -> pd.DataFrame:
    streets = pd.DataFrame({"street_code": project.streets["street_code"].to_numpy(), "street_name": project.streets["name"].to_numpy()})
    area = cells["area_m2"].groupby(cells["street_code"]).sum()
    is_covered = cells["covered"].to_numpy(dtype=bool)
    covered = cells["area_m2"][is_covered].groupby(cells["street_code"][is_covered]).sum()
    column = "indoor_covered" if service == "indoor" else "outdoor_covered"
    households = compounds.groupby("street_code")["households"].sum() if len(compounds) else pd.Series(dtype=float)
    households_covered = (
        compounds[compounds[column]].groupby("street_code")["households"].sum() if len(compounds) else pd.Series(dtype=float)
    )
    table = streets.set_index("street_code")
    table["area_km2"] = (area.reindex(table.index, fill_value=0) / 1e6).round(3)
    table["covered_km2"] = (covered.reindex(table.index, fill_value=0) / 1e6).round(3)
    table["households"] = households.reindex(table.index, fill_value=0).astype(int)
    table["households_covered"] = households_covered.reindex(table.index, fill_value=0).astype(int)
    total = table.sum(numeric_only=True)
    table.loc[project.config.district_code] = {"street_name": project.config.district_name, **total}
    table.insert(1, "level", "street")
    table.loc[project.config.district_code, "level"] = "district"
    table["area_covered_pct"] = (table["covered_km2"] / table["area_km2"].where(table["area_km2"] > 0) * 100).round(1)
    table["households_covered_pct"] = (table["households_covered"] / table["households"].where(table["households"] > 0) * 100).round(1)
    table.insert(0, "as_of", project.as_of.isoformat())
    table.insert(1, "service", service)
    return table.reset_index()


def _gap_polygons(cells: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, min_area_m2: float) -> gpd.GeoDataFrame:
    """Contiguous uncovered areas of at least ``min_area_m2``, with their area and street."""
    columns = ["gap_id", "street_code", "street_name", "area_m2"]
    uncovered = cells.geometry.to_numpy()[~cells["covered"].to_numpy(dtype=bool)]
    if not len(uncovered):
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=4326)
    merged = _grown_union(uncovered)
    parts = [p for p in shapely.get_parts(merged) if p.area >= min_area_m2]
    if not parts:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=4326)
    parts.sort(key=lambda p: (-round(p.area), p.centroid.x, p.centroid.y))
    gaps = gpd.GeoDataFrame({"area_m2": [round(p.area) for p in parts]}, geometry=parts, crs=cells.crs).to_crs(4326)
    points = gaps.geometry.representative_point()
    placed = assign_streets(gpd.GeoSeries(points, crs=4326), streets, tolerance_m=1000.0)
    names = streets.set_index("street_code")["name"]
    gaps.insert(0, "gap_id", [f"G{i + 1:03d}" for i in range(len(gaps))])
    gaps.insert(1, "street_code", placed["street_code"].to_numpy())
    gaps.insert(2, "street_name", placed["street_code"].map(names).to_numpy())
    return gaps


def _grown_union(cells: np.ndarray) -> shapely.Geometry:
    """The union of the cells grown by 1 cm, so that cells touching at a corner or an edge merge
    reliably. Grid cells do not overlap: growing their coverage union gives the same area as
    growing each cell and merging them, at a twentieth of the cost (the general union is kept
    for cells that do not form a clean coverage)."""
    merged = shapely.buffer(shapely.coverage_union_all(cells), 0.01, join_style="mitre")
    if shapely.is_valid(merged) and not shapely.is_empty(merged):
        return merged
    return shapely.union_all(shapely.buffer(cells, 0.01, join_style="mitre"))


def coverage_files(result: CoverageResult) -> dict[str, object]:
    """coverage_by_street.csv, compounds.csv, gaps.geojson and coverage.gpkg, in memory."""
    cells = result.cells.drop(columns=[c for c in ("h3",) if c in result.cells.columns]).to_crs(4326)
    covered = gpd.GeoDataFrame({"service": [result.service]}, geometry=result.covered_area().to_numpy(), crs=4326)
    return {
        "coverage_by_street.csv": Table(result.by_street),
        "compounds.csv": Table(result.compounds),
        "gaps.geojson": GeoLayers({"gaps": result.gaps}),
        "coverage.gpkg": GeoLayers({"cells": cells, "gaps": result.gaps, "covered_area": covered}),
    }


def write_coverage(result: CoverageResult, out_dir: Path | str) -> Path:
    """Write :func:`coverage_files` into ``out_dir`` (other files there stay)."""
    return write_folder(out_dir, coverage_files(result), write=write_file, merge=True)
