"""The coordinator's list of open records ("my open records"), most urgent first.

MERGE NOTE: :func:`open_records_for` is the platform's own minimal ordering, written while the
deliverables issue (#10) builds ``open_records(project, *, street=None)`` in the library. When
that lands, this one function is switched to call it (filtering its rows with the caller's
permissions as now); the page only needs the columns documented below.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from rollout.schema import KINDS

__all__ = ["STALE_DAYS", "URGENCY", "open_records_for"]

#: Why a record is on the list, most urgent first.
URGENCY = ("blocked", "overdue", "stale", "open")
#: A record whose latest date is older than this is "not updated".
STALE_DAYS = 28
_PLANNED = {"macro": "planned_on_air_date", "garage": "planned_covered_date"}


def open_records_for(records: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """The open records of a visible-records table (not done, not cancelled on ``as_of``), ordered
    by urgency: blocked (longest first), past their planned date (most overdue first), not
    updated for :data:`STALE_DAYS` days, then the rest by planned date.

    Adds ``urgency`` (a code of :data:`URGENCY`), ``days`` (blocked for, overdue by, or not
    updated for; 0 for the rest) and ``planned`` (the planned done date, or NaT).
    """
    if records.empty:
        return records.assign(urgency=pd.Series(dtype=object), days=pd.Series(dtype="int64"), planned=pd.Series(dtype="datetime64[ns]"))
    day = pd.Timestamp(as_of)
    done = np.zeros(len(records), dtype=bool)
    planned = pd.Series(pd.NaT, index=records.index, dtype="datetime64[ns]")
    latest = pd.Series(pd.NaT, index=records.index, dtype="datetime64[ns]")
    for name, kind in KINDS.items():
        mine = records["kind"].eq(name).to_numpy()
        done |= mine & records["status_as_of"].isin([*kind.done, "cancelled"]).to_numpy()
        planned[mine] = pd.to_datetime(records.loc[mine, _PLANNED[name]], errors="coerce")
        dates = [c for c in (*kind.date_fields(), "reported_on") if c in records.columns and not c.startswith("planned")]
        latest[mine] = records.loc[mine, dates].apply(pd.to_datetime, errors="coerce").max(axis=1)
    blocked = records["status_as_of"].eq("blocked").to_numpy()
    since = pd.to_datetime(records["status_date"], errors="coerce").fillna(latest)
    overdue = (planned < day).to_numpy() & ~blocked
    stale = ((day - latest).dt.days >= STALE_DAYS).to_numpy() & ~blocked & ~overdue
    urgency = np.select([blocked, overdue, stale], ["blocked", "overdue", "stale"], default="open")
    days = np.select(
        [blocked, overdue, stale],
        [(day - since).dt.days.fillna(0), (day - planned).dt.days.fillna(0), (day - latest).dt.days.fillna(0)],
        default=0,
    ).astype("int64")
    table = records.assign(urgency=urgency, days=days, planned=planned)[~done]
    rank = table["urgency"].map({u: i for i, u in enumerate(URGENCY)})
    # Within a class: the longest blocked / most overdue / longest silent first; the rest by planned date.
    key = np.where(
        table["urgency"].eq("open"), table["planned"].fillna(pd.Timestamp.max).astype("int64") // 86_400_000_000_000, -table["days"]
    )
    order = np.lexsort((table["record_id"].to_numpy(), key, rank.to_numpy()))
    return table.iloc[order].reset_index(drop=True)
