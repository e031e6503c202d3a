"""Progress toward the targets, per street and for the district, on any day.

Done means on air (macro stations that count toward the target) or covered/accepted
(garage compounds). "Expected" is the linear plan: the target times the share of the
plan period (``plan.start`` to ``plan.deadline``) elapsed on ``as_of``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from rollout.config import Config, street_districts
from rollout.schema import GARAGE, MACRO, SiteKind
from rollout.status import status_as_of

__all__ = [
    "expected_share",
    "progress_from_counts",
    "roll_up",
    "status_counts",
    "street_progress",
    "street_rows",
    "total_row",
    "total_rows",
]

#: A street within this many sites of the linear plan is "on track".
ON_TRACK_MARGIN = 1.0


def expected_share(config: Config, as_of: dt.date) -> float:
    """Share of the plan period elapsed on ``as_of`` (0 before the start, 1 from the deadline).

    The deadline day counts as a whole day, so the share reaches 1 on the deadline.
    """
    total = (config.deadline - config.start).days + 1
    elapsed = (as_of - config.start).days + 1
    return float(np.clip(elapsed / total, 0.0, 1.0))


def street_progress(
    macro: pd.DataFrame,
    garage: pd.DataFrame,
    streets: pd.DataFrame,
    targets: pd.DataFrame,
    config: Config,
    *,
    as_of: dt.date,
) -> pd.DataFrame:
    """One row per street plus a district total row (``street_code`` = the district code).

    Parameters
    ----------
    macro, garage
        Loaded and placed records (with ``street_code``), as from ``place_sites``.
    streets
        The street table (``street_code``, ``name``, ``name_en``), sorted by code.
    targets
        Per-street targets indexed by ``street_code`` (``macro_target``, ``garage_target``).
    as_of
        The day whose state is reported; records' states are derived from their dates.
    """
    codes = list(streets["street_code"])
    counts = {kind.name: status_counts(kind, records, codes, as_of) for kind, records in ((MACRO, macro), (GARAGE, garage))}
    return progress_from_counts(counts, streets, targets, config, as_of=as_of)


def street_rows(progress: pd.DataFrame) -> pd.DataFrame:
    """The rows of single streets (no district or city totals)."""
    return progress[progress["level"] == "street"]


def total_rows(progress: pd.DataFrame) -> pd.DataFrame:
    """The total row as a one-row frame: the city's in a city configuration, else the district's."""
    top = "city" if (progress["level"] == "city").any() else "district"
    rows = progress[progress["level"] == top]
    if len(rows) != 1:
        msg = f"a progress table has one {top} total row, not {len(rows)}"
        raise ValueError(msg)
    return rows


def total_row(progress: pd.DataFrame) -> pd.Series:
    """The total row (see :func:`total_rows`) as a Series.

    >>> table = pd.DataFrame({"street_code": ["a", "b", "d"], "level": ["street", "street", "district"], "macro_done": [1, 2, 3]})
    >>> int(total_row(table)["macro_done"])
    3
    """
    return total_rows(progress).iloc[0]


def status_counts(kind: SiteKind, records: pd.DataFrame, codes: list[str], as_of: dt.date) -> pd.DataFrame:
    """Records per street and status on ``as_of`` (those counting toward the target), plus the
    ones that do not count. Counts of parts of the records add up to the counts of the whole,
    which is what lets a distributed engine compute them per partition."""
    prefix = kind.name
    index = pd.Index(codes, name="street_code")
    street = index.get_indexer(pd.Index(records["street_code"])) if len(records) else np.empty(0, dtype=np.int64)
    known = street >= 0
    columns: dict[str, np.ndarray] = {}
    counted = np.ones(len(records), dtype=bool)
    if "counts_toward_target" in records.columns:
        counted = records["counts_toward_target"].astype(bool).to_numpy()
        columns[f"{prefix}_not_counted"] = np.bincount(street[known & ~counted], minlength=len(codes))
    statuses = list(kind.statuses)
    if len(records):
        state = pd.Index(statuses).get_indexer(pd.Index(status_as_of(records, kind, as_of)))
        keep = known & counted & (state >= 0)
        table = np.bincount(street[keep] * len(statuses) + state[keep], minlength=len(codes) * len(statuses))
        table = table.reshape(len(codes), len(statuses))
    else:
        table = np.zeros((len(codes), len(statuses)), dtype=np.int64)
    for position, status in enumerate(statuses):
        columns[f"{prefix}_{status}"] = table[:, position]
    ordered = [c for c in (f"{prefix}_not_counted",) if c in columns] + [f"{prefix}_{s}" for s in statuses]
    return pd.DataFrame({c: columns[c].astype(int) for c in ordered}, index=index)


def progress_from_counts(
    counts: dict[str, pd.DataFrame], streets: pd.DataFrame, targets: pd.DataFrame, config: Config, *, as_of: dt.date
) -> pd.DataFrame:
    """The progress table from per-street status counts (see :func:`status_counts`)."""
    codes = list(streets["street_code"])
    share = expected_share(config, as_of)
    table = pd.DataFrame(
        {
            "street_code": codes,
            "street_name": list(streets["name"]),
            "street_name_en": list(streets["name_en"]),
        }
    )
    parts = [table.set_index("street_code")]
    for kind in (MACRO, GARAGE):
        prefix = kind.name
        out = counts[prefix].reindex(codes, fill_value=0).copy()
        out.insert(0, f"{prefix}_target", targets[f"{prefix}_target"].reindex(codes).fillna(0).astype(int))
        out[f"{prefix}_done"] = sum(out[f"{prefix}_{s}"] for s in sorted(kind.done))
        parts.append(out)
    result = pd.concat(parts, axis=1).reset_index().rename(columns={"index": "street_code"})
    districts = street_districts(config, streets)
    result.insert(3, "level", "street")
    result.insert(4, "district_code", [districts[c] for c in codes])
    numeric = [c for c in result.columns if c.startswith(("macro_", "garage_"))]
    rows = []
    if config.is_city:
        for district in config.districts:
            members = result[result["district_code"] == district.code]
            rows.append(
                {
                    "street_code": district.code,
                    "street_name": district.name,
                    "street_name_en": district.name_en,
                    "level": "district",
                    "district_code": district.code,
                }
                | members[numeric].sum().to_dict()
            )
    top = "city" if config.is_city else "district"
    rows.append(
        {
            "street_code": config.district_code,
            "street_name": config.district_name,
            "street_name_en": config.district_name_en,
            "level": top,
            "district_code": config.district_code,
        }
        | result[numeric].sum().to_dict()
    )
    result = pd.concat([result, pd.DataFrame(rows)], ignore_index=True)
    for kind in (MACRO, GARAGE):
        _derived_columns(result, kind.name, share)
    result.insert(3, "as_of", as_of.isoformat())
    return result[_column_order(result)]


def roll_up(values: pd.Series, progress: pd.DataFrame) -> np.ndarray:
    """Per-street ``values`` (indexed by street code) aligned to the progress rows, summed for
    the district and city rows."""
    by_street = values.reindex(progress["street_code"]).fillna(0).to_numpy()
    streets = (progress["level"] == "street").to_numpy()
    out = np.where(streets, by_street, 0).astype(float)
    for position in np.flatnonzero(~streets):
        level, code = progress["level"].iloc[position], progress["street_code"].iloc[position]
        members = streets & (
            (progress["district_code"] == code).to_numpy() if level == "district" and (progress["level"] == "city").any() else True
        )
        out[position] = by_street[members].sum()
    return out


def _derived_columns(result: pd.DataFrame, prefix: str, share: float) -> None:
    # In numpy: the same arithmetic as on Series, without pandas' fixed cost per operation.
    target = result[f"{prefix}_target"].to_numpy(dtype=float)
    done = result[f"{prefix}_done"].to_numpy(dtype=float)
    result[f"{prefix}_pct"] = np.round(done / np.where(target > 0, target, np.nan) * 100, 1)
    result[f"{prefix}_remaining"] = np.clip(target - done, 0, None).astype(int)
    expected = np.round(target * share, 1)
    result[f"{prefix}_expected"] = expected
    gap = np.round(done - expected, 1)
    result[f"{prefix}_vs_plan"] = gap
    result[f"{prefix}_pace"] = np.select([gap >= ON_TRACK_MARGIN, gap <= -ON_TRACK_MARGIN], ["ahead", "behind"], "on_track")


def _column_order(result: pd.DataFrame) -> list[str]:
    head = ["street_code", "street_name", "street_name_en", "as_of", "level", "district_code"]
    ordered = list(head)
    for kind in (MACRO, GARAGE):
        p = kind.name
        ordered += [f"{p}_target", f"{p}_done", f"{p}_pct", f"{p}_remaining", f"{p}_expected", f"{p}_vs_plan", f"{p}_pace"]
        ordered += [f"{p}_{s}" for s in kind.statuses]
        if f"{p}_not_counted" in result.columns:
            ordered.append(f"{p}_not_counted")
    return ordered + [c for c in result.columns if c not in ordered]
