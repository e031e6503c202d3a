"""What one "one compound, one plan" (一小区一方案) worksheet shows, assembled from a compound's record.

:func:`build_worksheets` makes a :class:`Worksheet` per garage compound (no file is written):
its facts, the solution per operator, the equipment, the schedule planned against actual with
overdue and late steps flagged, blockers and who must act, the acceptance evidence, contacts,
the on-air stations nearby and the point map or location map, and the sign-off boxes. Values
stay typed (numbers, dates); labels are in the reader's language. :mod:`rollout.worksheets`
turns them into files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rollout import labels
from rollout.acceptance import acceptance_check, evidence_text
from rollout.crs import metric_crs, metric_transformer
from rollout.errors import InputFileError
from rollout.i18n import Lang, t
from rollout.open_records import open_records
from rollout.pipeline import Project
from rollout.schema import GARAGE, MACRO, operator_code
from rollout.status import status_as_of
from rollout.worksheet_attachments import plan_image
from rollout.worksheet_map import location_svg
from rollout.worksheet_page import show
from rollout.writers import safe_filename, unique_filenames

__all__ = ["EQUIPMENT", "FACTS", "NEARBY_LIMIT", "NEARBY_RADIUS_M", "OPERATOR_CODES", "STEPS", "Worksheet", "build_worksheets"]

NEARBY_RADIUS_M = 800.0
NEARBY_LIMIT = 6
FACTS = (
    "compound_id",
    "address",
    "street_name",
    "households",
    "buildings",
    "garage_levels",
    "garage_area_m2",
    "parking_spaces",
    "build_year",
)
EQUIPMENT = ("rru_count", "prru_count", "combiner_count", "antenna_count", "leaky_cable_m", "power_units")
STEPS = (
    ("survey_date", "planned_survey_date"),
    ("plan_agreed_date", "planned_plan_agreed_date"),
    ("construction_start_date", "planned_construction_start_date"),
    ("covered_date", "planned_covered_date"),
    ("accepted_date", "planned_accepted_date"),
)
OPERATOR_CODES = ("cmcc", "ctc", "cucc", "cbn")
_TEST = ("test_method", "test_points", "tester", "test_date")


@dataclass
class Worksheet:
    """Everything one worksheet shows: values typed (numbers, dates), labels in its reader's language."""

    compound_id: str
    name: str
    street_name: str
    file_stem: str
    status: str
    facts: list[tuple[str, str, Any]]  # (field, label, value)
    plan: list[tuple[str, str, Any]]
    operators: list[dict]
    equipment: list[tuple[str, str, Any]]
    schedule: list[dict]
    blockers: list[tuple[str, Any]]
    evidence: list[tuple[str, str, Any]]
    evidence_passes: bool
    accepted_without_evidence: bool
    evidence_problems: str
    contacts: list[tuple[str, str, Any]]
    nearby: list[dict]
    plan_image: str | None
    plan_image_size: tuple[int, int] | None
    location_svg: str
    attachment_problem: str
    signoff: list[str]
    record: dict[str, Any] = field(default_factory=dict)
    overdue_steps: int = 0


def build_worksheets(
    project: Project, *, compound_ids: Iterable[str] | None = None, operator: str | None = None, lang: Lang = "zh"
) -> list[Worksheet]:
    """Assemble the worksheets (no file is written), sorted by compound id.

    ``operator`` (移动, 电信, 联通, 广电, 铁塔 or their codes) keeps the compounds whose
    participating operators or lead unit include it.
    """
    records = project.garage.records
    if compound_ids:
        wanted = [str(c) for c in compound_ids]
        unknown = sorted(set(wanted) - set(records["compound_id"].astype(str)))
        if unknown:
            raise InputFileError("errors.compound_unknown", ids=", ".join(unknown))
        records = records[records["compound_id"].astype(str).isin(wanted)]
    if operator:
        code = operator_code(operator)
        lead = records["lead_unit"].astype(str).map(lambda v: operator_code(v, strict=False))
        records = records[records["operators"].astype(str).str.split(";").map(lambda codes: code in codes) | (lead == code)]
    records = records.sort_values("compound_id", kind="stable")
    if records.empty:
        return []
    config = project.config
    status = status_as_of(records, GARAGE, project.as_of)
    evidence = acceptance_check(records, threshold=config.callable_threshold_pct, required=config.required_operators, as_of=project.as_of)
    evidence.index = records.index
    chase = open_records(project)
    chase = chase[chase["kind"] == "garage"].drop_duplicates("record_id").set_index("record_id")
    chasing = chase[["responsible", "responsible_name"]].to_dict("index")
    macro = project.macro.records
    on_air = macro[status_as_of(macro, MACRO, project.as_of).eq("on_air").to_numpy()] if len(macro) else macro
    to_metric = metric_transformer(metric_crs(tuple(project.streets.total_bounds)))
    sx, sy = to_metric.transform(on_air["lon"].to_numpy(), on_air["lat"].to_numpy()) if len(on_air) else (np.empty(0), np.empty(0))
    cx, cy = to_metric.transform(records["lon"].to_numpy(), records["lat"].to_numpy())
    streets = _metric_streets(project, to_metric)
    stations = on_air[[c for c in ("site_id", "name", "operator", "band", "on_air_date") if c in on_air.columns]].to_dict("records")
    attachments = config.data_dir / "attachments"
    names = records["name"] if "name" in records.columns else pd.Series("", index=records.index)
    stems = unique_filenames([safe_filename(i, n) for i, n in zip(records["compound_id"], names, strict=True)])
    sheets = []
    index: Any  # a label of records' index
    for position, ((index, record), stem) in enumerate(zip(records.iterrows(), stems, strict=True)):
        centre = (float(cx[position]), float(cy[position]))
        nearby = _nearby(centre, stations, np.asarray(sx), np.asarray(sy), lang)
        row = chasing.get(str(record["compound_id"]))
        sheet = _worksheet(record, status[index], evidence.loc[index], row, nearby, stem, project, lang)
        image = plan_image(attachments, str(record["compound_id"]))
        sheet.plan_image, sheet.plan_image_size = image.data_uri, image.size
        if image.problem:
            sheet.attachment_problem = t(f"worksheets.attachment.{image.problem['code']}", lang, **image.problem)
        sheet.location_svg = location_svg(
            centre, NEARBY_RADIUS_M, nearby, streets.get(record["street_code"]), name=sheet.name, title=t("worksheets.map_title", lang)
        )
        sheets.append(sheet)
    return sheets


def _value(value: object) -> Any:
    """A cell value typed for the workbook: numbers, dates, text; None for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, str):
        return value or None
    return value


def _metric_streets(project: Project, to_metric: Any) -> dict[str, Any]:
    import shapely

    out = {}
    for code, shape in zip(project.streets["street_code"], project.streets.geometry, strict=True):
        out[code] = shapely.transform(shape, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
    return out


def _nearby(centre: tuple[float, float], stations: list[dict], x: np.ndarray, y: np.ndarray, lang: Lang) -> list[dict]:
    if not stations:
        return []
    distance = np.hypot(x - centre[0], y - centre[1])
    order = np.argsort(distance, kind="stable")
    order = order[distance[order] <= NEARBY_RADIUS_M][:NEARBY_LIMIT]
    rows = []
    for i in order:
        station = stations[i]
        rows.append(
            {
                "site_id": show(station["site_id"]),
                "name": show(station.get("name", "")),
                "distance_m": round(float(distance[i])),
                "operators": labels.operators(station.get("operator", ""), lang),
                "band": show(station.get("band", "")),
                "on_air_date": show(station.get("on_air_date")),
                "x": float(x[i]),
                "y": float(y[i]),
            }
        )
    return rows


def _field(name: str, lang: Lang) -> str:
    return labels.field("garage", name, lang)


def _worksheet(record: pd.Series, status: str, evidence: pd.Series, chase: dict | None, nearby, stem, project, lang: Lang) -> Worksheet:
    from rollout.reports import responsible_text

    config, day = project.config, pd.Timestamp(project.as_of)
    codes = [c for c in str(record.get("operators", "")).split(";") if c]
    facts = [(n, _field(n if n != "street_name" else "street", lang), _value(record.get(n))) for n in FACTS]
    sharing = labels.operators(record.get("sharing_operators", ""), lang) or labels.operators(record.get("operators", ""), lang)
    plan = [
        ("solution", _field("solution", lang), labels.solution(record.get("solution", ""), lang) or None),
        ("builder", _field("builder", lang), _value(record.get("builder"))),
        ("lead_unit", _field("lead_unit", lang), _value(record.get("lead_unit"))),
        ("sharing_operators", _field("sharing_operators", lang), sharing or None),
        ("power_source", _field("power_source", lang), _value(record.get("power_source"))),
        ("transmission_route", _field("transmission_route", lang), _value(record.get("transmission_route"))),
    ]
    threshold = config.callable_threshold_pct
    operators = []
    for code in OPERATOR_CODES:
        value = _value(record.get(f"callable_pct_{code}"))
        if code not in codes and value is None:
            continue
        operators.append(
            {
                "code": code,
                "operator": labels.operator(code, lang),
                "signal_source": _value(record.get(f"signal_source_{code}")),
                "band": _value(record.get(f"band_{code}")),
                "callable": value,
                "result": "" if value is None else t("worksheets.pass" if value >= threshold else "worksheets.fail", lang),
                "ok": value is not None and value >= threshold,
            }
        )
    equipment = [(n, _field(n, lang), _value(record.get(n))) for n in EQUIPMENT]
    schedule = []
    for actual_col, planned_col in STEPS:
        planned, actual = _value(record.get(planned_col)), _value(record.get(actual_col))
        actual = actual if actual is not None and pd.Timestamp(actual) <= day else None
        flag, days = "", None
        if planned is not None and actual is None and pd.Timestamp(planned) < day:
            flag, days = "overdue", (day - pd.Timestamp(planned)).days
        elif planned is not None and actual is not None and actual > planned:
            flag, days = "late", (pd.Timestamp(actual) - pd.Timestamp(planned)).days
        elif actual is not None:
            flag = "on_time" if planned is not None else "done"
        schedule.append(
            {
                "step": t(f"worksheets.step.{actual_col}", lang),
                "planned_field": planned_col,
                "actual_field": actual_col,
                "planned": planned,
                "actual": actual,
                "flag": flag,
                "flag_text": t(f"worksheets.flag.{flag}", lang, days=days) if flag else "",
            }
        )
    blockers: list[tuple[str, Any]] = []
    if status == "blocked":
        since = _value(record.get("status_date"))
        blockers = [
            (t("worksheets.blocker.reason", lang), _value(record.get("blocker")) or t("worksheets.blocker.not_given", lang)),
            (t("worksheets.blocker.since", lang), since),
            (t("worksheets.blocker.days", lang), None if since is None else (day - pd.Timestamp(since)).days),
            (
                t("worksheets.blocker.who", lang),
                responsible_text(chase["responsible"], chase["responsible_name"], lang) if chase is not None else "",
            ),
        ]

    def known(value) -> str:
        return labels.yes_no(value, lang) or t("labels.unknown", lang)

    required = "、".join(labels.operator(c, lang) for c in config.required_operators)
    evidence_rows = [
        (
            "",
            t("worksheets.evidence.all_pass", lang, operators=required) + f"（≥{threshold:g}%）",
            labels.yes_no(not evidence["operators_failing"], lang),
        ),
        ("rsrp_before_dbm", _field("rsrp_before_dbm", lang), _value(record.get("rsrp_before_dbm"))),
        ("rsrp_after_dbm", _field("rsrp_after_dbm", lang), _value(record.get("rsrp_after_dbm"))),
        ("", t("worksheets.evidence.charging_piles", lang), known(record.get("charging_piles_ok"))),
        ("", t("worksheets.evidence.barrier_gates", lang), known(record.get("barrier_gates_ok"))),
        *((n, _field(n, lang), _value(record.get(n))) for n in _TEST),
    ]
    contacts = [(n, _field(n, lang), _value(record.get(n))) for n in ("property_manager", "contact", "phone")]
    signoff = [t(f"worksheets.signoff.{unit}", lang) for unit in ("property", "owners_committee", "residents_committee", "street")]
    signoff.append(labels.operator("tower", lang, full=True))
    signoff += [labels.operator(c, lang, full=True) for c in OPERATOR_CODES if c in codes]
    typed = {name: _value(record.get(name)) for name in GARAGE.field_names if name in record.index}
    typed["status"] = labels.status("garage", str(record.get("status", "")), lang)
    return Worksheet(
        compound_id=show(record["compound_id"]),
        name=show(record.get("name")),
        street_name=show(record.get("street_name")),
        file_stem=stem,
        status=labels.status("garage", status, lang),
        facts=facts,
        plan=plan,
        operators=operators,
        equipment=equipment,
        schedule=schedule,
        blockers=blockers,
        evidence=evidence_rows,
        evidence_passes=bool(evidence["evidence_passes"]),
        accepted_without_evidence=bool(status == "accepted" and not evidence["evidence_passes"]),
        evidence_problems=evidence_text(evidence["problems"], lang),
        contacts=contacts,
        nearby=nearby,
        plan_image=None,
        plan_image_size=None,
        location_svg="",
        attachment_problem="",
        signoff=signoff,
        record=typed,
        overdue_steps=sum(s["flag"] == "overdue" for s in schedule),
    )
