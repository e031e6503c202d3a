"""XLSX workbooks into a grid of text cells: the right sheet, and the values Excel shows.

- Without a sheet name, the first *visible* sheet whose header is recognised is read (a 说明
  cover sheet, or a hidden sheet, is passed over); the load names the sheet it read. When no
  sheet has a recognised header, the error lists them all.
- Hidden sheets holding data that are not read are named in a warning.
- Formula cells without a stored value (a workbook written by a program and never opened in
  Excel or WPS) would read as blanks: they are rejects that say to open and save the file.
- An encrypted workbook (an "open" password) and an old .xls renamed .xlsx are named as such,
  not as "not a zip file".
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rollout.errors import InputFileError

__all__ = ["XlsxGrid", "read_xlsx"]

#: Rows of each sheet looked at to find its header.
_HEAD_ROWS = 10
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


@dataclass
class XlsxGrid:
    """A sheet's cells as text, and what was found about the workbook on the way."""

    grid: pd.DataFrame
    sheet: str
    #: Cells that are formulas without a stored value: (row index in the grid, column index, formula).
    formulas: list[tuple[int, int, str]] = field(default_factory=list)
    #: Hidden sheets with data that were not read.
    hidden_with_data: list[str] = field(default_factory=list)


def read_xlsx(path: Path, sheet: str | None, best_header: Callable[[list[list[str]]], tuple[int, int]]) -> XlsxGrid:
    """Read the sheet named ``sheet`` of the workbook ``path``, or the first visible sheet with a
    header (``best_header(rows)`` gives the index and the number of recognised columns of the row
    most like a header)."""
    import openpyxl

    _refuse_ole(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as e:
        raise InputFileError("errors.xlsx_unreadable", path=path, detail=str(e)) from e
    try:
        worksheet, hidden = _choose(path, book, sheet, best_header)
        worksheet.reset_dimensions()  # WPS and some web systems write wrong dimensions: read to the end
        rows = [[_cell_text(v) for v in row] for row in worksheet.iter_rows(min_row=1, values_only=True)]
        title = worksheet.title
    finally:
        book.close()
    if not any(any(c for c in row) for row in rows):
        raise InputFileError("errors.sheet_empty", path=path, sheet=title)
    width = max(len(r) for r in rows)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)
    return XlsxGrid(grid, title, _formulas_without_values(path, title, grid), hidden)


def _refuse_ole(path: Path) -> None:
    """An OLE container is an encrypted workbook or an old .xls file, not an XLSX zip."""
    with path.open("rb") as handle:
        if handle.read(len(_OLE_MAGIC)) != _OLE_MAGIC:
            return
    if _ENCRYPTED in path.read_bytes():
        raise InputFileError("errors.xlsx_encrypted", path=path)
    raise InputFileError("errors.xls_not_read", path=path)


def _choose(path: Path, book: Any, sheet: str | None, best_header: Callable[[list[list[str]]], tuple[int, int]]) -> tuple[Any, list[str]]:
    """The sheet to read, and the hidden sheets with data left unread."""
    if sheet is not None:
        if sheet not in book.sheetnames:
            raise InputFileError("errors.sheet_missing", path=path, sheet=sheet, sheets=", ".join(book.sheetnames))
        return book[sheet], []
    chosen = None
    hidden: list[str] = []
    for worksheet in book.worksheets:
        head = [[_cell_text(v) for v in row] for row in worksheet.iter_rows(min_row=1, max_row=_HEAD_ROWS, values_only=True)]
        visible = worksheet.sheet_state == "visible"
        has_data = any(any(c.strip() for c in row) for row in head)
        if chosen is None and visible and best_header(head)[1] >= 2:
            chosen = worksheet
        elif not visible and has_data:
            hidden.append(worksheet.title)
    if chosen is None:
        states = [ws.title if ws.sheet_state == "visible" else f"{ws.title} (hidden)" for ws in book.worksheets]
        raise InputFileError("errors.no_columns_sheets", path=path, sheets=", ".join(states))
    return chosen, hidden


def _formulas_without_values(path: Path, title: str, grid: pd.DataFrame) -> list[tuple[int, int, str]]:
    """Formula cells of sheet ``title`` whose stored value is missing (blank in ``grid``)."""
    if not _has_formulas(path):
        return []
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        worksheet = book[title]
        worksheet.reset_dimensions()
        found = []
        for r, row in enumerate(worksheet.iter_rows(min_row=1)):
            for c, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f" and r < len(grid) and c < grid.shape[1] and not grid.iat[r, c]:
                    found.append((r, c, str(cell.value)))
        return found
    finally:
        book.close()


def _has_formulas(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as handle:
                    while block := handle.read(1 << 20):
                        if b"<f>" in block or b"<f " in block or b":f>" in block or b":f " in block:
                            return True
    return False


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
