"""What stands between each street and its targets: the coordinators' gap tables.

Everything here is computed from a loaded :class:`~rollout.pipeline.Project` for its
``as_of`` day, on top of :meth:`~rollout.pipeline.Project.progress`, so the numbers agree
with ``rollout progress``; the per-record lists are made on the project's partitions, where
the records are, and only they travel. The tables carry codes: the reasons and evidence
problems are lists of ``{"code": ..., params}`` that :mod:`rollout.reports` puts in words:

- the recent weekly rate (done over the last ``rate_weeks`` weeks) and the forecast
  completion date at that rate; a street is at risk when it is behind the linear plan (the
  pace shown on the same row) *and* the forecast falls after the deadline (or there is no
  progress to forecast from): a street on track or ahead is never "at risk";
- every open record with who must act, its next milestone and how late it is
  (:func:`rollout.open_records.open_records`), and per street how many records are still
  missing to reach the target (remaining minus open records that count);
- blocked records with their reason and days blocked, records not updated for
  ``stale_weeks``, compounds not started;
- a priority order for compounds not started (parking spaces, building age, 12345
  complaints; weights in ``rollout.toml``);
- garages shown as accepted without acceptance evidence that passes;
- a ranking of the streets that need attention first, with the score, its parts
  (``score_*``, which add up to ``attention_score``) and the reasons.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rollout import labels
from rollout.acceptance import acceptance_check, evidence_text
from rollout.i18n import Lang, t
from rollout.open_records import OPEN_COLUMNS, last_update, open_records
from rollout.pipeline import Project
from rollout.progress import roll_up, total_rows
from rollout.records import SiteLoad
from rollout.schema import GARAGE, SiteKind
from rollout.status import done_counts, status_as_of

__all__ = [
    "SCORE_PARTS",
    "GapReport",
    "acceptance_check",
    "compound_priority",
    "evidence_text",
    "forecast_completion",
    "reasons_text",
    "street_gaps",
]

#: The parts of a street's attention score: (column, weight, what is weighted).
SCORE_PARTS = (
    ("score_at_risk", 2.0, "kinds at risk"),
    ("score_shortfall", 5.0, "shortfall against the plan, as a share of each target, summed"),
    ("score_blocked", 0.3, "blocked records"),
    ("score_stale", 0.1, "records not updated"),
    ("score_acceptance", 0.5, "accepted garages without passing evidence"),
)
_NOT_STARTED_COLUMNS = ["street_code", "street_name", "compound_id", "name", "parking_spaces", "build_year", "complaints_12345"]


@dataclass(frozen=True)
class GapReport:
    """The gap tables for one day."""

    as_of: dt.date
    summary: pd.DataFrame  # one row per street and the totals, ranked streets first
    blocked: pd.DataFrame
    stale: pd.DataFrame
    not_started: pd.DataFrame  # compounds not started, in priority order within each street
    acceptance: pd.DataFrame  # accepted compounds whose evidence does not pass
    approximate: bool = False
    #: Every open record (see :func:`rollout.open_records.open_records`), most urgent first per street.
    open: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OPEN_COLUMNS))

    def for_street(self, street_code: str) -> GapReport:
        """The same report restricted to one street (the total row is kept)."""

        def keep(table: pd.DataFrame) -> pd.DataFrame:
            return table[table["street_code"] == street_code].reset_index(drop=True)

        summary = pd.concat([keep(self.summary), total_rows(self.summary)], ignore_index=True)
        return GapReport(
            self.as_of,
            summary,
            keep(self.blocked),
            keep(self.stale),
            keep(self.not_started),
            keep(self.acceptance),
            self.approximate,
            open=keep(self.open),
        )


def forecast_completion(remaining: float, weekly_rate: float, as_of: dt.date) -> dt.date | None:
    """The day the remaining sites are done at ``weekly_rate`` per week (None when the rate is 0).

    >>> forecast_completion(10, 2.5, dt.date(2024, 6, 30))
    datetime.date(2024, 7, 28)
    >>> forecast_completion(0, 0.0, dt.date(2024, 6, 30))
    datetime.date(2024, 6, 30)
    """
    if remaining <= 0:
        return as_of
    if weekly_rate <= 0:
        return None
    return as_of + dt.timedelta(days=math.ceil(remaining / weekly_rate * 7))


def street_gaps(project: Project) -> GapReport:
    """Compute the gap tables for ``project.as_of``."""
    config, as_of = project.config, project.as_of
    progress = project.progress()
    earlier = as_of - dt.timedelta(weeks=config.rate_weeks)
    codes = list(project.street_table["street_code"])
    open_table = open_records(project)
    summary = progress[["street_code", "street_name", "street_name_en", "level", "district_code"]].copy()
    parts: dict[str, list[dict[str, Any]]] = {}
    for name, load in project.loads.items():
        parts[name] = load.map(
            _gap_part,
            as_of=as_of,
            earlier=earlier,
            codes=codes,
            stale_weeks=config.stale_weeks,
            threshold=config.callable_threshold_pct,
            required=config.required_operators,
        )
    for kind_name in ("macro", "garage"):
        p = kind_name
        done_before = sum((part["done_before"] for part in parts[kind_name]), start=pd.Series(0, index=codes))
        for column in ("target", "done", "remaining", "expected", "vs_plan", "pace"):
            summary[f"{p}_{column}"] = progress[f"{p}_{column}"]
        rate = ((progress[f"{p}_done"] - roll_up(done_before, progress)) / config.rate_weeks).round(2)
        summary[f"{p}_weekly_rate"] = rate
        forecasts = [forecast_completion(r, w, as_of) for r, w in zip(progress[f"{p}_remaining"], rate, strict=True)]
        summary[f"{p}_forecast"] = [f.isoformat() if f else "" for f in forecasts]
        late = np.array([f is None or f > config.deadline for f in forecasts], dtype=bool)
        # At risk agrees with the pace on the same row: only a street behind the plan can be.
        summary[f"{p}_at_risk"] = late & progress[f"{p}_pace"].eq("behind").to_numpy() & (progress[f"{p}_remaining"] > 0).to_numpy()
        summary[f"{p}_blocked"] = progress[f"{p}_blocked"]
        mine = open_table[(open_table["kind"] == kind_name) & open_table["counts_toward_target"].astype(bool)]
        open_count = roll_up(mine.groupby("street_code").size() if len(mine) else pd.Series(dtype=int), progress).astype(int)
        summary[f"{p}_open"] = open_count
        summary[f"{p}_unrecorded"] = np.maximum(progress[f"{p}_remaining"].to_numpy() - open_count, 0)
    blocked = _joined(parts, "blocked", ["street_code", "days_blocked", "record_id"], ascending=[True, False, True])
    stale = _joined(parts, "stale", ["street_code", "record_id"])
    waiting = pd.concat([part["not_started"] for part in parts["garage"]], ignore_index=True)
    not_started = compound_priority(waiting, as_of=as_of, weights=config.priority_weights)
    acceptance = pd.concat([part["acceptance"] for part in parts["garage"]], ignore_index=True)
    for name, table in (("stale", stale), ("not_started", not_started), ("acceptance_flags", acceptance)):
        counts = table.groupby("street_code").size() if len(table) else pd.Series(dtype=int)
        summary[name] = roll_up(counts, progress).astype(int)
    summary = _rank(summary)
    return GapReport(as_of, summary, blocked, stale, not_started, acceptance.reset_index(drop=True), project.approximate, open=open_table)


def _gap_part(
    load: SiteLoad,
    *,
    as_of: dt.date,
    earlier: dt.date,
    codes: list[str],
    stale_weeks: int,
    threshold: float,
    required: tuple[str, ...],
) -> dict[str, Any]:
    """The gap lists of one partition of records (run where the partition is)."""
    kind, records = load.kind, load.records
    counted = records[records["counts_toward_target"].astype(bool)] if "counts_toward_target" in records.columns else records
    part: dict[str, Any] = {
        "done_before": done_counts(counted, kind, [earlier], codes).iloc[0],
        "blocked": _blocked(records, kind, as_of),
        "stale": _stale(records, kind, as_of, stale_weeks),
    }
    if kind.name == "garage":
        waiting = records[status_as_of(records, GARAGE, as_of).eq("not_started").to_numpy()] if len(records) else records
        part["not_started"] = pd.DataFrame({c: waiting[c] if c in waiting.columns else pd.NA for c in _NOT_STARTED_COLUMNS})
        evidence = acceptance_check(records, threshold=threshold, required=required, as_of=as_of)
        part["acceptance"] = (
            evidence[evidence["status_as_of"].eq("accepted") & ~evidence["evidence_passes"].astype(bool)] if len(evidence) else evidence
        )
    return part


def _joined(parts: dict[str, list[dict[str, Any]]], name: str, order: list[str], ascending: bool | list[bool] = True) -> pd.DataFrame:
    """One kind's lists from every partition, sorted as one list; macro stations first."""
    tables = []
    for kind_name in ("macro", "garage"):
        table = pd.concat([part[name] for part in parts[kind_name]], ignore_index=True)
        tables.append(table.sort_values(order, ascending=ascending, kind="stable"))
    return pd.concat(tables, ignore_index=True)


def _blocked(records: pd.DataFrame, kind: SiteKind, as_of: dt.date) -> pd.DataFrame:
    columns = ["kind", "street_code", "street_name", "record_id", "name", "blocker", "blocked_since", "days_blocked"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    rows = records[status_as_of(records, kind, as_of).eq("blocked").to_numpy()]
    since = rows["status_date"]
    days = (pd.Timestamp(as_of) - since).dt.days
    table = pd.DataFrame(
        {
            "kind": kind.name,
            "street_code": rows["street_code"],
            "street_name": rows["street_name"],
            "record_id": rows[kind.id_field].astype(str),
            "name": rows["name"].astype(str),
            "blocker": rows["blocker"].astype(str),
            "blocked_since": since.dt.strftime("%Y-%m-%d").fillna(""),
            "days_blocked": days.astype("Int64"),
        }
    )
    return table.sort_values(["street_code", "days_blocked", "record_id"], ascending=[True, False, True], kind="stable")[columns]


def _stale(records: pd.DataFrame, kind: SiteKind, as_of: dt.date, weeks: int) -> pd.DataFrame:
    columns = ["kind", "street_code", "street_name", "record_id", "name", "status", "last_update", "weeks_since_update"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    status = status_as_of(records, kind, as_of)
    open_ = ~status.isin([*kind.done, "cancelled"]).to_numpy()
    last = last_update(records, kind, as_of)
    age = (pd.Timestamp(as_of) - last).dt.days
    # A record still at its first step with no date at all has had nothing to update: compounds
    # like that are in the not-started list; anything further along without a date is stale.
    first_step = kind.ladder[0][0]
    stale = open_ & ((age >= weeks * 7) | (last.isna() & status.ne(first_step))).to_numpy()
    rows = records[stale]
    table = pd.DataFrame(
        {
            "kind": kind.name,
            "street_code": rows["street_code"],
            "street_name": rows["street_name"],
            "record_id": rows[kind.id_field].astype(str),
            "name": rows["name"].astype(str),
            "status": status[stale],
            "last_update": last[stale].dt.strftime("%Y-%m-%d").fillna(""),
            "weeks_since_update": (age[stale] // 7).astype("Int64"),
        }
    )
    return table.sort_values(["street_code", "record_id"], kind="stable")[columns]


def compound_priority(waiting: pd.DataFrame, *, as_of: dt.date, weights: Sequence[tuple[str, float]]) -> pd.DataFrame:
    """Compounds not started (``waiting``), in the order a street should work them down.

    Score = sum of weight x input scaled to 0-1 across the district's not-started compounds, for
    parking spaces, building age (``as_of`` year minus ``build_year``) and 12345 complaints;
    a missing input counts as 0. Ties go to the lower compound id.
    """
    columns = ["street_code", "street_name", "priority", "compound_id", "name", "parking_spaces", "build_year", "complaints_12345", "score"]
    if waiting.empty:
        return pd.DataFrame(columns=columns)
    waiting = waiting.copy()
    inputs = {
        "parking_spaces": pd.to_numeric(waiting["parking_spaces"], errors="coerce").astype(float),
        "building_age": (as_of.year - pd.to_numeric(waiting["build_year"], errors="coerce")).astype(float),
        "complaints_12345": pd.to_numeric(waiting["complaints_12345"], errors="coerce").astype(float),
    }
    score = pd.Series(0.0, index=waiting.index)
    for name, weight in weights:
        values = inputs[name]
        low, high = values.min(), values.max()
        scaled = (values - low) / (high - low) if pd.notna(low) and high > low else values.notna().astype(float)
        score += weight * scaled.fillna(0.0)
    waiting["score"] = score.round(3)
    waiting = waiting.sort_values(["street_code", "score", "compound_id"], ascending=[True, False, True], kind="stable")
    waiting["priority"] = waiting.groupby("street_code").cumcount() + 1
    return waiting[columns].reset_index(drop=True)


def reasons_text(reasons: Sequence[dict[str, Any]], lang: Lang) -> str:
    """Why a street needs attention (the ``reasons`` of a summary row) in words."""
    parts = []
    for reason in reasons or ():
        params = {k: v for k, v in reason.items() if k != "code"}
        if "kind" in params:
            params["kind"] = labels.kind(params["kind"], lang)
        parts.append(t(f"gaps.reason.{reason['code']}", lang, **params))
    return t("labels.clause_separator", lang).join(parts)


def _rank(summary: pd.DataFrame) -> pd.DataFrame:
    """Rank the streets: at risk first, then by shortfall against the plan, then by blocked
    records; district and city rows follow, unranked."""
    streets = summary[summary["level"] == "street"].copy()
    shortfall = np.maximum(-streets["macro_vs_plan"], 0) / streets["macro_target"].clip(lower=1) + np.maximum(
        -streets["garage_vs_plan"], 0
    ) / streets["garage_target"].clip(lower=1)
    inputs = {
        "score_at_risk": streets["macro_at_risk"].astype(int) + streets["garage_at_risk"].astype(int),
        "score_shortfall": shortfall,
        "score_blocked": streets["macro_blocked"] + streets["garage_blocked"],
        "score_stale": streets["stale"],
        "score_acceptance": streets["acceptance_flags"],
    }
    for name, weight, _ in SCORE_PARTS:
        streets[name] = (weight * inputs[name].astype(float)).round(2)
    streets["attention_score"] = streets[[name for name, _, _ in SCORE_PARTS]].sum(axis=1).round(2)
    streets = streets.sort_values(["attention_score", "street_code"], ascending=[False, True], kind="stable")
    streets["attention_rank"] = range(1, len(streets) + 1)
    streets["reasons"] = pd.Series([_reasons(row) for _, row in streets.iterrows()], index=streets.index, dtype=object)
    total = summary[summary["level"] != "street"].copy()
    total["attention_score"] = np.nan
    for name, _, _ in SCORE_PARTS:
        total[name] = np.nan
    total["attention_rank"] = pd.Series(pd.NA, index=total.index, dtype="Int64")
    total["reasons"] = pd.Series([[] for _ in range(len(total))], index=total.index, dtype=object)
    return pd.concat([streets, total], ignore_index=True)


def _reasons(row: pd.Series) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = []
    for p in ("macro", "garage"):
        if row[f"{p}_vs_plan"] <= -1:
            reasons.append({"code": "behind_plan", "kind": p, "count": float(-row[f"{p}_vs_plan"])})
        if row[f"{p}_at_risk"] and row[f"{p}_remaining"] > 0:
            when = row[f"{p}_forecast"]
            reasons.append({"code": "forecast_late", "kind": p, "date": when} if when else {"code": "no_progress", "kind": p})
        if row[f"{p}_blocked"]:
            reasons.append({"code": "blocked", "kind": p, "count": int(row[f"{p}_blocked"])})
    if row["stale"]:
        reasons.append({"code": "stale", "count": int(row["stale"])})
    if row["acceptance_flags"]:
        reasons.append({"code": "acceptance", "count": int(row["acceptance_flags"])})
    return reasons
