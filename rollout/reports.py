"""The coordinators' gap report for people: XLSX (summary + one sheet per street), HTML or PDF
(a printable A4 portrait page per street) or CSV (the ranked summary).

Built in memory from a :class:`~rollout.gaps.GapReport` (codes) in the reader's language; the
writers put it on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rollout import labels
from rollout.errors import InputFileError
from rollout.gaps import SCORE_PARTS, GapReport, evidence_text, reasons_text
from rollout.i18n import Lang, has, t
from rollout.render import render_page
from rollout.writers import Table, new_workbook, put_table, put_title, write_file
from rollout.writers.xlsx import sheet_title

__all__ = [
    "OPEN_SHOWN",
    "SUMMARY_COLUMNS",
    "gap_labels",
    "gap_report",
    "gap_workbook",
    "open_records_text",
    "render_gap_html",
    "shown",
    "write_gap_report",
]

SUMMARY_COLUMNS = [
    "attention_rank", "street_code", "street_name", "attention_score", *(name for name, _, _ in SCORE_PARTS),
    "macro_target", "macro_done", "macro_remaining", "macro_expected", "macro_vs_plan", "macro_pace",
    "macro_weekly_rate", "macro_forecast", "macro_at_risk", "macro_blocked", "macro_open", "macro_unrecorded",
    "garage_target", "garage_done", "garage_remaining", "garage_expected", "garage_vs_plan", "garage_pace",
    "garage_weekly_rate", "garage_forecast", "garage_at_risk", "garage_blocked", "garage_open", "garage_unrecorded",
    "stale", "not_started", "acceptance_flags", "reasons",
]  # fmt: skip
#: The open-record columns people see (the street is the sheet's or page's).
OPEN_SHOWN = [
    "urgency_rank", "urgency", "kind", "record_id", "name", "status", "responsible", "next_milestone",
    "planned_milestone", "planned_date", "days_overdue", "days_blocked", "blocker", "last_update", "days_since_update",
    "counts_toward_target",
]  # fmt: skip
#: The compact summary of the printed district page.
_PRINTED_SUMMARY = [
    "attention_rank", "street_name", "attention_score",
    "macro_done", "macro_target", "macro_pace", "macro_at_risk", "macro_open",
    "garage_done", "garage_target", "garage_pace", "garage_at_risk", "garage_open", "reasons",
]  # fmt: skip
#: The open-record columns of the printed page (A4 portrait).
_OPEN_PRINTED = [
    "urgency_rank", "urgency", "kind", "record_id", "name", "status", "responsible", "next_milestone",
    "planned_date", "days_overdue", "days_blocked", "blocker", "days_since_update",
]  # fmt: skip
_KIND_ROW = [
    "target",
    "done",
    "remaining",
    "expected",
    "vs_plan",
    "pace",
    "weekly_rate",
    "forecast",
    "at_risk",
    "blocked",
    "open",
    "unrecorded",
]
SECTIONS = ("open", "not_started", "acceptance")
_DATE_COLUMNS = ("macro_forecast", "garage_forecast", "blocked_since", "last_update", "planned_date")
_AMBER, _RED = "FFE699", "F8CBAD"


def gap_labels(columns: list[str], lang: Lang) -> dict[str, str]:
    """Headers for people in ``lang``."""
    return {c: t(f"gaps.column.{c}", lang) if has(f"gaps.column.{c}") else labels.column(c, lang) for c in columns}


def shown(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Values for people: paces, yes/no, kinds, statuses, operators, milestones, who must act,
    urgency, reasons and evidence in words."""
    out = labels.render_codes(table, lang, kinds={"status_as_of": "garage"})
    if "reasons" in out.columns:
        out["reasons"] = table["reasons"].map(lambda r: reasons_text(r, lang))
    if "problems" in out.columns:
        out["problems"] = table["problems"].map(lambda p: evidence_text(p, lang))
    for column in ("operators_passing", "operators_failing"):
        if column in out.columns:
            out[column] = table[column].map(lambda cell: labels.operators(cell, lang))
    if "responsible" in out.columns:
        names = table["responsible_name"] if "responsible_name" in table.columns else pd.Series("", index=table.index)
        out["responsible"] = [responsible_text(c, n, lang) for c, n in zip(table["responsible"], names, strict=True)]
        out = out.drop(columns=["responsible_name"], errors="ignore")
    for column in ("next_milestone", "planned_milestone"):
        if column in out.columns:
            out[column] = [milestone_text(k, s, lang) for k, s in zip(table["kind"], table[column], strict=True)]
    if "urgency" in out.columns:
        out["urgency"] = table["urgency"].map(lambda u: t(f"gaps.urgency.{u}", lang))
    if "counts_toward_target" in out.columns:
        out["counts_toward_target"] = table["counts_toward_target"].map(lambda v: labels.yes_no(v, lang))
    return out


def responsible_text(code: object, name: object, lang: Lang) -> str:
    """Who must act in words: 铁塔, 移动/电信, 物业（XX物业）, 街道（长寿路街道）, or the lead unit's name."""
    code, name = str(code or ""), str(name or "")
    if code == "lead_unit":
        return name or t("gaps.responsible.lead_unit", lang)
    if code in ("property", "street", "tower"):
        word = t(f"gaps.responsible.{code}", lang)
        return f"{word}（{name}）" if name and lang == "zh" else f"{word} ({name})" if name else word
    return labels.operators(code, lang)


def milestone_text(kind_name: object, step: object, lang: Lang) -> str:
    """A ladder step as a milestone (开通, 验收 / on air, acceptance); "" for none."""
    key = f"gaps.milestone.{kind_name}.{step}"
    return t(key, lang) if step and has(key) else ""


def gap_report(report: GapReport, path: Path | str, *, lang: Lang) -> Any:
    """The report as an artefact for ``path``'s extension: .xlsx, .html, .pdf or .csv (the ranked summary)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        summary = report.summary[SUMMARY_COLUMNS].copy()
        summary["reasons"] = summary["reasons"].map(lambda r: reasons_text(r, lang))
        return Table(summary)
    if suffix == ".xlsx":
        return gap_workbook(report, lang=lang)
    if suffix in (".html", ".htm"):
        return render_gap_html(report, lang=lang)
    if suffix == ".pdf":
        from rollout.pdf import html_pdf

        return html_pdf(render_gap_html(report, lang=lang))
    raise InputFileError("errors.gaps_format", path=path)


def write_gap_report(report: GapReport, path: Path | str, *, lang: Lang = "zh") -> Path:
    """Write the report by ``path``'s extension: .xlsx, .html, .pdf or .csv (the ranked summary)."""
    return write_file(path, gap_report(report, path, lang=lang))


def gap_workbook(report: GapReport, *, lang: Lang):
    """The report as a workbook: a summary sheet, then a sheet per street with every open record."""
    behind, yes = labels.pace("behind", lang), t("labels.yes", lang)
    highlights = [
        (lambda c: c.endswith("_pace"), behind, _AMBER),
        (lambda c: c.endswith("_at_risk"), yes, _RED),
        (lambda c: c == "urgency", t("gaps.urgency.blocked", lang), _RED),
        (lambda c: c == "urgency", t("gaps.urgency.overdue", lang), _AMBER),
    ]
    used: set[str] = set()
    book = new_workbook(sheet_title(t("gaps.sheet.summary", lang), used))

    def put(sheet, frame: pd.DataFrame, start: int) -> int:
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
                max_width=40,
            )
            + 1
        )

    summary_sheet = book.active
    put(summary_sheet, report.summary[SUMMARY_COLUMNS], 1)
    summary_sheet.freeze_panes = "D2"
    note_row = len(report.summary) + 3
    for offset, text in enumerate(_notes(report, lang)):
        summary_sheet.cell(row=note_row + offset, column=1, value=text)
    _print_setup(summary_sheet, landscape=True)
    streets = report.summary[report.summary["level"] == "street"].sort_values("street_code")
    for _, street in streets.iterrows():
        one = report.for_street(street["street_code"])
        sheet = book.create_sheet(sheet_title(str(street["street_name"]), used))
        row = put(sheet, one.summary.iloc[[0]][SUMMARY_COLUMNS], 1)
        for line in _unrecorded_lines(street, lang):
            row = put_title(sheet, row, line)
        for name in SECTIONS:
            table = _section(one, name)
            row = put_title(sheet, row, t("gaps.section_count", lang, title=t(f"gaps.section.{name}", lang), count=len(table)))
            row = put(sheet, table, row) if len(table) else row + 1
        _print_setup(sheet, landscape=True)
    return book


def render_gap_html(report: GapReport, *, lang: Lang = "zh") -> str:
    """The gap report as one printable HTML page: the district summary, then an A4 portrait page
    per street (its numbers, every open record, compounds not started, acceptance flags)."""

    def table(frame: pd.DataFrame) -> dict:
        people = shown(frame, lang)
        headers = gap_labels(list(people.columns), lang)
        rows = [[_cell(v) for v in row] for row in people.itertuples(index=False)]
        return {"columns": list(people.columns), "headers": [headers[c] for c in people.columns], "rows": rows}

    streets = []
    for _, street in report.summary[report.summary["level"] == "street"].iterrows():
        one = report.for_street(street["street_code"])
        kinds = pd.DataFrame(
            [{"kind": k, **{c: street[f"{k}_{c}"] for c in _KIND_ROW}} for k in ("macro", "garage")], columns=["kind", *_KIND_ROW]
        )
        kinds = kinds.rename(columns={c: f"macro_{c}" for c in _KIND_ROW if c in ("pace", "at_risk")})
        kind_table = table(kinds)
        kind_table["headers"] = [labels.column("kind", lang)] + [_kind_header(c, lang) for c in _KIND_ROW]
        sections = []
        for name in SECTIONS:
            frame = _section(one, name, printed=True)
            sections.append({"name": name, "title": t(f"gaps.section.{name}", lang), "count": len(frame), "table": table(frame)})
        parts = [(gap_labels([n], lang)[n], street[n]) for n, _, _ in SCORE_PARTS]
        streets.append(
            {
                "name": street["street_name"],
                "title": t("gaps.street_page_title", lang, street=street[labels.street_name_column(lang)]),
                "rank": street["attention_rank"],
                "score": street["attention_score"],
                "parts": parts,
                "reasons": reasons_text(street["reasons"], lang),
                "kinds": kind_table,
                "unrecorded": _unrecorded_lines(street, lang),
                "sections": sections,
            }
        )
    return render_page(
        "gaps.html.j2",
        lang=lang,
        as_of=report.as_of.isoformat(),
        notes=_notes(report, lang),
        summary=table(report.summary[report.summary["level"] == "street"][_PRINTED_SUMMARY]),
        streets=streets,
        behind=labels.pace("behind", lang),
        yes=t("labels.yes", lang),
        urgent=(t("gaps.urgency.blocked", lang), t("gaps.urgency.overdue", lang)),
    )


def open_records_text(report: GapReport, *, lang: Lang) -> str:
    """The open records of each street of ``report`` as lines for a terminal."""
    lines = []
    for _, street in report.summary[report.summary["level"] == "street"].iterrows():
        mine = report.open[report.open["street_code"] == street["street_code"]]
        name = street[labels.street_name_column(lang)]
        lines.append(t("gaps.open_heading", lang, street=name, count=len(mine), date=report.as_of))
        lines += _unrecorded_lines(street, lang)
        for _, row in mine.iterrows():
            lines.append(
                t(
                    "gaps.open_line",
                    lang,
                    rank=int(row["urgency_rank"]),
                    urgency=t(f"gaps.urgency.{row['urgency']}", lang),
                    kind=labels.kind(row["kind"], lang),
                    record_id=row["record_id"],
                    name=row["name"],
                    status=labels.status(row["kind"], row["status"], lang),
                    next=milestone_text(row["kind"], row["next_milestone"], lang),
                    responsible=responsible_text(row["responsible"], row["responsible_name"], lang),
                    detail=_detail(row, lang),
                )
            )
    return "\n".join(lines)


def _detail(row: pd.Series, lang: Lang) -> str:
    text = ""
    if row["planned_date"]:
        text += t(
            "gaps.detail.planned", lang, milestone=milestone_text(row["kind"], row["planned_milestone"], lang), date=row["planned_date"]
        )
        if pd.notna(row["days_overdue"]) and row["days_overdue"] > 0:
            text += t("gaps.detail.overdue", lang, days=int(row["days_overdue"]))
    if row["urgency"] == "blocked":
        days = "?" if pd.isna(row["days_blocked"]) else int(row["days_blocked"])
        text += t("gaps.detail.blocked", lang, days=days, blocker=row["blocker"] or t("weekly.summary.no_reason", lang))
    elif row["urgency"] == "stale" and pd.notna(row["days_since_update"]):
        text += t("gaps.detail.stale", lang, days=int(row["days_since_update"]))
    return text


def _section(report: GapReport, name: str, *, printed: bool = False) -> pd.DataFrame:
    if name == "open":
        columns = (_OPEN_PRINTED if printed else OPEN_SHOWN) + ["responsible_name"]
        return report.open[columns]
    return getattr(report, name).drop(columns=["street_code", "street_name"], errors="ignore")


def _unrecorded_lines(street: pd.Series, lang: Lang) -> list[str]:
    lines = []
    for kind in ("macro", "garage"):
        count = int(street.get(f"{kind}_unrecorded", 0) or 0)
        if count:
            lines.append(
                t(
                    "gaps.unrecorded",
                    lang,
                    count=count,
                    kind=labels.kind(kind, lang),
                    remaining=int(street[f"{kind}_remaining"]),
                    open=int(street[f"{kind}_open"]),
                )
            )
    return lines


def _notes(report: GapReport, lang: Lang) -> list[str]:
    notes = [t("labels.as_of_title", lang, date=report.as_of), t("gaps.score_line", lang)]
    if report.approximate:
        notes.append(labels.approximate_note(lang))
    return notes


def _kind_header(column: str, lang: Lang) -> str:
    return t(f"gaps.kind_column.{column}", lang)


def _cell(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return value


def _print_setup(sheet: Any, *, landscape: bool) -> None:
    """A4, fit to the page's width, header row repeated on every printed page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
