"""The register as a source of site records for every command that reads sites.

:func:`register_source` gives, per kind, a :class:`~rollout.records.SiteLoad` of the records
as the register knew them on a day (one per id: the version that counts), in the shape that
checking site files gives (:func:`~rollout.records.read_sites`): :func:`rollout.pipeline.load_project`
places them in streets like the files' records, so everything downstream works unchanged.
:func:`register_site_loads` and :func:`site_loads_from` do both, for callers without a project.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from rollout.config import Config
from rollout.i18n import Lang, t
from rollout.join import place_sites
from rollout.problems import concat_problems
from rollout.records import SiteLoad
from rollout.register.clock import shanghai_today
from rollout.register.replay import counted, open_conflicts, read_resolutions, read_versions, with_confirmed_days
from rollout.register.snapshot import read_snapshot
from rollout.register.store import Register, find_register, open_register
from rollout.schema import KINDS, SiteKind

__all__ = [
    "RegisterSnapshot",
    "register_files",
    "register_records",
    "register_site_loads",
    "register_source",
    "site_loads_from",
    "source_line",
    "versions_as_records",
]

#: Flag of a record its sender left out of its latest submission (未报送).
UNREPORTED = "unreported"


@dataclass(frozen=True)
class RegisterSnapshot:
    """Which register the records came from, as known on which day, and what is unsettled."""

    where: str  # the file, or the URL without password
    db: str | None
    as_of: dt.date
    conflicts: pd.DataFrame  # see rollout.register.replay.open_conflicts


def register_source(
    config: Config, db: str | None, *, as_of: dt.date, use_register: bool | None = None, street_table: pd.DataFrame | None = None
) -> tuple[dict[str, SiteLoad], RegisterSnapshot] | None:
    """The register as the source of the project's records: both kinds' records as known on
    ``as_of`` (not yet placed in streets) and the snapshot; None when the site files are the
    source (``use_register`` False, or no register and none asked for).

    The register is the one ``db`` names, else ``[register] url``, else ``data/register.sqlite``
    when it exists; ``use_register`` True requires it. ``street_table``: the project's streets,
    when already read.
    """
    if use_register is False or (not use_register and find_register(config, db, street_table=street_table) is None):
        return None
    with open_register(config, db) as register:
        return register_records(register, as_of=as_of, db=db)


def register_site_loads(
    config: Config, streets: gpd.GeoDataFrame, *, db: str | None = None, as_of: dt.date
) -> tuple[dict[str, SiteLoad], RegisterSnapshot]:
    """Both kinds' records as known on ``as_of``, placed in streets, and the register's snapshot."""
    with open_register(config, db) as register:
        return site_loads_from(register, config, streets, as_of=as_of, db=db)


def site_loads_from(
    register: Register,
    config: Config,
    streets: gpd.GeoDataFrame,
    *,
    as_of: dt.date | None,
    db: str | None = None,
    record_ids: list[str] | None = None,
    street_table: pd.DataFrame | None = None,
) -> tuple[dict[str, SiteLoad], RegisterSnapshot]:
    """:func:`register_site_loads` for an open register (``as_of`` None: the current records;
    ``record_ids``: only those records, and only the kinds they are of)."""
    loads, snapshot = register_records(register, as_of=as_of, db=db, record_ids=record_ids)
    return {name: place_sites(load, streets, config, street_table=street_table) for name, load in loads.items()}, snapshot


def register_records(
    register: Register, *, as_of: dt.date | None, db: str | None = None, record_ids: list[str] | None = None
) -> tuple[dict[str, SiteLoad], RegisterSnapshot]:
    """Per kind, the records that count as known on ``as_of`` (None: now), as checked records
    not yet placed in streets; and the snapshot (where they came from, open conflicts).
    ``record_ids``: only those records, read from the history (the conflicts are theirs only), and
    only the kinds they are of (a few records are read in milliseconds; an empty kind costs more)."""
    with register.read() as conn:
        versions = read_snapshot(conn, register.tables, as_of) if record_ids is None else None
        if versions is None:
            ids = list(record_ids) if record_ids is not None else None
            versions = read_versions(conn, register.tables, as_of=as_of, full=False, record_ids=ids)
        else:
            versions = with_confirmed_days(conn, register.tables, versions, as_of)
        resolutions = read_resolutions(conn, register.tables)
    winners = counted(versions, register.settings, resolutions)
    conflicts = open_conflicts(versions, winners, resolutions, moved_m=register.settings.moved_m)
    where = register.target.shown
    as_of = as_of or shanghai_today()
    kinds = [k for k in KINDS.values() if record_ids is None or winners["kind"].eq(k.name).any()]
    loads = {kind.name: _as_load(winners[winners["kind"].eq(kind.name).to_numpy()], kind) for kind in kinds}
    return loads, RegisterSnapshot(where=where, db=db, as_of=as_of, conflicts=conflicts)


def source_line(snapshot: RegisterSnapshot | None, sites_dir, *, lang: Lang) -> str:
    """The line every site-reading command starts with: where the records came from."""
    if snapshot is None:
        return t("register.source_files", lang, where=sites_dir)
    return t("register.source_register", lang, where=snapshot.where, day=snapshot.as_of.isoformat())


def versions_as_records(versions: pd.DataFrame, kind: SiteKind) -> pd.DataFrame:
    """Record versions of one kind as loaded records (canonical columns and types, WGS-84 lon/lat),
    with ``register_source``, ``register_version`` and ``register_state``."""
    columns: dict[str, pd.Series | np.ndarray] = {kind.id_field: versions["record_id"].astype(str).to_numpy()}
    for f in kind.fields:
        if f.name == kind.id_field:
            continue
        values = versions[f.name] if f.name in versions.columns else pd.Series(None, index=versions.index, dtype=object)
        columns[f.name] = _typed(values, f.type).to_numpy()
    columns["crs_input"] = versions["crs_input"].fillna("wgs84").astype(str).to_numpy()
    columns["lon"] = versions["lon"].astype("float64").to_numpy()
    columns["lat"] = versions["lat"].astype("float64").to_numpy()
    columns["source_file"] = versions["source_file"].fillna("").astype(str).to_numpy()
    columns["source_row"] = versions["source_row"].fillna(0).astype("int64").to_numpy()
    flags = versions["flags"].fillna("").astype(str)
    missing = versions["state"].eq("missing")
    marked = pd.Series(np.where(flags == "", UNREPORTED, flags + ";" + UNREPORTED), index=flags.index, dtype=str)
    flags = flags.where(~missing, marked)
    columns["flags"] = flags.to_numpy()
    columns["register_source"] = versions["source"].astype(str).to_numpy()
    columns["register_version"] = versions["version"].astype("int64").to_numpy()
    columns["register_state"] = versions["state"].astype(str).to_numpy()
    # The day the sender reported this version: its status is known to hold from then on.
    columns["reported_on"] = pd.to_datetime(versions["reported_on"]).astype("datetime64[ns]").to_numpy()
    # Object columns as Series of dtype object: pandas would otherwise re-infer every text column.
    frame = pd.DataFrame(
        {k: pd.Series(v, dtype=object) if getattr(v, "dtype", None) is np.dtype(object) else v for k, v in columns.items()}
    )
    frame = _with_extras(frame, versions["extra"] if "extra" in versions.columns else None)
    return frame


def _as_load(versions: pd.DataFrame, kind: SiteKind) -> SiteLoad:
    records = versions_as_records(versions.reset_index(drop=True), kind)
    return SiteLoad(kind=kind, records=records, problems=concat_problems([]), files=register_files(records))


def register_files(records: pd.DataFrame) -> pd.DataFrame:
    """The files summary of records read from the register: per file they first came from, how many."""
    files = records.groupby("source_file", sort=True).size().rename("rows").reset_index().rename(columns={"source_file": "file"})
    return files.assign(blank_rows=0, encoding="", sheet="", extra_columns="")


def _typed(values: pd.Series, field_type: str) -> pd.Series:
    if field_type == "date":
        return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
    if field_type == "float":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if field_type == "int":
        return pd.to_numeric(values, errors="coerce").round().astype("Int64")
    if field_type == "bool":
        return values.astype(object).map({True: True, False: False}).fillna(True).astype(bool)
    if field_type == "flag":
        return values.astype(object).map({True: True, False: False}).astype("boolean")
    return values.astype(object).where(values.notna(), "")


def _with_extras(frame: pd.DataFrame, extra: pd.Series | None) -> pd.DataFrame:
    """The file's unknown columns, kept as they were (only rows that had any are decoded)."""
    if extra is None or extra.isna().all():
        return frame
    present = extra.notna().to_numpy()
    decoded = pd.DataFrame([json.loads(text) for text in extra[present]], index=frame.index[present])
    for column in decoded.columns:
        if column not in frame.columns:
            frame[column] = decoded[column].reindex(frame.index).fillna("").astype(str)
    return frame
