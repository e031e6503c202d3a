"""What the burn-up chart draws, from the records: done per street and kind at each week's end as
% of the target (:class:`rollout.charts.Burnup`, plain values that a process without pandas draws)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from rollout.charts import Burnup, BurnupLine

__all__ = ["burnup_series", "burnup_values", "burnup_y_top"]

KINDS = ("macro", "garage")


def burnup_series(weeks: list[dt.date], done_by_week: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack weekly done counts (per kind, a frame of weeks x streets) into one long table."""
    frames = []
    for kind, table in done_by_week.items():
        long = table.reset_index(names="week_end").melt(id_vars="week_end", var_name="street_code", value_name="done")
        frames.append(long.assign(kind=kind))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["week_end", "street_code", "done", "kind"])


def burnup_values(
    series: pd.DataFrame, targets: pd.DataFrame, names: Mapping[str, str], start: dt.date, deadline: dt.date, as_of: dt.date
) -> Burnup:
    """The chart of ``series`` (``week_end``, ``street_code``, ``kind``, ``done``) as % of
    ``targets`` (indexed by ``street_code``, with ``macro_target`` and ``garage_target``, the
    district's code included): one panel per code of ``names`` (code -> label, the district
    first), a kind left out of a panel where its target is 0."""
    pct = _pct_of_target(series, targets)
    by_key = {key: group for key, group in pct.groupby(["street_code", "kind"], sort=False)}
    panels = []
    for code, name in names.items():
        lines = []
        for kind in KINDS:
            rows = by_key.get((code, kind))
            if rows is None or rows.empty:
                continue
            days = tuple(pd.Timestamp(day).date() for day in rows["week_end"])
            lines.append(BurnupLine(kind, days, tuple(float(v) for v in rows["pct"])))
        panels.append((name, tuple(lines)))
    return Burnup(tuple(panels), start, deadline, as_of, burnup_y_top(pct["pct"]))


def burnup_y_top(values: pd.Series) -> float:
    """The top of the burn-up's y axis: 110 %, or past the highest value with room to spare.

    >>> burnup_y_top(pd.Series([40.0, 100.0])), burnup_y_top(pd.Series([166.7]))
    (110.0, 180.0)
    """
    highest = float(values.max()) if len(values) and values.notna().any() else 0.0
    return max(110.0, float(np.ceil((highest + 5) / 10) * 10))


def _pct_of_target(series: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """``series`` with ``pct``, done as % of the street's target of that kind (rows of a kind
    with no target are left out)."""
    target = pd.Series(np.nan, index=series.index)
    for kind in KINDS:
        mine = series["kind"].eq(kind)
        target[mine] = series.loc[mine, "street_code"].map(targets[f"{kind}_target"].astype(float)).to_numpy()
    keep = target.gt(0).to_numpy()
    return series[keep].assign(pct=(series["done"][keep] / target[keep] * 100).to_numpy())
