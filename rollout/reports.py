"""The coordinators' gap report for people: XLSX (summary + one sheet per street), HTML or CSV.

Built in memory from a :class:`~rollout.gaps.GapReport` (codes) in the reader's language; the
writers put it on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rollout import labels
from rollout.errors import InputFileError
from rollout.gaps import GapReport, evidence_text, reasons_text
from rollout.i18n import Lang, t
from rollout.render import render_page
from rollout.writers import Table, new_workbook, put_table, put_title, write_file
from rollout.writers.xlsx import sheet_title

__all__ = ["SUMMARY_COLUMNS", "gap_labels", "gap_report", "gap_workbook", "render_gap_html", "shown", "write_gap_report"]

SUMMARY_COLUMNS = [
    "attention_rank", "street_code", "street_name",
    "macro_target", "macro_done", "macro_remaining", "macro_expected", "macro_vs_plan", "macro_pace",
    "macro_weekly_rate", "macro_forecast", "macro_at_risk", "macro_blocked",
    "garage_target", "garage_done", "garage_remaining", "garage_expected", "garage_vs_plan", "garage_pace",
    "garage_weekly_rate", "garage_forecast", "garage_at_risk", "garage_blocked",
    "stale", "not_started", "acceptance_flags", "reasons",
]  # fmt: skip
SECTIONS = ("blocked", "stale", "not_started", "acceptance")
_DATE_COLUMNS = ("macro_forecast", "garage_forecast", "blocked_since", "last_update")
_AMBER, _RED = "FFE699", "F8CBAD"


def gap_labels(columns: list[str], lang: Lang) -> dict[str, str]:
    """Headers for people in ``lang``."""
    return labels.headers(columns, lang)


def shown(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Values for people: paces, yes/no, kinds, statuses, operators, reasons and evidence in words."""
    out = labels.render_codes(table, lang, kinds={"status_as_of": "garage"})
    if "reasons" in out.columns:
        out["reasons"] = table["reasons"].map(lambda r: reasons_text(r, lang))
    if "problems" in out.columns:
        out["problems"] = table["problems"].map(lambda p: evidence_text(p, lang))
    for column in ("operators_passing", "operators_failing"):
        if column in out.columns:
            out[column] = table[column].map(lambda cell: labels.operators(cell, lang))
    return out


def gap_report(report: GapReport, path: Path | str, *, lang: Lang) -> Any:
    """The report as an artefact for ``path``'s extension: .xlsx, .html or .csv (the ranked summary)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        summary = report.summary[SUMMARY_COLUMNS].copy()
        summary["reasons"] = summary["reasons"].map(lambda r: reasons_text(r, lang))
        return Table(summary)
    if suffix == ".xlsx":
        return gap_workbook(report, lang=lang)
    if suffix in (".html", ".htm"):
        return render_gap_html(report, lang=lang)
    raise InputFileError("errors.gaps_format", path=path)


def write_gap_report(report: GapReport, path: Path | str, *, lang: Lang = "zh") -> Path:
    """Write the report by ``path``'s extension: .xlsx, .html or .csv (the ranked summary)."""
    return write_file(path, gap_report(report, path, lang=lang))


def gap_workbook(report: GapReport, *, lang: Lang):
    """The report as a workbook: a summary sheet, then a sheet per street with its lists."""
    behind, yes = labels.pace("behind", lang), t("labels.yes", lang)
    highlights = [(lambda c: c.endswith("_pace"), behind, _AMBER), (lambda c: c.endswith("_at_risk"), yes, _RED)]
    used: set[str] = set()
    book = new_workbook(sheet_title(t("gaps.sheet.summary", lang), used))

    def put(sheet, frame: pd.DataFrame, start: int, **options) -> int:
        people = shown(frame, lang)
        dates = [c for c in _DATE_COLUMNS if c in people.columns]
        return (
            put_table(
                sheet,
                people,
                start=start,
                headers=gap_labels(list(people.columns), lang),
                date_columns=dates,
                highlights=highlights,
                max_width=60,
            )
            + 1
        )

    summary_sheet = book.active
    put(summary_sheet, report.summary[SUMMARY_COLUMNS], 1)
    summary_sheet.freeze_panes = "D2"
    note_row = len(report.summary) + 3
    summary_sheet.cell(row=note_row, column=1, value=t("labels.as_of_title", lang, date=report.as_of))
    if report.approximate:
        summary_sheet.cell(row=note_row + 1, column=1, value=labels.approximate_note(lang))
    streets = report.summary[report.summary["level"] == "street"].sort_values("street_code")
    for _, street in streets.iterrows():
        one = report.for_street(street["street_code"])
        sheet = book.create_sheet(sheet_title(str(street["street_name"]), used))
        row = put(sheet, one.summary.iloc[[0]][SUMMARY_COLUMNS], 1)
        sheet.freeze_panes = "A2"
        for name in SECTIONS:
            table = getattr(one, name)
            row = put_title(sheet, row, t("gaps.section_count", lang, title=t(f"gaps.section.{name}", lang), count=len(table)))
            row = put(sheet, table.drop(columns=["street_code", "street_name"], errors="ignore"), row) if len(table) else row + 1
    return book


def render_gap_html(report: GapReport, *, lang: Lang = "zh") -> str:
    """The gap report as one printable HTML page (A4 landscape, a page per street)."""

    def table(frame: pd.DataFrame) -> dict:
        people = shown(frame, lang)
        headers = gap_labels(list(people.columns), lang)
        rows = [
            ["" if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v for v in row]
            for row in people.itertuples(index=False)
        ]
        return {"columns": list(people.columns), "headers": [headers[c] for c in people.columns], "rows": rows}

    streets = []
    for _, street in report.summary[report.summary["level"] == "street"].iterrows():
        one = report.for_street(street["street_code"])
        sections = []
        for name in SECTIONS:
            frame = getattr(one, name).drop(columns=["street_code", "street_name"], errors="ignore")
            sections.append({"title": t(f"gaps.section.{name}", lang), "count": len(frame), "table": table(frame)})
        streets.append(
            {
                "name": street["street_name"],
                "rank": street["attention_rank"],
                "reasons": reasons_text(street["reasons"], lang),
                "summary": table(one.summary.iloc[[0]][SUMMARY_COLUMNS]),
                "sections": sections,
            }
        )
    return render_page(
        "gaps.html.j2",
        lang=lang,
        as_of=report.as_of.isoformat(),
        approximate=labels.approximate_note(lang) if report.approximate else "",
        summary=table(report.summary[SUMMARY_COLUMNS]),
        streets=streets,
        behind=labels.pace("behind", lang),
        yes=t("labels.yes", lang),
    )
