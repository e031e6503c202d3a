"""A snapshot of the current record versions, kept beside the history for fast reading.

Every write (an import, a platform edit) rewrites, in the same transaction, each kind's
current versions as one Parquet blob stamped with the newest submission's id. Reading the
records as known on a day on or after the newest reported day, which is what most commands
do, is then one blob read instead of a query over every version; any other day, or a snapshot
older than the newest submission, goes through the history.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from rollout.schema import KINDS

__all__ = ["read_snapshot", "write_snapshot"]


def write_snapshot(conn, tables) -> None:
    """Rewrite every kind's snapshot from the current versions (inside the write transaction)."""
    import sqlalchemy as sa

    from rollout.register.replay import read_versions

    snapshots = tables["snapshots"]
    revision = _revision(conn, tables)
    conn.execute(snapshots.delete())
    for kind in KINDS:
        frame = read_versions(conn, tables, kind=kind, full=False).drop(columns=["confirmed_on"])
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, compression="zstd")
        conn.execute(sa.insert(snapshots).values(kind=kind, revision=revision, data=buffer.getvalue()))


def read_snapshot(conn, tables, as_of: dt.date | None) -> pd.DataFrame | None:
    """The current versions of every kind when the snapshot holds what was known on ``as_of``
    (it is up to date, and ``as_of`` is on or after the newest reported day); else None."""
    import sqlalchemy as sa

    submissions, snapshots = tables["submissions"], tables["snapshots"]
    rows = conn.execute(sa.select(snapshots.c.kind, snapshots.c.revision, snapshots.c.data)).all()
    revision = _revision(conn, tables)
    if len(rows) != len(KINDS) or any(r.revision != revision for r in rows):
        return None
    if as_of is not None:
        newest = conn.execute(sa.select(sa.func.max(submissions.c.reported_on))).scalar()
        if newest is not None and pd.Timestamp(newest).date() > as_of:
            return None
    frames = [pd.read_parquet(io.BytesIO(r.data)) for r in sorted(rows, key=lambda r: list(KINDS).index(r.kind))]
    return pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)


def _revision(conn, tables) -> int:
    import sqlalchemy as sa

    return int(conn.execute(sa.select(sa.func.max(tables["submissions"].c.id))).scalar() or 0)
