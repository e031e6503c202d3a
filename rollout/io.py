"""Reading the site files people send.

Reading turns a CSV, XLSX or Parquet file into frames of text cells under canonical column
names, remembering for every row its file and its row number as Excel shows it (header = row 1
when the header is on the first line). Decoding is :mod:`rollout.decoding`'s job, CSV parsing
:mod:`rollout.csvfile`'s (streamed through pyarrow, in chunks), XLSX :mod:`rollout.xlsxfile`'s;
this module dispatches on the kind of file and reads it into a :class:`~rollout.rawtable.RawTable`.
Finding the header, mapping it to canonical columns (reading the coordinate system a coordinate
header names, such as ``经度(百度)``) and dropping blank rows is :mod:`rollout.headers`'. Checking the
cells is :mod:`rollout.records`' job. Writing is :mod:`rollout.writers`'.

Problems found while reading a row (another number of cells than the header, a stray quote, a
formula without a stored value) travel with the table in ``RawTable.problems``, so that the
checks report them with the row's other problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from rollout.errors import InputFileError
from rollout.headers import HEADER_SEARCH_ROWS, HeaderColumns, best_header, detect_kind, refuse_header
from rollout.rawtable import READ_PROBLEM_COLUMNS, RawTable, concat_tables, problem_frame
from rollout.schema import KINDS, SiteKind
from rollout.tablekinds import TableKind

__all__ = [
    "READ_PROBLEM_COLUMNS",
    "RawTable",
    "concat_tables",
    "detect_file_kind",
    "detect_kind",
    "expand_paths",
    "iter_raw_tables",
    "parquet_row_groups",
    "read_geo",
    "read_raw_table",
    "rows_table",
]

_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


def expand_paths(paths: list[Path | str]) -> list[Path]:
    """Site files named directly, and the Parquet files (sorted) of any folder named."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.parquet") if p.is_file())
            if not found:
                raise InputFileError("errors.folder_without_parquet", path=path)
            out.extend(found)
        else:
            out.append(path)
    return out


def parquet_row_groups(path: Path | str) -> list[int]:
    """Number of rows of each row group of a Parquet file (the unit of distributed reading)."""
    from rollout.parquetfile import row_groups

    return row_groups(Path(path))


def read_raw_table(
    path: Path | str,
    *,
    kind: str | TableKind | None = None,
    sheet: str | None = None,
    row_groups: list[int] | None = None,
) -> RawTable:
    """Read a CSV, XLSX or (Geo)Parquet site file into text cells under canonical column names.

    ``row_groups`` reads only those row groups of a Parquet file (rows keep their numbers in
    the whole file). ``kind`` is ``"macro"``, ``"garage"`` (guessed when omitted) or a
    :class:`rollout.tablekinds.TableKind` for the planning tables (MR grids, complaints, ...).
    Raises :class:`InputFileError` with a one-line message for problems with the file as a
    whole: missing, empty, unreadable encoding, no recognisable header.
    """
    return concat_tables(list(iter_raw_tables(path, kind=kind, sheet=sheet, row_groups=row_groups, chunk_rows=None)))


def iter_raw_tables(
    path: Path | str,
    *,
    kind: str | TableKind | None = None,
    sheet: str | None = None,
    row_groups: list[int] | None = None,
    chunk_rows: int | None = 200_000,
) -> Iterator[RawTable]:
    """The rows of a site file as :class:`RawTable` chunks of about ``chunk_rows`` rows, in file
    order (CSV files are streamed: a chunk is read, handed out and let go before the next).
    Problems with the file as a whole are raised before the first chunk."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        from rollout.parquetfile import read_parquet_grid

        grid, first_row = read_parquet_grid(path, row_groups)
        table = _from_grid(path, grid, kind, encoding="parquet", sheet="")
        yield replace(table, rows=table.rows + first_row, problems=table.problems.assign(row=table.problems["row"] + first_row))
        return
    if not path.is_file():
        raise InputFileError("errors.no_such_file", path=path)
    if suffix == ".xls":
        raise InputFileError("errors.xls_not_read", path=path)
    if suffix in _EXCEL_SUFFIXES:
        yield _read_xlsx(path, kind, sheet)
        return
    if sheet:
        raise InputFileError("errors.sheet_only_xlsx", path=path)
    yield from _read_csv(path, kind, chunk_rows)


def detect_file_kind(path: Path | str, *, sheet: str | None = None) -> SiteKind:
    """Whether a site file holds macro stations or garage compounds, from its name and header
    only (a CSV file is not read past its head)."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt", ".tsv", "") and path.is_file():
        from rollout.csvfile import csv_layout

        layout = csv_layout(path, lambda records: best_header(records, None))
        kind = detect_kind(path, layout.header)
        if kind is None:
            refuse_header(path, layout.head, None)
            raise InputFileError("errors.kind_unknown", path=path)
        return kind
    table = read_raw_table(expand_paths([path])[0], sheet=sheet)
    return KINDS[table.kind.name]


def read_geo(path: Path | str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage or Shapefile (polygons or points); WGS-84 when it names no CRS.

    Raises :class:`InputFileError` with a one-line message when it cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError("errors.no_such_file", path=path)
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own error types for unreadable files
        raise InputFileError("errors.geo_unreadable", path=path, detail=str(e)) from e
    return frame.set_crs(4326) if frame.crs is None else frame


# --- formats -------------------------------------------------------------------------------


def _read_csv(path: Path, kind: str | TableKind | None, chunk_rows: int | None) -> Iterator[RawTable]:
    from rollout.csvfile import csv_chunks, csv_layout

    layout = csv_layout(path, lambda records: best_header(records, kind))
    if best_header(layout.head, kind)[1] < 2:
        refuse_header(path, layout.head, kind)
    columns = HeaderColumns.resolve(path, layout.header, kind)
    multiline: list[pd.DataFrame] = []
    previous: RawTable | None = None
    for chunk in csv_chunks(layout, chunk_rows=chunk_rows or 2**62):
        multiline.append(chunk.multiline)
        problems = chunk.problems.assign(column="", value="")[READ_PROBLEM_COLUMNS]
        table = columns.table(path, chunk.cells, chunk.rows, problems, encoding=layout.encoding, sheet="")
        if previous is not None:
            yield previous
        previous = table
    if previous is None:  # a header and no rows
        empty = pd.DataFrame({i: pd.Series(dtype=str) for i in range(len(layout.header))})
        previous = columns.table(path, empty, np.zeros(0, dtype=np.int64), problem_frame([]), encoding=layout.encoding, sheet="")
    note = _multiline_note(pd.concat(multiline, ignore_index=True) if multiline else None)
    yield replace(previous, problems=problem_frame([previous.problems, note])) if note is not None else previous


def _multiline_note(spread: pd.DataFrame | None) -> pd.DataFrame | None:
    """One warning for a file whose rows hold line breaks inside cells (more text lines than rows)."""
    if spread is None or spread.empty:
        return None
    first = spread.iloc[0]
    extra = int((spread["last_line"] - spread["line"]).sum())
    params = {"line": int(first["line"]), "last_line": int(first["last_line"]), "count": len(spread), "extra": extra}
    return problem_frame([pd.DataFrame([{"row": int(first["row"]), "column": "", "value": "", "severity": "warning",
                                     "reason_code": "line_breaks_in_cells", "params": params}])])  # fmt: skip


def _read_xlsx(path: Path, kind: str | TableKind | None, sheet: str | None) -> RawTable:
    from rollout.xlsxfile import read_xlsx

    read = read_xlsx(path, sheet, lambda rows: best_header(rows, kind))
    table = _from_grid(path, read.grid, kind, encoding="", sheet=read.sheet, formulas=read.formulas)
    if not read.hidden_with_data:
        return table
    header_row = int(table.rows.iloc[0]) - 1 if len(table.rows) else 1
    note = pd.DataFrame(
        [{"row": header_row, "column": "", "value": name, "severity": "warning", "reason_code": "sheet_hidden_data",
          "params": {"sheet": name, "read": read.sheet}} for name in read.hidden_with_data]
    )  # fmt: skip
    return replace(table, problems=problem_frame([table.problems, note]))


def rows_table(path: Path, header: list[str], rows: list[list[str]], kind: str | TableKind | None) -> RawTable:
    """Rows given in memory (a platform edit) read as a file with this ``header`` would be:
    the same header recognition and row numbers (the header is row 1); ``path`` names it."""
    return _from_grid(path, pd.DataFrame([header, *rows], dtype=object), kind, encoding="utf-8", sheet="")


def _from_grid(
    path: Path,
    grid: pd.DataFrame,
    kind: str | TableKind | None,
    *,
    encoding: str,
    sheet: str,
    formulas: list[tuple[int, int, str]] | None = None,
) -> RawTable:
    """A table from a grid of text cells that holds the header row too (XLSX, Parquet)."""
    head = grid.head(HEADER_SEARCH_ROWS).to_numpy().tolist()
    header_idx, hits = best_header(head, kind)
    if hits < 2:
        refuse_header(path, head, kind)
    header = [str(h).strip() for h in grid.iloc[header_idx].tolist()]
    columns = HeaderColumns.resolve(path, header, kind)
    body = grid.iloc[header_idx + 1 :].reset_index(drop=True)
    body.columns = list(range(body.shape[1]))
    rows = np.arange(header_idx + 2, header_idx + 2 + len(body), dtype=np.int64)
    found = [
        {"row": r + 1, "column": columns.name_at(c), "value": text, "severity": "rejected", "reason_code": "formula_without_value",
         "params": {}} for r, c, text in (formulas or []) if r > header_idx
    ]  # fmt: skip
    return columns.table(path, body, rows, problem_frame([pd.DataFrame(found)] if found else []), encoding=encoding, sheet=sheet)
