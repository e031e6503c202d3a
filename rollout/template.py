"""Blank fill-in workbooks for senders: the columns ``rollout`` reads, explained, with drop-downs.

:func:`build_template` returns an openpyxl ``Workbook`` in memory: the data sheet first (the
sheet ``rollout`` reads), with the canonical Chinese (or English) headers, a note on each
header, drop-down lists (data validation) for statuses, operators, coordinate systems, bands,
solutions and yes/no, date-formatted date columns and number checks; then a 说明 sheet that
says what each column means and what it accepts. A template filled in as intended loads with
no warning.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from rollout import labels
from rollout.i18n import Lang, has, t
from rollout.schema import BANDS, CRS_ALIASES, SOLUTIONS, Field, SiteKind
from rollout.writers.xlsx import HEADER_FILL, new_workbook, sheet_title

__all__ = ["build_template", "column_choices"]

#: Rows that carry the data validations and formats (Excel applies them as people type).
TEMPLATE_ROWS = 2000
_HEADER_FILL = PatternFill("solid", fgColor=HEADER_FILL)
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
#: Common sharing combinations, offered in the operator drop-down after the single operators.
_OPERATOR_GROUPS = (("ctc", "cucc"), ("cmcc", "ctc", "cucc"), ("cmcc", "ctc", "cucc", "cbn"))


def build_template(kind: SiteKind, *, lang: Lang) -> Workbook:
    """The fill-in workbook for ``kind`` (macro stations or garage compounds) in ``lang``
    (:func:`rollout.writers.write_file` writes it with fixed metadata)."""
    book = new_workbook(t("template.sheet_data", lang, kind=labels.kind_title(kind.name, lang)))
    data = book.active
    for position, field in enumerate(kind.fields, start=1):
        _header_cell(data, position, field, kind, lang)
        _column_rules(data, position, field, kind, lang)
    data.freeze_panes = "B2"
    _help_sheet(book.create_sheet(sheet_title(t("template.sheet_help", lang))), kind, lang)
    return book


def column_choices(field: Field, kind: SiteKind, *, lang: Lang) -> list[str]:
    """The drop-down values offered for ``field`` (empty when it has no list).

    >>> from rollout.schema import MACRO
    >>> column_choices(MACRO.field("band"), MACRO, lang="zh")
    ['n28', 'n41', 'n78', 'n79']
    """
    if field.type == "status":
        return [labels.status(kind.name, status, lang) for status in kind.statuses]
    if field.type == "operators":
        singles = [labels.operator(code, lang) for code in ("cmcc", "ctc", "cucc", "cbn")]
        if field.name == "operator":  # a macro station may be China Tower's own
            singles = [labels.operator("tower", lang), *singles]
        return singles + [labels.operators(";".join(group), lang) for group in _OPERATOR_GROUPS]
    if field.type == "crs":
        return [code.upper() for code in CRS_ALIASES]
    if field.type == "band":
        return list(BANDS)
    if field.type == "solution":
        return [labels.solution(code, lang) for code in SOLUTIONS]
    if field.type in ("bool", "flag"):
        return [t("template.yes", lang), t("template.no", lang)]
    return []


def _header(field: Field, kind: SiteKind, lang: Lang) -> str:
    return labels.field(kind.name, field.name, lang)


def _meaning(field: Field, kind: SiteKind, lang: Lang) -> str:
    specific = f"fields.{kind.name}.{field.name}"
    return t(specific if has(specific) else f"fields.{field.name}", lang)


def _values_text(field: Field, kind: SiteKind, lang: Lang) -> str:
    choices = column_choices(field, kind, lang=lang)
    if choices:
        return t("template.list_hint", lang, values=labels.join(choices, lang))
    return t(f"template.type_{field.type}", lang) if has(f"template.type_{field.type}") else t("template.type_text", lang)


def _header_cell(sheet, position: int, field: Field, kind: SiteKind, lang: Lang) -> None:
    cell = sheet.cell(row=1, column=position, value=_header(field, kind, lang))
    cell.font = Font(bold=True)
    cell.fill = _REQUIRED_FILL if field.required else _HEADER_FILL
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    note = _meaning(field, kind, lang) + "\n" + _values_text(field, kind, lang)
    cell.comment = Comment(note, "rollout", width=260, height=110)
    width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(cell.value))
    sheet.column_dimensions[get_column_letter(position)].width = max(width + 4, 12 if field.type == "date" else 10)


def _column_rules(sheet, position: int, field: Field, kind: SiteKind, lang: Lang) -> None:
    """Drop-down, date or number validation and the display format of one column."""
    letter = get_column_letter(position)
    cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
    choices = column_choices(field, kind, lang=lang)
    validation = None
    if choices:
        # Typed-over values are allowed with a warning: the import checks them as written.
        validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True, errorStyle="warning")
        validation.error, validation.errorTitle = t("template.list_error", lang), t("template.list_error_title", lang)
    elif field.type == "date":
        validation = DataValidation(type="date", operator="greaterThan", formula1="32874", allow_blank=True, errorStyle="warning")
        validation.error = t("template.date_error", lang)  # 32874 is 1990-01-01
        sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
    elif field.type in ("float", "int"):
        validation = DataValidation(
            type="whole" if field.type == "int" else "decimal",
            operator="between",
            formula1="-1000000000",
            formula2="1000000000",
            allow_blank=True,
            errorStyle="warning",
        )
        validation.error = t("template.number_error", lang)
    elif field.type in ("id", "text"):
        sheet.column_dimensions[letter].number_format = "@"  # ids such as 0012 stay text
    if validation is not None:
        validation.showErrorMessage = True
        sheet.add_data_validation(validation)
        validation.add(cells)


def _help_sheet(sheet, kind: SiteKind, lang: Lang) -> None:
    sheet["A1"] = t("template.title", lang, kind=labels.kind_title(kind.name, lang))
    sheet["A1"].font = Font(bold=True, size=14)
    record = t(f"template.record_{kind.name}", lang)
    lines = [t("template.intro", lang, record=record), t("template.dates", lang), t("template.coordinates", lang)]
    for row, line in enumerate(lines, start=2):
        sheet.cell(row=row, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        sheet.row_dimensions[row].height = 48
    head = len(lines) + 3
    for column, key in enumerate(("head_column", "head_meaning", "head_values", "head_required"), start=1):
        cell = sheet.cell(row=head, column=column, value=t(f"template.{key}", lang))
        cell.font, cell.fill = Font(bold=True), _HEADER_FILL
    for row, field in enumerate(kind.fields, start=head + 1):
        values = [
            _header(field, kind, lang) + (" *" if field.required else ""),
            _meaning(field, kind, lang),
            _values_text(field, kind, lang),
            t("template.yes", lang) if field.required else "",
        ]
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCD", (22, 60, 50, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{head + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
