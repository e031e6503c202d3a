"""What stands between each street and its targets: the coordinators' gap tables.

Everything here is computed from a loaded :class:`~rollout.pipeline.Project` for its
``as_of`` day, on top of :meth:`~rollout.pipeline.Project.progress`, so the numbers agree
with ``rollout progress``:

- the recent weekly rate (done over the last ``rate_weeks`` weeks) and the forecast
  completion date at that rate; a street is at risk when the forecast falls after the
  deadline (or there is no progress to forecast from);
- blocked records with their reason and days blocked, records not updated for
  ``stale_weeks``, compounds not started;
- a priority order for compounds not started (parking spaces, building age, 12345
  complaints; weights in ``rollout.toml``);
- garages shown as accepted without acceptance evidence that passes;
- a ranking of the streets that need attention first, with the reasons.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rollout import settings
from rollout.pipeline import Project
from rollout.progress import roll_up
from rollout.schema import GARAGE, MACRO, SiteKind
from rollout.status import status_as_of

__all__ = ["GapReport", "acceptance_check", "compound_priority", "forecast_completion", "street_gaps"]

_OPERATOR_COLUMNS = {"cmcc": "callable_pct_cmcc", "ctc": "callable_pct_ctc", "cucc": "callable_pct_cucc", "cbn": "callable_pct_cbn"}


@dataclass(frozen=True)
class GapReport:
    """The gap tables for one day."""

    as_of: dt.date
    summary: pd.DataFrame  # one row per street and a district total, ranked streets first
    blocked: pd.DataFrame
    stale: pd.DataFrame
    not_started: pd.DataFrame  # compounds not started, in priority order within each street
    acceptance: pd.DataFrame  # accepted compounds whose evidence does not pass
    approximate: bool = False

    def for_street(self, street_code: str) -> GapReport:
        """The same report restricted to one street (the district total row is kept)."""

        def keep(table: pd.DataFrame) -> pd.DataFrame:
            return table[table["street_code"] == street_code].reset_index(drop=True)

        district = self.summary.iloc[[-1]]
        summary = pd.concat([keep(self.summary), district], ignore_index=True)
        return GapReport(
            self.as_of, summary, keep(self.blocked), keep(self.stale), keep(self.not_started), keep(self.acceptance), self.approximate
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
    summary = progress[["street_code", "street_name", "street_name_en", "level", "district_code"]].copy()
    blocked_frames, stale_frames = [], []
    for kind, load in ((MACRO, project.macro), (GARAGE, project.garage)):
        p = kind.name
        counted = load.records
        if "counts_toward_target" in counted.columns:
            counted = counted[counted["counts_toward_target"].astype(bool)]
        done_before = _done_per_street(counted, kind, earlier, progress)
        summary[f"{p}_target"] = progress[f"{p}_target"]
        summary[f"{p}_done"] = progress[f"{p}_done"]
        summary[f"{p}_remaining"] = progress[f"{p}_remaining"]
        summary[f"{p}_expected"] = progress[f"{p}_expected"]
        summary[f"{p}_vs_plan"] = progress[f"{p}_vs_plan"]
        summary[f"{p}_pace"] = progress[f"{p}_pace"]
        rate = ((progress[f"{p}_done"] - done_before) / config.rate_weeks).round(2)
        summary[f"{p}_weekly_rate"] = rate
        forecasts = [forecast_completion(r, w, as_of) for r, w in zip(progress[f"{p}_remaining"], rate, strict=True)]
        summary[f"{p}_forecast"] = [f.isoformat() if f else "" for f in forecasts]
        summary[f"{p}_at_risk"] = [f is None or f > config.deadline for f in forecasts]
        summary[f"{p}_blocked"] = progress[f"{p}_blocked"]
        blocked_frames.append(_blocked(load.records, kind, as_of))
        stale_frames.append(_stale(load.records, kind, as_of, config.stale_weeks))
    blocked = pd.concat(blocked_frames, ignore_index=True)
    stale = pd.concat(stale_frames, ignore_index=True)
    not_started = compound_priority(project)
    acceptance = acceptance_check(
        project.garage.records, threshold=config.callable_threshold_pct, required=config.required_operators, as_of=as_of
    )
    acceptance = acceptance[acceptance["status_as_of"].eq("accepted") & ~acceptance["evidence_passes"]] if len(acceptance) else acceptance
    for name, table in (("stale", stale), ("not_started", not_started), ("acceptance_flags", acceptance)):
        counts = table.groupby("street_code").size() if len(table) else pd.Series(dtype=int)
        summary[name] = roll_up(counts, progress).astype(int)
    summary = _rank(summary)
    return GapReport(as_of, summary, blocked, stale, not_started, acceptance.reset_index(drop=True), project.approximate)


def _done_per_street(records: pd.DataFrame, kind: SiteKind, day: dt.date, progress: pd.DataFrame) -> pd.Series:
    if records.empty:
        return pd.Series(0, index=progress.index)
    done = records[status_as_of(records, kind, day).isin(kind.done).to_numpy()]
    return pd.Series(roll_up(done.groupby("street_code").size(), progress), index=progress.index)


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


def _last_update(records: pd.DataFrame, kind: SiteKind, as_of: dt.date) -> pd.Series:
    """The latest date of any kind on a record, not after ``as_of``."""
    columns = [c for c in (*kind.date_fields(),) if c in records.columns and not c.startswith("planned")]
    dates = records[columns].where(records[columns] <= pd.Timestamp(as_of))
    return dates.max(axis=1)


def _stale(records: pd.DataFrame, kind: SiteKind, as_of: dt.date, weeks: int) -> pd.DataFrame:
    columns = ["kind", "street_code", "street_name", "record_id", "name", "status", "last_update", "weeks_since_update"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    status = status_as_of(records, kind, as_of)
    open_ = ~status.isin([*kind.done, "cancelled"]).to_numpy()
    last = _last_update(records, kind, as_of)
    age = (pd.Timestamp(as_of) - last).dt.days
    # A record still at its first step with no date at all has had nothing to update: compounds
    # like that are in the not-started list; anything further along without a date is stale.
    first_step = kind.ladder[0][0]
    stale = open_ & ((age >= weeks * 7) | (last.isna() & status.ne(first_step))).to_numpy()
    rows = records[stale]
    lang = settings.language
    table = pd.DataFrame(
        {
            "kind": kind.name,
            "street_code": rows["street_code"],
            "street_name": rows["street_name"],
            "record_id": rows[kind.id_field].astype(str),
            "name": rows["name"].astype(str),
            "status": status[stale].map(lambda s: kind.status_label(s, lang)),
            "last_update": last[stale].dt.strftime("%Y-%m-%d").fillna(""),
            "weeks_since_update": (age[stale] // 7).astype("Int64"),
        }
    )
    return table.sort_values(["street_code", "record_id"], kind="stable")[columns]


def compound_priority(project: Project) -> pd.DataFrame:
    """Compounds not started on ``as_of``, in the order a street should work them down.

    Score = sum of weight x input scaled to 0-1 across the district's not-started compounds, for
    parking spaces, building age (``as_of`` year minus ``build_year``) and 12345 complaints;
    a missing input counts as 0. Ties go to the lower compound id.
    """
    columns = ["street_code", "street_name", "priority", "compound_id", "name", "parking_spaces", "build_year", "complaints_12345", "score"]
    records = project.garage.records
    if records.empty:
        return pd.DataFrame(columns=columns)
    waiting = records[status_as_of(records, GARAGE, project.as_of).eq("not_started").to_numpy()].copy()
    inputs = {
        "parking_spaces": pd.to_numeric(waiting.get("parking_spaces"), errors="coerce").astype(float),
        "building_age": (project.as_of.year - pd.to_numeric(waiting.get("build_year"), errors="coerce")).astype(float),
        "complaints_12345": pd.to_numeric(waiting.get("complaints_12345"), errors="coerce").astype(float),
    }
    score = pd.Series(0.0, index=waiting.index)
    for name, weight in project.config.priority_weights:
        values = inputs[name]
        low, high = values.min(), values.max()
        scaled = (values - low) / (high - low) if pd.notna(low) and high > low else values.notna().astype(float)
        score += weight * scaled.fillna(0.0)
    waiting["score"] = score.round(3)
    waiting = waiting.sort_values(["street_code", "score", "compound_id"], ascending=[True, False, True], kind="stable")
    waiting["priority"] = waiting.groupby("street_code").cumcount() + 1
    for column in ("parking_spaces", "build_year", "complaints_12345"):
        if column not in waiting.columns:
            waiting[column] = pd.NA
    return waiting[columns].reset_index(drop=True)


def acceptance_check(records: pd.DataFrame, *, threshold: float, required: tuple[str, ...], as_of: dt.date | None = None) -> pd.DataFrame:
    """Acceptance evidence per compound: callable shares, whether all required operators pass,
    whether charging piles and barrier gates work, and whether the evidence passes overall."""
    columns = [
        "street_code",
        "street_name",
        "compound_id",
        "name",
        "status_as_of",
        "operators_passing",
        "operators_failing",
        "charging_piles_ok",
        "barrier_gates_ok",
        "evidence_passes",
        "problems",
    ]
    if records.empty:
        return pd.DataFrame(columns=columns)
    as_of = as_of or settings.today()
    zh = settings.language == "zh"
    rows = []
    status = status_as_of(records, GARAGE, as_of)
    for (_, record), state in zip(records.iterrows(), status, strict=True):
        passing, failing, problems = [], [], []
        for operator in required:
            value = record.get(_OPERATOR_COLUMNS[operator])
            if value is None or pd.isna(value):
                failing.append(operator)
                problems.append(f"{_op(operator)}无测试数据" if zh else f"no test for {_op(operator)}")
            elif value < threshold:
                failing.append(operator)
                problems.append(
                    f"{_op(operator)}可通话率 {value:g}% < {threshold:g}%"
                    if zh
                    else f"{_op(operator)} callable {value:g}% < {threshold:g}%"
                )
            else:
                passing.append(operator)
        for column, label_zh, label_en in (
            ("charging_piles_ok", "充电桩", "charging piles"),
            ("barrier_gates_ok", "道闸", "barrier gates"),
        ):
            value = record.get(column)
            if value is not None and value is not pd.NA and not pd.isna(value) and not bool(value):
                problems.append(f"{label_zh}不在线" if zh else f"{label_en} offline")
        rows.append(
            {
                "street_code": record["street_code"],
                "street_name": record["street_name"],
                "compound_id": str(record["compound_id"]),
                "name": str(record.get("name", "")),
                "status_as_of": state,
                "operators_passing": "/".join(_op(o) for o in passing),
                "operators_failing": "/".join(_op(o) for o in failing),
                "charging_piles_ok": record.get("charging_piles_ok"),
                "barrier_gates_ok": record.get("barrier_gates_ok"),
                "evidence_passes": not problems,
                "problems": "；".join(problems) if zh else "; ".join(problems),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _op(code: str) -> str:
    from rollout.schema import OPERATORS

    return OPERATORS[code][0 if settings.language == "zh" else 1] if code in OPERATORS else code


def _rank(summary: pd.DataFrame) -> pd.DataFrame:
    """Rank the streets: at risk first, then by shortfall against the plan, then by blocked
    records; district and city rows follow, unranked."""
    zh = settings.language == "zh"
    streets = summary[summary["level"] == "street"].copy()
    shortfall = np.maximum(-streets["macro_vs_plan"], 0) / streets["macro_target"].clip(lower=1) + np.maximum(
        -streets["garage_vs_plan"], 0
    ) / streets["garage_target"].clip(lower=1)
    streets["attention_score"] = (
        2.0 * (streets["macro_at_risk"].astype(int) + streets["garage_at_risk"].astype(int))
        + 5.0 * shortfall
        + 0.3 * (streets["macro_blocked"] + streets["garage_blocked"])
        + 0.1 * streets["stale"]
        + 0.5 * streets["acceptance_flags"]
    ).round(2)
    streets = streets.sort_values(["attention_score", "street_code"], ascending=[False, True], kind="stable")
    streets["attention_rank"] = range(1, len(streets) + 1)
    streets["reasons"] = [_reasons(row, zh) for _, row in streets.iterrows()]
    total = summary[summary["level"] != "street"].assign(attention_score=np.nan, attention_rank=pd.NA, reasons="")
    return pd.concat([streets, total], ignore_index=True)


def _reasons(row: pd.Series, zh: bool) -> str:
    parts = []
    for p, label_zh, label_en in (("macro", "宏站", "macro"), ("garage", "车库", "garage")):
        if row[f"{p}_vs_plan"] <= -1:
            parts.append(
                f"{label_zh}落后计划 {-row[f'{p}_vs_plan']:.1f} 个" if zh else f"{label_en} {-row[f'{p}_vs_plan']:.1f} behind plan"
            )
        if row[f"{p}_at_risk"] and row[f"{p}_remaining"] > 0:
            when = row[f"{p}_forecast"]
            if zh:
                parts.append(f"{label_zh}按近期进度预计 {when} 完成，晚于期限" if when else f"{label_zh}近期无进展，无法按期完成")
            else:
                parts.append(f"{label_en} forecast {when}, after the deadline" if when else f"{label_en}: no recent progress")
        if row[f"{p}_blocked"]:
            parts.append(f"{label_zh}受阻 {row[f'{p}_blocked']} 个" if zh else f"{row[f'{p}_blocked']} {label_en} blocked")
    if row["stale"]:
        parts.append(f"{row['stale']} 条记录久未更新" if zh else f"{row['stale']} records not updated")
    if row["acceptance_flags"]:
        parts.append(f"{row['acceptance_flags']} 个小区验收证据不足" if zh else f"{row['acceptance_flags']} acceptances lack evidence")
    return "；".join(parts) if zh else "; ".join(parts)
