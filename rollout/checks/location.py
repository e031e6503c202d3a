"""Checks of where a record is: coordinates, their coordinate system, conversion to WGS-84."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rollout import crs as _crs
from rollout.checks import Columns, Context, Outcome
from rollout.problems import REJECTED, WARNING, Finding
from rollout.schema import CRS_INDEX
from rollout.values import parse_coordinate_columns, parse_vocab

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
    index = cells.index
    problems: list[Finding] = []
    flags: list[tuple[pd.Series, pd.Series | str]] = []
    # Both columns parsed in one pass; the rest in numpy (pandas' fixed cost per operation would
    # dominate on a district's few hundred rows).
    parsed_columns = parse_coordinate_columns(cells, ["lon", "lat"])
    (lon, lon_bad, lon_dms), (lat, lat_bad, lat_dms) = ([p.to_numpy() for p in parsed_columns[c]] for c in ("lon", "lat"))
    for column, values, bad, dms in (("lon", lon, lon_bad, lon_dms), ("lat", lat, lat_bad, lat_dms)):
        problems += _found(np.isnan(values) & ~bad, index, column, "coord_missing", REJECTED)
        problems += _found(bad & ~dms, index, column, "coord_not_number", REJECTED)
        problems += _found(dms, index, column, "coord_dms_unreadable", REJECTED)
    crs_cells = cells["crs"].astype(str)
    crs_given, crs_bad = parse_vocab(crs_cells, CRS_INDEX)
    bad_crs = crs_bad.to_numpy()
    problems += _found(bad_crs, index, "crs", "crs_unknown", REJECTED)
    given = crs_given.to_numpy(dtype=object)
    hint = cells["source_file"].map(dict(context.crs_hints)).to_numpy(dtype=object) if context.crs_hints else np.full(len(index), None)
    has_given, has_hint = ~pd.isna(given), ~pd.isna(hint)
    conflict = has_given & has_hint & (given != hint)
    if conflict.any():
        header = cells["source_file"].map(lambda f: context.headers.get(f, {}).get("lon", ""))
        params = {"cell": pd.Series(given, index=index), "hint": pd.Series(hint, index=index), "header": header}
        problems += _found(conflict, index, "crs", "crs_conflict", REJECTED, params=params)
    crs_names = np.where(has_given, given, np.where(has_hint, hint, context.default_crs))
    usable = ~np.isnan(lon) & ~np.isnan(lat)
    swapped = usable & ~_crs.in_china(lon, lat) & _crs.in_china(lat, lon)
    if swapped.any():
        mask = pd.Series(swapped, index=index)
        problems.append(Finding(mask, "lon", "coords_swapped", WARNING, value=_both(cells, mask)))
        flags.append((mask, "swapped_lon_lat"))
        lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
    outside = usable & ~_crs.in_china(lon, lat)
    if outside.any():
        problems.append(Finding(pd.Series(outside, index=index), "lon", "coord_outside_china", REJECTED, value=_both(cells, outside)))
    convertible = usable & ~outside & ~bad_crs & ~conflict
    wgs_lon, wgs_lat = lon.copy(), lat.copy()
    if convertible.any():
        wgs_lon[convertible], wgs_lat[convertible] = _crs.to_wgs84(lon[convertible], lat[convertible], crs_names[convertible])
    converted = convertible & (crs_names != "wgs84")
    if converted.any():
        flags.append((pd.Series(converted, index=index), "from_" + pd.Series(crs_names, index=index).astype(str)))
    crs_input = pd.Series(np.where(bad_crs, crs_cells.to_numpy(dtype=object), crs_names), index=index, dtype=object)
    parsed = {"lon": pd.Series(wgs_lon, index=index), "lat": pd.Series(wgs_lat, index=index), "crs_input": crs_input}
    return Outcome(values=parsed, problems=problems, flags=flags)


def _found(mask: np.ndarray, index: pd.Index, column: str, code: str, severity: str, **options: Any) -> list[Finding]:
    """The problem ``code`` on the rows under ``mask``, or none when no row is."""
    return [Finding(pd.Series(mask, index=index), column, code, severity, **options)] if mask.any() else []


def _both(cells: pd.DataFrame, mask: pd.Series | np.ndarray) -> pd.Series:
    """``lon, lat`` as written, on the rows under ``mask`` (blank elsewhere)."""
    shown = pd.Series("", index=cells.index, dtype=object)
    shown[mask] = cells.loc[mask, "lon"].astype(str) + ", " + cells.loc[mask, "lat"].astype(str)
    return shown
