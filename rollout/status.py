"""Each record's state on any day, derived from its milestone dates.

The status column says where a record stands now; the milestone dates say when it got
there. The state on a day ``as_of`` is the last milestone reached by then, never beyond the
declared status. A declared status whose own date is missing, and a blocked or cancelled
status without a ``status_date``, are taken to apply from today (``settings.today()``): we
know they hold now, not since when. Records from the register carry ``reported_on``, the day
their sender reported them: for those, "now" is that day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from rollout import settings
from rollout.schema import SiteKind

__all__ = ["actual_date_fields", "as_known_on", "done_counts", "done_interval", "status_as_of"]


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
    day = np.datetime64(as_of, "D")
    # In numpy, the declared statuses looked up once per distinct value: a dozen pandas
    # operations per call would cost more than the counting itself on a district's records.
    steps = [s for s, _ in kind.ladder]
    codes, declared = _status_codes(records)
    declared_rank = np.array([steps.index(s) if s in steps else -1 for s in declared] + [-1], dtype=np.int64)[codes]
    derived = np.zeros(len(records), dtype=np.int64)
    for position, (_, milestone) in enumerate(kind.ladder):
        if milestone is not None:
            reached = _dates(records, milestone) <= day
            derived = np.where(reached, np.maximum(derived, position), derived)
    has_rank = declared_rank >= 0
    declared_values = np.where(has_rank, declared_rank, 0)
    state = np.where(has_rank, np.minimum(derived, declared_values), derived)
    declared_known = day >= _known_since(records, today)
    own_date_missing = _own_date_missing(records, kind).to_numpy()
    state = np.where(has_rank & own_date_missing & declared_known, declared_values, state)
    result = np.asarray(steps, dtype=object)[state]
    since = _dates(records, "status_date") if "status_date" in records.columns else np.full(len(records), np.datetime64("NaT", "ns"))
    for final in ("blocked", "cancelled"):
        is_final = (codes == declared.index(final)) if final in declared else np.zeros(len(records), dtype=bool)
        applies = is_final & ((since <= day) | (np.isnat(since) & declared_known))
        result[applies] = final
    return pd.Series(result, index=records.index)


def _status_codes(records: pd.DataFrame) -> tuple[np.ndarray, list]:
    """Each record's declared status as a position in the list of distinct statuses (-1: none)."""
    codes, distinct = pd.factorize(records["status"])
    return codes, list(distinct)


def _dates(records: pd.DataFrame, name: str) -> np.ndarray:
    return records[name].to_numpy(dtype="datetime64[ns]")


def _known_since(records: pd.DataFrame, today: dt.date) -> np.ndarray:
    """From which day each record's declared status is known to hold: its ``reported_on`` (from
    the register) when it has one, else today."""
    today64 = np.datetime64(today, "D")
    if "reported_on" not in records.columns:
        return np.full(len(records), today64)
    reported = records["reported_on"].to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(reported), today64, np.minimum(reported, today64))


def actual_date_fields(kind: SiteKind) -> tuple[str, ...]:
    """The date columns that say when something happened (planned dates, ``planned_*``, do not)."""
    return tuple(name for name in kind.date_fields() if not name.startswith("planned_"))


def as_known_on(records: pd.DataFrame, kind: SiteKind, as_of: dt.date, *, today: dt.date | None = None) -> pd.DataFrame:
    """The records as they were known on ``as_of``: a new frame, ``records`` unchanged.

    Replaying a past day must not show what happened after it: every actual date after
    ``as_of`` is blanked (planned dates stay), ``status`` becomes the status on that day, the
    blocker is kept only for records blocked then, and values known only after a milestone
    (acceptance results after ``covered_date``, see :attr:`rollout.schema.Field.known_after`)
    are blanked while that milestone had not been reached. On or after today nothing changes.

    >>> from rollout.schema import MACRO
    >>> records = pd.DataFrame({
    ...     "status": ["on_air", "blocked"], "blocker": ["", "物业不同意"],
    ...     "site_secured_date": pd.to_datetime(["2024-05-01", "2024-04-01"]),
    ...     "construction_start_date": pd.to_datetime(["2024-06-10", None]),
    ...     "on_air_date": pd.to_datetime(["2024-08-03", None]),
    ...     "planned_on_air_date": pd.to_datetime(["2024-08-01", "2024-09-01"]),
    ...     "status_date": pd.to_datetime([None, "2024-07-15"]), "updated_date": pd.NaT,
    ... })
    >>> known = as_known_on(records, MACRO, dt.date(2024, 6, 30), today=dt.date(2026, 1, 1))
    >>> known["status"].tolist(), known["on_air_date"].isna().tolist(), known["blocker"].tolist()
    (['under_construction', 'site_secured'], [True, True], ['', ''])
    >>> known["planned_on_air_date"].dt.strftime("%m-%d").tolist()
    ['08-01', '09-01']
    """
    today = settings.today() if today is None else today
    if as_of >= today or records.empty:
        return records
    day = pd.Timestamp(as_of)
    known = records.copy(deep=False)  # copy-on-write: the columns changed below are new, the others shared
    known["status"] = status_as_of(records, kind, as_of, today=today)
    for name in actual_date_fields(kind):
        if name in known.columns:
            known[name] = _blank_after(known[name], day)
    if "blocker" in known.columns:
        known["blocker"] = known["blocker"].where(known["status"].eq("blocked"), "")
    for field in kind.fields:
        if field.known_after and field.name in known.columns and field.known_after in known.columns:
            unknown = known[field.known_after].isna()
            if not unknown.to_numpy().any():
                continue  # every record had reached the milestone: nothing to blank
            column = known[field.name]
            blank = "" if column.dtype == object else pd.NA if str(column.dtype) in ("Int64", "boolean") else np.nan
            known[field.name] = column.mask(unknown, blank)
    return known


def _blank_after(dates: pd.Series, day: pd.Timestamp) -> pd.Series:
    """``dates`` without those after ``day`` (in numpy for plain date columns: the same as
    ``dates.mask(dates > day)`` at a fraction of its cost on small frames)."""
    values = dates.to_numpy()
    if values.dtype.kind != "M":
        return dates.mask(dates > day)
    return pd.Series(np.where(values > day.to_datetime64(), np.datetime64("NaT"), values), index=dates.index, name=dates.name)


def _own_date_missing(records: pd.DataFrame, kind: SiteKind) -> pd.Series:
    """True where the declared status is a ladder step whose milestone date is blank."""
    codes, declared = _status_codes(records)
    missing = np.zeros(len(records), dtype=bool)
    for status, milestone in kind.ladder:
        if milestone is not None and status in declared:
            missing |= (codes == declared.index(status)) & np.isnat(_dates(records, milestone))
    return pd.Series(missing, index=records.index)


def done_interval(records: pd.DataFrame, kind: SiteKind, *, today: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
    """When each record is done, as :func:`status_as_of` would say on any day: done on ``day``
    exactly when ``since <= day < until`` (``datetime64[D]``; NaT ``since``: never done; NaT
    ``until``: done from then on).

    The same rules in one pass instead of one per day: done is reached on the first milestone
    date at or above the first done step, when the declared status is at or above it too (or
    from today when the declared status has no date of its own); a blocked or cancelled record
    stops being done from its ``status_date`` (or from today when it has none).
    """
    today = settings.today() if today is None else today
    n = len(records)
    never = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if n == 0:
        return never, never.copy()
    steps = [s for s, _ in kind.ladder]
    first_done = min(steps.index(s) for s in kind.done)
    reached = never.copy()
    for position, (_, milestone) in enumerate(kind.ladder):
        if milestone is not None and position >= first_done:
            dates = records[milestone].to_numpy(dtype="datetime64[D]")
            reached = np.fmin(reached, dates)
    declared = records["status"]
    rank = declared.map({s: i for i, s in enumerate(steps)})
    has_rank = rank.notna().to_numpy()
    high_enough = (rank.fillna(-1).to_numpy() >= first_done) & has_rank
    today64 = _known_since(records, today)
    own_missing = _own_date_missing(records, kind).to_numpy()
    since = np.where(high_enough, reached, never)
    since = np.where(high_enough & own_missing, np.fmin(since, today64), since)
    final = declared.isin(["blocked", "cancelled"]).to_numpy()
    since = np.where(final | (~has_rank & ~final), reached, since)  # no ladder status: the milestones decide
    until = never.copy()
    if "status_date" in records.columns:
        status_date = records["status_date"].to_numpy(dtype="datetime64[D]")
    else:
        status_date = never
    until = np.where(final, np.where(np.isnat(status_date), today64, status_date), until)
    # A record blocked before it was ever done is never done.
    since = np.where(~np.isnat(until) & (since >= until), np.datetime64("NaT"), since)
    return since.astype("datetime64[D]"), until.astype("datetime64[D]")


def done_counts(
    records: pd.DataFrame, kind: SiteKind, days: list[dt.date], codes: list[str], *, today: dt.date | None = None
) -> pd.DataFrame:
    """Records done on each of ``days`` (sorted), per street: a frame of days x street codes.

    >>> from rollout.schema import MACRO
    >>> records = pd.DataFrame({
    ...     "street_code": ["a", "a", "b"], "status": ["on_air", "blocked", "on_air"],
    ...     "site_secured_date": pd.NaT, "construction_start_date": pd.NaT,
    ...     "on_air_date": pd.to_datetime(["2024-01-10", "2024-01-05", "2024-02-01"]),
    ...     "status_date": pd.to_datetime([None, "2024-01-20", None]),
    ... })
    >>> done_counts(records, MACRO, [dt.date(2024, 1, 15), dt.date(2024, 2, 15)], ["a", "b"], today=dt.date(2024, 6, 1)).values.tolist()
    [[2, 0], [1, 1]]
    """
    days64 = np.array(days, dtype="datetime64[D]")
    table = np.zeros((len(days) + 1, len(codes)), dtype=np.int64)
    if len(records):
        since, until = done_interval(records, kind, today=today)
        column = pd.Index(codes).get_indexer(pd.Index(records["street_code"]))
        known = column >= 0
        # +1 from the first day on or after `since`, -1 from the first day on or after `until`.
        start = np.searchsorted(days64, since, side="left")
        stop = np.searchsorted(days64, until, side="left")
        counted = known & ~np.isnat(since)
        np.add.at(table, (start[counted], column[counted]), 1)
        ends = counted & ~np.isnat(until)
        np.add.at(table, (stop[ends], column[ends]), -1)
    return pd.DataFrame(np.cumsum(table, axis=0)[:-1], index=days, columns=codes)
