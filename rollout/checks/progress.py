"""Checks of where a record stands: its status, its milestone dates and whether they agree."""

from __future__ import annotations

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
    status = columns.values["status"]
    dates: dict[str, pd.Series] = {}
    problems: list[Finding] = []
    given = [name for name in kind.date_fields() if name in context.given]
    parsed_columns = parse_date_columns(cells, given)
    for name in kind.date_fields():
        if name not in context.given:
            dates[name] = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
            continue
        parsed, bad = parsed_columns[name]
        problems.append(Finding(bad, name, "date_unreadable", REJECTED))
        dates[name] = parsed
    ladder = [d for _, d in kind.ladder if d]
    for later_pos, later in enumerate(ladder):
        for earlier in ladder[:later_pos]:
            wrong = dates[later] < dates[earlier]
            if not wrong.any():
                continue
            shown = pd.Series("", index=wrong.index, dtype=object)
            shown[wrong] = dates[earlier][wrong].dt.strftime("%Y-%m-%d")
            params = {
                "other_column": earlier,
                "other_header": context.header(earlier),
                "other_value": shown,
                "later_column": later,
                "later_header": context.header(later),
            }
            problems.append(Finding(wrong, later, "date_order", REJECTED, params=params))
    reference = pd.Timestamp(context.reference)
    for done_status in sorted(kind.done):
        milestone = dict(kind.ladder)[done_status]
        assert milestone is not None
        future = status.eq(done_status) & (dates[milestone] > reference)
        params = {"status": done_status, "reference": context.reference.isoformat()}
        problems.append(Finding(future, milestone, "done_in_future", REJECTED, params=params))
    return Outcome(values=dates, problems=problems)


def check_milestones(columns: Columns, context: Context) -> Outcome:
    """Warnings about statuses and milestone dates that do not agree (rows kept)."""
    kind, values = context.kind, columns.values
    kept = pd.Series(~columns.rejected, index=columns.cells.index)
    status = values["status"]
    rank = {s: i for i, (s, _) in enumerate(kind.ladder)}
    status_rank = status.map(rank)
    problems: list[Finding] = []
    for position, (name, milestone) in enumerate(kind.ladder):
        if milestone is None:
            continue
        params = {"milestone_column": milestone, "milestone_header": context.header(milestone)}
        if name in kind.done:
            missing = kept & status.eq(name) & values[milestone].isna()
            problems.append(Finding(missing, milestone, "done_without_date", WARNING, params={"status": name, **params}))
        ahead = kept & status_rank.lt(position) & values[milestone].notna()
        problems.append(Finding(ahead, milestone, "status_behind_dates", WARNING, params={"status": status, **params}))
    blocker = values.get("blocker", pd.Series("", index=status.index))
    blocked = kept & status.eq("blocked") & blocker.astype(str).str.strip().eq("")
    problems.append(Finding(blocked, "blocker", "blocked_without_reason", WARNING))
    return Outcome(problems=problems)
