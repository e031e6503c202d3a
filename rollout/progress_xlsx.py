"""``progress.xlsx`` for people: the progress table as a district office hands it on.

One sheet for people (a title, the day, Chinese headers only and no header twice, words for
paces, percentages as percentages, behind shaded red and ahead green, a bold total row, frozen
panes, A4 landscape fitted to the width with the header row repeated) and a second sheet with
the machine columns of ``progress.csv`` (English names, codes) for whoever computes with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rollout.i18n import Lang, t
from rollout.writers import new_workbook, put_table
from rollout.writers.xlsx import Rows, sheet_title

if TYPE_CHECKING:  # the workbook is laid out from plain rows: the weekly helper has no pandas
    import pandas as pd

__all__ = ["PEOPLE_COLUMNS", "ProgressSheet", "progress_sheet", "progress_sheet_workbook", "progress_workbook"]

_PER_KIND = ("target", "done", "pct", "remaining", "expected", "vs_plan", "pace", "under_construction", "blocked")
#: The columns of the people's sheet, in order (the street's name in the reader's language first).
PEOPLE_COLUMNS = ["street_name", *(f"{kind}_{c}" for kind in ("macro", "garage") for c in _PER_KIND)]
_RED, _GREEN, _TOTAL = "F8CBAD", "C6EFCE", "F2F2F2"


@dataclass(frozen=True)
class ProgressSheet:
    """What ``progress.xlsx`` shows, in the reader's language, as plain values."""

    sheet_name: str
    title: str
    notes: str
    #: The people's sheet: :data:`PEOPLE_COLUMNS`, codes as words, percentages as shares.
    people: Rows
    headers: dict[str, str]
    #: The total row's place among the people's rows.
    total_position: int
    #: The words for the paces shaded red (``behind``) and green (``ahead``).
    paces: dict[str, str]
    data_sheet_name: str
    #: The machine columns of ``progress.csv``.
    data: Rows


def progress_workbook(table: pd.DataFrame, *, lang: Lang, district: str | None = None, approximate: bool = False) -> Any:
    """The progress table (from :meth:`rollout.pipeline.Project.progress`) as a workbook for people,
    titled with ``district`` (default: the name on the table's total row)."""
    return progress_sheet_workbook(progress_sheet(table, lang=lang, district=district, approximate=approximate))


def progress_sheet(table: pd.DataFrame, *, lang: Lang, district: str | None = None, approximate: bool = False) -> ProgressSheet:
    """What :func:`progress_workbook` lays out, from the progress table."""
    from rollout import labels
    from rollout.progress import total_row

    shown = labels.render_codes(table[PEOPLE_COLUMNS], lang)
    shown["street_name"] = table[labels.street_name_column(lang)]
    for column in ("macro_pct", "garage_pct"):
        shown[column] = table[column] / 100
    headers = labels.headers(PEOPLE_COLUMNS, lang)
    assert len(set(headers.values())) == len(headers), "a header shown twice"
    total = total_row(table)
    notes = [t("labels.as_of_title", lang, date=table["as_of"].iloc[0])]
    if approximate:
        notes.append(labels.approximate_note(lang))
    return ProgressSheet(
        sheet_name=t("labels.sheet.progress", lang),
        title=t("weekly.progress_title", lang, district=district or str(total[labels.street_name_column(lang)])),
        notes="    ".join(notes),
        people=Rows.of(shown),
        headers=dict(headers),
        total_position=list(table.index).index(total.name),
        paces={code: labels.pace(code, lang) for code in ("behind", "ahead")},
        data_sheet_name=t("weekly.progress_data_sheet", lang),
        data=Rows.of(table),
    )


def progress_sheet_workbook(content: ProgressSheet) -> Any:
    """The workbook of :func:`progress_workbook`, laid out from :func:`progress_sheet` (openpyxl only)."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = new_workbook(content.sheet_name)
    sheet = book.active
    width = len(PEOPLE_COLUMNS)
    last = get_column_letter(width)
    sheet.cell(row=1, column=1, value=content.title)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"A1:{last}1")
    sheet.cell(row=2, column=1, value=content.notes)
    sheet.merge_cells(f"A2:{last}2")
    end = put_table(sheet, content.people, start=3, headers=content.headers, percent_columns=("macro_pct", "garage_pct"), max_width=14)
    first_row, last_row = 4, end - 1
    thin = Side(style="thin", color="999999")
    for row in sheet.iter_rows(min_row=3, max_row=last_row, max_col=width):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if cell.row > 3 and cell.column > 1:
                cell.alignment = Alignment(horizontal="right")
    total_position = first_row + content.total_position
    for cell in sheet[total_position]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_TOTAL)
    for kind in ("macro", "garage"):
        pace = get_column_letter(PEOPLE_COLUMNS.index(f"{kind}_pace") + 1)
        cells = f"{pace}{first_row}:{pace}{last_row}"
        for code, colour in (("behind", _RED), ("ahead", _GREEN)):
            rule = CellIsRule(operator="equal", formula=[f'"{content.paces[code]}"'], fill=PatternFill("solid", fgColor=colour))
            sheet.conditional_formatting.add(cells, rule)
        gap = get_column_letter(PEOPLE_COLUMNS.index(f"{kind}_vs_plan") + 1)
        negative = CellIsRule(operator="lessThan", formula=["0"], font=Font(color="C00000"))
        sheet.conditional_formatting.add(f"{gap}{first_row}:{gap}{last_row}", negative)
        for column in ("expected", "vs_plan"):
            letter = get_column_letter(PEOPLE_COLUMNS.index(f"{kind}_{column}") + 1)
            for r in range(first_row, last_row + 1):
                sheet[f"{letter}{r}"].number_format = "0.0"
    sheet.row_dimensions[3].height = 32
    sheet.freeze_panes = "B4"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "3:3"
    sheet.oddFooter.center.text = "&P / &N"
    machine = book.create_sheet(sheet_title(content.data_sheet_name))
    put_table(machine, content.data, start=1)
    machine.freeze_panes = "C2"
    return book
