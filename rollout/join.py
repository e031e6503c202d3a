"""Place every site in exactly one street.

:func:`assign_streets` is the vectorised point-in-polygon join; :func:`place_sites` applies
it to a :class:`~rollout.records.SiteLoad`, rejecting points far outside the district and
flagging the ones it snaps or whose declared street disagrees.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rollout import crs as _crs
from rollout import settings
from rollout.boundaries import match_streets, neighbour_districts, read_street_table
from rollout.config import Config
from rollout.problems import REJECTED, WARNING, concat_problems, problem_frame
from rollout.records import SiteLoad, flags_with
from rollout.values import map_values

__all__ = ["assign_streets", "covering_streets", "place_sites"]

#: Up to this many polygons, testing each polygon against the still unassigned points beats
#: a spatial index (few polygons, many points); above it an STRtree query is used.
_LOOP_POLYGONS_MAX = 64


def assign_streets(
    sites: gpd.GeoSeries | gpd.GeoDataFrame | pd.DataFrame,
    streets: gpd.GeoDataFrame,
    *,
    tolerance_m: float | None = None,
    code_column: str = "street_code",
) -> pd.DataFrame:
    """Return, for each site, the street it lies in, aligned to ``sites.index``. ``sites`` are
    points, or records (WGS-84 ``lon``/``lat`` columns).

    Columns: ``street_code`` (missing when the point is more than ``tolerance_m`` outside
    every street), ``distance_m`` (0 inside, else the distance to the nearest street) and
    ``snapped`` (True for points outside but within the tolerance, given the nearest street).

    A point on an edge shared by two streets goes to the street that sorts first by
    ``code_column``, so every point gets exactly one street, the same one every run.

    >>> from shapely.geometry import box
    >>> streets = gpd.GeoDataFrame({"street_code": ["b", "a"]}, geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs=4326)
    >>> sites = gpd.GeoSeries.from_xy([0.5, 1.0, 1.5], [0.5, 0.5, 0.5], crs=4326)
    >>> assign_streets(sites, streets)["street_code"].tolist()
    ['a', 'a', 'b']
    """
    tolerance_m = settings.snap_tolerance_m if tolerance_m is None else tolerance_m
    ordered = streets.sort_values(code_column, kind="stable")
    polygons = ordered.geometry.to_numpy()
    codes = ordered[code_column].to_numpy()
    points: np.ndarray | None = None
    if isinstance(sites, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geometry = sites.geometry if isinstance(sites, gpd.GeoDataFrame) else sites
        if geometry.crs is not None and not geometry.crs.equals(streets.crs):
            geometry = geometry.to_crs(streets.crs)
        index = geometry.index
        points = geometry.to_numpy()
        xy = shapely.get_coordinates(points) if len(points) else np.empty((0, 2))
        if len(xy) != len(points):  # empty geometries have no coordinates: keep rows aligned
            xy = np.column_stack([shapely.get_x(points), shapely.get_y(points)])
        x, y = xy[:, 0], xy[:, 1]
    else:  # records: WGS-84 lon/lat, no point objects
        index = sites.index
        x, y = sites["lon"].to_numpy(dtype=float), sites["lat"].to_numpy(dtype=float)
        if streets.crs is not None and not streets.crs.equals("EPSG:4326"):
            from pyproj import Transformer

            x, y = Transformer.from_crs(4326, streets.crs, always_xy=True).transform(x, y)
    owner = _covering_polygon(polygons, x, y, points=points)
    distance = np.zeros(len(x))
    snapped = np.zeros(len(x), dtype=bool)
    outside = np.flatnonzero(owner < 0)
    if len(outside):
        nearest, dist = _nearest_polygon(ordered, x[outside], y[outside], tolerance_m)
        distance[outside] = dist
        close = (nearest >= 0) & (dist <= tolerance_m)
        owner[outside[close]] = nearest[close]
        snapped[outside[close]] = True
    street_code = pd.Series(np.where(owner >= 0, codes[np.maximum(owner, 0)], None), index=index, dtype=object)
    return pd.DataFrame({"street_code": street_code, "distance_m": distance, "snapped": snapped}, index=index)


def covering_streets(x: np.ndarray, y: np.ndarray, streets: gpd.GeoDataFrame, *, code_column: str = "street_code") -> np.ndarray:
    """The code of the street covering each point (coordinates in the streets' CRS), None for a
    point outside every street: :func:`assign_streets` with no tolerance, for many points (a
    grid's) that need no distance to the nearest street.

    >>> from shapely.geometry import box
    >>> streets = gpd.GeoDataFrame({"street_code": ["b", "a"]}, geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs=4326)
    >>> covering_streets(np.array([0.5, 1.0, 1.5, 3.0]), np.array([0.5, 0.5, 0.5, 0.5]), streets).tolist()
    ['a', 'a', 'b', None]
    """
    ordered = streets.sort_values(code_column, kind="stable")
    owner = _covering_polygon(ordered.geometry.to_numpy(), np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    codes = np.full(len(owner), None, dtype=object)
    inside = owner >= 0
    codes[inside] = ordered[code_column].to_numpy(dtype=object)[owner[inside]]
    return codes


def _covering_polygon(polygons: np.ndarray, x: np.ndarray, y: np.ndarray, *, points: np.ndarray | None = None) -> np.ndarray:
    """Index of the first polygon covering each point (-1 for none), vectorised over points.

    Few polygons and many points: a lookup grid settles the points in cells that lie wholly
    inside one polygon, and only the points in cells crossed by a boundary are tested exactly.
    Many polygons: an STRtree query, as ``geopandas.sjoin`` does, keeping the first polygon.
    """
    owner = np.full(len(x), -1, dtype=np.int64)
    if len(polygons) > _LOOP_POLYGONS_MAX:
        tree = shapely.STRtree(polygons)
        geometries = points if points is not None else shapely.points(x, y)
        point_index, polygon_index = tree.query(geometries, predicate="intersects")
        if len(point_index):
            # Results come grouped by point; keep the lowest polygon index of each group.
            order = np.lexsort((polygon_index, point_index))
            first_points, first_at = np.unique(point_index[order], return_index=True)
            owner[first_points] = polygon_index[order][first_at]
        return owner
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(finite) >= _GRID_MIN_POINTS:
        cell_owner, to_cell = _lookup_grid(polygons)
        cells = to_cell(x[finite], y[finite])
        owner[finite] = cell_owner[cells]
        finite = finite[owner[finite] == _MIXED]
        owner[finite] = -1
    _test_exactly(polygons, x, y, finite, owner)
    return owner


def _test_exactly(polygons: np.ndarray, x: np.ndarray, y: np.ndarray, pending: np.ndarray, owner: np.ndarray) -> None:
    """Point-in-polygon tests for the points ``pending``, first polygon wins; fills ``owner``."""
    for index, polygon in enumerate(polygons):  # a loop over streets, not over sites
        if not len(pending):
            break
        shapely.prepare(polygon)
        xmin, ymin, xmax, ymax = polygon.bounds
        px, py = x[pending], y[pending]
        in_box = np.flatnonzero((px >= xmin) & (px <= xmax) & (py >= ymin) & (py <= ymax))
        hit = np.zeros(len(pending), dtype=bool)
        hit[in_box[shapely.intersects_xy(polygon, px[in_box], py[in_box])]] = True
        owner[pending[hit]] = index
        pending = pending[~hit]


_MIXED = -2
_GRID_MIN_POINTS = 50_000
_GRID_CELLS_PER_SIDE = 128


def _lookup_grid(polygons: np.ndarray):
    """A regular grid over the polygons: each cell's polygon when it lies wholly inside one,
    -1 when it touches none, -2 (mixed) when a boundary crosses it. The last slot is for
    points off the grid."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(polygons)
    size = max(xmax - xmin, ymax - ymin) / _GRID_CELLS_PER_SIDE
    nx, ny = int(np.ceil((xmax - xmin) / size)) + 1, int(np.ceil((ymax - ymin) / size)) + 1
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    x0, y0 = xmin + ix.ravel() * size, ymin + iy.ravel() * size
    boxes = shapely.box(x0, y0, x0 + size, y0 + size)
    cell_owner = np.full(nx * ny + 1, -1, dtype=np.int64)
    tree = shapely.STRtree(boxes)
    for index, polygon in enumerate(polygons):
        shapely.prepare(polygon)
        touched = tree.query(polygon, predicate="intersects")
        inside = shapely.contains_properly(polygon, boxes[touched])
        free = cell_owner[touched] == -1
        cell_owner[touched] = np.where(inside & free, index, _MIXED)

    def to_cell(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        cx = np.floor((px - xmin) / size).astype(np.int64)
        cy = np.floor((py - ymin) / size).astype(np.int64)
        on_grid = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
        return np.where(on_grid, cx * ny + cy, nx * ny)

    return cell_owner, to_cell


def _nearest_polygon(streets: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """For points outside every street: distance in metres to the nearest street, and that
    street (lowest index on ties) for the points within ``tolerance_m``; -1 for the others."""
    metric_crs = _crs.metric_crs(tuple(streets.total_bounds))
    metric = streets.to_crs(metric_crs).geometry.to_numpy()
    points = shapely.points(*_crs.metric_transformer(metric_crs).transform(x, y))
    # The district's edge as segments in a tree: the distance to the edge is a nearest query.
    edge = shapely.get_parts(shapely.union_all(metric).boundary)
    edge_tree = shapely.STRtree(np.concatenate([_segments(part) for part in edge]))
    (which, _), found = edge_tree.query_nearest(points, return_distance=True)
    distance = np.full(len(x), np.inf)
    distance[which] = found
    close = np.flatnonzero(distance <= tolerance_m)
    nearest = np.full(len(x), -1, dtype=np.int64)
    if len(close):
        tree = shapely.STRtree(metric)
        (point_index, polygon_index), dist = tree.query_nearest(points[close], return_distance=True, all_matches=True)
        order = np.lexsort((polygon_index, point_index))
        first_points, first_at = np.unique(point_index[order], return_index=True)
        nearest[close[first_points]] = polygon_index[order][first_at]
        distance[close[first_points]] = dist[order][first_at]
    return nearest, distance


def _segments(line: shapely.Geometry) -> np.ndarray:
    coords = shapely.get_coordinates(line)
    return shapely.linestrings(np.stack([coords[:-1], coords[1:]], axis=1))


def place_sites(load: SiteLoad, streets: gpd.GeoDataFrame, config: Config, *, street_table: pd.DataFrame | None = None) -> SiteLoad:
    """Give every loaded record its ``street_code`` and ``street_name``, or reject it.

    Points more than ``settings.snap_tolerance_m`` outside the district are rejected with
    their distance and, where known, the district they lie in. Snapped points and records
    whose declared street differs from the located one get warnings. ``street_table`` (from
    :func:`~rollout.boundaries.read_street_table`) is read when not given.
    """
    records = load.records
    placed = assign_streets(records, streets)
    names = streets.set_index("street_code")["name"]
    outside = placed["street_code"].isna()
    problems = []
    kind, id_field = load.kind.name, load.kind.id_field
    if outside.any():
        where = _where(records.loc[outside], config)
        params = [
            {"where": w, "distance": _distance_text(d), "district_zh": config.district_name, "district_en": config.district_name_en}
            for w, d in zip(where, placed.loc[outside, "distance_m"], strict=True)
        ]
        values = _coordinates_text(records[outside])
        problems.append(
            problem_frame(
                records, kind, id_field, outside, _header(load, records[outside], "lon"), "outside_district", REJECTED, values, params
            )
        )
    records = records.assign(
        street_code=placed["street_code"],
        street_name=map_values(placed["street_code"], names),  # once per street, not per row
    )
    snapped = placed["snapped"]
    if snapped.any():
        by_code = names.to_dict()
        params = [
            {"distance": f"{d:.0f}", "street": str(by_code[c])}
            for d, c in zip(placed.loc[snapped, "distance_m"], placed.loc[snapped, "street_code"], strict=True)
        ]
        values = _coordinates_text(records[snapped])
        problems.append(
            problem_frame(records, kind, id_field, snapped, _header(load, records[snapped], "lon"), "snapped", WARNING, values, params)
        )
        records["flags"] = flags_with(records, snapped, "snapped_" + placed["distance_m"].round().astype(int).astype(str) + "m")
    table = read_street_table(config) if street_table is None else street_table
    problems.extend(_declared_street_problems(records, load, table, outside))
    if outside.any() or not records.index.equals(pd.RangeIndex(len(records))):
        records = records[~outside].reset_index(drop=True)
    return replace(load, records=records, problems=concat_problems([load.problems, *problems]))


def _declared_street_problems(records: pd.DataFrame, load: SiteLoad, table: pd.DataFrame, outside: pd.Series) -> list[pd.DataFrame]:
    declared_text = records["street"].astype(str).str.strip()
    given = (declared_text != "") & ~outside
    if not given.any():
        return []
    declared = match_streets(declared_text.where(given), table)
    names = table.set_index("street_code")["name"]
    unknown = given & declared.isna()
    mismatch = given & declared.notna() & (declared != records["street_code"])
    kind, id_field = load.kind.name, load.kind.id_field
    frames = []
    if unknown.any():
        header = _header(load, records[unknown], "street")
        frames.append(problem_frame(records, kind, id_field, unknown, header, "street_unknown", WARNING, declared_text))
    if mismatch.any():
        by_code = names.to_dict()
        params = [
            {"declared": str(by_code[d]), "located": str(by_code[c])}
            for d, c in zip(declared[mismatch], records.loc[mismatch, "street_code"], strict=True)
        ]
        header = _header(load, records[mismatch], "street")
        frames.append(problem_frame(records, kind, id_field, mismatch, header, "street_mismatch", WARNING, declared_text, params))
    return frames


def _coordinates_text(records: pd.DataFrame) -> pd.Series:
    return records["lon"].round(6).astype(str) + ", " + records["lat"].round(6).astype(str)


def _header(load: SiteLoad, rows: pd.DataFrame, column: str) -> list[str]:
    """The header of ``column`` in each row's file, as the file wrote it."""
    fallback = load.kind.field(column).zh
    headers = load.column_headers or {}
    return [headers.get(file, {}).get(column, fallback) for file in rows["source_file"]]


def _where(records: pd.DataFrame, config: Config) -> list[str]:
    """The district each stray point lies in, where the city's districts are known ("" elsewhere)."""
    districts = neighbour_districts(config.district_code)
    if districts.empty:
        return [""] * len(records)
    hits = assign_streets(records, districts, tolerance_m=0.0, code_column="adcode")["street_code"]
    names = districts.set_index("adcode")["name"]
    return [str(names[h]) if isinstance(h, str) else "" for h in hits]


def _distance_text(metres: float) -> str:
    if metres >= 1000:
        return f"{metres / 1000:.1f} km"
    return f"{metres:.0f} m"
