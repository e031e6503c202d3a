"""Checks of where a record stands: its status, its milestone dates and whether they agree."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rollout.checks import Columns, Context, Outcome
from rollout.problems import REJECTED, WARNING, Finding
from rollout.values import map_distinct, parse_date_columns

__all__ = ["check_dates", "check_milestones", "check_status"]


def check_status(columns: Columns, context: Context) -> Outcome:
    """The status in words of the kind's ladder (Chinese or English synonyms); blank or unknown is a reject."""
    cells = columns.cells["status"].astype(str)
    status = map_distinct(cells, context.kind.parse_status)
    blank = cells.str.strip() == ""
    problems = [Finding(blank, "status", "status_missing", REJECTED), Finding(status.isna() & ~blank, "status", "status_unknown", REJECTED)]
    return Outcome(values={"status": status}, problems=problems)


def check_dates(columns: Columns, context: Context) -> Outcome:
    """Milestone and other dates as people type them; rejected: unreadable dates, milestones out
    of order, and a done status whose date lies after the reference day."""
    kind, cells = context.kind, columns.cells
    status = columns.values["status"].to_numpy(dtype=object)
    dates: dict[str, pd.Series] = {}
    problems: list[Finding] = []
    given = [name for name in kind.date_fields() if name in context.given]
    parsed_columns = parse_date_columns(cells, given)
    for name in kind.date_fields():
        if name not in context.given:
            dates[name] = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
            continue
        parsed, bad = parsed_columns[name]
        if bad.to_numpy().any():
            problems.append(Finding(bad, name, "date_unreadable", REJECTED))
        dates[name] = parsed
    # The comparisons in numpy (NaT compares false, as in pandas): a few operations per column
    # pair, without pandas' fixed cost on each.
    days = {name: values.to_numpy() for name, values in dates.items()}
    ladder = [d for _, d in kind.ladder if d]
    for later_pos, later in enumerate(ladder):
        for earlier in ladder[:later_pos]:
            wrong = days[later] < days[earlier]
            if not wrong.any():
                continue
            shown = pd.Series("", index=cells.index, dtype=object)
            shown[wrong] = dates[earlier][wrong].dt.strftime("%Y-%m-%d")
            params = {
                "other_column": earlier,
                "other_header": context.header(earlier),
                "other_value": shown,
                "later_column": later,
                "later_header": context.header(later),
            }
            problems.append(Finding(pd.Series(wrong, index=cells.index), later, "date_order", REJECTED, params=params))
    reference = np.datetime64(context.reference, "D")
    for done_status in sorted(kind.done):
        milestone = dict(kind.ladder)[done_status]
        assert milestone is not None
        future = (status == done_status) & (days[milestone] > reference)
        if future.any():
            params = {"status": done_status, "reference": context.reference.isoformat()}
            problems.append(Finding(pd.Series(future, index=cells.index), milestone, "done_in_future", REJECTED, params=params))
    return Outcome(values=dates, problems=problems)


def check_milestones(columns: Columns, context: Context) -> Outcome:
    """Warnings about statuses and milestone dates that do not agree (rows kept)."""
    kind, values, index = context.kind, columns.values, columns.cells.index
    kept = ~columns.rejected
    status = values["status"]
    statuses = status.to_numpy(dtype=object)
    rank = {s: i for i, (s, _) in enumerate(kind.ladder)}
    status_rank = status.map(rank).to_numpy(dtype=float)  # NaN for no status: never behind
    problems: list[Finding] = []
    for position, (name, milestone) in enumerate(kind.ladder):
        if milestone is None:
            continue
        params = {"milestone_column": milestone, "milestone_header": context.header(milestone)}
        has_date = ~np.isnat(values[milestone].to_numpy(dtype="datetime64[ns]"))
        if name in kind.done:
            missing = kept & (statuses == name) & ~has_date
            if missing.any():
                problems.append(
                    Finding(pd.Series(missing, index=index), milestone, "done_without_date", WARNING, params={"status": name, **params})
                )
        ahead = kept & (status_rank < position) & has_date
        if ahead.any():
            problems.append(
                Finding(pd.Series(ahead, index=index), milestone, "status_behind_dates", WARNING, params={"status": status, **params})
            )
    blocker = values.get("blocker", pd.Series("", index=index))
    blocked = kept & (statuses == "blocked") & blocker.astype(str).str.strip().eq("").to_numpy()
    if blocked.any():
        problems.append(Finding(pd.Series(blocked, index=index), "blocker", "blocked_without_reason", WARNING))
    return Outcome(problems=problems)
