"""Every open record a coordinator must chase: who must act, what comes next, how late it is.

A record is open on a day when it is not finished: a macro station not yet on air, a garage
not yet accepted (a covered garage waits for its acceptance), and neither cancelled. Records
that do not count toward the target are listed too (``counts_toward_target`` says so).

**Who must act** (``responsible``), from the record itself:

- a blocked record whose blocker (受阻原因) names the property side (物业, 业委会, 业主, 产权:
  ``[responsible] property`` in rollout.toml) -> ``property``, the property manager; one that
  names a coordination matter (居民, 投诉, 居委, 辐射, 审批, 协调, 占用, 街道, 规划:
  ``[responsible] street``) -> ``street``, the street office; one that names power or the
  structure (电力, 引电, 供电, 承重, 塔桅, 抱杆: ``[responsible] tower``) -> ``tower``; any other
  blocker -> the unit of the step that is blocked, as below;
- macro stations: China Tower (``tower``) secures the site and builds; the station's operator(s)
  put it on air (``cmcc``, ``ctc;cucc``, ...; China Tower when none is named);
- garages: the lead unit (牵头单位) at every step: an operator or China Tower by its code, any
  other unit as ``lead_unit`` with its name in ``responsible_name``; no lead unit -> ``street``.

**Urgency**, most urgent first within each street: ``blocked`` (longest blocked first),
``overdue`` (planned date of the next milestone passed; most days late first), ``stale`` (no
date of any kind for ``[gaps] stale_weeks``), ``due_soon`` (planned within ``[brief]
due_soon_days``), ``no_plan`` (no planned date), ``on_schedule``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from rollout.brief_settings import BriefSettings, load_brief_settings
from rollout.errors import InvalidValueError
from rollout.pipeline import Project
from rollout.records import SiteLoad
from rollout.schema import SiteKind, operator_code
from rollout.status import actual_date_fields, status_as_of

__all__ = ["OPEN_COLUMNS", "URGENCY", "last_update", "open_records", "planned_columns", "refresh_open_rows"]

#: Urgency codes, most urgent first.
URGENCY = ("blocked", "overdue", "stale", "due_soon", "no_plan", "on_schedule")
OPEN_COLUMNS = [
    "kind", "street_code", "street_name", "record_id", "name", "status", "counts_toward_target",
    "responsible", "responsible_name", "next_milestone", "planned_milestone", "planned_date", "days_overdue",
    "blocker", "blocked_since", "days_blocked", "last_update", "days_since_update", "urgency", "urgency_rank",
]  # fmt: skip
#: The planned-date column of each step, per kind (steps without one fall back to the done step's).
_PLANNED = {
    "macro": {"on_air": "planned_on_air_date"},
    "garage": {
        "surveyed": "planned_survey_date",
        "plan_agreed": "planned_plan_agreed_date",
        "under_construction": "planned_construction_start_date",
        "covered": "planned_covered_date",
        "accepted": "planned_accepted_date",
    },
}
#: Where the project keeps the rows of its whole open-records list (before ranking).
_KEPT = "open_rows"
_FINISHED = {"macro": ("on_air", "cancelled"), "garage": ("accepted", "cancelled")}
_DONE_STEP = {"macro": "on_air", "garage": "covered"}


def open_records(project: Project, *, street: str | None = None, settings: BriefSettings | None = None) -> pd.DataFrame:
    """The open records of ``project.as_of``, one row each, most urgent first within each street.

    ``street`` (a code, name or alias) keeps one street. Computed on the project's partitions,
    where the records are. The table carries codes; :mod:`rollout.reports` puts it in words.

    Columns
    -------
    kind
        ``macro`` or ``garage``.
    street_code, street_name
        The street the record lies in.
    record_id, name
        The station's or compound's id and name.
    status
        The status on the day (``planned``, ``site_secured``, ``under_construction``, ``blocked``,
        ``not_started``, ``surveyed``, ``plan_agreed``, ``covered``, ...).
    counts_toward_target
        False for records that do not count (e.g. 4G upgrades).
    responsible
        Who must act (see the module's rule): ``tower``, operator codes joined by ``;``
        (``ctc;cucc``), ``property``, ``street`` or ``lead_unit``.
    responsible_name
        The property manager, the street or the lead unit as the record names it ("" otherwise).
    next_milestone
        The next step of the ladder (``site_secured``, ``on_air``, ``accepted``, ...).
    planned_milestone, planned_date
        The step whose planned date is known and that date (ISO text, "" when none): the next
        milestone's own plan, else the planned on-air / covered date.
    days_overdue
        Days since ``planned_date`` when it has passed, 0 when it has not, <NA> without a plan.
    blocker, blocked_since, days_blocked
        For blocked records: the reason, since when (ISO text) and for how many days.
    last_update, days_since_update
        The latest actual date of any kind on the record (ISO text) and the days since (<NA>
        when the record has no date).
    urgency, urgency_rank
        One of :data:`URGENCY`, and the position in the street's list (1 = most urgent).
    """
    given = settings
    settings = settings or load_brief_settings(project.config)
    codes = None
    if street is not None:
        from rollout.boundaries import match_streets

        code = match_streets(pd.Series([street]), project.street_table).iloc[0]
        if not isinstance(code, str):
            raise InvalidValueError("errors.street_unknown", value=street)
        codes = [code]
    whole = codes is None and given is None  # the list everyone gets: kept with the project (see refreshed_open_rows)
    if whole and _KEPT in project._cache:
        return _ranked(project._cache[_KEPT])
    parts = []
    for name in ("macro", "garage"):
        parts += project.loads[name].map(
            _open_part, as_of=project.as_of, stale_days=7 * project.config.stale_weeks, settings=settings, streets=codes
        )
    table = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty()
    if whole:
        project._cache[_KEPT] = table
    return _ranked(table)


def refresh_open_rows(before: Project, after: Project, changed: list[tuple[str, str]], loads: dict[str, SiteLoad]) -> None:
    """Keep with ``after`` (``before`` with the records ``changed`` read again: ``loads``) the rows
    of its open-records list, from ``before``'s (when it has them) and those records' own: the
    rows are made one record at a time, so the list is the one made from ``after`` afresh."""
    if _KEPT not in before._cache:
        return
    table = before._cache[_KEPT]
    keys = pd.Series(list(zip(table["kind"], table["record_id"].astype(str), strict=True)), dtype=object)
    kept = table[~keys.isin(set(changed)).to_numpy()] if len(table) else table
    settings = load_brief_settings(after.config)
    parts = [kept]
    for name, load in loads.items():
        ids = {record_id for kind, record_id in changed if kind == name}
        records = load.records[load.records[load.kind.id_field].astype(str).isin(ids).to_numpy()]
        if len(records):
            part = replace(load, records=records)
            parts.append(_open_part(part, as_of=after.as_of, stale_days=7 * after.config.stale_weeks, settings=settings, streets=None))
    parts = [p for p in parts if len(p)]
    after._cache[_KEPT] = pd.concat(parts, ignore_index=True) if parts else _empty()


def planned_columns(kind: SiteKind) -> dict[str, str]:
    """Step -> the column of its planned date, for the steps that have one."""
    return dict(_PLANNED[kind.name])


def last_update(records: pd.DataFrame, kind: SiteKind, as_of: dt.date) -> pd.Series:
    """The latest actual date of any kind on each record, not after ``as_of`` (NaT when none)."""
    columns = [c for c in actual_date_fields(kind) if c in records.columns]
    if not columns:
        return pd.Series(pd.NaT, index=records.index, dtype="datetime64[ns]")
    dates = records[columns].where(records[columns] <= pd.Timestamp(as_of))
    return dates.max(axis=1)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OPEN_COLUMNS})


def _open_part(load: SiteLoad, *, as_of: dt.date, stale_days: int, settings: BriefSettings, streets: list[str] | None) -> pd.DataFrame:
    """The open records of one partition (run where the partition is)."""
    kind, records = load.kind, load.records
    if streets is not None and len(records):
        records = records[records["street_code"].isin(streets)]
    if records.empty:
        return _empty()
    status = status_as_of(records, kind, as_of)
    keep = ~status.isin(_FINISHED[kind.name]).to_numpy()
    records, status = records[keep], status[keep]
    if records.empty:
        return _empty()
    day = pd.Timestamp(as_of)
    steps = [s for s, _ in kind.ladder]
    reached = np.zeros(len(records), dtype=np.int64)
    for position, (_, milestone) in enumerate(kind.ladder):
        if milestone is not None:
            reached = np.where((records[milestone] <= day).to_numpy(), position, reached)
    current = status.map({s: i for i, s in enumerate(steps)}).to_numpy(dtype=float)
    step_at = np.where(np.isnan(current), reached, np.nan_to_num(current)).astype(int)
    next_step = np.asarray(steps, dtype=object)[np.minimum(step_at + 1, len(steps) - 1)]
    planned, planned_step = _planned(records, kind, next_step)
    blocked = status.eq("blocked").to_numpy()
    since = records["status_date"].where(blocked) if "status_date" in records.columns else pd.Series(pd.NaT, index=records.index)
    latest = last_update(records, kind, as_of)
    overdue = (day - planned).dt.days
    days_since = (day - latest).dt.days
    first_step = steps[0]
    stale = ((days_since >= stale_days) | (latest.isna() & status.ne(first_step))).to_numpy()
    blockers = records["blocker"].astype(str).fillna("") if "blocker" in records.columns else pd.Series("", index=records.index)
    responsible, responsible_name = _responsible(records, kind, next_step, blocked, blockers, settings)
    soon = (planned - day).dt.days
    urgency = np.select(
        [blocked, (overdue > 0).to_numpy(), stale, (soon <= settings.due_soon_days).to_numpy(), planned.isna().to_numpy()],
        ["blocked", "overdue", "stale", "due_soon", "no_plan"],
        "on_schedule",
    )
    counts = records["counts_toward_target"].astype(bool) if "counts_toward_target" in records.columns else True
    return pd.DataFrame(
        {
            "kind": kind.name,
            "street_code": records["street_code"],
            "street_name": records["street_name"],
            "record_id": records[kind.id_field].astype(str),
            "name": records["name"].astype(str) if "name" in records.columns else "",
            "status": status,
            "counts_toward_target": counts,
            "responsible": responsible,
            "responsible_name": responsible_name,
            "next_milestone": next_step,
            "planned_milestone": planned_step,
            "planned_date": planned.dt.strftime("%Y-%m-%d").fillna(""),
            "days_overdue": overdue.clip(lower=0).astype("Int64"),
            "blocker": np.where(blocked, blockers, ""),
            "blocked_since": since.dt.strftime("%Y-%m-%d").fillna(""),
            "days_blocked": (day - since).dt.days.astype("Int64"),
            "last_update": latest.dt.strftime("%Y-%m-%d").fillna(""),
            "days_since_update": days_since.astype("Int64"),
            "urgency": urgency,
            "urgency_rank": 0,
        }
    ).reset_index(drop=True)


def _planned(records: pd.DataFrame, kind: SiteKind, next_step: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """The planned date of each record's next milestone, else of its done step, and which step."""
    columns = _PLANNED[kind.name]
    done_step = _DONE_STEP[kind.name]
    fallback = records[columns[done_step]] if columns[done_step] in records.columns else pd.Series(pd.NaT, index=records.index)
    planned = pd.Series(pd.NaT, index=records.index, dtype="datetime64[ns]")
    which = np.full(len(records), "", dtype=object)
    for step, column in columns.items():
        if column not in records.columns:
            continue
        mine = (next_step == step) & records[column].notna().to_numpy()
        planned = planned.mask(mine, records[column])
        which = np.where(mine, step, which)
    use_fallback = planned.isna().to_numpy() & fallback.notna().to_numpy()
    order = [s for s, _ in kind.ladder]
    # The done step's plan stands in only for steps before it: an accepted date is not due on the covered date.
    before_done = np.array([order.index(s) <= order.index(done_step) for s in next_step], dtype=bool)
    use_fallback &= before_done
    planned = planned.mask(use_fallback, fallback)
    which = np.where(use_fallback, done_step, which)
    return planned, which


def _responsible(
    records: pd.DataFrame, kind: SiteKind, next_step: np.ndarray, blocked: np.ndarray, blockers: pd.Series, settings: BriefSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Who must act on each record (codes) and, for the property, street or lead unit, its name."""
    n = len(records)
    code = np.full(n, "", dtype=object)
    name = np.full(n, "", dtype=object)
    if kind.name == "macro":
        operators = records["operator"].astype(str).fillna("") if "operator" in records.columns else pd.Series("", index=records.index)
        operators = operators.map(lambda cell: ";".join(c for c in cell.split(";") if c and c != "tower") or "tower")
        code = np.where(next_step == "on_air", operators.to_numpy(dtype=object), "tower")
    else:
        lead_text = (
            records["lead_unit"].astype(str).fillna("").str.strip()
            if "lead_unit" in records.columns
            else pd.Series("", index=records.index)
        )
        lead = lead_text.map(lambda v: operator_code(v, strict=False) or ("lead_unit" if v else "street")).to_numpy(dtype=object)
        code = lead
        name = np.where(lead == "lead_unit", lead_text.to_numpy(dtype=object), "")
        name = np.where(lead == "street", records["street_name"].astype(str).to_numpy(dtype=object), name)
    property_hit = blocked & _matches(blockers, settings.property_words)
    street_hit = blocked & ~property_hit & _matches(blockers, settings.street_words)
    manager = (
        records["property_manager"].astype(str).fillna("") if "property_manager" in records.columns else pd.Series("", index=records.index)
    )
    code = np.where(property_hit, "property", code)
    name = np.where(property_hit, manager.to_numpy(dtype=object), name)
    code = np.where(street_hit, "street", code)
    name = np.where(street_hit, records["street_name"].astype(str).to_numpy(dtype=object), name)
    tower_hit = blocked & ~property_hit & ~street_hit & _matches(blockers, settings.tower_words)
    code = np.where(tower_hit, "tower", code)
    name = np.where(tower_hit, "", name)
    return code, name


def _matches(texts: pd.Series, words: tuple[str, ...]) -> np.ndarray:
    if not words:
        return np.zeros(len(texts), dtype=bool)
    pattern = "|".join(re.escape(w) for w in words)
    return texts.str.contains(pattern, regex=True, na=False).to_numpy()


def _ordinals(values: pd.Series) -> pd.Series:
    """Dates (text or datetimes) as their proleptic ordinals (``date.toordinal()``), 0 when missing."""
    dates = pd.to_datetime(values, errors="coerce")
    days = (dates - pd.Timestamp("1970-01-01")).dt.days + dt.date(1970, 1, 1).toordinal()
    return days.fillna(0).astype("int64")


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Most urgent first within each street; macro before garage and lower ids break ties."""
    if table.empty:
        return _empty()
    level = table["urgency"].map({u: i for i, u in enumerate(URGENCY)})
    by_urgency: dict[str, Any] = {
        "blocked": -table["days_blocked"].fillna(0).astype(float),
        "overdue": -table["days_overdue"].fillna(0).astype(float),
        "stale": -table["days_since_update"].fillna(10**6).astype(float),
        "due_soon": _ordinals(table["planned_date"]),
        "no_plan": -table["days_since_update"].fillna(10**6).astype(float),
        "on_schedule": _ordinals(table["planned_date"]),
    }
    key = pd.Series(0.0, index=table.index)
    for urgency, values in by_urgency.items():
        key = key.mask(table["urgency"].eq(urgency), values.astype(float))
    ordered = table.assign(_level=level, _key=key, _kind=table["kind"].map({"macro": 0, "garage": 1}))
    ordered = ordered.sort_values(["street_code", "_level", "_key", "_kind", "record_id"], kind="stable")
    ordered["urgency_rank"] = ordered.groupby("street_code").cumcount() + 1
    return ordered[OPEN_COLUMNS].reset_index(drop=True)
