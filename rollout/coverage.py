"""Modelled coverage: best-server RSRP on a grid, coverage per street, gaps, uncovered compounds.

Stations on air on ``as_of`` (optionally for one operator, plus an existing-network file)
radiate with their band's link budget (:mod:`rollout.propagation`); each grid cell and each
garage compound gets the best server's RSRP. Grids are metric squares (``50m``) or H3 cells
(``h3:10``), kept where their centre lies in a street. Everything is vectorised: station-cell
pairs come from a KD-tree within the largest cell range, path loss is computed per pair with
numpy, and the best server per cell by a sort.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from rollout.config import Config
from rollout.crs import METRIC_CRS
from rollout.errors import ConfigError
from rollout.join import assign_streets
from rollout.propagation import BANDS, MODELS, Band, LinkBudget, cell_range_m, path_loss
from rollout.schema import MACRO, OPERATOR_INDEX, normalize_token
from rollout.status import status_as_of

__all__ = ["CoverageResult", "CoverageSettings", "coverage_analysis", "load_coverage_settings", "make_grid", "station_table"]

_TO_METRIC = pyproj.Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
_GRID = re.compile(r"^(?:(?P<metres>\d+(?:\.\d+)?)m|h3:(?P<res>\d{1,2}))$")


@dataclass(frozen=True)
class CoverageSettings:
    """The ``[coverage]`` table of ``rollout.toml``: link budget, bands, defaults."""

    budget: LinkBudget = field(default_factory=LinkBudget)
    bands: dict[str, Band] = field(default_factory=lambda: dict(BANDS))
    default_band: str = "n78"
    default_height_m: float = 30.0
    min_gap_m2: float = 20_000.0
    grid: str = "50m"


def load_coverage_settings(config: Config) -> CoverageSettings:
    """Read ``[coverage]`` (and ``[coverage.bands.<name>]``) from ``rollout.toml``; defaults otherwise."""
    path = config.data_dir / "rollout.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("coverage", {}) if path.is_file() else {}
    try:
        budget = LinkBudget(
            rsrp_threshold_dbm=float(raw.get("rsrp_threshold_dbm", -105.0)),
            ue_gain_dbi=float(raw.get("ue_gain_dbi", 0.0)),
            body_loss_db=float(raw.get("body_loss_db", 3.0)),
            shadow_margin_db=float(raw.get("shadow_margin_db", 8.0)),
            ue_height_m=float(raw.get("ue_height_m", 1.5)),
            model=str(raw.get("model", "uma_nlos")),
        )
        bands = dict(BANDS)
        for name, values in raw.get("bands", {}).items():
            base = bands.get(name, Band(name, 3500.0, 41.8, 18.0))
            bands[name] = Band(
                name,
                float(values.get("f_mhz", base.f_mhz)),
                float(values.get("eirp_dbm_per_re", base.eirp_dbm_per_re)),
                float(values.get("penetration_loss_db", base.penetration_loss_db)),
                float(values.get("default_height_m", base.default_height_m)),
            )
        settings = CoverageSettings(
            budget=budget,
            bands=bands,
            default_band=str(raw.get("default_band", "n78")),
            default_height_m=float(raw.get("default_height_m", 30.0)),
            min_gap_m2=float(raw.get("min_gap_m2", 20_000.0)),
            grid=str(raw.get("grid", "50m")),
        )
    except (TypeError, ValueError) as e:
        msg = f"{path}: [coverage]: {e}"
        raise ConfigError(msg) from e
    if budget.model not in MODELS:
        msg = f"{path}: [coverage] model {budget.model!r}: use one of {', '.join(MODELS)}"
        raise ConfigError(msg)
    if settings.default_band not in bands:
        msg = f"{path}: [coverage] default_band {settings.default_band!r} is not a band ({', '.join(bands)})"
        raise ConfigError(msg)
    return settings


def make_grid(streets: gpd.GeoDataFrame, spec: str = "50m") -> gpd.GeoDataFrame:
    """Grid cells over the streets: ``"50m"`` squares or ``"h3:10"`` hexagons.

    Columns: ``x``, ``y`` (cell centre, metric), ``area_m2``, ``street_code``; geometry in the
    metric CRS. A cell belongs to the street that holds its centre; cells whose centre is
    outside every street are dropped, so the cells tile the district to within a cell.
    """
    match = _GRID.match(spec.strip().lower())
    if not match:
        msg = f"--grid {spec!r}: use a metric size like 50m or an H3 resolution like h3:10"
        raise ConfigError(msg)
    metric = streets.to_crs(METRIC_CRS)
    if match.group("metres"):
        size = float(match.group("metres"))
        if size < 5:
            msg = f"--grid {spec!r}: cells under 5 m are not meaningful for this model"
            raise ConfigError(msg)
        xmin, ymin, xmax, ymax = metric.total_bounds
        xs = np.arange(xmin + size / 2, xmax, size)
        ys = np.arange(ymin + size / 2, ymax, size)
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        geometry = shapely.box(gx - size / 2, gy - size / 2, gx + size / 2, gy + size / 2)
        cells = gpd.GeoDataFrame({"x": gx, "y": gy, "area_m2": size * size}, geometry=geometry, crs=METRIC_CRS)
    else:
        import h3

        resolution = int(match.group("res"))
        outline = streets.union_all()
        ids = sorted(h3.geo_to_cells(shapely.geometry.mapping(outline), resolution))
        boundaries = [shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in ids]
        lonlat = gpd.GeoSeries(boundaries, crs=4326)
        geometry = lonlat.to_crs(METRIC_CRS)
        centres = geometry.centroid
        cells = gpd.GeoDataFrame(
            {"h3": ids, "x": centres.x.to_numpy(), "y": centres.y.to_numpy(), "area_m2": geometry.area.to_numpy()},
            geometry=geometry.to_numpy(),
            crs=METRIC_CRS,
        )
    centres = gpd.GeoSeries(gpd.points_from_xy(cells["x"], cells["y"]), crs=METRIC_CRS).to_crs(4326)
    placed = assign_streets(centres, streets, tolerance_m=0.0)
    cells["street_code"] = placed["street_code"].to_numpy()
    return cells[cells["street_code"].notna()].reset_index(drop=True)


def station_table(
    records: pd.DataFrame, settings: CoverageSettings, *, as_of: dt.date, operator: str | None = None, all_on_air: bool = False
) -> pd.DataFrame:
    """Stations on air on ``as_of`` with what the model needs: x, y (metric), f_mhz, EIRP, height.

    ``operator`` keeps stations shared by that operator. ``all_on_air`` takes every record
    declared on air whatever its dates (an existing-network file).
    """
    columns = ["site_id", "x", "y", "band", "f_mhz", "eirp_dbm_per_re", "penetration_loss_db", "height_m"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    on_air = records["status"].eq("on_air") if all_on_air else status_as_of(records, MACRO, as_of).eq("on_air")
    stations = records[on_air.to_numpy()]
    if operator:
        code = OPERATOR_INDEX.get(normalize_token(operator))
        if code is None:
            msg = f"--operator {operator!r}: use 移动, 电信, 联通, 广电 or 铁塔"
            raise ConfigError(msg)
        stations = stations[stations["operator"].astype(str).str.split(";").map(lambda codes: code in codes)]
    bands = (
        stations["band"].where(stations["band"].isin(list(settings.bands)), settings.default_band)
        if "band" in stations
        else pd.Series(settings.default_band, index=stations.index)
    )
    x, y = _TO_METRIC.transform(stations["lon"].to_numpy(), stations["lat"].to_numpy())
    height = (
        pd.to_numeric(stations.get("antenna_height_m"), errors="coerce")
        if "antenna_height_m" in stations
        else pd.Series(np.nan, index=stations.index)
    )
    return pd.DataFrame(
        {
            "site_id": stations["site_id"].astype(str).to_numpy(),
            "x": x,
            "y": y,
            "band": bands.to_numpy(),
            "f_mhz": [settings.bands[b].f_mhz for b in bands],
            "eirp_dbm_per_re": [settings.bands[b].eirp_dbm_per_re for b in bands],
            "penetration_loss_db": [settings.bands[b].penetration_loss_db for b in bands],
            "height_m": height.fillna(settings.default_height_m).clip(lower=5.0).to_numpy(),
        },
        columns=columns,
    )


def best_server(
    stations: pd.DataFrame, x: np.ndarray, y: np.ndarray, budget: LinkBudget, *, indoor: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Best RSRP (dBm; -inf where no station reaches) and the best station's index, per point."""
    rsrp = np.full(len(x), -np.inf)
    best = np.full(len(x), -1, dtype=np.int64)
    if stations.empty or not len(x):
        return rsrp, best
    losses = budget.body_loss_db + budget.shadow_margin_db + (stations["penetration_loss_db"].to_numpy() if indoor else 0.0)
    eirp = stations["eirp_dbm_per_re"].to_numpy() + budget.ue_gain_dbi - losses
    # Beyond a station's range its RSRP is below the threshold: pairs farther than the largest
    # range cannot matter.
    ranges = cell_range_m(
        budget.model,
        stations["f_mhz"].to_numpy(),
        stations["height_m"].to_numpy(),
        eirp - budget.rsrp_threshold_dbm,
        h_ut_m=budget.ue_height_m,
    )
    reach = float(ranges.max()) if len(ranges) else 0.0
    if reach <= 0:
        return rsrp, best
    station_tree = cKDTree(np.column_stack([stations["x"], stations["y"]]))
    point_tree = cKDTree(np.column_stack([x, y]))
    pairs = point_tree.sparse_distance_matrix(station_tree, reach, output_type="ndarray")
    if not len(pairs):
        return rsrp, best
    point, station, distance = pairs["i"], pairs["j"], pairs["v"]
    f = stations["f_mhz"].to_numpy()[station]
    h = stations["height_m"].to_numpy()[station]
    value = eirp[station] - path_loss(budget.model, f, distance, h, budget.ue_height_m)
    order = np.lexsort((station, -value, point))  # best first within each point; ties: lower index
    first_points, first_at = np.unique(point[order], return_index=True)
    rsrp[first_points] = value[order][first_at]
    best[first_points] = station[order][first_at]
    return rsrp, best


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

    def covered_area(self) -> gpd.GeoSeries:
        """The covered cells merged into one (multi)polygon, WGS-84."""
        covered = self.cells[self.cells["covered"]]
        # Grid cells do not overlap: a coverage union is much faster than a general union.
        merged = shapely.coverage_union_all(covered.geometry.to_numpy()) if len(covered) else shapely.GeometryCollection()
        return gpd.GeoSeries([merged], crs=METRIC_CRS).to_crs(4326)


def coverage_analysis(
    project,
    *,
    operator: str | None = None,
    service: str = "outdoor",
    grid: str | None = None,
    existing: pd.DataFrame | None = None,
    settings: CoverageSettings | None = None,
) -> CoverageResult:
    """Modelled coverage for ``project.as_of``: per street % of area and of households covered."""
    if service not in ("outdoor", "indoor"):
        msg = f"--service {service!r}: use outdoor or indoor"
        raise ConfigError(msg)
    settings = settings or load_coverage_settings(project.config)
    indoor = service == "indoor"
    stations = station_table(project.macro.records, settings, as_of=project.as_of, operator=operator)
    if existing is not None and len(existing):
        extra = station_table(existing, settings, as_of=project.as_of, operator=operator, all_on_air=True)
        stations = pd.concat([stations, extra[~extra["site_id"].isin(stations["site_id"])]], ignore_index=True)
    cells = make_grid(project.streets, grid or settings.grid)
    budget = settings.budget
    rsrp, best = best_server(stations, cells["x"].to_numpy(), cells["y"].to_numpy(), budget, indoor=indoor)
    cells["rsrp_dbm"] = np.where(np.isfinite(rsrp), np.round(rsrp, 1), np.nan)
    cells["covered"] = rsrp >= budget.rsrp_threshold_dbm
    cells["best_site"] = np.where(best >= 0, stations["site_id"].to_numpy()[np.maximum(best, 0)] if len(stations) else "", "")
    compounds = _compounds(project, stations, budget)
    by_street = _by_street(project, cells, compounds, service=service)
    gaps = _gap_polygons(cells, project.streets, settings.min_gap_m2)
    return CoverageResult(project.as_of, service, budget.rsrp_threshold_dbm, cells, by_street, gaps, compounds, stations)


def _compounds(project, stations: pd.DataFrame, budget: LinkBudget) -> pd.DataFrame:
    records = project.garage.records
    columns = ["compound_id", "name", "street_code", "street_name", "households", "outdoor_rsrp_dbm", "outdoor_covered", "indoor_covered"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    x, y = _TO_METRIC.transform(records["lon"].to_numpy(), records["lat"].to_numpy())
    outdoor, _ = best_server(stations, np.asarray(x), np.asarray(y), budget)
    indoor, _ = best_server(stations, np.asarray(x), np.asarray(y), budget, indoor=True)
    return pd.DataFrame(
        {
            "compound_id": records["compound_id"].astype(str).to_numpy(),
            "name": records["name"].astype(str).to_numpy(),
            "street_code": records["street_code"].to_numpy(),
            "street_name": records["street_name"].to_numpy(),
            "households": pd.to_numeric(records["households"], errors="coerce").fillna(0).astype(int).to_numpy(),
            "outdoor_rsrp_dbm": np.where(np.isfinite(outdoor), np.round(outdoor, 1), np.nan),
            "outdoor_covered": outdoor >= budget.rsrp_threshold_dbm,
            "indoor_covered": indoor >= budget.rsrp_threshold_dbm,
        },
        columns=columns,
    )


def _by_street(project, cells: gpd.GeoDataFrame, compounds: pd.DataFrame, *, service: str) -> pd.DataFrame:
    streets = project.streets[["street_code", "name"]].rename(columns={"name": "street_name"})
    area = cells.groupby("street_code")["area_m2"].sum()
    covered = cells[cells["covered"]].groupby("street_code")["area_m2"].sum()
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
    table["area_covered_pct"] = (table["covered_km2"] / table["area_km2"].where(table["area_km2"] > 0) * 100).round(1)
    table["households_covered_pct"] = (table["households_covered"] / table["households"].where(table["households"] > 0) * 100).round(1)
    table.insert(0, "as_of", project.as_of.isoformat())
    table.insert(1, "service", service)
    return table.reset_index()


def _gap_polygons(cells: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, min_area_m2: float) -> gpd.GeoDataFrame:
    """Contiguous uncovered areas of at least ``min_area_m2``, with their area and street."""
    columns = ["gap_id", "street_code", "street_name", "area_m2"]
    uncovered = cells[~cells["covered"]]
    if uncovered.empty:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=4326)
    # Slightly grown cells so that cells touching at a corner or an edge merge reliably.
    merged = shapely.union_all(shapely.buffer(uncovered.geometry.to_numpy(), 0.01, join_style="mitre"))
    parts = [p for p in shapely.get_parts(merged) if p.area >= min_area_m2]
    if not parts:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=4326)
    parts.sort(key=lambda p: (-round(p.area), p.centroid.x, p.centroid.y))
    gaps = gpd.GeoDataFrame({"area_m2": [round(p.area) for p in parts]}, geometry=parts, crs=METRIC_CRS).to_crs(4326)
    points = gaps.geometry.representative_point()
    placed = assign_streets(gpd.GeoSeries(points, crs=4326), streets, tolerance_m=1000.0)
    names = streets.set_index("street_code")["name"]
    gaps.insert(0, "gap_id", [f"G{i + 1:03d}" for i in range(len(gaps))])
    gaps.insert(1, "street_code", placed["street_code"].to_numpy())
    gaps.insert(2, "street_name", placed["street_code"].map(names).to_numpy())
    return gaps


def write_coverage(result: CoverageResult, out_dir: Path | str) -> list[Path]:
    """Write coverage_by_street.csv, compounds.csv, gaps.geojson and coverage.gpkg into ``out_dir``."""
    from rollout.writers import atomic_path, write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [write_table(result.by_street, out / "coverage_by_street.csv"), write_table(result.compounds, out / "compounds.csv")]
    with atomic_path(out / "gaps.geojson") as tmp:
        result.gaps.to_file(tmp, driver="GeoJSON")
    paths.append(out / "gaps.geojson")
    cells = result.cells.drop(columns=[c for c in ("h3",) if c in result.cells.columns]).to_crs(4326)
    with atomic_path(out / "coverage.gpkg") as tmp:
        cells.to_file(tmp, layer="cells", driver="GPKG")
        result.gaps.to_file(tmp, layer="gaps", driver="GPKG")
        gpd.GeoDataFrame({"service": [result.service]}, geometry=result.covered_area().to_numpy(), crs=4326).to_file(
            tmp, layer="covered_area", driver="GPKG"
        )
    paths.append(out / "coverage.gpkg")
    return paths
