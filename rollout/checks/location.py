"""Checks of where a record is: coordinates, their coordinate system, conversion to WGS-84."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rollout import crs as _crs
from rollout.checks import Columns, Context, Outcome
from rollout.problems import REJECTED, WARNING, Finding
from rollout.schema import CRS_INDEX
from rollout.values import parse_coordinates, parse_vocab

__all__ = ["check_coordinates"]


def check_coordinates(columns: Columns, context: Context) -> Outcome:
    """Longitude and latitude in decimal degrees (or degrees-minutes-seconds, converted), in the
    coordinate system of the row's ``crs`` cell, else of the coordinate headers (``经度(百度)``),
    else ``--crs``, else WGS-84; converted to WGS-84.

    Rejected: missing or unreadable coordinates, an unknown coordinate system, a ``crs`` cell
    that disagrees with the system the header names, a point outside China. Swapped longitude
    and latitude are corrected with a warning.
    """
    cells = columns.cells
    problems: list[Finding] = []
    flags: list[tuple[pd.Series, pd.Series | str]] = []
    lon, lon_bad, lon_dms = parse_coordinates(cells["lon"])
    lat, lat_bad, lat_dms = parse_coordinates(cells["lat"])
    for column, values, bad, dms in (("lon", lon, lon_bad, lon_dms), ("lat", lat, lat_bad, lat_dms)):
        problems.append(Finding(values.isna() & ~bad, column, "coord_missing", REJECTED))
        problems.append(Finding(bad & ~dms, column, "coord_not_number", REJECTED))
        problems.append(Finding(dms, column, "coord_dms_unreadable", REJECTED))
    crs_cells = cells["crs"].astype(str)
    crs_given, crs_bad = parse_vocab(crs_cells, CRS_INDEX)
    problems.append(Finding(crs_bad, "crs", "crs_unknown", REJECTED))
    crs_given = crs_given.astype(object)
    hint = (
        cells["source_file"].map(dict(context.crs_hints)).astype(object)
        if context.crs_hints
        else pd.Series(None, index=cells.index, dtype=object)
    )
    conflict = crs_given.notna() & hint.notna() & crs_given.ne(hint)
    if conflict.any():
        header = cells["source_file"].map(lambda f: context.headers.get(f, {}).get("lon", ""))
        problems.append(Finding(conflict, "crs", "crs_conflict", REJECTED, params={"cell": crs_given, "hint": hint, "header": header}))
    crs_names = pd.Series(
        np.where(crs_given.notna(), crs_given, np.where(hint.notna(), hint, context.default_crs)), index=cells.index, dtype=object
    )
    usable = lon.notna() & lat.notna()
    swapped = usable & ~_crs.in_china(lon, lat) & _crs.in_china(lat, lon)
    if swapped.any():
        problems.append(Finding(swapped, "lon", "coords_swapped", WARNING, value=_both(cells, swapped)))
        flags.append((swapped, "swapped_lon_lat"))
        lon, lat = lon.where(~swapped, lat), lat.where(~swapped, lon)
    outside = usable & ~_crs.in_china(lon, lat)
    if outside.any():
        problems.append(Finding(outside, "lon", "coord_outside_china", REJECTED, value=_both(cells, outside)))
    convertible = usable & ~outside & ~crs_bad & ~conflict
    wgs_lon, wgs_lat = lon.copy(), lat.copy()
    if convertible.any():
        x, y = _crs.to_wgs84(lon[convertible].to_numpy(), lat[convertible].to_numpy(), crs_names[convertible].to_numpy())
        wgs_lon[convertible], wgs_lat[convertible] = x, y
    converted = convertible & crs_names.ne("wgs84")
    flags.append((converted, "from_" + crs_names.astype(str)))
    parsed = {"lon": wgs_lon, "lat": wgs_lat, "crs_input": crs_names.where(~crs_bad, crs_cells)}
    return Outcome(values=parsed, problems=problems, flags=flags)


def _both(cells: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """``lon, lat`` as written, on the rows under ``mask`` (blank elsewhere)."""
    shown = pd.Series("", index=cells.index, dtype=object)
    shown[mask] = cells.loc[mask, "lon"].astype(str) + ", " + cells.loc[mask, "lat"].astype(str)
    return shown
