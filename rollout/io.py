"""Reading the site files people send.

Reading turns a CSV or XLSX file into a frame of text cells under canonical column names,
remembering for every row its file and its row number as Excel shows it (header = row 1
when the header is on the first line). Decoding (UTF-8, UTF-8 with BOM, UTF-16 with BOM,
GB18030/GBK), delimiter and header-row detection happen here and nowhere else; checking
the cells is :mod:`rollout.records`' job. Writing is :mod:`rollout.writers`'.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout.errors import InputFileError
from rollout.schema import KINDS, SiteKind, normalize_token
from rollout.tablekinds import TableKind

__all__ = ["RawTable", "detect_kind", "expand_paths", "parquet_row_groups", "read_geo", "read_raw_table"]

_DELIMITERS = (",", "\t", ";", "|")
_HEADER_SEARCH_ROWS = 10
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass
class RawTable:
    """A site file read as text: canonical columns plus where each row came from."""

    path: Path
    kind: SiteKind | TableKind
    cells: pd.DataFrame  # canonical column -> str; extra columns under their own header
    rows: pd.Series  # Excel row number of each row, aligned to ``cells``
    headers: dict[str, str]  # canonical column -> header as written in the file
    encoding: str = ""
    sheet: str = ""
    blank_rows: int = 0
    extra_columns: list[str] = field(default_factory=list)
    ragged: pd.DataFrame | None = None  # rows with more cells than the header: row, cells


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
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    return [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]


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
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        grid, first_row = _read_parquet_grid(path, row_groups)
        table = _frame_from_grid(path, grid, None, kind=kind, encoding="parquet", sheet="")
        table.rows = table.rows + first_row
        return table
    if not path.is_file():
        raise InputFileError("errors.no_such_file", path=path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputFileError("errors.xls_not_read", path=path)
    encoding, sheet_name = "", ""
    if suffix in _EXCEL_SUFFIXES:
        grid, sheet_name = _read_xlsx_grid(path, sheet)
        ragged = None
    else:
        if sheet:
            raise InputFileError("errors.sheet_only_xlsx", path=path)
        data = path.read_bytes()
        if not data.strip():
            raise InputFileError("errors.file_empty", path=path)
        encoding = _encoding(path, data)
        if encoding == "utf-16":  # pandas' C parser wants an 8-bit encoding
            data, encoding = data.decode("utf-16").encode("utf-8"), "utf-16"
        grid, ragged = _read_csv_grid(path, data, "utf-8" if encoding == "utf-16" else encoding, kind)
    return _frame_from_grid(path, grid, ragged, kind=kind, encoding=encoding, sheet=sheet_name)


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


# --- decoding ---------------------------------------------------------------------------


def _encoding(path: Path, data: bytes) -> str:
    """Name the encoding of ``data``: UTF-8 (with or without BOM), UTF-16 with BOM or GB18030.

    The whole file is decoded once to check it, so a wrong guess fails here, with the line of
    the first bad byte, instead of turning into mojibake.
    """
    if data.startswith(codecs.BOM_UTF8):
        _strict(path, data[len(codecs.BOM_UTF8) :], "utf-8")
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _strict(path, data, "utf-16")
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as utf8_error:
        replaced = data.decode("utf-8", errors="replace")
        bad = replaced.count("\ufffd")
        wide = sum(1 for ch in replaced if ord(ch) > 0x7F and ch != "\ufffd")
        if wide >= 10 * bad:
            # Mostly valid UTF-8 with a few broken bytes: GB18030 would turn it into mojibake.
            line = data[: utf8_error.start].count(b"\n") + 1
            raise InputFileError("errors.utf8_invalid", path=path, line=line) from utf8_error
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputFileError("errors.encoding_unknown", path=path, line=line) from e


def _strict(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputFileError("errors.encoding_invalid", path=path, encoding=encoding.upper(), line=line) from e


# --- grids --------------------------------------------------------------------------------


def _read_csv_grid(path: Path, data: bytes, encoding: str, kind: str | TableKind | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Parse CSV bytes into a frame of strings with no header, choosing the delimiter."""
    head = data[:65536].decode(encoding, errors="ignore").splitlines()[: _HEADER_SEARCH_ROWS + 5]
    delimiter = max(
        _DELIMITERS,
        key=lambda d: (_best_header(list(csv.reader(head, delimiter=d)), kind)[1], -_DELIMITERS.index(d)),
    )
    if path.suffix.lower() == ".tsv" and _best_header(list(csv.reader(head, delimiter="\t")), kind)[1]:
        delimiter = "\t"
    try:
        grid = pd.read_csv(
            io.BytesIO(data),
            encoding=encoding,
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
        return grid.fillna(""), None
    except pd.errors.ParserError:
        pass  # a row with more cells than the first: parse row by row to report it
    except pd.errors.EmptyDataError as e:
        raise InputFileError("errors.file_empty", path=path) from e
    rows = list(csv.reader(io.StringIO(data.decode(encoding)), delimiter=delimiter))
    header_idx, _ = _best_header(rows[:_HEADER_SEARCH_ROWS], kind)
    width = len(rows[header_idx]) if rows else 0
    too_long = [(i + 1, len(r)) for i, r in enumerate(rows) if i > header_idx and len(r) > width and any(c.strip() for c in r[width:])]
    padded = [(r + [""] * width)[:width] for r in rows]
    ragged = pd.DataFrame(too_long, columns=["row", "cells"]).assign(header=width)
    return pd.DataFrame(padded, dtype=str), ragged


def _read_parquet_grid(path: Path, row_groups: list[int] | None) -> tuple[pd.DataFrame, int]:
    """A Parquet file (or some of its row groups) as text cells under a header row.

    Rows are numbered as if the table were opened in Excel (header = row 1), counting the
    rows of the row groups before the first one read. GeoParquet point geometry becomes
    ``lon``/``lat`` in WGS-84 when the file has no coordinate columns.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputFileError("errors.no_such_file", path=path)
    try:
        parquet = pq.ParquetFile(path)
        groups = list(range(parquet.metadata.num_row_groups)) if row_groups is None else row_groups
        table = parquet.read_row_groups(groups) if groups else parquet.schema_arrow.empty_table()
    except (pa.ArrowInvalid, OSError) as e:
        raise InputFileError("errors.parquet_unreadable", path=path, detail=str(e)) from e
    first_row = sum(parquet.metadata.row_group(i).num_rows for i in range(min(groups) if groups else 0))
    geo = (parquet.schema_arrow.metadata or {}).get(b"geo")
    columns: dict[str, pd.Series] = {}
    if geo:
        import json

        import shapely

        info = json.loads(geo)
        name = info.get("primary_column", "geometry")
        if name in table.column_names:
            points = shapely.from_wkb(table.column(name).to_numpy(zero_copy_only=False))
            crs = info.get("columns", {}).get(name, {}).get("crs")
            series = gpd.GeoSeries(points, crs=pyproj_crs(crs))
            if series.crs is not None and not series.crs.equals(4326):
                series = series.to_crs(4326)
            columns["lon"] = pd.Series(shapely.get_x(series.to_numpy())).map(lambda v: "" if pd.isna(v) else repr(float(v)))
            columns["lat"] = pd.Series(shapely.get_y(series.to_numpy())).map(lambda v: "" if pd.isna(v) else repr(float(v)))
            table = table.drop([name])
    for name in table.column_names:
        text = pc.cast(table.column(name), pa.string()) if not pa.types.is_string(table.column(name).type) else table.column(name)
        columns[name] = pd.Series(pc.fill_null(text, "").to_numpy(zero_copy_only=False), dtype=object)
    headers = list(columns)
    if "lon" in headers and any(normalize_token(h) in ("经度", "longitude", "lng", "lon") for h in headers if h != "lon"):
        headers = [h for h in headers if h not in ("lon", "lat")]  # the file's own coordinates win
    body = pd.DataFrame({i: columns[h].to_numpy() for i, h in enumerate(headers)})
    grid = pd.concat([pd.DataFrame([headers]), body], ignore_index=True)
    return grid.astype(object), first_row


def pyproj_crs(crs: object):
    """A GeoParquet ``crs`` entry (PROJJSON, a string, or absent meaning OGC:CRS84) as a pyproj CRS."""
    import pyproj

    if crs is None:
        return pyproj.CRS.from_epsg(4326)
    return pyproj.CRS.from_user_input(crs)


def _read_xlsx_grid(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
        raise InputFileError("errors.xlsx_unreadable", path=path, detail=str(e)) from e
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise InputFileError("errors.sheet_missing", path=path, sheet=sheet, sheets=", ".join(book.sheetnames))
        # Exports from WPS and some web systems carry wrong sheet dimensions; read to the end.
        worksheet.reset_dimensions()
        rows = [[_cell_text(v) for v in row] for row in worksheet.iter_rows(min_row=1, values_only=True)]
        title = worksheet.title
    finally:
        book.close()
    if not any(any(c for c in row) for row in rows):
        raise InputFileError("errors.sheet_empty", path=path, sheet=title)
    width = max(len(r) for r in rows)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str), title


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


def _best_header(rows: list[list[str]], kind: str | TableKind | None) -> tuple[int, int]:
    """Return (index, recognised-column count) of the row most like a header."""
    kinds = [kind] if isinstance(kind, TableKind) else [KINDS[kind]] if kind else list(KINDS.values())
    best = (0, 0)
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        tokens = [normalize_token(c) for c in row if str(c).strip()]
        hits = max(sum(t in k.header_index for t in tokens) for k in kinds)
        if hits > best[1]:
            best = (i, hits)
    return best


def _frame_from_grid(
    path: Path,
    grid: pd.DataFrame,
    ragged: pd.DataFrame | None,
    *,
    kind: str | TableKind | None,
    encoding: str,
    sheet: str,
) -> RawTable:
    rows_as_lists = grid.head(_HEADER_SEARCH_ROWS).to_numpy().tolist()
    header_idx, hits = _best_header(rows_as_lists, kind)
    if hits < 2:
        first = next((r for r in rows_as_lists if any(str(c).strip() for c in r)), [])
        shown = " | ".join(str(c) for c in first if str(c).strip())[:120]
        joined = len([c for c in first if str(c).strip()]) == 1 and any(d in shown for d in ":：、 ")
        expected = (
            ", ".join(f"{f.zh}/{f.name}" for f in kind.fields if f.required)
            if isinstance(kind, TableKind)
            else "站址编码/site_id, 经度/lon, 纬度/lat, 状态/status"
        )
        raise InputFileError(
            "errors.no_columns_joined" if joined else "errors.no_columns", path=path, first=shown or "—", expected=expected
        )
    headers = [str(h).strip() for h in grid.iloc[header_idx].tolist()]
    site_kind = kind if isinstance(kind, TableKind) else KINDS[kind] if kind else detect_kind(path, headers)
    if site_kind is None:
        raise InputFileError("errors.kind_unknown", path=path)
    body = grid.iloc[header_idx + 1 :]
    rows = pd.Series(range(header_idx + 2, header_idx + 2 + len(body)), index=body.index, name="row")
    blank = (body.apply(lambda col: col.str.strip()) == "").all(axis=1)
    body, rows = body[~blank], rows[~blank]
    canonical: dict[str, str] = {}
    columns: dict[str, pd.Series] = {}
    extras: list[str] = []
    for position, header in enumerate(headers):
        if not header:
            if (body.iloc[:, position].str.strip() != "").any():
                extras.append(f"column {position + 1}")
                columns[f"column_{position + 1}"] = body.iloc[:, position]
            continue
        name = site_kind.header_index.get(normalize_token(header))
        if name is None or name in canonical:
            extras.append(header)
            columns[header if header not in columns else f"{header}_{position + 1}"] = body.iloc[:, position]
            continue
        canonical[name] = header
        columns[name] = body.iloc[:, position]
    missing = [f for f in site_kind.fields if f.required and f.name not in canonical]
    if missing:
        wanted = ", ".join(f"{f.zh}/{f.name}" for f in missing)
        raise InputFileError("errors.required_missing", path=path, wanted=wanted, headers=", ".join(h for h in headers if h))
    cells = pd.DataFrame(columns, index=body.index)
    for f in site_kind.fields:
        if f.name not in cells.columns:
            cells[f.name] = ""
    if ragged is not None and not ragged.empty:
        ragged = ragged[ragged["row"] > header_idx + 1]
    return RawTable(
        path=path,
        kind=site_kind,
        cells=cells.reset_index(drop=True),
        rows=rows.reset_index(drop=True),
        headers=canonical,
        encoding=encoding,
        sheet=sheet,
        blank_rows=int(blank.sum()),
        extra_columns=extras,
        ragged=ragged,
    )
