"""Clutter classes (dense urban, urban, suburban, open) where the receivers are.

Three sources, best first:

1. a polygon file with a class per polygon (``[coverage] clutter`` in rollout.toml or
   ``--clutter FILE``): the operators' own clutter map, or one made by :func:`fetch_building_clutter`;
2. OpenStreetMap building density, fetched with osmnx (``--clutter osm``): the share of each
   250 m square covered by building footprints, classed by :data:`DENSITY_CLASSES`;
3. the ``clutter`` column of ``boundaries/streets.csv``: one class per street (the offline default),
   and ``[coverage] default_clutter`` where a street has none.

Class names may be written in English or Chinese (密集市区, 一般市区, 郊区, 开阔地 and variants).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rollout.config import Config
from rollout.errors import ConfigError, InputFileError
from rollout.io import read_geo
from rollout.linkbudget import CLUTTER_CODES
from rollout.schema import normalize_token

__all__ = ["DENSITY_CLASSES", "ClutterFetchError", "ClutterMap", "clutter_code", "fetch_building_clutter", "load_clutter", "read_clutter"]

_ALIASES = {
    "dense_urban": ("dense urban", "denseurban", "du", "密集市区", "密集城区", "高密度市区", "城区密集", "密集"),
    "urban": ("urban", "u", "一般市区", "市区", "一般城区", "城区", "城市"),
    "suburban": ("suburban", "su", "郊区", "近郊", "县城", "乡镇"),
    "open": ("open", "rural", "o", "开阔地", "农村", "开阔", "水域", "绿地", "公园"),
}
_INDEX = {normalize_token(a): code for code, aliases in _ALIASES.items() for a in (code, *aliases)}
_CLASS_FIELDS = ("clutter", "class", "clutter_class", "地物", "地物类型", "地物分类", "场景", "场景类型", "类型", "区域类型")

#: Building-footprint share of a square -> class (engineering thresholds, the lower bound of each).
DENSITY_CLASSES = (("dense_urban", 0.30), ("urban", 0.15), ("suburban", 0.05), ("open", 0.0))
#: Side of the squares in which building density is measured.
DENSITY_CELL_M = 250.0


class ClutterFetchError(ConfigError):
    """OpenStreetMap could not be reached or answered nothing usable."""


def clutter_code(text: object) -> str | None:
    """The clutter class of a name as people write it, or None.

    >>> clutter_code("密集市区"), clutter_code("Dense Urban"), clutter_code("森林")
    ('dense_urban', 'dense_urban', None)
    """
    return _INDEX.get(normalize_token(text))


@dataclass(frozen=True)
class ClutterMap:
    """Where each clutter class is: polygons (optional), per-street defaults, a fallback."""

    polygons: gpd.GeoDataFrame | None  # column clutter, WGS-84
    by_street: dict[str, str]
    default: str
    source: str  # file, osm or streets
    origin: str = ""  # the file or server

    def classes_at(self, lon: np.ndarray, lat: np.ndarray, street_codes: np.ndarray) -> np.ndarray:
        """The clutter class of each point: its polygon's, else its street's, else the default."""
        codes = pd.Series(street_codes, dtype=object).map(self.by_street).fillna(self.default).to_numpy(dtype=object)
        if self.polygons is not None and len(self.polygons) and len(lon):
            tree = shapely.STRtree(self.polygons.geometry.to_numpy())
            points, polygons = tree.query(shapely.points(np.asarray(lon, float), np.asarray(lat, float)), predicate="intersects")
            classes = self.polygons["clutter"].to_numpy(dtype=object)
            # A point on a shared edge takes the first polygon's class (query order is stable).
            first = pd.Series(polygons, index=points).groupby(level=0).min()
            codes[first.index.to_numpy()] = classes[first.to_numpy()]
        return codes

    def counts(self, codes: np.ndarray) -> dict[str, int]:
        """How many points fell in each class."""
        values, counts = np.unique(np.asarray(codes, dtype=str), return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts, strict=True)}


def load_clutter(config: Config, street_table: pd.DataFrame, *, path: Path | str | None = None, default: str = "urban") -> ClutterMap:
    """The clutter map to use: ``path`` (a polygon file) if given, else per street."""
    by_street = street_defaults(street_table, config)
    if path is None:
        return ClutterMap(None, by_street, default, "streets", str(config.streets_table))
    return ClutterMap(read_clutter(path), by_street, default, "file", str(path))


def street_defaults(street_table: pd.DataFrame, config: Config) -> dict[str, str]:
    """The ``clutter`` column of streets.csv as classes per street code."""
    if "clutter" not in street_table.columns:
        return {}
    out = {}
    for code, value in zip(street_table["street_code"], street_table["clutter"].fillna(""), strict=True):
        if not str(value).strip():
            continue
        parsed = clutter_code(value)
        if parsed is None:
            raise ConfigError("errors.clutter_street", path=config.streets_table, code=code, value=value, allowed=", ".join(CLUTTER_CODES))
        out[str(code)] = parsed
    return out


def read_clutter(path: Path | str) -> gpd.GeoDataFrame:
    """Read a clutter polygon file (GeoJSON, GeoPackage, Shapefile; any CRS, WGS-84 if none).

    The class column is found by name (clutter, 地物类型, 场景, ...); every value must name a
    class, otherwise the file is refused with the feature and the value.
    """
    path = Path(path)
    frame = read_geo(path)
    column = next((c for c in frame.columns if normalize_token(c) in {normalize_token(f) for f in _CLASS_FIELDS}), None)
    if column is None:
        raise InputFileError(
            "errors.clutter_no_column", path=path, names=", ".join(_CLASS_FIELDS[:6]), columns=", ".join(map(str, frame.columns))
        )
    classes = frame[column].map(clutter_code)
    bad = classes.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(
            "errors.clutter_value",
            path=path,
            feature=first + 1,
            column=column,
            value=frame[column].iloc[first],
            n=int(bad.sum()),
            allowed=", ".join(CLUTTER_CODES),
        )
    polygons = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    return gpd.GeoDataFrame({"clutter": classes[polygons.index].to_numpy()}, geometry=polygons.geometry.to_crs(4326).to_numpy(), crs=4326)


def fetch_building_clutter(streets: gpd.GeoDataFrame, *, cell_m: float = DENSITY_CELL_M) -> gpd.GeoDataFrame:
    """Clutter polygons from OpenStreetMap building footprints (osmnx, Overpass).

    Squares of ``cell_m`` over the streets get the class of their building-footprint share
    (:data:`DENSITY_CLASSES`). Raises :class:`ClutterFetchError` when the server cannot be
    reached or has no buildings here.
    """
    import osmnx as ox
    import requests

    from rollout.crs import metric_crs

    outline = streets.union_all()
    try:
        buildings = ox.features.features_from_polygon(outline, tags={"building": True})
    except (requests.RequestException, ox._errors.InsufficientResponseError, ValueError, TypeError) as e:
        raise ClutterFetchError("errors.clutter_fetch_failed", url=ox.settings.overpass_url, detail=str(e)) from e
    footprints = buildings[buildings.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if footprints.empty:
        raise ClutterFetchError("errors.clutter_no_buildings", url=ox.settings.overpass_url)
    crs = metric_crs(tuple(streets.total_bounds))
    area = gpd.GeoSeries([outline], crs=4326).to_crs(crs).iloc[0]
    xmin, ymin, xmax, ymax = area.bounds
    xs = np.arange(xmin, xmax, cell_m)
    ys = np.arange(ymin, ymax, cell_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    squares = shapely.box(gx, gy, gx + cell_m, gy + cell_m)
    squares = squares[shapely.intersects(squares, area)]
    shapes = footprints.to_crs(crs).geometry.make_valid().to_numpy()
    tree = shapely.STRtree(shapes)
    square_idx, shape_idx = tree.query(squares, predicate="intersects")
    covered = shapely.area(shapely.intersection(squares[square_idx], shapes[shape_idx]))
    built = np.bincount(square_idx, weights=covered, minlength=len(squares))
    share = built / shapely.area(shapely.intersection(squares, area))
    classes = np.full(len(squares), "open", dtype=object)
    for code, lower in reversed(DENSITY_CLASSES):
        classes[share >= lower] = code
    frame = gpd.GeoDataFrame({"clutter": classes, "building_share": np.round(share, 3)}, geometry=squares, crs=crs)
    return frame.to_crs(4326)
