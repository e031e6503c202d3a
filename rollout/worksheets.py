""" "One compound, one plan" (一小区一方案): a printable worksheet per garage compound.

For each compound: its facts, the coverage plan, milestones (planned and actual), blockers,
acceptance evidence ("one acceptance, one report"), contacts (worksheets are the only output
with phone numbers), nearby on-air macro stations, a small static map rendered offline, and
a sign-off block. Written as HTML with print CSS, PDF (WeasyPrint, CJK fonts embedded) and
XLSX, with an index; with an operator, as a bundle folder and zip of that operator's
compounds. File names are built from the compound's id and name, made safe.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from rollout import settings
from rollout.boundaries import APPROXIMATE_NOTE
from rollout.crs import METRIC_CRS
from rollout.errors import InputFileError
from rollout.gaps import acceptance_check
from rollout.io import atomic_path, neutralize_formulas
from rollout.pipeline import Project
from rollout.schema import GARAGE, MACRO, OPERATORS, SOLUTIONS
from rollout.status import status_as_of

__all__ = ["FORMATS", "Worksheet", "build_worksheets", "safe_filename", "write_worksheets"]

FORMATS = ("html", "pdf", "xlsx")
NEARBY_RADIUS_M = 800.0
NEARBY_LIMIT = 8
_TO_METRIC = pyproj.Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def safe_filename(*parts: object, max_length: int = 80) -> str:
    """A file name from untrusted text: no path separators, control or reserved characters,
    no leading dots, Chinese kept.

    >>> safe_filename("PT-GA-001", "../../etc/passwd")
    'PT-GA-001_.._.._etc_passwd'
    >>> safe_filename("A1", "<script>金沙雅苑")
    'A1_script_金沙雅苑'
    """
    text = "_".join(unicodedata.normalize("NFKC", str(p)).strip() for p in parts if str(p).strip())
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" ._") or "worksheet"
    text = re.sub(r"_+", "_", text)
    if text.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}:
        text = f"_{text}"
    return text[:max_length].rstrip(" .")


@dataclass
class Worksheet:
    """Everything one worksheet shows."""

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


def _operator_names(codes: str, zh: bool) -> list[str]:
    return [OPERATORS[c][0 if zh else 1] if c in OPERATORS else c for c in str(codes).split(";") if c]


def build_worksheets(
    project: Project,
    *,
    compound_ids: Iterable[str] | None = None,
    operator: str | None = None,
) -> list[Worksheet]:
    """Assemble the worksheets (no file is written), sorted by compound id.

    ``operator`` (移动, 电信, 联通, 广电, 铁塔 or their codes) keeps the compounds whose
    participating operators or lead unit include it.
    """
    records = project.garage.records
    zh = settings.language == "zh"
    if compound_ids:
        wanted = [str(c) for c in compound_ids]
        unknown = sorted(set(wanted) - set(records["compound_id"].astype(str)))
        if unknown:
            msg = f"no garage compound with id {', '.join(unknown)}; see `rollout validate` for the loaded ones."
            raise InputFileError(msg)
        records = records[records["compound_id"].astype(str).isin(wanted)]
    if operator:
        code = _operator_code(operator)
        lead = records["lead_unit"].astype(str).map(lambda v: _operator_code(v, strict=False))
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
    stems: set[str] = set()
    sheets = []
    for index, record in records.iterrows():
        stem = safe_filename(record["compound_id"], record.get("name", ""))
        while stem in stems:
            stem += "_"
        stems.add(stem)
        nearby = _nearby(record, macro_on_air, zh)
        sheets.append(
            _worksheet(record, status[index], evidence.loc[index], nearby, streets.geometry.get(record["street_code"]), stem, project, zh)
        )
    return sheets


def _operator_code(text: str, *, strict: bool = True) -> str | None:
    from rollout.schema import OPERATOR_INDEX, normalize_token

    code = OPERATOR_INDEX.get(normalize_token(text))
    if code is None and strict:
        msg = f"--operator {text!r}: use 移动, 电信, 联通, 广电 or 铁塔"
        raise InputFileError(msg)
    return code


def _nearby(record: pd.Series, stations: pd.DataFrame, zh: bool) -> list[dict]:
    if stations.empty:
        return []
    x0, y0 = _TO_METRIC.transform(record["lon"], record["lat"])
    x, y = _TO_METRIC.transform(stations["lon"].to_numpy(), stations["lat"].to_numpy())
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
                "operators": "/".join(_operator_names(station.get("operator", ""), zh)),
                "band": _text(station.get("band", "")),
                "on_air_date": _text(station.get("on_air_date")),
                "x": float(x[i]),
                "y": float(y[i]),
            }
        )
    return rows


def _worksheet(record, status, evidence, nearby, street_shape, stem, project, zh) -> Worksheet:
    config = project.config
    label = (lambda z, e: z) if zh else (lambda z, e: e)
    solution = record.get("solution", "")
    solution_text = SOLUTIONS[solution][0 if zh else 1] if solution in SOLUTIONS else _text(solution)
    operators = _operator_names(record.get("operators", ""), zh)
    facts = [
        (label("小区编码", "Compound id"), _text(record["compound_id"])),
        (label("小区名称", "Name"), _text(record.get("name"))),
        (label("地址", "Address"), _text(record.get("address"))),
        (label("所属街道", "Street"), _text(record.get("street_name"))),
        (label("户数", "Households"), _text(record.get("households"))),
        (label("楼栋数", "Buildings"), _text(record.get("buildings"))),
        (label("地下层数", "Garage levels"), _text(record.get("garage_levels"))),
        (label("车库面积（㎡）", "Garage area (m²)"), _text(record.get("garage_area_m2"))),
        (label("车位数", "Parking spaces"), _text(record.get("parking_spaces"))),
        (label("建成年份", "Year built"), _text(record.get("build_year"))),
    ]
    plan = [
        (label("覆盖方案", "Coverage solution"), solution_text),
        (label("牵头单位", "Lead unit"), _text(record.get("lead_unit"))),
        (label("参与运营商", "Participating operators"), "、".join(operators) if zh else ", ".join(operators)),
    ]
    threshold = config.callable_threshold_pct
    coverage = []
    for code in ("cmcc", "ctc", "cucc", "cbn"):
        value = record.get(f"callable_pct_{code}")
        tested = value is not None and not pd.isna(value)
        participates = code in str(record.get("operators", "")).split(";")
        if not tested and not participates:
            continue
        coverage.append(
            {
                "operator": OPERATORS[code][0 if zh else 1],
                "callable": f"{value:g}%" if tested else ("未测试" if zh else "not tested"),
                "passes": (label("达标", "pass") if value >= threshold else label("未达标", "fail")) if tested else "",
                "ok": bool(tested and value >= threshold),
            }
        )
    milestone_labels = {
        "survey_date": ("勘察", "Survey"),
        "plan_agreed_date": ("方案确定", "Plan agreed"),
        "construction_start_date": ("开工", "Construction start"),
        "covered_date": ("覆盖完成", "Covered"),
        "accepted_date": ("验收", "Accepted"),
    }
    planned = {"covered_date": record.get("planned_covered_date")}
    milestones = [
        {
            "step": milestone_labels[column][0 if zh else 1],
            "planned": _text(planned.get(column)),
            "actual": _text(record.get(column))
            if pd.notna(record.get(column)) and record.get(column) <= pd.Timestamp(project.as_of)
            else "",
        }
        for column in milestone_labels
    ]
    blockers = []
    if status == "blocked" or _text(record.get("blocker")):
        since = record.get("status_date")
        days = (pd.Timestamp(project.as_of) - since).days if since is not None and pd.notna(since) else None
        blockers = [
            (label("受阻原因", "Blocker"), _text(record.get("blocker")) or label("未填写", "not given")),
            (label("受阻起始", "Since"), _text(since)),
            (label("已受阻天数", "Days blocked"), "" if days is None else str(days)),
        ]
    yes, no, unknown = label("是", "yes"), label("否", "no"), label("未知", "unknown")

    def flag(value) -> str:
        return unknown if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else (yes if bool(value) else no)

    required = "、".join(OPERATORS[c][0 if zh else 1] for c in config.required_operators)
    evidence_rows = [
        (label("可通话率达标线", "Callable threshold"), f"{threshold:g}%"),
        (label(f"{required}均达标", f"All of {required} pass"), yes if not evidence["operators_failing"] else no),
        (label("覆盖前信号强度（dBm）", "Signal before (dBm)"), _text(record.get("rsrp_before_dbm"))),
        (label("覆盖后信号强度（dBm）", "Signal after (dBm)"), _text(record.get("rsrp_after_dbm"))),
        (label("充电桩在线", "Charging piles online"), flag(record.get("charging_piles_ok"))),
        (label("道闸在线", "Barrier gates online"), flag(record.get("barrier_gates_ok"))),
    ]
    contacts = [
        (label("物业", "Property management"), _text(record.get("property_manager"))),
        (label("联系人", "Contact"), _text(record.get("contact"))),
        (label("联系电话", "Phone"), _text(record.get("phone"))),
    ]
    signoff = [label("街道（镇）", "Street / town"), label("中国铁塔", "China Tower")]
    signoff += [
        OPERATORS[c][0 if zh else 1] if not zh else f"中国{OPERATORS[c][0]}"
        for c in ("cmcc", "ctc", "cucc", "cbn")
        if c in str(record.get("operators", "")).split(";")
    ]
    signoff.append(label("物业管理单位", "Property management"))
    return Worksheet(
        compound_id=_text(record["compound_id"]),
        name=_text(record.get("name")),
        street_name=_text(record.get("street_name")),
        file_stem=stem,
        facts=facts,
        plan=plan,
        coverage=coverage,
        milestones=milestones,
        status=GARAGE.status_label(status, settings.language),
        blockers=blockers,
        evidence=evidence_rows,
        evidence_passes=bool(evidence["evidence_passes"]),
        accepted_without_evidence=bool(status == "accepted" and not evidence["evidence_passes"]),
        evidence_problems=_text(evidence["problems"]),
        contacts=contacts,
        nearby=nearby,
        map_png=_static_map(record, street_shape, nearby, zh),
        signoff=signoff,
        operators=operators,
    )


def _static_map(record: pd.Series, street_shape, nearby: list[dict], zh: bool) -> bytes:
    """A small PNG: the street boundary, the compound and the nearby stations, drawn offline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shapely

    from rollout.charts import cjk_font

    font = cjk_font()
    x0, y0 = _TO_METRIC.transform(record["lon"], record["lat"])
    with plt.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}):
        figure, ax = plt.subplots(figsize=(4.6, 3.6), dpi=110)
        if street_shape is not None:
            metric = shapely.transform(street_shape, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))
            for part in shapely.get_parts(metric):
                xs, ys = part.exterior.xy
                ax.fill(xs, ys, color="#e8f1e4", zorder=1)
                ax.plot(xs, ys, color="#5a7d4e", linewidth=1.2, zorder=2)
        ax.add_patch(plt.Circle((x0, y0), NEARBY_RADIUS_M, fill=False, linestyle="--", color="#999999", linewidth=0.8, zorder=2))
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
        ax.set_title("小区位置与周边已开通宏站" if zh else "Compound and nearby on-air stations", fontsize=9)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        plt.close(figure)
    return buffer.getvalue()


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("rollout", "templates"), autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True
    )


def render_html(sheet: Worksheet, project: Project) -> str:
    """One worksheet as a printable A4 HTML page with its map embedded."""
    zh = settings.language == "zh"
    return (
        _environment()
        .get_template("worksheet.html.j2")
        .render(
            zh=zh,
            lang="zh-CN" if zh else "en",
            sheet=sheet,
            as_of=project.as_of.isoformat(),
            district=project.config.district_name if zh else project.config.district_name_en,
            approximate=APPROXIMATE_NOTE[settings.language] if project.approximate else "",
            map_data=base64.b64encode(sheet.map_png).decode("ascii"),
        )
    )


def _write_pdf(html: str, path: Path) -> None:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:
        msg = f"PDF output needs WeasyPrint and its system libraries (pip install weasyprint; apt-get install libpango-1.0-0): {e}"
        raise InputFileError(msg) from e
    with atomic_path(path) as tmp:
        HTML(string=html).write_pdf(tmp)


def _write_xlsx(sheet: Worksheet, project: Project, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    zh = settings.language == "zh"
    book = Workbook()
    ws = book.active
    ws.title = "一小区一方案" if zh else "worksheet"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")

    def section(title: str, rows: Sequence[Sequence[object]], header: Sequence[str] | None = None) -> None:
        ws.append([title])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)
        if header:
            ws.append(list(header))
            for cell in ws[ws.max_row]:
                cell.font, cell.fill = bold, fill
        frame = neutralize_formulas(pd.DataFrame([list(r) for r in rows]))
        for row in frame.itertuples(index=False):
            ws.append(list(row))
        ws.append([])

    title = f"{sheet.name}（{sheet.compound_id}）一小区一方案" if zh else f"{sheet.name} ({sheet.compound_id}): one compound, one plan"
    section(title, [(("统计日期" if zh else "As of"), project.as_of.isoformat()), (("当前状态" if zh else "Status"), sheet.status)])
    section("小区概况" if zh else "Compound", sheet.facts)
    section("覆盖方案" if zh else "Plan", sheet.plan)
    section(
        "各运营商覆盖" if zh else "Coverage per operator",
        [(c["operator"], c["callable"], c["passes"]) for c in sheet.coverage],
        ["运营商", "可通话率", "结论"] if zh else ["Operator", "Callable", "Result"],
    )
    section(
        "进度节点" if zh else "Milestones",
        [(m["step"], m["planned"], m["actual"]) for m in sheet.milestones],
        ["节点", "计划", "实际"] if zh else ["Step", "Planned", "Actual"],
    )
    if sheet.blockers:
        section("受阻情况" if zh else "Blockers", sheet.blockers)
    evidence = [
        *list(sheet.evidence),
        (
            "验收证据结论" if zh else "Evidence",
            ("达标" if zh else "passes") if sheet.evidence_passes else sheet.evidence_problems or ("不达标" if zh else "fails"),
        ),
    ]
    section("验收证据（一验收一报告）" if zh else "Acceptance evidence", evidence)
    section("联系人" if zh else "Contacts", sheet.contacts)
    section(
        "周边已开通宏站" if zh else "Nearby on-air macro stations",
        [(n["site_id"], n["name"], n["distance_m"], n["operators"], n["band"]) for n in sheet.nearby],
        ["站址编码", "站名", "距离（米）", "运营商", "频段"] if zh else ["Site id", "Name", "Distance (m)", "Operators", "Band"],
    )
    section(
        "会签" if zh else "Sign-off",
        [(unit, "", "") for unit in sheet.signoff],
        ["单位", "签字", "日期"] if zh else ["Unit", "Signature", "Date"],
    )
    ws.column_dimensions["A"].width = 26
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 22
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.properties.creator = "rollout"
    book.properties.created = dt.datetime(2000, 1, 1)
    book.properties.modified = dt.datetime(2000, 1, 1)
    with atomic_path(path) as tmp:
        book.save(tmp)


def write_worksheets(
    project: Project,
    out_dir: Path | str,
    *,
    formats: Sequence[str] = FORMATS,
    compound_ids: Iterable[str] | None = None,
    operator: str | None = None,
) -> tuple[Path, list[Worksheet]]:
    """Write the worksheets and an index into ``out_dir`` (or ``out_dir/<operator>`` plus a zip).

    Returns the folder written and the worksheets. Every file lands inside that folder
    whatever the compound names say.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        msg = f"--format {','.join(formats)}: choose from {', '.join(FORMATS)}"
        raise InputFileError(msg)
    sheets = build_worksheets(project, compound_ids=compound_ids, operator=operator)
    out_dir = Path(out_dir)
    folder = out_dir / safe_filename(f"operator-{_operator_label(operator)}") if operator else out_dir
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".worksheets.", dir=folder.parent))
    try:
        for sheet in sheets:
            html = render_html(sheet, project)
            target = (staging / f"{sheet.file_stem}.html").resolve()
            if staging.resolve() not in target.parents:  # belt and braces: safe_filename already ensures this
                msg = f"refusing to write outside {staging}: {target}"
                raise InputFileError(msg)
            if "html" in formats:
                target.write_text(html, encoding="utf-8")
            if "pdf" in formats:
                _write_pdf(html, staging / f"{sheet.file_stem}.pdf")
            if "xlsx" in formats:
                _write_xlsx(sheet, project, staging / f"{sheet.file_stem}.xlsx")
        (staging / "index.html").write_text(_index_html(sheets, formats, project), encoding="utf-8")
        staging.chmod(0o755)
        if folder.exists() and folder != out_dir:
            shutil.rmtree(folder)
        if folder == out_dir and folder.exists():
            for child in staging.iterdir():
                os.replace(child, folder / child.name)
        else:
            os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    if operator:
        with atomic_path(folder.with_suffix(".zip")) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(folder.iterdir()):
                info = zipfile.ZipInfo(f"{folder.name}/{path.name}", date_time=(2000, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, path.read_bytes())
    return folder, sheets


def _operator_label(operator: str) -> str:
    code = _operator_code(operator)
    return OPERATORS[code][0 if settings.language == "zh" else 1] if code else operator


def _index_html(sheets: list[Worksheet], formats: Sequence[str], project: Project) -> str:
    return (
        _environment()
        .get_template("worksheet_index.html.j2")
        .render(
            zh=settings.language == "zh",
            lang="zh-CN" if settings.language == "zh" else "en",
            sheets=sheets,
            formats=[f for f in FORMATS if f in formats],
            as_of=project.as_of.isoformat(),
            district=project.config.district_name if settings.language == "zh" else project.config.district_name_en,
        )
    )
