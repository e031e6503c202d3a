"""Import a submission: check its rows as ``validate`` does, compare them with the register's
records from the same sender, and apply the whole file in one transaction.

A submission is one sender's list of one kind of record as of a day; it replaces that
sender's previous list. Rejected rows never enter the register. The same bytes as the
sender's latest submission, or the same content, change nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rollout.config import Config
from rollout.io import expand_paths, read_raw_table
from rollout.join import place_sites
from rollout.records import SiteLoad, read_sites
from rollout.register.clock import shanghai_today, utc_now
from rollout.register.compare import Comparison, compare_submission
from rollout.register.config import Source, load_register_config
from rollout.register.errors import EmptyRegisterError, RegisterError
from rollout.register.replay import read_versions
from rollout.register.schema import field_columns
from rollout.register.snapshot import write_snapshot
from rollout.register.store import Register, open_register, os_user
from rollout.schema import SiteKind

__all__ = ["ImportResult", "import_files", "version_rows"]

#: Columns of loaded records that are not fields and not unknown columns of the file.
_DERIVED = {"crs_input", "source_file", "source_row", "flags", "geometry", "street_code", "street_name"}


@dataclass(frozen=True)
class ImportResult:
    """What one submission (one sender, one kind) did or would do."""

    kind: SiteKind
    source: Source
    files: list[Path]
    load: SiteLoad
    comparison: Comparison
    outcome: str  # applied, dry_run, unchanged, same_file
    reported_on: dt.date
    submission_id: int | None = None
    previous_id: int | None = None  # the earlier submission with the same bytes or content


def import_files(
    paths: Sequence[Path | str],
    config: Config,
    streets,
    *,
    source: str,
    kind: str | None = None,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    sheet: str | None = None,
    crs: str | None = None,
    db: str | None = None,
    author: str | None = None,
) -> list[ImportResult]:
    """Import site files from ``source``: one submission per kind of record among the files.

    Rows are checked exactly as ``rollout validate`` checks them (the same rejects and
    messages); the register is created on the first import. ``author`` is who imports them
    (default: the OS user; the web user for an upload on the platform).
    """
    settings = load_register_config(config)
    sender = settings.resolve(source)
    reported_on = as_of or shanghai_today()
    by_kind: dict[str, list[Path]] = {}
    for path in expand_paths(list(paths)):
        by_kind.setdefault(kind or read_raw_table(path, sheet=sheet).kind.name, []).append(path)
    loads = {
        name: place_sites(read_sites(files, kind=name, crs=crs, sheet=sheet, as_of=reported_on), streets, config)
        for name, files in by_kind.items()
    }
    try:
        register = open_register(config, db, create=not dry_run)
    except EmptyRegisterError:
        if not dry_run:
            raise
        return [_result(load, sender, by_kind[name], None, reported_on, settings, dry_run=True) for name, load in loads.items()]
    with register:
        return [_apply(register, load, sender, by_kind[name], reported_on, dry_run=dry_run, author=author) for name, load in loads.items()]


def _apply(
    register: Register, load: SiteLoad, sender: Source, files: list[Path], reported_on: dt.date, *, dry_run: bool, author: str | None = None
):
    tables = register.tables
    transaction = register.read() if dry_run else register.write()
    with transaction as conn:
        latest = _latest_submission(conn, tables, sender.name, load.kind.name)
        if latest is not None and latest["reported_on"] > reported_on:
            raise RegisterError(
                "register.as_of_before_latest", source=sender.name, day=reported_on, latest=latest["reported_on"], id=latest["id"]
            )
        digest = _file_digest(files)
        result = _result(load, sender, files, conn, reported_on, register.settings, dry_run=dry_run)
        if latest is not None and latest["sha256"] == digest:
            return _replace(result, outcome="same_file", previous_id=latest["id"])
        if result.comparison.unchanged:
            return _replace(result, outcome="unchanged", previous_id=latest["id"] if latest is not None else None)
        if dry_run:
            return result
        submission = _insert_submission(conn, tables, load, sender, files, digest, reported_on, author=author)
        _write_versions(conn, tables, load, result.comparison, sender.name, submission, register.settings, author=author)
        write_snapshot(conn, tables)
        return _replace(result, outcome="applied", submission_id=submission)


def _replace(result: ImportResult, **changes) -> ImportResult:
    from dataclasses import replace

    return replace(result, **changes)


def _result(load: SiteLoad, sender: Source, files, conn, reported_on, settings, *, dry_run: bool) -> ImportResult:
    incoming = version_rows(load)
    if conn is None:
        current = others = pd.DataFrame(columns=["record_id", "state", "source", *field_columns()])
    else:
        tables = _tables()
        current = read_versions(conn, tables, kind=load.kind.name, source=sender.name)
        others = read_versions(conn, tables, kind=load.kind.name, exclude_source=sender.name, columns=["status", "lon", "lat"])
        others = others[others["state"].eq("reported") & others["record_id"].isin(incoming["record_id"])]
    comparison = compare_submission(
        incoming, current, others, load.kind, moved_m=settings.moved_m, rename_m=settings.rename_m, reported_on=reported_on
    )
    return ImportResult(
        kind=load.kind,
        source=sender,
        files=list(files),
        load=load,
        comparison=comparison,
        outcome="dry_run" if dry_run else "",
        reported_on=reported_on,
    )


def _tables():
    from rollout.register.store import _tables as tables

    return tables()


def version_rows(load: SiteLoad) -> pd.DataFrame:
    """The loaded records as rows of ``record_versions``: every field column, ``record_id``,
    where each came from, flags and the file's unknown columns as JSON."""
    records = pd.DataFrame(load.records.drop(columns="geometry", errors="ignore"))
    kind = load.kind
    missing = np.full(len(records), None, dtype=object)
    columns: dict[str, object] = {"record_id": records[kind.id_field].astype(str).to_numpy()}
    for name in field_columns():  # gathered, then made into a table at once (a column at a time is slow)
        columns[name] = records[name].to_numpy() if name in records.columns else missing
    columns["crs_input"] = records["crs_input"].to_numpy() if "crs_input" in records else np.full(len(records), "", dtype=object)
    columns["source_file"] = records["source_file"].astype(str).to_numpy()
    columns["source_row"] = records["source_row"].to_numpy()
    flags = records["flags"].astype(str).str.replace(r"(^|;)snapped_\d+m", "", regex=True).str.strip(";")
    columns["flags"] = flags.to_numpy()
    extras = [c for c in records.columns if c not in kind.field_names and c not in _DERIVED]
    if extras:
        values = records[extras].astype(object).where(records[extras].notna(), "")
        columns["extra"] = np.array(
            [json.dumps(dict(zip(extras, row, strict=True)), ensure_ascii=False, sort_keys=True) for row in values.itertuples(index=False)],
            dtype=object,
        )
    else:
        columns["extra"] = missing
    return pd.DataFrame(columns)


def _file_digest(files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _content_digest(load: SiteLoad) -> str:
    rows = version_rows(load).drop(columns=["source_file", "source_row"]).sort_values("record_id")
    return hashlib.sha256(rows.to_csv(index=False).encode("utf-8")).hexdigest()


def _latest_submission(conn, tables, source: str, kind: str):
    import sqlalchemy as sa

    submissions = tables["submissions"]
    query = (
        sa.select(submissions.c.id, submissions.c.sha256, submissions.c.reported_on)
        .where(submissions.c.source == source, submissions.c.kind == kind, submissions.c.channel == "file")
        .order_by(submissions.c.reported_on.desc(), submissions.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def _insert_submission(
    conn, tables, load: SiteLoad, sender: Source, files, digest: str, reported_on: dt.date, *, author: str | None = None
) -> int:
    summary = load.summary()
    values = {
        "source": sender.name,
        "kind": load.kind.name,
        "channel": "file",
        "file_name": "; ".join(Path(p).name for p in files),
        "sha256": digest,
        "content_sha256": _content_digest(load),
        "rows": int(summary["rows"].sum()),
        "loaded": int(summary["loaded"].sum()),
        "rejected": int(summary["rejected"].sum()),
        "imported_at": utc_now(),
        "reported_on": reported_on,
        "os_user": os_user() if author is None else author,
        "note": "",
    }
    return int(conn.execute(tables["submissions"].insert().values(**values)).inserted_primary_key[0])


def _write_versions(
    conn,
    tables,
    load: SiteLoad,
    comparison: Comparison,
    source: str,
    submission: int,
    settings,
    author: str | None = None,
    record_id: str | None = None,
    incoming_rows: pd.DataFrame | None = None,
) -> None:
    """Apply a comparison: new records, closed and new versions, missing flags, change rows.
    ``record_id``: the submission is about that one record (a platform edit): only its versions are read.
    ``incoming_rows``: :func:`version_rows` of ``load`` when the caller has them already."""
    import sqlalchemy as sa

    kind = load.kind.name
    author = os_user() if author is None else author
    records, versions = tables["records"], tables["record_versions"]
    incoming = (version_rows(load) if incoming_rows is None else incoming_rows).set_index("record_id", drop=False).rename_axis(None)
    current = read_versions(
        conn,
        tables,
        kind=kind,
        source=source,
        columns=[*field_columns(), "crs_input", "source_file", "source_row", "flags", "extra"],
        record_id=record_id,
    )
    current = current.set_index("record_id", drop=False).rename_axis(None)
    if len(comparison.new_ids):
        conn.execute(
            records.insert(),
            [
                {
                    "kind": kind,
                    "record_id": rid,
                    "source": source,
                    "version": 1,
                    "state": "reported",
                    "first_submission": submission,
                    "last_submission": submission,
                }
                for rid in comparison.new_ids
            ],
        )
        new_keys = pd.read_sql(
            sa.select(records.c.id, records.c.record_id).where(
                records.c.kind == kind, records.c.source == source, records.c.first_submission == submission
            ),
            conn,
        ).set_index("record_id")["id"]
    else:
        new_keys = pd.Series(dtype="int64")
    touched = comparison.updated_ids.append(comparison.missing_ids)
    if len(touched):
        old = current.loc[touched]
        conn.execute(
            versions.update().where(versions.c.id == sa.bindparam("vid")).values(valid_to=submission),
            [{"vid": int(v)} for v in old["version_id"]],
        )
        states = np.where(old.index.isin(comparison.missing_ids), "missing", "reported")
        conn.execute(
            records.update()
            .where(records.c.id == sa.bindparam("rid"))
            .values(version=sa.bindparam("v"), state=sa.bindparam("s"), last_submission=submission),
            [{"rid": int(r), "v": int(v) + 1, "s": s} for r, v, s in zip(old["record"], old["version"], states, strict=True)],
        )
    classes = comparison.classes_by_record()
    rows = []
    reported = incoming.loc[comparison.new_ids.append(comparison.updated_ids)]
    if len(reported):
        keys = pd.concat([new_keys, current.loc[comparison.updated_ids, "record"]]) if len(comparison.updated_ids) else new_keys
        numbers = pd.concat([pd.Series(1, index=new_keys.index), current.loc[comparison.updated_ids, "version"] + 1])
        frame = reported.assign(
            record=keys.reindex(reported.index).to_numpy(), version=numbers.reindex(reported.index).to_numpy(), state="reported"
        )
        rows.append(frame)
    if len(comparison.missing_ids):
        gone = current.loc[comparison.missing_ids]
        rows.append(gone.assign(version=gone["version"] + 1, state="missing"))
    columns = [*field_columns(), "crs_input", "source_file", "source_row", "flags", "extra"]
    for frame in rows:
        frame = frame.assign(changes=frame["record_id"].map(classes).fillna("").to_numpy(), valid_from=submission, author=author)
        conn.execute(versions.insert(), _db_records(frame[["record", "version", "state", "changes", "valid_from", "author", *columns]]))
    changes = comparison.changes.assign(submission=submission, kind=kind, source=source)
    if len(changes):
        conn.execute(tables["changes"].insert(), changes.to_dict("records"))


#: Up to this many rows, values are converted one by one (a platform edit's one row: a column
#: at a time costs a millisecond of pandas overhead for each of the ~90 columns).
_ROW_BY_ROW = 8


def _db_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (dates as dates, blanks as None) for executemany."""
    types = field_columns()
    if len(frame) <= _ROW_BY_ROW:
        columns = list(frame.columns)
        kinds = [types.get(c) or ("Key" if c in ("record", "version", "valid_from", "source_row") else None) for c in columns]
        return [
            {c: _db_value(v, k) for c, k, v in zip(columns, kinds, row, strict=True)}
            for row in frame.astype(object).itertuples(index=False, name=None)
        ]
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        kind = types.get(column)
        if kind == "Date":
            dates = pd.to_datetime(values, errors="coerce")
            out[column] = pd.Series(dates.dt.date, index=frame.index).astype(object).where(dates.notna(), None)
        elif kind in ("Float", "Integer"):
            numbers = pd.to_numeric(values, errors="coerce").astype("float64")
            cast = numbers.astype(object) if kind == "Float" else numbers.round().astype("Int64").astype(object)
            out[column] = cast.where(numbers.notna(), None)
        elif kind == "Boolean":
            out[column] = values.astype(object).map({True: True, False: False}).where(values.notna(), None)
        elif column in ("record", "version", "valid_from", "source_row"):
            out[column] = pd.to_numeric(values, errors="coerce").astype("Int64").astype(object).where(values.notna(), None)
        else:
            out[column] = values.astype(object).where(values.notna(), None)
    return out.to_dict("records")


def _db_value(value, kind: str | None):
    """One value as :func:`_db_records` converts a column of them."""
    if value is None or (not isinstance(value, str | bool) and bool(pd.isna(value))):
        return None
    if kind == "Date":
        day = pd.to_datetime(value, errors="coerce")
        return None if pd.isna(day) else day.date()
    if kind in ("Float", "Integer", "Key"):
        number = pd.to_numeric(value, errors="coerce")
        if pd.isna(number):
            return None
        return float(number) if kind == "Float" else round(float(number))
    if kind == "Boolean":
        return {True: True, False: False}.get(value, float("nan"))
    return value
