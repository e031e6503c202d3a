"""Reading the site files people send.

Reading turns a CSV, XLSX or Parquet file into frames of text cells under canonical column
names, remembering for every row its file and its row number as Excel shows it (header = row 1
when the header is on the first line). Decoding is :mod:`rollout.decoding`'s job, CSV parsing
:mod:`rollout.csvfile`'s (streamed through pyarrow, in chunks), XLSX :mod:`rollout.xlsxfile`'s;
this module finds the header, maps it to canonical columns (reading the coordinate system a
coordinate header names, such as ``经度(百度)``), drops blank rows and counts them. Checking the
cells is :mod:`rollout.records`' job. Writing is :mod:`rollout.writers`'.

Problems found while reading a row (another number of cells than the header, a stray quote, a
formula without a stored value) travel with the table in ``RawTable.problems``, so that the
checks report them with the row's other problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rollout.errors import InputFileError
from rollout.schema import KINDS, SiteKind, coordinate_header, normalize_token
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
]

_HEADER_SEARCH_ROWS = 10
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
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
    problems: pd.DataFrame = field(default_factory=lambda: _problems([]))
    #: The coordinate system the coordinate headers name (``经度(百度)``: ``bd09``), or None.
    crs_hint: str | None = None


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


def concat_tables(tables: list[RawTable]) -> RawTable:
    """One table from chunks of the same file, in order."""
    if len(tables) == 1:
        return tables[0]
    return replace(
        tables[0],
        cells=pd.concat([t.cells for t in tables], ignore_index=True),
        rows=pd.concat([t.rows for t in tables], ignore_index=True),
        blank_rows=sum(t.blank_rows for t in tables),
        problems=_problems([t.problems for t in tables]),
    )


def detect_file_kind(path: Path | str, *, sheet: str | None = None) -> SiteKind:
    """Whether a site file holds macro stations or garage compounds, from its name and header
    only (a CSV file is not read past its head)."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt", ".tsv", "") and path.is_file():
        from rollout.csvfile import csv_layout

        layout = csv_layout(path, lambda records: best_header(records, None))
        kind = detect_kind(path, layout.header)
        if kind is None:
            _refuse_header(path, layout.head, None)
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


def detect_kind(path: Path, headers: list[str]) -> SiteKind | None:
    """Guess whether a file holds macro stations or garage compounds."""
    stem = normalize_token(path.stem)
    if any(word in stem for word in ("macro", "station", "宏站", "基站")):
        return KINDS["macro"]
    if any(word in stem for word in ("garage", "compound", "车库", "小区")):
        return KINDS["garage"]
    tokens = {normalize_token(h) for h in headers}
    macro_hits = len(tokens & set(KINDS["macro"].field("site_id").names()) - {"id", "编码"})
    garage_hits = len(tokens & set(KINDS["garage"].field("compound_id").names()) - {"id", "编码"})
    if macro_hits != garage_hits:
        return KINDS["macro"] if macro_hits > garage_hits else KINDS["garage"]
    return None


def best_header(rows: list[list[str]], kind: str | TableKind | None) -> tuple[int, int]:
    """Return (index, recognised-column count) of the row most like a header."""
    kinds = [kind] if isinstance(kind, TableKind) else [KINDS[kind]] if kind else list(KINDS.values())
    best = (0, 0)
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = [str(c) for c in row if str(c).strip()]
        hits = max(len({_field_of(c, k) for c in cells} - {None}) for k in kinds)  # distinct columns
        if hits > best[1]:
            best = (i, hits)
    return best


def _field_of(header: str, kind: SiteKind | TableKind) -> str | None:
    """The canonical column a header means for ``kind`` (coordinate headers may name a system)."""
    name = kind.header_index.get(normalize_token(header))
    if name is None:
        hint = coordinate_header(header)
        if hint is not None and hint.field in kind.header_index.values():
            return hint.field
    return name


# --- formats -------------------------------------------------------------------------------


def _read_csv(path: Path, kind: str | TableKind | None, chunk_rows: int | None) -> Iterator[RawTable]:
    from rollout.csvfile import csv_chunks, csv_layout

    layout = csv_layout(path, lambda records: best_header(records, kind))
    if best_header(layout.head, kind)[1] < 2:
        _refuse_header(path, layout.head, kind)
    columns = _Columns.resolve(path, layout.header, kind)
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
        previous = columns.table(path, empty, np.zeros(0, dtype=np.int64), _problems([]), encoding=layout.encoding, sheet="")
    note = _multiline_note(pd.concat(multiline, ignore_index=True) if multiline else None)
    yield replace(previous, problems=_problems([previous.problems, note])) if note is not None else previous


def _multiline_note(spread: pd.DataFrame | None) -> pd.DataFrame | None:
    """One warning for a file whose rows hold line breaks inside cells (more text lines than rows)."""
    if spread is None or spread.empty:
        return None
    first = spread.iloc[0]
    extra = int((spread["last_line"] - spread["line"]).sum())
    params = {"line": int(first["line"]), "last_line": int(first["last_line"]), "count": len(spread), "extra": extra}
    return _problems([pd.DataFrame([{"row": int(first["row"]), "column": "", "value": "", "severity": "warning",
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
    return replace(table, problems=_problems([table.problems, note]))


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
    head = grid.head(_HEADER_SEARCH_ROWS).to_numpy().tolist()
    header_idx, hits = best_header(head, kind)
    if hits < 2:
        _refuse_header(path, head, kind)
    header = [str(h).strip() for h in grid.iloc[header_idx].tolist()]
    columns = _Columns.resolve(path, header, kind)
    body = grid.iloc[header_idx + 1 :].reset_index(drop=True)
    body.columns = list(range(body.shape[1]))
    rows = np.arange(header_idx + 2, header_idx + 2 + len(body), dtype=np.int64)
    found = [
        {"row": r + 1, "column": columns.name_at(c), "value": text, "severity": "rejected", "reason_code": "formula_without_value",
         "params": {}} for r, c, text in (formulas or []) if r > header_idx
    ]  # fmt: skip
    return columns.table(path, body, rows, _problems([pd.DataFrame(found)] if found else []), encoding=encoding, sheet=sheet)


def _refuse_header(path: Path, head: list[list[str]], kind: str | TableKind | None) -> None:
    first = next((r for r in head if any(str(c).strip() for c in r)), [])
    shown = " | ".join(_shown(c) for c in first if str(c).strip())[:120]
    joined = len([c for c in first if str(c).strip()]) == 1 and any(d in shown for d in ":：、 ")
    expected = (
        ", ".join(f"{f.zh}/{f.name}" for f in kind.fields if f.required)
        if isinstance(kind, TableKind)
        else "站址编码/site_id, 经度/lon, 纬度/lat, 状态/status"
    )
    raise InputFileError("errors.no_columns_joined" if joined else "errors.no_columns", path=path, first=shown or "—", expected=expected)


@dataclass(frozen=True)
class _Columns:
    """How the header's positions map to canonical columns, for one file."""

    kind: SiteKind | TableKind
    names: list[str | None]  # per position: canonical name, an extra column's name, or None (blank header)
    headers: dict[str, str]  # canonical -> header as written
    extras: list[str]
    crs_hint: str | None

    @staticmethod
    def resolve(path: Path, header: list[str], kind: str | TableKind | None) -> _Columns:
        site_kind = kind if isinstance(kind, TableKind) else KINDS[kind] if kind else detect_kind(path, header)
        if site_kind is None:
            raise InputFileError("errors.kind_unknown", path=path)
        names: list[str | None] = []
        canonical: dict[str, str] = {}
        extras: list[str] = []
        for position, text in enumerate(header):
            if not text:
                names.append(None)
                continue
            name = _field_of(text, site_kind)
            if name is None or name in canonical:
                extras.append(text)
                names.append(text if text not in names else f"{text}_{position + 1}")
                continue
            canonical[name] = text
            names.append(name)
        missing = [f for f in site_kind.fields if f.required and f.name not in canonical]
        if missing:
            wanted = ", ".join(f"{f.zh}/{f.name}" for f in missing)
            raise InputFileError("errors.required_missing", path=path, wanted=wanted, headers=", ".join(_shown(h) for h in header if h))
        return _Columns(site_kind, names, canonical, extras, _header_crs(path, canonical))

    def name_at(self, position: int) -> str:
        name = self.names[position] if position < len(self.names) else None
        return name or f"column_{position + 1}"

    def table(self, path: Path, body: pd.DataFrame, rows: np.ndarray, problems: pd.DataFrame, *, encoding: str, sheet: str) -> RawTable:
        """The canonical frame of ``body`` (cells by position): blank rows dropped and counted."""
        blank = _blank_rows(body)
        if blank.any() and not problems.empty:  # a row rejected for its shape is never blank
            blank &= ~np.isin(rows, problems.loc[problems["severity"] == "rejected", "row"].to_numpy())
        if blank.any():
            body, rows = body[~blank].reset_index(drop=True), rows[~blank]
        columns: dict[str, pd.Series] = {}
        extras = list(self.extras)
        for position in range(body.shape[1]):
            name = self.names[position] if position < len(self.names) else None
            values = body[position]
            if name is None:
                if not _all_blank(values):
                    extras.append(f"column {position + 1}")
                    columns[f"column_{position + 1}"] = values
                continue
            columns[name] = values
        cells = pd.DataFrame(columns, index=body.index)
        for f in self.kind.fields:
            if f.name not in cells.columns:
                cells[f.name] = pd.Series("", index=cells.index, dtype=str)
        return RawTable(
            path=path,
            kind=self.kind,
            cells=cells,
            rows=pd.Series(rows, name="row", dtype="int64"),
            headers=dict(self.headers),
            encoding=encoding,
            sheet=sheet,
            blank_rows=int(blank.sum()),
            extra_columns=extras,
            problems=problems,
            crs_hint=self.crs_hint,
        )


def _shown(text: object) -> str:
    """A cell as one line, for a message (line breaks and runs of spaces become one space)."""
    return " ".join(str(text).split())


def _header_crs(path: Path, headers: dict[str, str]) -> str | None:
    """The coordinate system the lon/lat headers name; one that is unknown, several, or two that
    disagree are errors (a header that names a system is never read as WGS-84 by default)."""
    found: dict[str, str] = {}
    for name in ("lon", "lat"):
        header = headers.get(name)
        hint = coordinate_header(header) if header else None
        if hint is None:
            continue
        if hint.unknown:
            raise InputFileError("errors.crs_header_unknown", path=path, header=_shown(header), hint=_shown(hint.unknown))
        if len(hint.systems) > 1:
            raise InputFileError(
                "errors.crs_header_several", path=path, header=_shown(header), systems=", ".join(_upper(s) for s in hint.systems)
            )
        if hint.crs:
            found[header] = hint.crs  # type: ignore[index]
    if len(set(found.values())) > 1:
        (first, a), (second, b) = found.items()
        raise InputFileError(
            "errors.crs_header_conflict", path=path, first=_shown(first), first_crs=_upper(a), second=_shown(second), second_crs=_upper(b)
        )
    return next(iter(found.values()), None)


def _upper(crs: str) -> str:
    return {"wgs84": "WGS84", "gcj02": "GCJ02", "bd09": "BD09"}.get(crs, crs)


def _blank_rows(body: pd.DataFrame) -> np.ndarray:
    blank = np.ones(len(body), dtype=bool)
    for position in body.columns:
        blank &= _blank_cells(body[position])
        if not blank.any():
            break
    return blank


def _all_blank(values: pd.Series) -> bool:
    return bool(_blank_cells(values).all())


def _blank_cells(values: pd.Series) -> np.ndarray:
    """Cells that are empty or only whitespace (computed by pyarrow)."""
    text = pa.array(values.astype(str)) if values.dtype != "str" else pa.array(values)
    empty = pc.or_(pc.equal(pc.utf8_length(text), 0), pc.utf8_is_space(text))
    return empty.to_numpy(zero_copy_only=False)


def _problems(frames: list[pd.DataFrame | None]) -> pd.DataFrame:
    kept = [f for f in frames if f is not None and not f.empty]
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in READ_PROBLEM_COLUMNS})
    return pd.concat(kept, ignore_index=True)[READ_PROBLEM_COLUMNS]
