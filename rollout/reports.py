"""Writing the coordinators' gap report as XLSX (summary + one sheet per street), HTML or CSV."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from rollout import settings
from rollout.boundaries import APPROXIMATE_NOTE
from rollout.errors import InputFileError
from rollout.gaps import GapReport
from rollout.io import _display_width, atomic_path, neutralize_formulas, write_table
from rollout.progress import COLUMN_LABELS, PACE_LABELS

__all__ = ["gap_labels", "write_gap_report"]

_LABELS = {
    "street_code": ("街道代码", "street code"),
    "street_name": ("街道", "street"),
    "attention_rank": ("关注排序", "attention rank"),
    "attention_score": ("关注分", "attention score"),
    "reasons": ("原因", "why"),
    "stale": ("久未更新记录", "records not updated"),
    "not_started": ("未启动小区", "compounds not started"),
    "acceptance_flags": ("验收证据不足", "acceptances lacking evidence"),
    "kind": ("类型", "kind"),
    "record_id": ("编码", "id"),
    "name": ("名称", "name"),
    "blocker": ("受阻原因", "blocker"),
    "blocked_since": ("受阻起始", "blocked since"),
    "days_blocked": ("受阻天数", "days blocked"),
    "status": ("状态", "status"),
    "last_update": ("最后更新", "last update"),
    "weeks_since_update": ("未更新周数", "weeks since update"),
    "priority": ("优先序", "priority"),
    "compound_id": ("小区编码", "compound id"),
    "parking_spaces": ("车位数", "parking spaces"),
    "build_year": ("建成年份", "year built"),
    "complaints_12345": ("12345投诉", "12345 complaints"),
    "score": ("优先分", "score"),
    "status_as_of": ("状态", "status"),
    "operators_passing": ("达标运营商", "operators passing"),
    "operators_failing": ("未达标运营商", "operators failing"),
    "charging_piles_ok": ("充电桩在线", "charging piles online"),
    "barrier_gates_ok": ("道闸在线", "barrier gates online"),
    "evidence_passes": ("证据达标", "evidence passes"),
    "problems": ("问题", "problems"),
}
# The progress columns keep the headers `rollout progress` gives them; the gap columns add theirs.
_LABELS = COLUMN_LABELS | _LABELS
for _prefix, _zh, _en in (("macro", "宏站", "macro"), ("garage", "车库", "garage")):
    _LABELS |= {
        f"{_prefix}_weekly_rate": (f"{_zh}近期周均完成", f"{_en} weekly rate"),
        f"{_prefix}_forecast": (f"{_zh}预计完成日期", f"{_en} forecast"),
        f"{_prefix}_at_risk": (f"{_zh}有风险", f"{_en} at risk"),
        f"{_prefix}_blocked": (f"{_zh}受阻", f"{_en} blocked"),
    }

SUMMARY_COLUMNS = [
    "attention_rank", "street_code", "street_name",
    "macro_target", "macro_done", "macro_remaining", "macro_expected", "macro_vs_plan", "macro_pace",
    "macro_weekly_rate", "macro_forecast", "macro_at_risk", "macro_blocked",
    "garage_target", "garage_done", "garage_remaining", "garage_expected", "garage_vs_plan", "garage_pace",
    "garage_weekly_rate", "garage_forecast", "garage_at_risk", "garage_blocked",
    "stale", "not_started", "acceptance_flags", "reasons",
]  # fmt: skip
SECTIONS = (
    ("blocked", "受阻记录", "Blocked records"),
    ("stale", "久未更新的记录", "Records not updated"),
    ("not_started", "未启动小区（按优先序）", "Compounds not started, in priority order"),
    ("acceptance", "标为已验收但证据不达标", "Accepted without passing evidence"),
)


def gap_labels(columns: list[str]) -> dict[str, str]:
    """Headers for people in the current language."""
    index = 0 if settings.language == "zh" else 1
    return {c: _LABELS.get(c, (c, c))[index] for c in columns}


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """Values for people: pace and yes/no in words, statuses and kinds localised."""
    zh = settings.language == "zh"
    out = table.copy()
    for column in out.columns:
        if column.endswith("_pace"):
            out[column] = out[column].map(lambda v: PACE_LABELS.get(v, (v, v))[0 if zh else 1])
        elif column.endswith(("_at_risk", "_passes")) or column.endswith("_ok"):
            out[column] = out[column].map(
                lambda v: (
                    ""
                    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v))
                    else ("是" if zh else "yes")
                    if bool(v)
                    else ("否" if zh else "no")
                )
            )
        elif column == "kind":
            out[column] = out[column].map({"macro": "宏站" if zh else "macro", "garage": "车库" if zh else "garage"})
        elif column == "status_as_of":
            from rollout.schema import GARAGE

            out[column] = out[column].map(lambda s: GARAGE.status_label(s, settings.language) if s in GARAGE.statuses else s)
    return out


def write_gap_report(report: GapReport, path: Path | str) -> Path:
    """Write the report by ``path``'s extension: .xlsx, .html or .csv (the ranked summary)."""
    path = Path(path)
    suffix = path.suffix.lower()
    summary = report.summary[SUMMARY_COLUMNS]
    if suffix == ".csv":
        return write_table(summary, path)
    if suffix == ".xlsx":
        return _write_xlsx(report, path)
    if suffix in (".html", ".htm"):
        with atomic_path(path) as tmp:
            tmp.write_text(render_gap_html(report), encoding="utf-8")
        return path
    msg = f"{path}: write the gap report as .xlsx, .html or .csv."
    raise InputFileError(msg)


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base[:28]}_{n}"
        n += 1
    used.add(candidate)
    return candidate


def _write_xlsx(report: GapReport, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    zh = settings.language == "zh"
    red = PatternFill("solid", fgColor="F8CBAD")
    amber = PatternFill("solid", fgColor="FFE699")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    bold = Font(bold=True)
    behind, yes = ("落后", "是") if zh else ("behind", "yes")
    book = Workbook()
    used: set[str] = set()

    def put_table(sheet, frame: pd.DataFrame, start: int) -> int:
        shown = neutralize_formulas(_shown(frame))
        headers = gap_labels(list(shown.columns))
        for col, column in enumerate(shown.columns, start=1):
            cell = sheet.cell(row=start, column=col, value=headers[column])
            cell.font, cell.fill = bold, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for r, row in enumerate(shown.itertuples(index=False), start=start + 1):
            for col, value in enumerate(row, start=1):
                sheet.cell(
                    row=r,
                    column=col,
                    value=None if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else value,
                )
        last = start + len(shown)
        for col, column in enumerate(shown.columns, start=1):
            letter = get_column_letter(col)
            if column.endswith("_pace") and last > start:
                sheet.conditional_formatting.add(
                    f"{letter}{start + 1}:{letter}{last}", CellIsRule(operator="equal", formula=[f'"{behind}"'], fill=amber)
                )
            if column.endswith("_at_risk") and last > start:
                sheet.conditional_formatting.add(
                    f"{letter}{start + 1}:{letter}{last}", CellIsRule(operator="equal", formula=[f'"{yes}"'], fill=red)
                )
            width = max([_display_width(headers[column])] + [_display_width(str(v)) for v in shown[column].head(200)])
            current = sheet.column_dimensions[letter].width or 0
            sheet.column_dimensions[letter].width = max(current, min(max(width + 2, 8), 60))
        return last + 2

    summary_sheet = book.active
    summary_sheet.title = _sheet_name("汇总" if zh else "summary", used)
    put_table(summary_sheet, report.summary[SUMMARY_COLUMNS], 1)
    summary_sheet.freeze_panes = "D2"
    note_row = len(report.summary) + 3
    title = f"统计日期 {report.as_of}" if zh else f"As of {report.as_of}"
    summary_sheet.cell(row=note_row, column=1, value=title)
    if report.approximate:
        summary_sheet.cell(row=note_row + 1, column=1, value=APPROXIMATE_NOTE[settings.language])
    streets = report.summary[report.summary["level"] == "street"].sort_values("street_code")
    for _, street in streets.iterrows():
        one = report.for_street(street["street_code"])
        sheet = book.create_sheet(_sheet_name(str(street["street_name"]), used))
        row = put_table(sheet, one.summary.iloc[[0]][SUMMARY_COLUMNS], 1)
        sheet.freeze_panes = "A2"
        for attribute, label_zh, label_en in SECTIONS:
            table = getattr(one, attribute)
            sheet.cell(
                row=row, column=1, value=f"{label_zh if zh else label_en}（{len(table)}）" if zh else f"{label_en} ({len(table)})"
            ).font = bold
            row = put_table(sheet, table.drop(columns=["street_code", "street_name"], errors="ignore"), row + 1) if len(table) else row + 2
    book.properties.creator = "rollout"
    book.properties.created = dt.datetime(2000, 1, 1)
    book.properties.modified = dt.datetime(2000, 1, 1)
    with atomic_path(path) as tmp:
        book.save(tmp)
    return path


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("rollout", "templates"), autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True
    )


def render_gap_html(report: GapReport) -> str:
    """The gap report as one printable HTML page (A4 landscape, a page per street)."""
    zh = settings.language == "zh"

    def table(frame: pd.DataFrame) -> dict:
        shown = _shown(frame)
        headers = gap_labels(list(shown.columns))
        rows = [
            ["" if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v for v in row]
            for row in shown.itertuples(index=False)
        ]
        return {"columns": list(shown.columns), "headers": [headers[c] for c in shown.columns], "rows": rows}

    streets = []
    for _, street in report.summary[report.summary["level"] == "street"].iterrows():
        one = report.for_street(street["street_code"])
        sections = []
        for attribute, label_zh, label_en in SECTIONS:
            frame = getattr(one, attribute).drop(columns=["street_code", "street_name"], errors="ignore")
            sections.append({"title": label_zh if zh else label_en, "count": len(frame), "table": table(frame)})
        streets.append(
            {
                "name": street["street_name"],
                "rank": street["attention_rank"],
                "reasons": street["reasons"],
                "summary": table(one.summary.iloc[[0]][SUMMARY_COLUMNS]),
                "sections": sections,
            }
        )
    return (
        _environment()
        .get_template("gaps.html.j2")
        .render(
            lang="zh-CN" if zh else "en",
            zh=zh,
            as_of=report.as_of.isoformat(),
            approximate=APPROXIMATE_NOTE[settings.language] if report.approximate else "",
            summary=table(report.summary[SUMMARY_COLUMNS]),
            streets=streets,
            behind=PACE_LABELS["behind"][0 if zh else 1],
            yes="是" if zh else "yes",
        )
    )
