"""One way to style workbooks: bold shaded headers, frozen header row, fitted column widths,
numbers stored as numbers, dates as dates, text that could run as a formula neutralised."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rollout.writers.neutral import neutralize_text

if TYPE_CHECKING:  # tables come as frames or as plain rows: a process that only lays out needs no pandas
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["Rows", "new_workbook", "put_rows", "put_table", "put_title", "workbook_bytes"]


@dataclass(frozen=True)
class Rows:
    """A table as plain values: column names and one list per row (what :func:`put_table` lays out
    like a frame, in a process that has no pandas)."""

    columns: list[str]
    values: list[list[Any]]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Rows:
        """``frame``'s columns and values as Python's (missing values as None)."""
        rows = frame.itertuples(index=False, name=None)
        return cls([str(c) for c in frame.columns], [[None if _missing(v) else _plain(v) for v in row] for row in rows])


HEADER_FILL = "DDEBF7"
#: Workbook metadata and zip entry dates are fixed, so that the same table gives the same bytes.
_FIXED_TIME = dt.datetime(2000, 1, 1)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def new_workbook(first_sheet: str) -> Workbook:
    """An empty workbook whose first sheet is called ``first_sheet``."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = sheet_title(first_sheet)
    return book


def sheet_title(name: str, used: set[str] | None = None) -> str:
    """A valid, unique sheet name (at most 31 characters, none of ``[]:*?/\\``)."""
    import re

    base = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31] or "sheet"
    candidate, n = base, 2
    while used is not None and candidate in used:
        candidate = f"{base[:28]}_{n}"
        n += 1
    if used is not None:
        used.add(candidate)
    return candidate


def put_title(sheet: Worksheet, row: int, text: str, *, size: float | None = None) -> int:
    """A bold line of text in column A of ``row``; returns the next row."""
    from openpyxl.styles import Font

    cell = sheet.cell(row=row, column=1, value=neutralize_text(text))
    cell.font = Font(bold=True, size=size) if size else Font(bold=True)
    return row + 1


def put_rows(sheet: Worksheet, row: int, rows: Iterable[Sequence[object]], *, header: Sequence[str] | None = None) -> int:
    """Plain rows (and a styled header above them) from ``row``; returns the next row."""
    if header:
        _header_cells(sheet, row, header)
        row += 1
    for values in rows:
        for column, value in enumerate(values, start=1):
            _put(sheet.cell(row=row, column=column), value)
        row += 1
    return row


def put_table(
    sheet: Worksheet,
    frame: pd.DataFrame | Rows,
    *,
    start: int = 1,
    headers: Mapping[str, str] | None = None,
    percent_columns: Iterable[str] = (),
    date_columns: Iterable[str] = (),
    highlights: Sequence[tuple[Any, str, str]] = (),
    max_width: int = 40,
) -> int:
    """``frame`` as a table from row ``start``: header row, then one row per record.

    ``percent_columns`` hold shares (0.405) shown as 40.5%; ``date_columns`` hold ISO date text
    or timestamps, stored as dates. ``highlights`` are (column test, value, fill colour):
    conditional formats that shade the cells of matching columns equal to the value. Returns
    the row after the table.
    """
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    columns = list(frame.columns)
    names = [headers.get(c, c) if headers else c for c in columns]
    _header_cells(sheet, start, names)
    percent, dates = set(percent_columns), set(date_columns)
    values = _object_array(frame.values) if isinstance(frame, Rows) else frame.to_numpy(dtype=object)
    for r, record in enumerate(values, start=start + 1):
        for c, value in enumerate(record):
            cell = sheet.cell(row=r, column=c + 1)
            _put(cell, _as_date(value) if columns[c] in dates else value)
            if columns[c] in percent:
                cell.number_format = "0.0%"
    last = start + len(values)
    for c, column in enumerate(columns, start=1):
        letter = get_column_letter(c)
        if last > start:
            for test, value, colour in highlights:
                if test(column):
                    rule = CellIsRule(operator="equal", formula=[f'"{value}"'], fill=PatternFill("solid", fgColor=colour))
                    sheet.conditional_formatting.add(f"{letter}{start + 1}:{letter}{last}", rule)
        width = max([_display_width(str(names[c - 1]))] + [_display_width(_shown(v)) for v in values[:500, c - 1]])
        current = sheet.column_dimensions[letter].width or 0
        sheet.column_dimensions[letter].width = max(current if start > 1 else 0, min(max(width + 2, 8), max_width))
    return last + 1


def workbook_bytes(book: Workbook) -> bytes:
    """The workbook as XLSX bytes, the same for the same content (fixed dates inside)."""
    book.properties.creator = "rollout"
    book.properties.created = _FIXED_TIME
    book.properties.modified = _FIXED_TIME
    for sheet in book.worksheets:  # openpyxl keeps this from a previous save: the same bytes every time
        sheet.column_dimensions.max_outline = None
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving over ours
                data = _MODIFIED.sub(rb"\g<1>" + _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
            target.writestr(entry, data)
    return out.getvalue()


def _header_cells(sheet: Worksheet, row: int, names: Sequence[object]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    for column, name in enumerate(names, start=1):
        cell = sheet.cell(row=row, column=column, value=neutralize_text(str(name)))
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _object_array(rows: list[list[Any]]) -> np.ndarray:
    values = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    for r, row in enumerate(rows):
        values[r, :] = row
    return values


def _missing(value: object) -> bool:
    """None, NaN, and pandas' NA and NaT (pandas is looked for only if it is loaded: values from
    plain rows cannot be pandas')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    pd = sys.modules.get("pandas")
    return pd is not None and (value is pd.NA or value is pd.NaT)


def _plain(value: object) -> object:
    """A numpy scalar as the Python one; pandas' timestamps as datetimes; other values as they are."""
    if isinstance(value, np.generic):
        return value.item()
    to_datetime = getattr(value, "to_pydatetime", None)  # pandas.Timestamp (never NaT here)
    return to_datetime() if to_datetime is not None else value


def _put(cell: Any, value: object) -> None:
    """A value in a cell: numbers as numbers, dates as dates, text neutralised, missing as empty."""
    if _missing(value):
        cell.value = None
        return
    value = _plain(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, (dt.date, dt.datetime)):
        cell.value = value
        cell.number_format = "yyyy-mm-dd" if not isinstance(value, dt.datetime) else "yyyy-mm-dd hh:mm"
        return
    if isinstance(value, (bool, int, float)):
        cell.value = value
        return
    cell.value = neutralize_text(str(value))
    cell.data_type = "s"  # never a formula, whatever the text


def _as_date(value: object) -> object:
    if isinstance(value, str):
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _shown(value: object) -> str:
    if _missing(value):
        return ""
    return str(value)


def _display_width(text: str) -> int:
    """Width in Excel character cells: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
