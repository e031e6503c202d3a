"""Reading the register for people and for the web platform: the records that count, with
filters, and one record with every sender's version."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rollout.config import Config
from rollout.records import SiteLoad
from rollout.register.errors import RegisterError
from rollout.register.loads import site_loads_from
from rollout.register.replay import counted, read_resolutions, read_versions
from rollout.register.store import Register
from rollout.schema import KINDS, operator_code
from rollout.status import status_as_of

__all__ = ["read_record", "records_table", "visible_records"]


def visible_records(
    register: Register,
    config: Config,
    streets,
    *,
    kind: str | None = None,
    street: str | None = None,
    status: str | None = None,
    operator: str | None = None,
    as_of: dt.date | None = None,
    record_ids: list[str] | None = None,
) -> pd.DataFrame:
    """The records that count (one per id and kind), as known on ``as_of`` (default: now).

    Filters: ``kind`` (macro/garage), ``street`` (code or name, as in streets.csv),
    ``status`` (a status code, compared with the status on ``as_of``), ``operator`` (a code or
    name: 移动, cmcc, ...), ``record_ids`` (only those ids: read from the history, not the
    snapshot; quick for a few records). Columns: ``kind``, ``record_id``, the record's fields, ``street_code``,
    ``street_name``, ``status_as_of``, ``register_source``, ``register_version`` (pass it back as
    ``expected_version`` to :func:`~rollout.register.edits.apply_edit`), ``register_state``.
    """
    from rollout.boundaries import match_streets, read_street_table
    from rollout.register.clock import shanghai_today

    day = as_of or shanghai_today()
    loads, _ = site_loads_from(register, config, streets, as_of=as_of, record_ids=record_ids)
    table = records_table({name: load for name, load in loads.items() if kind is None or name == kind}, day)
    if table.empty:
        return table
    if street is not None:
        code = match_streets(pd.Series([street]), read_street_table(config)).iloc[0]
        table = table[table["street_code"].eq(code)]
    if status is not None:
        table = table[table["status_as_of"].eq(status)]
    if operator is not None:
        code = operator_code(operator, strict=False) or operator
        ops = table.get("operator", pd.Series("", index=table.index)).fillna("").astype(str)
        ops = ops + ";" + table.get("operators", pd.Series("", index=table.index)).fillna("").astype(str)
        table = table[ops.str.split(";").map(lambda codes: code in codes)]
    return table.reset_index(drop=True)


def records_table(loads: dict[str, SiteLoad], day: dt.date) -> pd.DataFrame:
    """Placed records of each kind as one table: ``kind``, ``record_id``, the fields, the street and
    ``status_as_of`` (the status on ``day``), without the points."""
    frames = []
    for name, load in loads.items():
        records = pd.DataFrame(load.records)
        records.insert(0, "record_id", records[KINDS[name].id_field])
        records.insert(0, "kind", name)
        records["status_as_of"] = status_as_of(load.records, load.kind, day).to_numpy() if len(records) else []
        frames.append(records)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_record(register: Register, kind: str, record_id: str) -> dict:
    """One record: the version that counts (``fields``, ``source``, ``version``, ``reported_on``:
    the day its sender reported it) and every sender's current version (``versions``: a list of
    dicts with ``source``, ``version``, ``state``, ``author`` and the fields)."""
    with register.read() as conn:
        versions = read_versions(conn, register.tables, kind=kind, record_id=record_id)
        resolutions = read_resolutions(conn, register.tables)
    if versions.empty:
        raise RegisterError("register.no_record", kind=kind, id=record_id)
    winner = counted(versions, register.settings, resolutions).iloc[0]
    site_kind = KINDS[kind]
    names = [f.name for f in site_kind.fields if f.name != site_kind.id_field]

    def fields(row: pd.Series) -> dict:
        return {name: _plain(row.get(name)) for name in names}

    return {
        "kind": kind,
        "record_id": record_id,
        "source": winner["source"],
        "version": int(winner["version"]),
        "state": winner["state"],
        "reported_on": _plain(winner["reported_on"]),
        "fields": fields(winner),
        "versions": [
            {"source": r["source"], "version": int(r["version"]), "state": r["state"], "author": r["author"], **fields(r)}
            for _, r in versions.iterrows()
        ],
    }


def _plain(value):
    """A value as JSON-friendly Python: None for blanks, ISO text for dates, plain numbers."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    if isinstance(value, pd.Timestamp | dt.date):
        return value.strftime("%Y-%m-%d")
    return value.item() if hasattr(value, "item") else value
