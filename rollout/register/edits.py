"""Edits from the web platform, and conflict resolutions: the register's write API besides imports.

An edit is a change to one record made by a person (the ``author``, a web user) on behalf of a
sender (``source``: the author's organisation; by default the sender whose record counts now).
It is checked with exactly the row checks of files (an edit that a file could not carry is
rejected with the list of problems), compared with that sender's current version like a
one-row submission, and written as a new record version in a submission of channel
``platform``. ``expected_version`` makes it optimistic: if someone else changed the record
since the editor loaded it, :class:`~rollout.register.errors.StaleVersionError` is raised and
nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rollout.config import Config
from rollout.io import rows_table
from rollout.join import place_sites
from rollout.problems import REJECTED, problem_frame
from rollout.records import SiteLoad, check_tables, default_crs, merge_loads, reference_date, reject_duplicate_ids
from rollout.register.clock import shanghai_today, utc_now
from rollout.register.compare import Comparison, compare_submission
from rollout.register.errors import EditRejected, RegisterError, StaleVersionError
from rollout.register.importer import _write_versions, version_rows
from rollout.register.replay import counted, read_resolutions, read_versions
from rollout.register.snapshot import snapshot_after_edit
from rollout.register.store import Register
from rollout.schema import KINDS, normalize_token

__all__ = ["EditResult", "apply_edit", "resolve_conflict"]


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the record's sender and new version, and the changes (empty: nothing)."""

    kind: str
    record_id: str
    source: str
    version: int
    submission_id: int | None
    changes: pd.DataFrame


def apply_edit(
    register: Register,
    config: Config,
    streets,
    kind: str,
    record_id: str,
    changes: dict,
    *,
    author: str,
    note: str = "",
    reported_on: dt.date | None = None,
    expected_version: int | None = None,
    source: str | None = None,
) -> EditResult:
    """Change fields of one record (``changes``: field name or header -> value as typed).

    Raises :class:`EditRejected` (with ``problems``) when the values fail the row checks,
    :class:`StaleVersionError` when ``expected_version`` is not the record's current version,
    :class:`RegisterError` when there is no such record.
    """
    site_kind = KINDS[kind]
    reported_on = reported_on or shanghai_today()
    fields = _canonical_changes(changes, site_kind, record_id)
    tables = register.tables
    edit = dict(fields=fields, site_kind=site_kind, config=config, streets=streets, reported_on=reported_on)
    # The row is checked and compared outside the write transaction, which other writers wait for;
    # inside it the record's versions are read again, and when someone changed the record meanwhile
    # the edit is planned again (the last time wholly inside the transaction, so that it ends).
    for attempt in range(_OPTIMISTIC_TRIES + 1):
        inside = attempt == _OPTIMISTIC_TRIES
        if not inside:
            with register.read() as conn:
                read = read_versions(conn, tables, kind=kind, record_id=record_id), read_resolutions(conn, tables)
            plan = _plan(register, record_id, *read, source=source, expected_version=expected_version, **edit)
            if plan.comparison.unchanged:
                return EditResult(kind, record_id, plan.sender, plan.current_version, None, plan.comparison.changes)
        with register.write() as conn:
            if inside:
                versions = read_versions(conn, tables, kind=kind, record_id=record_id)
                plan = _plan(
                    register, record_id, versions, read_resolutions(conn, tables), source=source, expected_version=expected_version, **edit
                )
                if plan.comparison.unchanged:
                    return EditResult(kind, record_id, plan.sender, plan.current_version, None, plan.comparison.changes)
            elif _current_state(conn, tables, kind, record_id) != _state(read[0]) or not read_resolutions(conn, tables).equals(read[1]):
                continue  # changed (or a conflict settled) meanwhile: plan again
            submission = _platform_submission(conn, tables, plan.sender, kind, author, note, reported_on)
            _write_versions(
                conn,
                tables,
                plan.load,
                plan.comparison,
                plan.sender,
                submission,
                register.settings,
                author=author,
                record_id=record_id,
                incoming_rows=plan.rows,
            )
            snapshot_after_edit(conn, tables)
        return EditResult(kind, record_id, plan.sender, plan.current_version + 1, submission, plan.comparison.changes)
    raise AssertionError("unreachable: the last try runs inside the transaction")


#: Edits planned outside the write transaction before one is planned inside it.
_OPTIMISTIC_TRIES = 2


@dataclass(frozen=True)
class _Plan:
    sender: str
    current_version: int
    load: SiteLoad
    rows: pd.DataFrame
    comparison: Comparison


def _state(versions: pd.DataFrame) -> list[tuple]:
    """What identifies the record's current versions: a change by anyone changes it."""
    return sorted(zip(versions["source"].astype(str), versions["version"].astype(int), versions["state"].astype(str), strict=True))


def _current_state(conn, tables, kind: str, record_id: str) -> list[tuple]:
    """:func:`_state` of the record as the database has it now (one small query)."""
    import sqlalchemy as sa

    records, versions = tables["records"], tables["record_versions"]
    query = (
        sa.select(records.c.source, versions.c.version, versions.c.state)
        .join(records, versions.c.record == records.c.id)
        .where(records.c.kind == kind, records.c.record_id == record_id, versions.c.valid_to.is_(None))
    )
    return sorted((str(source), int(version), str(state)) for source, version, state in conn.execute(query))


def _plan(
    register: Register,
    record_id: str,
    versions: pd.DataFrame,
    resolutions: pd.DataFrame,
    *,
    fields: dict[str, str],
    site_kind,
    config: Config,
    streets,
    reported_on: dt.date,
    source: str | None,
    expected_version: int | None,
) -> _Plan:
    """The edit of the record whose versions are ``versions``: checked row, version rows, comparison."""
    if versions.empty:
        raise RegisterError("register.no_record", kind=site_kind.name, id=record_id)
    winner = counted(versions, register.settings, resolutions).iloc[0]
    sender = register.settings.resolve(source).name if source else str(winner["source"])
    own = versions[versions["source"].eq(sender)]
    current_version = int(own["version"].iloc[0]) if len(own) else 0
    if expected_version is not None and int(expected_version) != current_version:
        raise StaleVersionError(
            "register.stale_version", current_version=current_version, id=record_id, source=sender, expected=expected_version
        )
    base = own.iloc[0] if len(own) else winner
    load = _checked_row(base, fields, site_kind, config, streets, reported_on)
    incoming = version_rows(load)
    others = versions[versions["source"].ne(sender) & versions["record_id"].eq(record_id) & versions["state"].eq("reported")]
    comparison = compare_submission(
        incoming,
        own,
        others,
        site_kind,
        moved_m=register.settings.moved_m,
        rename_m=register.settings.rename_m,
        reported_on=reported_on,
    )
    return _Plan(sender, current_version, load, incoming, comparison)


def resolve_conflict(register: Register, kind: str, record_id: str, keep_source: str, *, author: str, note: str = "") -> None:
    """Settle a conflict: ``keep_source``'s record counts for ``record_id`` from now on, and the
    conflict is closed until a sender reports the record differently again."""
    import sqlalchemy as sa

    keep = register.settings.resolve(keep_source).name
    tables = register.tables
    with register.write() as conn:
        mine = read_versions(conn, tables, kind=kind, columns=["status"], record_id=record_id)
        if not mine["source"].eq(keep).any():
            raise RegisterError("register.keep_unknown", id=record_id, source=keep, sources=" / ".join(mine["source"]) or "—")
        latest = conn.execute(sa.select(sa.func.max(tables["submissions"].c.id))).scalar() or 0
        conn.execute(
            tables["conflict_resolutions"]
            .insert()
            .values(
                kind=kind,
                record_id=record_id,
                keep_source=keep,
                after_submission=int(latest),
                resolved_by=author,
                resolved_at=utc_now(),
                note=note,
            )
        )


def _canonical_changes(changes: dict, kind, record_id: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    unknown = []
    for key, value in changes.items():
        name = kind.header_index.get(normalize_token(key))
        if name is None or name == kind.id_field:
            unknown.append(str(key))
            continue
        fields[name] = "" if value is None else (value.isoformat() if isinstance(value, dt.date) else str(value))
    if unknown:
        rows = pd.DataFrame({"source_file": "platform", "source_row": 0, kind.id_field: record_id}, index=range(len(unknown)))
        everything = pd.Series(True, index=rows.index)
        values = pd.Series("", index=rows.index)
        problems = problem_frame(rows, kind.name, kind.id_field, everything, unknown, "edit_unknown_field", REJECTED, values)
        raise EditRejected(problems=problems)
    return fields


def _checked_row(base: pd.Series, fields: dict[str, str], kind, config: Config, streets, reported_on: dt.date):
    """The edited record checked as a one-row file (the same checks, rejects and messages)."""
    row = {kind.id_field: str(base["record_id"])}
    for f in kind.fields:
        if f.name == kind.id_field:
            continue
        value = base.get(f.name)
        row[f.name] = _cell(value)
    row["crs"] = "wgs84"  # stored positions are WGS-84; an edit of lon/lat is too
    row |= fields
    # Read as a one-row file would be, in memory (writing and parsing a file took longer than the checks).
    table = rows_table(Path(f"{kind.file_stems[0]}.csv"), list(row), [["" if v is None else str(v) for v in row.values()]], kind.name)
    checked = check_tables(kind, [table], default_crs=default_crs(None), reference=reference_date(reported_on))
    load = place_sites(merge_loads(reject_duplicate_ids([checked])), streets, config)
    rejected = load.problems[load.problems["severity"] == REJECTED]
    if len(rejected):
        raise EditRejected(problems=rejected.reset_index(drop=True))
    records = load.records.assign(source_file="platform", source_row=0)
    from dataclasses import replace

    return replace(load, records=records)


def _cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value)


def _platform_submission(conn, tables, source: str, kind: str, author: str, note: str, reported_on: dt.date) -> int:
    values = {
        "source": source,
        "kind": kind,
        "channel": "platform",
        "file_name": "",
        "sha256": "",
        "content_sha256": "",
        "rows": 1,
        "loaded": 1,
        "rejected": 0,
        "imported_at": utc_now(),
        "reported_on": reported_on,
        "os_user": author,
        "note": note,
    }
    return int(conn.execute(tables["submissions"].insert().values(**values)).inserted_primary_key[0])
