"""The audit log: who logged in (or failed to), changed, uploaded, published or managed what, when, from where.

Entries are kept in the register's ``audit_log`` table (UTC) and shown in Asia/Shanghai time.
``detail`` is a small JSON object (the fields changed, the file's name and digest, ...).
"""

from __future__ import annotations

import json

import pandas as pd

from rollout.register.clock import utc_now
from rollout.register.store import Register

__all__ = ["ACTIONS", "audit", "audit_entries"]

#: Every action the log records.
ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "password_changed",
    "edit",
    "edit_refused",
    "upload_preview",
    "upload",
    "publish",
    "resolve",
    "user_added",
    "user_disabled",
    "user_enabled",
    "password_reset",
    "token_issued",
    "token_revoked",
)


def audit(register: Register, user_name: str, action: str, *, target: str = "", ip: str = "", detail: dict | None = None) -> None:
    """Add an entry (its own small transaction, so that it is kept even when the request then fails)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str) if detail else ""
    with register.write() as conn:
        conn.execute(
            register.tables["audit_log"]
            .insert()
            .values(at=utc_now(), user_name=user_name[:64], action=action, target=target[:200], ip=ip[:64], detail=text)
        )


def audit_entries(register: Register, *, limit: int = 200, action: str | None = None, user_name: str | None = None) -> pd.DataFrame:
    """The latest entries, newest first: at (Asia/Shanghai), user_name, action, target, ip, detail."""
    import sqlalchemy as sa

    from rollout.register.queries import shanghai_time

    table = register.tables["audit_log"]
    query = sa.select(table.c.at, table.c.user_name, table.c.action, table.c.target, table.c.ip, table.c.detail)
    if action:
        query = query.where(table.c.action == action)
    if user_name:
        query = query.where(table.c.user_name == user_name)
    with register.read() as conn:
        frame = pd.read_sql(query.order_by(table.c.id.desc()).limit(limit), conn)
    frame["at"] = shanghai_time(frame["at"])
    return frame
