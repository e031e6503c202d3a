"""Per-street targets: split the district targets over the streets and write ``targets.csv``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout import crs as _crs
from rollout.boundaries import read_street_table
from rollout.config import TARGET_COLUMNS, Config, allocate_targets
from rollout.errors import ConfigError
from rollout.writers import write_table

__all__ = ["allocate_street_targets", "write_targets"]

#: Weights that need no column in streets.csv.
COMPUTED_WEIGHTS = {"area": "area of each street polygon", "equal": "the same for every street"}


def allocate_street_targets(
    config: Config, streets: gpd.GeoDataFrame, *, by: str, street_table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Split the district targets over the streets in proportion to ``by``.

    ``by`` is a numeric column of ``streets.csv`` (e.g. ``population``, ``area_km2``),
    ``area`` (computed from the street polygons) or ``equal``.
    """
    table = read_street_table(config) if street_table is None else street_table
    if by == "area":
        areas = _crs.to_metric(streets.set_index("street_code")).area
        weights = areas.reindex(table["street_code"]).to_numpy()
    elif by == "equal":
        weights = [1.0] * len(table)
    elif by in table.columns:
        values = pd.to_numeric(table[by].replace("", None), errors="coerce")
        if values.isna().any():
            missing = ", ".join(table.loc[values.isna(), "name"])
            raise ConfigError("errors.allocate_column_blank", path=config.streets_table, column=by, missing=missing)
        weights = values.to_numpy()
    else:
        known = [c for c in table.columns if pd.to_numeric(table[c].replace("", None), errors="coerce").notna().any()]
        raise ConfigError("errors.allocate_by_unknown", value=by, allowed=", ".join([*COMPUTED_WEIGHTS, *known]))
    series = pd.Series(weights, index=table["street_code"], dtype=float)
    out = pd.DataFrame({"street_code": table["street_code"], "street_name": table["name"]})
    for column in TARGET_COLUMNS:
        total = config.macro_target if column == "macro_target" else config.garage_target
        out[column] = allocate_targets(series, total).to_numpy()
    out["allocated_by"] = by
    return out


def write_targets(targets: pd.DataFrame, path: Path | str) -> Path:
    """Write per-street targets as CSV (UTF-8 with BOM), atomically."""
    return write_table(targets, path)
