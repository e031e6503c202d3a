"""Each record's state on any day, derived from its milestone dates.

The status column says where a record stands now; the milestone dates say when it got
there. The state on a day ``as_of`` is the last milestone reached by then, never beyond the
declared status. A declared status whose own date is missing, and a blocked or cancelled
status without a ``status_date``, are taken to apply from today (``settings.today()``): we
know they hold now, not since when.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from rollout import settings
from rollout.schema import SiteKind

__all__ = ["status_as_of"]


def status_as_of(records: pd.DataFrame, kind: SiteKind, as_of: dt.date, *, today: dt.date | None = None) -> pd.Series:
    """Return each record's canonical status on ``as_of``, aligned to ``records.index``.

    >>> from rollout.schema import MACRO
    >>> records = pd.DataFrame({
    ...     "status": ["on_air", "on_air", "blocked"],
    ...     "site_secured_date": pd.to_datetime(["2024-01-10", None, "2024-01-05"]),
    ...     "construction_start_date": pd.to_datetime(["2024-02-01", "2024-02-01", None]),
    ...     "on_air_date": pd.to_datetime(["2024-03-01", None, None]),
    ...     "status_date": pd.to_datetime([None, None, "2024-02-15"]),
    ... })
    >>> status_as_of(records, MACRO, dt.date(2024, 2, 20), today=dt.date(2024, 6, 1)).tolist()
    ['under_construction', 'under_construction', 'blocked']
    >>> status_as_of(records, MACRO, dt.date(2024, 6, 1), today=dt.date(2024, 6, 1)).tolist()
    ['on_air', 'on_air', 'blocked']
    """
    today = settings.today() if today is None else today
    day = pd.Timestamp(as_of)
    steps = [s for s, _ in kind.ladder]
    rank = {s: i for i, s in enumerate(steps)}
    derived = np.zeros(len(records), dtype=np.int64)
    for position, (_, milestone) in enumerate(kind.ladder):
        if milestone is not None:
            reached = (records[milestone] <= day).to_numpy()
            derived = np.where(reached, np.maximum(derived, position), derived)
    declared = records["status"]
    declared_rank = declared.map(rank)
    has_rank = declared_rank.notna().to_numpy()
    declared_values = declared_rank.fillna(0).to_numpy(dtype=np.int64)
    state = np.where(has_rank, np.minimum(derived, declared_values), derived)
    if as_of >= today:
        own_date_missing = _own_date_missing(records, kind).to_numpy()
        state = np.where(has_rank & own_date_missing, declared_values, state)
    result = pd.Series(np.asarray(steps, dtype=object)[state], index=records.index)
    for final in ("blocked", "cancelled"):
        is_final = declared.eq(final)
        since = records["status_date"] if "status_date" in records.columns else pd.Series(pd.NaT, index=records.index)
        applies = is_final & ((since <= day) | (since.isna() & (as_of >= today)))
        result[applies] = final
    return result


def _own_date_missing(records: pd.DataFrame, kind: SiteKind) -> pd.Series:
    """True where the declared status is a ladder step whose milestone date is blank."""
    missing = pd.Series(False, index=records.index)
    for status, milestone in kind.ladder:
        if milestone is not None:
            missing |= records["status"].eq(status) & records[milestone].isna()
    return missing
