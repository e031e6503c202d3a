""" "One compound, one plan" (一小区一方案): a printable worksheet per garage compound.

For each compound: its facts, the coverage plan, milestones (planned and actual), blockers,
acceptance evidence ("one acceptance, one report"), contacts (worksheets are the only output
with phone numbers), nearby on-air macro stations, a small static map rendered offline, and
a sign-off block. Built in memory as HTML with print CSS, PDF (WeasyPrint, CJK fonts embedded)
and XLSX, with an index; with an operator, as a bundle folder and zip of that operator's
compounds. File names are built from the compound's id and name, made safe.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rollout import labels
from rollout.charts import chart_style, figure_png
from rollout.crs import metric_crs, metric_transformer
from rollout.errors import InputFileError
from rollout.gaps import acceptance_check, evidence_text
from rollout.i18n import Lang, t
from rollout.pipeline import Project
from rollout.render import render_page
from rollout.schema import GARAGE, MACRO, operator_code
from rollout.status import status_as_of
from rollout.writers import new_workbook, put_rows, put_title, safe_filename, unique_filenames, write_file, write_folder, zip_folder

__all__ = ["FORMATS", "Worksheet", "build_worksheets", "safe_filename", "worksheet_files", "write_worksheets"]

FORMATS = ("html", "pdf", "xlsx")
NEARBY_RADIUS_M = 800.0
NEARBY_LIMIT = 8
_FACTS = (
    "compound_id",
    "name",
    "address",
    "street_name",
    "households",
    "buildings",
    "garage_levels",
    "garage_area_m2",
    "parking_spaces",
    "build_year",
)
_MILESTONES = ("survey_date", "plan_agreed_date", "construction_start_date", "covered_date", "accepted_date")
_OPERATOR_CODES = ("cmcc", "ctc", "cucc", "cbn")


@dataclass
class Worksheet:
    """Everything one worksheet shows, in its reader's language."""

    compound_id: str
    name: str
    street_name: str
    file_stem: str
    facts: list[tuple[str, str]]
    plan: list[tuple[str, str]]
    coverage: list[dict]
    milestones: list[dict]
    status: str
    blockers: list[tuple[str, str]]
    evidence: list[tuple[str, str]]
    evidence_passes: bool
    accepted_without_evidence: bool
    evidence_problems: str
    contacts: list[tuple[str, str]]
    nearby: list[dict]
    map_png: bytes
    signoff: list[str]
    operators: list[str] = field(default_factory=list)


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
    macro = project.macro.records
    macro_on_air = macro[status_as_of(macro, MACRO, project.as_of).eq("on_air").to_numpy()] if len(macro) else macro
    streets = project.streets.set_index("street_code")
    to_metric = metric_transformer(metric_crs(tuple(project.streets.total_bounds)))
    names = records["name"] if "name" in records.columns else pd.Series("", index=records.index)
    stems = unique_filenames([safe_filename(i, n) for i, n in zip(records["compound_id"], names, strict=True)])
    sheets = []
    for (index, record), stem in zip(records.iterrows(), stems, strict=True):
        nearby = _nearby(record, macro_on_air, to_metric, lang)
        shape = streets.geometry.get(record["street_code"])
        sheets.append(_worksheet(record, status[index], evidence.loc[index], nearby, shape, stem, project, to_metric, lang))
    return sheets


def worksheet_files(
    project: Project, sheets: Sequence[Worksheet], *, formats: Sequence[str] = FORMATS, lang: Lang = "zh"
) -> dict[str, Any]:
    """The files of ``sheets`` in ``formats``, plus ``index.html``: name -> artefact."""
    files: dict[str, Any] = {}
    for sheet in sheets:
        html = render_html(sheet, project, lang=lang)
        if "html" in formats:
            files[f"{sheet.file_stem}.html"] = html
        if "pdf" in formats:
            files[f"{sheet.file_stem}.pdf"] = _pdf(html)
        if "xlsx" in formats:
            files[f"{sheet.file_stem}.xlsx"] = _workbook(sheet, project, lang)
    files["index.html"] = render_page(
        "worksheet_index.html.j2",
        lang=lang,
        sheets=sheets,
        formats=[f for f in FORMATS if f in formats],
        as_of=project.as_of.isoformat(),
        district=project.config.district(lang),
    )
    return files


def write_worksheets(
    project: Project,
    out_dir: Path | str,
    *,
    formats: Sequence[str] = FORMATS,
    compound_ids: Iterable[str] | None = None,
    operator: str | None = None,
    lang: Lang = "zh",
) -> tuple[Path, list[Worksheet]]:
    """Write the worksheets and an index into ``out_dir`` (or ``out_dir/operator-<name>`` plus a zip).

    Returns the folder written and the worksheets. Every file lands inside that folder
    whatever the compound names say.
    """
    if not formats or set(formats) - set(FORMATS):
        raise InputFileError("errors.worksheet_format", value=",".join(formats), allowed=", ".join(FORMATS))
    sheets = build_worksheets(project, compound_ids=compound_ids, operator=operator, lang=lang)
    files = worksheet_files(project, sheets, formats=formats, lang=lang)
    out_dir = Path(out_dir)
    if operator:
        folder = write_folder(out_dir / safe_filename(f"operator-{_operator_label(operator, lang)}"), files, write=write_file)
        zip_folder(folder, folder.with_suffix(".zip"))
    else:
        folder = write_folder(out_dir, files, write=write_file, merge=True)
    return folder, sheets


def render_html(sheet: Worksheet, project: Project, *, lang: Lang = "zh") -> str:
    """One worksheet as a printable A4 HTML page with its map embedded."""
    return render_page(
        "worksheet.html.j2",
        lang=lang,
        sheet=sheet,
        as_of=project.as_of.isoformat(),
        district=project.config.district(lang),
        approximate=labels.approximate_note(lang) if project.approximate else "",
        map_data=base64.b64encode(sheet.map_png).decode("ascii"),
    )


def _text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _operator_label(operator: str, lang: Lang) -> str:
    code = operator_code(operator)
    return labels.operator(code, lang) if code else operator


def _nearby(record: pd.Series, stations: pd.DataFrame, to_metric: Any, lang: Lang) -> list[dict]:
    if stations.empty:
        return []
    x0, y0 = to_metric.transform(record["lon"], record["lat"])
    x, y = to_metric.transform(stations["lon"].to_numpy(), stations["lat"].to_numpy())
    distance = np.hypot(np.asarray(x) - x0, np.asarray(y) - y0)
    order = np.argsort(distance, kind="stable")
    order = order[distance[order] <= NEARBY_RADIUS_M][:NEARBY_LIMIT]
    rows = []
    for i in order:
        station = stations.iloc[i]
        rows.append(
            {
                "site_id": _text(station["site_id"]),
                "name": _text(station.get("name", "")),
                "distance_m": round(distance[i]),
                "operators": labels.operators(station.get("operator", ""), lang),
                "band": _text(station.get("band", "")),
                "on_air_date": _text(station.get("on_air_date")),
                "x": float(x[i]),
                "y": float(y[i]),
            }
        )
    return rows


def _worksheet(record, status, evidence, nearby, street_shape, stem, project, to_metric, lang: Lang) -> Worksheet:
    config = project.config
    operator_codes = [c for c in str(record.get("operators", "")).split(";") if c]
    operators = [labels.operator(c, lang) for c in operator_codes]
    facts = [(t(f"worksheets.fact.{name}", lang), _text(record.get(name))) for name in _FACTS]
    plan = [
        (t("worksheets.plan.solution", lang), labels.solution(record.get("solution", ""), lang)),
        (t("worksheets.plan.lead_unit", lang), _text(record.get("lead_unit"))),
        (t("worksheets.plan.operators", lang), labels.join(operators, lang)),
    ]
    threshold = config.callable_threshold_pct
    coverage = []
    for code in _OPERATOR_CODES:
        value = record.get(f"callable_pct_{code}")
        tested = value is not None and not pd.isna(value)
        if not tested and code not in operator_codes:
            continue
        coverage.append(
            {
                "operator": labels.operator(code, lang),
                "callable": f"{value:g}%" if tested else t("worksheets.not_tested", lang),
                "passes": t("worksheets.pass" if value >= threshold else "worksheets.fail", lang) if tested else "",
                "ok": bool(tested and value >= threshold),
            }
        )
    day = pd.Timestamp(project.as_of)
    planned = {"covered_date": record.get("planned_covered_date")}
    milestones = [
        {
            "step": t(f"worksheets.step.{column}", lang),
            "planned": _text(planned.get(column)),
            "actual": _text(record.get(column)) if pd.notna(record.get(column)) and record.get(column) <= day else "",
        }
        for column in _MILESTONES
    ]
    blockers = []
    if status == "blocked" or _text(record.get("blocker")):
        since = record.get("status_date")
        days = (day - since).days if since is not None and pd.notna(since) else None
        blockers = [
            (t("worksheets.blocker.reason", lang), _text(record.get("blocker")) or t("worksheets.blocker.not_given", lang)),
            (t("worksheets.blocker.since", lang), _text(since)),
            (t("worksheets.blocker.days", lang), "" if days is None else str(days)),
        ]

    def flag(value) -> str:
        return labels.yes_no(value, lang) or t("labels.unknown", lang)

    required = "、".join(labels.operator(c, lang) for c in config.required_operators)
    evidence_rows = [
        (t("worksheets.evidence.threshold", lang), f"{threshold:g}%"),
        (t("worksheets.evidence.all_pass", lang, operators=required), labels.yes_no(not evidence["operators_failing"], lang)),
        (t("worksheets.evidence.rsrp_before", lang), _text(record.get("rsrp_before_dbm"))),
        (t("worksheets.evidence.rsrp_after", lang), _text(record.get("rsrp_after_dbm"))),
        (t("worksheets.evidence.charging_piles", lang), flag(record.get("charging_piles_ok"))),
        (t("worksheets.evidence.barrier_gates", lang), flag(record.get("barrier_gates_ok"))),
    ]
    contacts = [(t(f"worksheets.contact.{name}", lang), _text(record.get(name))) for name in ("property_manager", "contact", "phone")]
    signoff = [t("worksheets.signoff.street", lang), labels.operator("tower", lang, full=True)]
    signoff += [labels.operator(c, lang, full=True) for c in _OPERATOR_CODES if c in operator_codes]
    signoff.append(t("worksheets.signoff.property", lang))
    return Worksheet(
        compound_id=_text(record["compound_id"]),
        name=_text(record.get("name")),
        street_name=_text(record.get("street_name")),
        file_stem=stem,
        facts=facts,
        plan=plan,
        coverage=coverage,
        milestones=milestones,
        status=labels.status("garage", status, lang),
        blockers=blockers,
        evidence=evidence_rows,
        evidence_passes=bool(evidence["evidence_passes"]),
        accepted_without_evidence=bool(status == "accepted" and not evidence["evidence_passes"]),
        evidence_problems=evidence_text(evidence["problems"], lang),
        contacts=contacts,
        nearby=nearby,
        map_png=_static_map(record, street_shape, nearby, to_metric, lang),
        signoff=signoff,
        operators=operators,
    )


def _static_map(record: pd.Series, street_shape, nearby: list[dict], to_metric: Any, lang: Lang) -> bytes:
    """A small PNG: the street boundary, the compound and the nearby stations, drawn offline."""
    import shapely
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    x0, y0 = to_metric.transform(record["lon"], record["lat"])
    with chart_style():
        figure = Figure(figsize=(4.6, 3.6), dpi=110)
        ax = figure.subplots()
        if street_shape is not None:
            metric = shapely.transform(street_shape, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
            for part in shapely.get_parts(metric):
                xs, ys = part.exterior.xy
                ax.fill(xs, ys, color="#e8f1e4", zorder=1)
                ax.plot(xs, ys, color="#5a7d4e", linewidth=1.2, zorder=2)
        ax.add_patch(Circle((x0, y0), NEARBY_RADIUS_M, fill=False, linestyle="--", color="#999999", linewidth=0.8, zorder=2))
        for station in nearby:
            ax.scatter(station["x"], station["y"], marker="^", s=40, color="#1a9850", edgecolor="white", zorder=4)
            ax.annotate(station["site_id"], (station["x"], station["y"]), xytext=(3, 3), textcoords="offset points", fontsize=6, zorder=5)
        ax.scatter([x0], [y0], marker="s", s=70, color="#d7191c", edgecolor="white", zorder=6)
        ax.annotate(str(record.get("name", "")), (x0, y0), xytext=(5, -10), textcoords="offset points", fontsize=8, weight="bold", zorder=7)
        pad = NEARBY_RADIUS_M * 1.3
        ax.set_xlim(x0 - pad, x0 + pad)
        ax.set_ylim(y0 - pad, y0 + pad)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.plot([x0 - pad * 0.9, x0 - pad * 0.9 + 500], [y0 - pad * 0.88] * 2, color="black", linewidth=2)
        ax.text(x0 - pad * 0.9 + 250, y0 - pad * 0.84, "500 m", ha="center", fontsize=7)
        ax.set_title(t("worksheets.map_title", lang), fontsize=9)
        figure.tight_layout()
        return figure_png(figure)


def _pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:
        raise InputFileError("errors.pdf_unavailable", detail=str(e)) from e
    return HTML(string=html).write_pdf()


def _workbook(sheet: Worksheet, project: Project, lang: Lang):
    """The worksheet as a workbook: the same sections, one under the other."""
    from openpyxl.styles import Alignment

    book = new_workbook(t("worksheets.sheet", lang))
    ws = book.active
    row = 1

    def section(title: str, rows: Sequence[Sequence[object]], header: Sequence[str] | None = None) -> None:
        nonlocal row
        row = put_title(ws, row, title, size=12)
        row = put_rows(ws, row, rows, header=header) + 1

    def heads(*names: str) -> list[str]:
        return [t(f"worksheets.head.{name}", lang) for name in names]

    section(
        t("worksheets.xlsx_title", lang, name=sheet.name, compound_id=sheet.compound_id),
        [(t("worksheets.as_of", lang), project.as_of.isoformat()), (t("worksheets.status", lang), sheet.status)],
    )
    section(t("worksheets.section.facts", lang), sheet.facts)
    section(t("worksheets.section.plan", lang), sheet.plan)
    coverage = [(c["operator"], c["callable"], c["passes"]) for c in sheet.coverage]
    section(t("worksheets.section.coverage", lang), coverage, heads("operator", "callable", "result"))
    milestones = [(m["step"], m["planned"], m["actual"]) for m in sheet.milestones]
    section(t("worksheets.section.milestones", lang), milestones, heads("step", "planned", "actual"))
    if sheet.blockers:
        section(t("worksheets.section.blockers", lang), sheet.blockers)
    result = t("worksheets.passes", lang) if sheet.evidence_passes else sheet.evidence_problems or t("worksheets.fails", lang)
    section(t("worksheets.section.evidence", lang), [*sheet.evidence, (t("worksheets.evidence_result", lang), result)])
    section(t("worksheets.section.contacts", lang), sheet.contacts)
    nearby = [(n["site_id"], n["name"], n["distance_m"], n["operators"], n["band"]) for n in sheet.nearby]
    section(t("worksheets.section.nearby", lang), nearby, heads("site_id", "name", "distance_m", "operators", "band"))
    section(t("worksheets.section.signoff", lang), [(unit, "", "") for unit in sheet.signoff], heads("unit", "signature", "date"))
    ws.column_dimensions["A"].width = 26
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 22
    for cells in ws.iter_rows():
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    return book
