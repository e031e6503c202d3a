"""Candidate sites for new stations: a grid over the streets, or a file of real places.

A file lists rooftops (楼顶), smart poles (智慧灯杆) and towers (铁塔) as CSV, XLSX, Parquet
(same headers and coordinate systems as the site files: 候选编码, 类型, 经度, 纬度, 坐标系,
挂高, ...) or as GeoJSON/GeoPackage points. A candidate without a height gets its type's
typical one (:data:`TYPE_HEIGHTS_M`). Candidates outside every street are rejected with
their row; candidates inside exclusion zones (限建/禁建) or too close to a station are kept
out and counted per street, so that a street whose quota cannot be filled can say why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from rollout.coverage import make_grid
from rollout.crs import metric_transformer
from rollout.errors import InputFileError
from rollout.io import read_geo
from rollout.join import assign_streets
from rollout.measurements import TableLoad, column_header, read_points, table_problems
from rollout.problems import concat_problems
from rollout.schema import normalize_token
from rollout.tablekinds import CANDIDATES

__all__ = ["TYPE_HEIGHTS_M", "CandidateSet", "candidate_type", "filter_candidates", "grid_candidates", "read_candidates"]

#: Typical antenna height of a new macro on each kind of place (assumption); None: the band's default.
TYPE_HEIGHTS_M: dict[str, float | None] = {"rooftop": 30.0, "tower": 35.0, "smart_pole": 15.0, "grid": None, "other": None}
_TYPE_WORDS = {
    "rooftop": ("rooftop", "roof", "楼顶", "楼面", "屋顶", "楼宇", "屋面", "楼顶抱杆"),
    "smart_pole": ("smart pole", "smartpole", "pole", "智慧灯杆", "灯杆", "综合杆", "智慧杆", "多功能杆", "路灯杆"),
    "tower": ("tower", "铁塔", "通信塔", "单管塔", "景观塔", "三管塔", "角钢塔", "塔"),
}
_TYPE_INDEX = {normalize_token(w): code for code, words in _TYPE_WORDS.items() for w in (code, *words)}
COLUMNS = ["candidate_id", "name", "type", "lon", "lat", "x", "y", "street_code", "antenna_height_m", "source_row"]


def candidate_type(text: object) -> str:
    """``rooftop``, ``smart_pole``, ``tower`` or ``other`` for a type as people write it.

    >>> candidate_type("智慧灯杆"), candidate_type("楼顶"), candidate_type("")
    ('smart_pole', 'rooftop', 'other')
    """
    return _TYPE_INDEX.get(normalize_token(text), "other")


@dataclass(frozen=True)
class CandidateSet:
    """Candidates in streets (``frame``, metric ``x``/``y``), and the file's load when read from one."""

    frame: pd.DataFrame
    load: TableLoad | None = None
    source: str = "grid"


def grid_candidates(streets: gpd.GeoDataFrame, spacing_m: float) -> CandidateSet:
    """Candidates on a square grid of ``spacing_m`` over the streets."""
    grid = make_grid(streets, f"{spacing_m:g}m")
    lonlat = gpd.GeoSeries.from_xy(grid["x"], grid["y"], crs=grid.crs).to_crs(4326)
    frame = pd.DataFrame(
        {
            "candidate_id": [f"C{i:05d}" for i in range(len(grid))],
            "name": "",
            "type": "grid",
            "lon": lonlat.x.round(6).to_numpy(),
            "lat": lonlat.y.round(6).to_numpy(),
            "x": grid["x"].to_numpy(),
            "y": grid["y"].to_numpy(),
            "street_code": grid["street_code"].to_numpy(),
            "antenna_height_m": np.nan,
            "source_row": 0,
        }
    )
    return CandidateSet(frame, None, "grid")


def read_candidates(
    path: Path | str, streets: gpd.GeoDataFrame, crs: pyproj.CRS, *, coords: str | None = None, sheet: str | None = None
) -> CandidateSet:
    """Read candidate sites from a table or a GeoJSON/GeoPackage/Shapefile of points."""
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp"):
        load = _points_from_geo(path)
    else:
        load = read_points(path, CANDIDATES, crs=coords, sheet=sheet)
    records = load.records
    placed = assign_streets(gpd.GeoSeries.from_xy(records["lon"], records["lat"], crs=4326), streets, tolerance_m=0.0)
    outside = placed["street_code"].isna().to_numpy()
    if outside.all():
        raise InputFileError("errors.candidates_outside", path=path, n=len(records))
    both = records["lon"].round(6).astype(str) + ", " + records["lat"].round(6).astype(str)
    mask = pd.Series(outside, index=records.index)
    rejects = table_problems(CANDIDATES, path, records, mask, column_header(load, "lon"), both, "candidate_outside_district")
    kept = records[~outside].reset_index(drop=True)
    x, y = metric_transformer(crs).transform(kept["lon"].to_numpy(), kept["lat"].to_numpy())
    ids = kept["candidate_id"].astype(str).str.strip()
    types = kept["type"].map(candidate_type)
    height = pd.to_numeric(kept["antenna_height_m"], errors="coerce")
    height = height.fillna(types.map(TYPE_HEIGHTS_M).astype(float))
    frame = pd.DataFrame(
        {
            "candidate_id": ids.where(ids != "", "row " + kept["source_row"].astype(str)).to_numpy(),
            "name": kept["name"].astype(str).to_numpy(),
            "type": types.to_numpy(),
            "lon": kept["lon"].to_numpy(),
            "lat": kept["lat"].to_numpy(),
            "x": np.asarray(x),
            "y": np.asarray(y),
            "street_code": placed.loc[~outside, "street_code"].to_numpy(),
            "antenna_height_m": height.to_numpy(),
            "source_row": kept["source_row"].to_numpy(),
        }
    )
    return CandidateSet(frame, replace(load, rejects=concat_problems([load.rejects, rejects]), records=kept), "file")


def filter_candidates(
    candidates: pd.DataFrame, fixed: pd.DataFrame, *, exclude: gpd.GeoDataFrame | None, min_spacing_m: float, crs: pyproj.CRS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidates outside exclusion zones and at least ``min_spacing_m`` from every fixed station;
    and per street: candidates, excluded, too close."""
    excluded = np.zeros(len(candidates), dtype=bool)
    if exclude is not None and len(exclude) and len(candidates):
        zones = shapely.union_all(exclude.to_crs(crs).geometry.to_numpy())
        shapely.prepare(zones)
        excluded = shapely.intersects_xy(zones, candidates["x"].to_numpy(), candidates["y"].to_numpy())
    close = np.zeros(len(candidates), dtype=bool)
    if len(fixed) and len(candidates) and min_spacing_m > 0:
        distance, _ = cKDTree(np.column_stack([fixed["x"], fixed["y"]])).query(np.column_stack([candidates["x"], candidates["y"]]))
        close = ~excluded & (distance < min_spacing_m)
    counts = (
        pd.DataFrame({"street_code": candidates["street_code"], "candidates": 1, "excluded": excluded, "too_close": close})
        .groupby("street_code")[["candidates", "excluded", "too_close"]]
        .sum()
        .astype(int)
    )
    return candidates[~(excluded | close)].reset_index(drop=True), counts


def _points_from_geo(path: Path) -> TableLoad:
    frame = read_geo(path).to_crs(4326)
    columns: dict[str, pd.Series] = {}
    headers: dict[str, str] = {}
    for column in frame.columns:
        name = CANDIDATES.header_index.get(normalize_token(column))
        if name and name not in columns and name not in ("lon", "lat"):
            columns[name] = frame[column].fillna("").astype(str)
            headers[name] = str(column)
    points = frame.geometry.representative_point()
    out = pd.DataFrame({f.name: columns.get(f.name, pd.Series("", index=frame.index)) for f in CANDIDATES.fields})
    out["lon"], out["lat"] = points.x.to_numpy(), points.y.to_numpy()
    out["source_row"] = np.arange(2, len(frame) + 2)  # as a table with a header row would number them
    empty = pd.Series((frame.geometry.isna() | frame.geometry.is_empty).to_numpy(), index=out.index)
    rejects = table_problems(CANDIDATES, path, out, empty, "geometry", pd.Series("", index=out.index), "coord_missing")
    kept = out[~empty.to_numpy()].reset_index(drop=True)
    return TableLoad(CANDIDATES, path, kept, concat_problems([rejects]), concat_problems([]), len(frame), headers)
