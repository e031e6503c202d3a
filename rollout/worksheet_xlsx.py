"""Worksheets as workbooks: one per compound (to fill in and send back), the 台账 (one row per
compound), and reading a filled-in worksheet back as a garage record.

A worksheet workbook lays its values out as label/value pairs whose labels are the garage file's
Chinese headers (户数, 计划开工日期, 漏缆长度, ...), numbers as numbers and dates as dates, never a
formula. :func:`read_worksheet` reads such a file back (whatever the engineer changed) as one
row of a garage file, which ``rollout validate`` checks and ``rollout import`` brings in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rollout.errors import InputFileError
from rollout.i18n import Lang, t
from rollout.schema import GARAGE, normalize_token
from rollout.writers import new_workbook, put_rows, put_table, put_title

if TYPE_CHECKING:
    from rollout.worksheet_data import Worksheet

__all__ = ["ledger_workbook", "read_worksheet", "worksheet_workbook"]

_ZH = {f.name: f.zh for f in GARAGE.fields}
#: Widths of the worksheet workbook's columns A to E (labels, values, labels, values, flags).
_WIDTHS = (20, 26, 18, 26, 18)


def worksheet_workbook(sheet: Worksheet, *, as_of: dt.date, lang: Lang) -> Any:
    """One worksheet as a workbook: the same sections as the page, one under the other."""
    from openpyxl.styles import Alignment

    book = new_workbook(t("worksheets.sheet", lang))
    ws = book.active
    widths = dict(zip("ABCDE", _WIDTHS, strict=True))
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")  # one object for all: openpyxl hashes it per cell
    row = put_title(ws, 1, t("worksheets.xlsx_title", lang, name=sheet.name, compound_id=sheet.compound_id), size=13)
    row = put_rows(ws, row, [(t("worksheets.as_of", lang), as_of), (t("worksheets.status_derived", lang), sheet.status)]) + 1

    def section(title: str, rows: Sequence[Sequence[object]]) -> None:
        nonlocal row
        row = put_title(ws, row, title, size=11)  # a title runs on over the next cells
        start, row = row, put_rows(ws, row, rows) + 1
        # A row with a text wider than its column wraps, and all its cells align at the top.
        for number, values in enumerate(rows, start=start):
            if any(isinstance(v, str) and 2 * len(v) > w for v, w in zip(values, _WIDTHS, strict=False)):
                for column, value in enumerate(values, start=1):
                    if value is not None and value != "":
                        ws.cell(row=number, column=column).alignment = wrap

    record = sheet.record
    section(
        t("worksheets.section.record", lang),
        [
            (_ZH["compound_id"], sheet.compound_id),
            (_ZH["name"], sheet.name),
            (_ZH["status"], record.get("status")),
            (_ZH["lon"], _rounded(record.get("lon"))),
            (_ZH["lat"], _rounded(record.get("lat"))),
            (_ZH["crs"], "WGS84"),
        ],
    )
    section(t("worksheets.section.facts", lang), [(label, value) for name, label, value in sheet.facts if name != "compound_id"])
    section(t("worksheets.section.plan", lang), [(label, value) for _, label, value in sheet.plan])
    operator_rows = []
    for op in sheet.operators:
        code = op["code"]
        operator_rows += [
            (_ZH[f"signal_source_{code}"], op["signal_source"], _ZH[f"band_{code}"], op["band"]),
            (_ZH[f"callable_pct_{code}"], op["callable"], t("worksheets.head.result", lang), op["result"]),
        ]
    section(t("worksheets.section.operators", lang), operator_rows)
    section(t("worksheets.section.equipment", lang), [(label, value) for _, label, value in sheet.equipment])
    schedule = [(_ZH[s["planned_field"]], s["planned"], _ZH[s["actual_field"]], s["actual"], s["flag_text"]) for s in sheet.schedule]
    section(t("worksheets.section.schedule", lang), schedule)
    if sheet.blockers:
        section(t("worksheets.section.blockers", lang), sheet.blockers)
    result = t("worksheets.passes", lang) if sheet.evidence_passes else sheet.evidence_problems or t("worksheets.fails", lang)
    section(
        t("worksheets.section.evidence", lang),
        [*((label, value) for _, label, value in sheet.evidence), (t("worksheets.evidence_result", lang), result)],
    )
    section(t("worksheets.section.contacts", lang), [(label, value) for _, label, value in sheet.contacts])
    section(
        t("worksheets.section.signoff", lang),
        [(unit, t("worksheets.head.signature", lang), "", t("worksheets.head.date", lang), "") for unit in sheet.signoff],
    )
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return book


def ledger_workbook(sheets: Sequence[Worksheet], *, as_of: dt.date, lang: Lang) -> Any:
    """The 台账: one row per compound with the worksheet's key facts, typed."""
    rows = []
    for sheet in sheets:
        record = sheet.record
        steps = {s["actual_field"]: s for s in sheet.schedule}
        rows.append(
            {
                "compound_id": sheet.compound_id,
                "name": sheet.name,
                "street": sheet.street_name,
                "address": record.get("address"),
                "status_derived": sheet.status,
                **{name: value for name, _, value in sheet.plan},
                **{name: record.get(name) for name in ("households", "parking_spaces", "garage_area_m2")},
                **{name: value for name, _, value in sheet.equipment},
                "planned_covered_date": steps["covered_date"]["planned"],
                "covered_date": steps["covered_date"]["actual"],
                "accepted_date": steps["accepted_date"]["actual"],
                "overdue_steps": sheet.overdue_steps,
                "blocker": sheet.blockers[0][1] if sheet.blockers else None,
                "days_blocked": sheet.blockers[2][1] if sheet.blockers else None,
                "evidence_passes": t("labels.yes" if sheet.evidence_passes else "labels.no", lang),
                "test_date": record.get("test_date"),
                "point_map": sheet.attachment_problem
                or t("worksheets.point_map.supplied" if sheet.plan_image else "worksheets.point_map.location", lang),
            }
        )
    frame = pd.DataFrame(rows)
    headers = {c: _ZH.get(c) or t(f"worksheets.ledger.{c}", lang) for c in frame.columns} if lang == "zh" else None
    if lang != "zh":
        headers = {c: t(f"worksheets.ledger.{c}", lang) if c not in _ZH else c for c in frame.columns}
    book = new_workbook(t("worksheets.ledger_sheet", lang))
    ws = book.active
    put_title(ws, 1, t("worksheets.ledger_title", lang, date=as_of.isoformat()), size=13)
    put_table(ws, frame, start=2, headers=headers, max_width=30)
    ws.freeze_panes = "C3"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "2:2"
    return book


def read_worksheet(path: Path | str) -> pd.DataFrame:
    """A filled-in worksheet workbook as one row of a garage file (the Chinese headers as columns).

    Every label/value pair whose label is a garage column (as the file's headers are matched:
    Chinese, English or an alias) is read; other lines (titles, flags, sign-off) are ignored.
    Dates come back as ISO text, numbers as numbers.
    """
    import openpyxl

    path = Path(path)
    try:
        book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except Exception as e:  # not a workbook, damaged, locked
        raise InputFileError("errors.worksheet_unreadable", path=path, detail=type(e).__name__) from e
    values: dict[str, object] = {}
    for cells in book.worksheets[0].iter_rows(values_only=True):
        for position in range(0, len(cells) - 1, 2):
            label, value = cells[position], cells[position + 1]
            name = GARAGE.header_index.get(normalize_token(label)) if isinstance(label, str) else None
            if name is None or name in values:
                continue
            if isinstance(value, dt.datetime):
                value = value.date().isoformat()
            elif isinstance(value, dt.date):
                value = value.isoformat()
            values[name] = "" if value is None else value
    book.close()
    if not values.get("compound_id"):
        raise InputFileError("errors.worksheet_no_id", path=path, header=_ZH["compound_id"])
    return pd.DataFrame([{_ZH[name]: value for name, value in values.items()}])


def _rounded(value: object) -> object:
    return round(float(value), 7) if isinstance(value, (int, float)) else value
