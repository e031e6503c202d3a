"""(Geo)Parquet site files as a grid of text cells under a header row.

Rows are numbered as if the table were opened in Excel (header = row 1), counting the rows of
the row groups before the first one read, so a partition of row groups names the same rows as
the whole file. GeoParquet point geometry becomes ``lon``/``lat`` in WGS-84 when the file has no
coordinate columns of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout.errors import InputFileError
from rollout.schema import normalize_token

__all__ = ["pyproj_crs", "read_parquet_grid", "row_groups"]


def row_groups(path: Path) -> list[int]:
    """Number of rows of each row group of a Parquet file (the unit of distributed reading)."""
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    return [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]


def read_parquet_grid(path: Path, groups: list[int] | None) -> tuple[pd.DataFrame, int]:
    """A Parquet file (or some of its row groups) as text cells under a header row, and the
    number of rows before the first row group read."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputFileError("errors.no_such_file", path=path)
    try:
        parquet = pq.ParquetFile(path)
        wanted = list(range(parquet.metadata.num_row_groups)) if groups is None else groups
        table = parquet.read_row_groups(wanted) if wanted else parquet.schema_arrow.empty_table()
    except (pa.ArrowInvalid, OSError) as e:
        raise InputFileError("errors.parquet_unreadable", path=path, detail=str(e)) from e
    first_row = sum(parquet.metadata.row_group(i).num_rows for i in range(min(wanted) if wanted else 0))
    geo = (parquet.schema_arrow.metadata or {}).get(b"geo")
    columns: dict[str, pd.Series] = {}
    if geo:
        import shapely

        info = json.loads(geo)
        name = info.get("primary_column", "geometry")
        if name in table.column_names:
            points = shapely.from_wkb(table.column(name).to_numpy(zero_copy_only=False))
            crs = info.get("columns", {}).get(name, {}).get("crs")
            series = gpd.GeoSeries(points, crs=pyproj_crs(crs))
            if series.crs is not None and not series.crs.equals(4326):
                series = series.to_crs(4326)
            columns["lon"] = pd.Series(shapely.get_x(series.to_numpy())).map(lambda v: "" if pd.isna(v) else repr(float(v)))
            columns["lat"] = pd.Series(shapely.get_y(series.to_numpy())).map(lambda v: "" if pd.isna(v) else repr(float(v)))
            table = table.drop([name])
    for name in table.column_names:
        text = pc.cast(table.column(name), pa.string()) if not pa.types.is_string(table.column(name).type) else table.column(name)
        columns[name] = pd.Series(pc.fill_null(text, "").to_numpy(zero_copy_only=False), dtype=object)
    headers = list(columns)
    if "lon" in headers and any(normalize_token(h) in ("经度", "longitude", "lng", "lon") for h in headers if h != "lon"):
        headers = [h for h in headers if h not in ("lon", "lat")]  # the file's own coordinates win
    body = pd.DataFrame({i: columns[h].to_numpy() for i, h in enumerate(headers)})
    grid = pd.concat([pd.DataFrame([headers]), body], ignore_index=True)
    return grid.astype(str), first_row


def pyproj_crs(crs: object):
    """A GeoParquet ``crs`` entry (PROJJSON, a string, or absent meaning OGC:CRS84) as a pyproj CRS."""
    import pyproj

    if crs is None:
        return pyproj.CRS.from_epsg(4326)
    return pyproj.CRS.from_user_input(crs)
