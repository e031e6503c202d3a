"""What the register can tell: changes over a period, a record's history, who sent what.

Every function takes an open :class:`~rollout.register.store.Register` and returns a table of
codes (English column names); :mod:`rollout.register.render` puts them into words.
Timestamps are stored in UTC and shown in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rollout.i18n import Lang, t
from rollout.register.render import change_label, field_label, value_label
from rollout.register.store import Register

__all__ = [
    "CHANGES_COLUMNS",
    "HISTORY_COLUMNS",
    "changes_between",
    "history_rows",
    "latest_reported_on",
    "overdue_senders",
    "record_history",
    "records_changed_after",
    "shanghai_time",
    "submissions_between",
]

#: Columns of ``rollout changes`` (CSV machine columns).
CHANGES_COLUMNS = ["record_id", "kind", "source", "change", "field", "old", "new", "submission", "reported_on"]


def shanghai_time(values: pd.Series) -> pd.Series:
    """UTC timestamps as Asia/Shanghai wall time text (``2024-06-30 17:05``)."""
    stamps = pd.to_datetime(values, errors="coerce").dt.tz_localize("UTC").dt.tz_convert("Asia/Shanghai")
    return stamps.dt.strftime("%Y-%m-%d %H:%M").fillna("")


def records_changed_after(register: Register, submission: int, *, limit: int) -> list[tuple[str, str]] | None:
    """(kind, id) of the records that have a version written by a submission after ``submission``
    (sorted); None when there are more than ``limit`` of them (then reading everything is quicker)."""
    import sqlalchemy as sa

    records, versions = register.tables["records"], register.tables["record_versions"]
    query = (
        sa.select(records.c.kind, records.c.record_id)
        .join(versions, versions.c.record == records.c.id)
        .where(versions.c.valid_from > submission)
        .distinct()
        .order_by(records.c.kind, records.c.record_id)
        .limit(limit + 1)
    )
    with register.read() as conn:
        rows = [(str(k), str(r)) for k, r in conn.execute(query)]
    return None if len(rows) > limit else rows


def latest_reported_on(register: Register) -> dt.date | None:
    """The reported date of the newest submission, or None for an empty register."""
    import sqlalchemy as sa

    submissions = register.tables["submissions"]
    with register.read() as conn:
        value = conn.execute(sa.select(sa.func.max(submissions.c.reported_on))).scalar()
    return pd.Timestamp(value).date() if value is not None else None


def changes_between(
    register: Register,
    start: dt.date | None,
    end: dt.date | None,
    *,
    source: str | None = None,
    kind: str | None = None,
    changes: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One row per change found by the submissions reported from ``start`` to ``end``."""
    import sqlalchemy as sa

    table, submissions = register.tables["changes"], register.tables["submissions"]
    query = sa.select(
        table.c.record_id,
        table.c.kind,
        table.c.source,
        table.c.change,
        table.c.field,
        table.c.old,
        table.c.new,
        table.c.submission,
        submissions.c.reported_on,
    ).join(submissions, table.c.submission == submissions.c.id)
    if start is not None:
        query = query.where(submissions.c.reported_on >= start)
    if end is not None:
        query = query.where(submissions.c.reported_on <= end)
    if source is not None:
        query = query.where(table.c.source == source)
    if kind is not None:
        query = query.where(table.c.kind == kind)
    if changes:
        query = query.where(table.c.change.in_(changes))
    with register.read() as conn:
        frame = pd.read_sql(query.order_by(submissions.c.reported_on, table.c.submission, table.c.id), conn)
    frame["reported_on"] = pd.to_datetime(frame["reported_on"]).dt.strftime("%Y-%m-%d")
    return frame[CHANGES_COLUMNS]


#: Columns of :func:`record_history` (and keys of :func:`history_rows`).
HISTORY_COLUMNS = [
    "kind",
    "record_id",
    "source",
    "version",
    "state",
    "status",
    "submission",
    "reported_on",
    "file_name",
    "channel",
    "author",
    "imported_at",
    "valid_to",
    "what",
    "note",
]
_SHANGHAI = None


def record_history(register: Register, record_id: str, *, kind: str | None = None, lang: Lang = "zh") -> pd.DataFrame:
    """Every version of a record from every sender, oldest first, with what changed.

    Columns (:data:`HISTORY_COLUMNS`): kind, record_id, source, version, state, status,
    submission, reported_on, file_name, channel, author, imported_at (Asia/Shanghai), valid_to,
    what (the changes of that submission for the record, ``field: old -> new``, or the change
    classes), note (why: the note of a platform edit).
    """
    rows = history_rows(register, record_id, kind=kind, lang=lang)
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS) if rows else pd.DataFrame(columns=HISTORY_COLUMNS)


def history_rows(register: Register, record_id: str, *, kind: str | None = None, lang: Lang = "zh") -> list[dict]:
    """:func:`record_history` as a list of rows (dicts): a record has a handful of versions, and
    for so few rows plain Python is many times quicker than a table (the platform's record page)."""
    import sqlalchemy as sa

    versions, records, submissions, changes = (register.tables[n] for n in ("record_versions", "records", "submissions", "changes"))
    with register.read() as conn:
        has_author = register.has_column(conn, "record_versions", "author")
        query = (
            sa.select(
                records.c.kind,
                records.c.record_id,
                records.c.source,
                versions.c.version,
                versions.c.state,
                versions.c.status,
                versions.c.valid_from.label("submission"),
                submissions.c.reported_on,
                submissions.c.file_name,
                submissions.c.channel,
                (versions.c.author if has_author else submissions.c.os_user).label("author"),
                submissions.c.imported_at,
                versions.c.valid_to,
                versions.c.changes.label("classes"),
                submissions.c.note,
            )
            .join(records, versions.c.record == records.c.id)
            .join(submissions, versions.c.valid_from == submissions.c.id)
            .where(records.c.record_id == record_id)
        )
        if kind is not None:
            query = query.where(records.c.kind == kind)
        rows = conn.execute(query.order_by(submissions.c.reported_on, versions.c.valid_from, records.c.source)).mappings().all()
        found_query = sa.select(changes.c.submission, changes.c.source, changes.c.change, changes.c.field, changes.c.old, changes.c.new)
        found_query = found_query.where(changes.c.record_id == record_id, changes.c.change != "conflict")
        if kind is not None:  # the index is on (kind, record_id)
            found_query = found_query.where(changes.c.kind == kind)
        found = conn.execute(found_query).all()
    if not rows:
        return []
    record_kind = rows[0]["kind"]
    texts: dict[tuple[int, str], list[str]] = {}
    for submission, source, change, field, old, new in found:
        texts.setdefault((submission, source), []).append(_change_text(record_kind, change, field, old, new, lang))
    separator = t("register.change_separator", lang)
    out = []
    for row in rows:
        key = (row["submission"], row["source"])
        out.append(
            {
                **{c: row[c] for c in HISTORY_COLUMNS if c in row and c not in ("reported_on", "imported_at", "valid_to")},
                "reported_on": _day_text(row["reported_on"]),
                "imported_at": _shanghai_text(row["imported_at"]),
                "valid_to": "" if row["valid_to"] is None else str(int(row["valid_to"])),
                "what": separator.join(texts[key]) if key in texts else row["classes"],
            }
        )
    return out


def _day_text(value) -> str | None:
    """A date (or its text) as ``2024-06-30``."""
    if value is None:
        return None
    return value.isoformat()[:10] if isinstance(value, dt.date) else str(value)[:10]


def _shanghai_text(value) -> str:
    """A UTC timestamp (or its text) as Asia/Shanghai wall time text, as :func:`shanghai_time` gives it."""
    global _SHANGHAI
    if value is None:
        return ""
    if _SHANGHAI is None:
        from zoneinfo import ZoneInfo

        _SHANGHAI = ZoneInfo("Asia/Shanghai")
    stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    stamp = stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp
    return stamp.astimezone(_SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _change_text(kind: str, change: str, field: str, old: str, new: str, lang: Lang) -> str:
    """One change in words: ``倒退 状态：已开通 → 规划``."""
    label = change_label(change, lang)
    if not field:
        return t("register.pair", lang, name=label, value=value_label(kind, "", new or old, lang))
    old_text, new_text = value_label(kind, field, old, lang), value_label(kind, field, new, lang)
    return t("register.pair", lang, name=f"{label} {field_label(kind, field, lang)}", value=f"{old_text} → {new_text}")


def submissions_between(register: Register, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Submissions reported from ``start`` to ``end``: who sent what, when, how many rows."""
    import sqlalchemy as sa

    submissions = register.tables["submissions"]
    query = sa.select(submissions)
    if start is not None:
        query = query.where(submissions.c.reported_on >= start)
    if end is not None:
        query = query.where(submissions.c.reported_on <= end)
    with register.read() as conn:
        frame = pd.read_sql(query.order_by(submissions.c.reported_on, submissions.c.id), conn)
    frame = frame.rename(columns={"id": "submission"})
    frame["reported_on"] = pd.to_datetime(frame["reported_on"]).dt.strftime("%Y-%m-%d")
    frame["imported_at"] = shanghai_time(frame["imported_at"])
    columns = [
        "submission",
        "source",
        "kind",
        "channel",
        "file_name",
        "rows",
        "loaded",
        "rejected",
        "reported_on",
        "imported_at",
        "os_user",
    ]
    return frame[columns]


def overdue_senders(register: Register, day: dt.date) -> pd.DataFrame:
    """Senders (per kind) with no file submission in the ``overdue_weeks`` weeks up to ``day``.

    Only senders that have sent that kind before are expected. Columns: source, kind,
    last_reported, weeks_silent.
    """
    import sqlalchemy as sa

    submissions = register.tables["submissions"]
    query = (
        sa.select(submissions.c.source, submissions.c.kind, sa.func.max(submissions.c.reported_on).label("last_reported"))
        .where(submissions.c.channel == "file", submissions.c.reported_on <= day)
        .group_by(submissions.c.source, submissions.c.kind)
    )
    with register.read() as conn:
        frame = pd.read_sql(query, conn)
    last = pd.to_datetime(frame["last_reported"])
    silent_days = (pd.Timestamp(day) - last).dt.days
    weeks = register.settings.overdue_weeks
    overdue = frame[silent_days.to_numpy() >= weeks * 7].assign(weeks_silent=(silent_days // 7)[silent_days >= weeks * 7])
    overdue["last_reported"] = pd.to_datetime(overdue["last_reported"]).dt.strftime("%Y-%m-%d")
    return overdue.sort_values(["kind", "source"]).reset_index(drop=True)[["source", "kind", "last_reported", "weeks_silent"]]
