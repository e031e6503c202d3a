"""The table a site file is read into: text cells under canonical column names, and where each row came from.

:mod:`rollout.io` reads files into :class:`RawTable` (a CSV file in chunks, joined again by
:func:`concat_tables`); problems found while reading a row travel with it in
``RawTable.problems``, a frame with the columns :data:`READ_PROBLEM_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from rollout.schema import SiteKind
from rollout.tablekinds import TableKind

__all__ = ["READ_PROBLEM_COLUMNS", "RawTable", "concat_tables", "problem_frame"]

#: Columns of ``RawTable.problems``: ``column`` is canonical (or the header as written).
READ_PROBLEM_COLUMNS = ["row", "column", "value", "severity", "reason_code", "params"]


@dataclass
class RawTable:
    """Rows of a site file read as text: canonical columns plus where each row came from."""

    path: Path
    kind: SiteKind | TableKind
    cells: pd.DataFrame  # canonical column -> str; extra columns under their own header
    rows: pd.Series  # Excel row number of each row, aligned to ``cells``
    headers: dict[str, str]  # canonical column -> header as written in the file
    encoding: str = ""
    sheet: str = ""
    blank_rows: int = 0
    extra_columns: list[str] = field(default_factory=list)
    #: Problems found while reading rows (see ``READ_PROBLEM_COLUMNS``).
    problems: pd.DataFrame = field(default_factory=lambda: problem_frame([]))
    #: The coordinate system the coordinate headers name (``经度(百度)``: ``bd09``), or None.
    crs_hint: str | None = None


def concat_tables(tables: list[RawTable]) -> RawTable:
    """One table from chunks of the same file, in order."""
    if len(tables) == 1:
        return tables[0]
    return replace(
        tables[0],
        cells=pd.concat([t.cells for t in tables], ignore_index=True),
        rows=pd.concat([t.rows for t in tables], ignore_index=True),
        blank_rows=sum(t.blank_rows for t in tables),
        problems=problem_frame([t.problems for t in tables]),
    )


def problem_frame(frames: list[pd.DataFrame | None]) -> pd.DataFrame:
    kept = [f for f in frames if f is not None and not f.empty]
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in READ_PROBLEM_COLUMNS})
    return pd.concat(kept, ignore_index=True)[READ_PROBLEM_COLUMNS]
