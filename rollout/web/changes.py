"""One change to one record, from a page's form or the API: checked, applied, audited.

:func:`change_record` is the only way the platform changes a record. It refuses, before anything
is written: a record that is not there (404), one outside the user's scope or that they may
not change (403), a
field the user's role may not change or that the platform does not change (403 / 422), a
missing or impossible date (422). :func:`rollout.register.apply_edit` then checks the values
with the row checks of files (:class:`~rollout.register.EditRejected`, 422), the version
(:class:`~rollout.register.StaleVersionError`, 409) and writes a new version with the user as
author. Every accepted change and every refused attempt is in the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from rollout.register.clock import shanghai_today
from rollout.register.edits import EditResult, apply_edit
from rollout.register.errors import EditRejected, RegisterError, StaleVersionError
from rollout.schema import KINDS
from rollout.web.accounts import User
from rollout.web.audit import audit
from rollout.web.permissions import PLATFORM_FIELDS, editable_fields, may_view
from rollout.web.state import Platform

__all__ = ["ChangeRefused", "change_record", "parse_day"]


@dataclass
class ChangeRefused(Exception):
    """A change refused before the register was asked: HTTP status, catalogue key and parameters."""

    status: int
    key: str
    params: dict


def parse_day(text: str | None, *, latest: dt.date | None, required: bool) -> dt.date:
    """The day a change describes: as typed in the files, not after today, not before the
    record's latest report; today when not ``required`` and not given."""
    from rollout.values import as_date

    if text is None or not str(text).strip():
        if required:
            raise ChangeRefused(422, "web.edit.day_missing", {})
        text = shanghai_today().isoformat()
    try:
        day = as_date(str(text))
    except ValueError:
        day = None
    if day is None:
        raise ChangeRefused(422, "web.edit.day_unreadable", {"value": str(text)[:40]})
    today = shanghai_today()
    if day > today:
        raise ChangeRefused(422, "web.edit.day_future", {"value": day.isoformat(), "today": today.isoformat()})
    if latest is not None and day < latest:
        raise ChangeRefused(422, "web.edit.day_before_report", {"value": day.isoformat(), "latest": latest.isoformat()})
    return day


def change_record(
    state: Platform,
    user: User,
    kind: str,
    record_id: str,
    fields: dict[str, object],
    *,
    version: int | None,
    day_text: str | None,
    note: str,
    ip: str,
    channel: str,
    day_required: bool = True,
) -> EditResult:
    """Apply ``fields`` to the record for ``user`` (see the module docstring)."""
    target = f"{kind}/{record_id}"
    row = state.record(kind, record_id, reader=user.id) if kind in KINDS else None
    if row is None:
        raise ChangeRefused(404, "web.error.no_record", {"kind": kind, "id": record_id})
    if not may_view(user, row):
        audit(state.register, user.name, "edit_refused", target=target, ip=ip, detail={"outside": True})
        raise ChangeRefused(403, "web.error.not_yours", {"kind": kind, "id": record_id})
    allowed = editable_fields(user, row)
    unknown = sorted(f for f in fields if f not in PLATFORM_FIELDS[kind])
    refused = sorted(f for f in fields if f in PLATFORM_FIELDS[kind] and f not in allowed)
    if unknown:
        raise ChangeRefused(422, "web.edit.not_platform_field", {"fields": ", ".join(unknown), "kind": kind})
    if not allowed or refused:
        audit(state.register, user.name, "edit_refused", target=target, ip=ip, detail={"fields": refused or sorted(fields)})
        raise ChangeRefused(403, "web.edit.field_refused", {"fields": ", ".join(refused or sorted(fields))})
    if not fields:
        raise ChangeRefused(422, "web.edit.nothing", {})
    latest = pd.Timestamp(row["reported_on"]) if pd.notna(row.get("reported_on")) else None
    day = parse_day(day_text, latest=latest.date() if latest is not None else None, required=day_required)
    try:
        result = apply_edit(
            state.register,
            state.config,
            state.streets,
            kind,
            record_id,
            fields,
            author=user.author,
            note=note,
            reported_on=day,
            expected_version=version,
        )
    except StaleVersionError as e:
        audit(state.register, user.name, "edit_refused", target=target, ip=ip, detail={"stale": version, "current": e.current_version})
        raise
    except EditRejected:
        raise
    except RegisterError as e:
        if e.key == "register.no_record":
            raise ChangeRefused(404, "web.error.no_record", {"kind": kind, "id": record_id}) from e
        raise
    if result.submission_id is not None:
        changed = sorted(set(result.changes["field"]) - {""}) if len(result.changes) else []
        detail = {"version": result.version, "fields": changed, "note": note, "day": day.isoformat(), "via": channel}
        audit(state.register, user.name, "edit", target=target, ip=ip, detail=detail)
        if channel == "page":  # the person at the browser sees their change everywhere at once
            state.wrote(user.id)
    return result
