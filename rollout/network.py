"""The existing network: stations already on air that the plan must count, inside the district and
within a margin around it.

A station just across the district's edge serves the edge, so stations outside the district
are kept up to ``margin_m`` (3 km by default) away; farther ones are read but not used. A file
with no station outside the district gets a warning (coverage near the edge is understated),
and a file most of whose points lie far from the district is refused: its coordinates are
almost certainly in another system (projected metres, swapped columns).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rollout.crs import metric_crs
from rollout.errors import InputFileError
from rollout.measurements import TableLoad, column_header, read_points, table_problems
from rollout.problems import IGNORED, concat_problems
from rollout.schema import MACRO
from rollout.tablekinds import EXISTING

__all__ = ["FAR_KM", "ExistingNetwork", "read_existing"]

#: Points this far from the district count as "elsewhere" when judging the file's coordinate system.
FAR_KM = 50.0


@dataclass(frozen=True)
class ExistingNetwork:
    """Existing stations: ``stations`` are the ones used (on air, within the margin)."""

    load: TableLoad
    margin_m: float
    inside: int
    outside: int  # within the margin

    @property
    def stations(self) -> pd.DataFrame:
        """The stations used, WGS-84, with ``distance_m`` to the district (0 inside)."""
        return self.load.records

    def warnings(self) -> list[tuple[str, dict]]:
        """(code, params) of what the user should know about the file."""
        out = list(self.load.notes)
        if self.outside == 0 and self.inside:
            out.append(("existing_none_outside", {"file": self.load.path.name, "km": self.margin_m / 1000}))
        return out


def read_existing(
    path: Path | str,
    streets: gpd.GeoDataFrame,
    *,
    margin_m: float = 3000.0,
    crs: str | None = None,
    sheet: str | None = None,
) -> ExistingNetwork:
    """Read an existing-network file (site id, lon/lat, optional band, height, tilt, status).

    Any table the site files may be (CSV, XLSX, Parquet) with the usual Chinese or English
    headers; ``bs_id``/``lon_bd09``-style columns are understood (the coordinate system is
    taken from the header). Rows with a status are used only when it means on air.
    """
    load = read_points(path, EXISTING, crs=crs, sheet=sheet)
    records = load.records
    outline = streets.union_all()
    metric = metric_crs(tuple(streets.total_bounds))
    edge = gpd.GeoSeries([outline], crs=4326).to_crs(metric).iloc[0]
    points = gpd.GeoSeries.from_xy(records["lon"], records["lat"], crs=4326).to_crs(metric)
    distance = shapely.distance(edge, points.to_numpy()) if len(points) else np.zeros(0)
    far = distance > FAR_KM * 1000
    elsewhere = int(far.sum()) + int((load.rejects["reason_code"] == "coord_outside_china").sum())
    if load.rows and elsewhere > load.rows / 2:
        raise InputFileError("errors.existing_wrong_crs", file=load.path, n=elsewhere, rows=load.rows, km=FAR_KM)
    records = records.assign(distance_m=np.round(distance, 1))
    ignored = []
    status = records["status"].astype(str).str.strip()
    parsed = status.map(lambda s: MACRO.parse_status(s) if s else "on_air")
    not_on_air = parsed.ne("on_air")
    ignored.append(
        table_problems(
            EXISTING, load.path, records, not_on_air, column_header(load, "status"), records["status"], "not_on_air", severity=IGNORED
        )
    )
    beyond = ~not_on_air & (records["distance_m"] > margin_m)
    km = (records["distance_m"] / 1000).round(2)
    ignored.append(
        table_problems(
            EXISTING,
            load.path,
            records,
            beyond,
            column_header(load, "lon"),
            km.astype(str) + " km",
            "far_from_district",
            severity=IGNORED,
            margin_km=margin_m / 1000,
        )
    )
    used = records[~(not_on_air | beyond)].reset_index(drop=True)
    ids = used["site_id"].astype(str).str.strip()
    used["site_id"] = ids.where(ids != "", "row " + used["source_row"].astype(str))
    load = replace(load, records=used, ignored=concat_problems([load.ignored, *ignored]))
    inside = int((used["distance_m"] == 0).sum())
    return ExistingNetwork(load, margin_m, inside, len(used) - inside)
