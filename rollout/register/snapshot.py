"""A snapshot of the current record versions, kept beside the history for fast reading.

An import rewrites, in its transaction, each kind's current versions as one Parquet blob
stamped with the newest submission's id. A platform edit (one record) does not rewrite it:
reading merges the few versions written since the snapshot (its *delta*) into it, and an edit
rewrites the snapshot only once the delta holds more than :data:`DELTA_KEPT` versions. Reading
the records as known on a day on or after the newest reported day, which is what most commands
do, is then one blob read and a small query instead of a query over every version; any other
day goes through the history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io

import pandas as pd

from rollout.schema import KINDS

__all__ = ["DELTA_KEPT", "read_snapshot", "snapshot_after_edit", "write_snapshot"]

#: Versions written after the snapshot that reading merges in before an edit rewrites it.
DELTA_KEPT = 500
_KEY = ["kind", "record_id", "source"]


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


def snapshot_after_edit(conn, tables) -> None:
    """After a platform edit (inside its transaction): rewrite the snapshot only when its delta
    has grown past :data:`DELTA_KEPT` versions (or there is no snapshot to merge into)."""
    import sqlalchemy as sa

    revisions = {r.kind: r.revision for r in conn.execute(sa.select(tables["snapshots"].c.kind, tables["snapshots"].c.revision))}
    if len(revisions) != len(KINDS) or len(set(revisions.values())) != 1:
        write_snapshot(conn, tables)
        return
    versions = tables["record_versions"]
    behind = conn.execute(sa.select(sa.func.count()).where(versions.c.valid_from > next(iter(revisions.values())))).scalar() or 0
    if behind > DELTA_KEPT:
        write_snapshot(conn, tables)


def read_snapshot(conn, tables, as_of: dt.date | None) -> pd.DataFrame | None:
    """The current versions of every kind when the snapshot (with the versions written since,
    see the module docstring) holds what was known on ``as_of`` (``as_of`` is on or after the
    newest reported day); else None."""
    import sqlalchemy as sa

    from rollout.register.replay import read_versions

    submissions, snapshots = tables["submissions"], tables["snapshots"]
    rows = conn.execute(sa.select(snapshots.c.kind, snapshots.c.revision, snapshots.c.data)).all()
    revision = _revision(conn, tables)
    if len(rows) != len(KINDS) or len({r.revision for r in rows}) != 1 or rows[0].revision > revision:
        return None
    if as_of is not None:
        newest = conn.execute(sa.select(sa.func.max(submissions.c.reported_on))).scalar()
        if newest is not None and pd.Timestamp(newest).date() > as_of:
            return None
    frames = [pd.read_parquet(io.BytesIO(r.data)) for r in sorted(rows, key=lambda r: list(KINDS).index(r.kind))]
    frame = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    if rows[0].revision == revision:
        return frame
    delta = read_versions(conn, tables, full=False, after=rows[0].revision).drop(columns=["confirmed_on"])
    return _merged(frame, delta)


def _merged(frame: pd.DataFrame, delta: pd.DataFrame) -> pd.DataFrame:
    """The snapshot with each sender's record replaced by its newer version from ``delta``, in the
    snapshot's order (kind, then record id and sender)."""
    if delta.empty:
        return frame
    replaced = pd.MultiIndex.from_frame(frame[_KEY].astype(str)).isin(pd.MultiIndex.from_frame(delta[_KEY].astype(str)))
    delta = delta.reindex(columns=frame.columns)
    for name, dtype in frame.dtypes.items():
        if delta[name].dtype != dtype:
            with contextlib.suppress(TypeError, ValueError):
                delta[name] = delta[name].astype(dtype)
    merged = pd.concat([frame[~replaced], delta], ignore_index=True)
    order = merged["kind"].map({k: i for i, k in enumerate(KINDS)})
    return (
        merged.assign(_order=order)
        .sort_values(["_order", "record_id", "source"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _revision(conn, tables) -> int:
    import sqlalchemy as sa

    return int(conn.execute(sa.select(sa.func.max(tables["submissions"].c.id))).scalar() or 0)
