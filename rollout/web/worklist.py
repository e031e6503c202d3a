"""The coordinator's list of open records ("my open records"): the library's list, the user's part.

The list is :func:`rollout.open_records.open_records` (the one ``rollout gaps``, the briefs and
the worksheets chase: who must act, the next milestone, urgency, most urgent first within each
street), computed once per project and kept to the records the user may see. So a street
coordinator's page and the street's gaps list hold the same records in the same order.
"""

from __future__ import annotations

import pandas as pd

from rollout.open_records import URGENCY

__all__ = ["URGENCY", "WITH_DAYS", "open_records_for"]

#: Urgencies shown with a number of days (blocked for, overdue by, not updated for).
WITH_DAYS = {"blocked": "days_blocked", "overdue": "days_overdue", "stale": "days_since_update"}
#: Columns of the records view added to the list (who sends it, its operators, its version).
_FROM_VIEW = ["operator", "operators", "register_source", "register_version", "street_code"]


def open_records_for(chase: pd.DataFrame, view: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``chase`` (:func:`~rollout.open_records.open_records` of the project) whose
    records are in ``view`` (the records the user may see), in ``chase``'s order, with
    ``status_as_of`` (the status on the day), ``urgency``, ``days`` (for :data:`WITH_DAYS`, else 0),
    ``planned`` (the planned date of the next milestone, or NaT) and the view's :data:`_FROM_VIEW`.
    """
    keys = view[["kind", "record_id"]].astype(str).assign(**{c: view[c] for c in _FROM_VIEW if c in view.columns})
    mine = chase.drop(columns=["street_code"]).merge(keys, on=["kind", "record_id"], how="inner", sort=False)
    days = pd.Series(0, index=mine.index, dtype="int64")
    for urgency, column in WITH_DAYS.items():
        chosen = mine["urgency"].eq(urgency)
        days[chosen] = pd.to_numeric(mine.loc[chosen, column], errors="coerce").fillna(0).astype("int64")
    planned = pd.to_datetime(mine["planned_date"].replace("", None), errors="coerce")
    return mine.assign(status_as_of=mine["status"], days=days, planned=planned).reset_index(drop=True)
