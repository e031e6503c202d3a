"""CSV text into rows of cells, with every line of the file accounted for.

:func:`csv_layout` reads the head of the file: its encoding (:mod:`rollout.decoding`), the
delimiter, and the header row (a title row above it is fine). :func:`csv_chunks` then
streams the data rows through pyarrow's CSV parser, a chunk of rows at a time, so that a
large file is never held whole in memory. The parser runs in C++; Python only sees the rows
it could not parse as they stand, and the numbering of rows as Excel shows them (the header
is row 1 when it is on the first line).

Nothing is lost or silently changed:

- a row with more cells than the header is kept for the checks and rejected (the extra cells
  would be lost), unless the extra cells are blank; a row with fewer cells is kept, padded,
  with a warning (the cells after the gap may have moved left);
- a stray ``"`` at the start of a cell that would swallow the following lines into one cell
  (pyarrow, Excel and Python's csv module all read it so) is found, the row holding it is
  rejected and the file is read again from the next line, so each following line is a row;
- a quoted cell with a line break (an address typed with Alt+Enter) is one row, as in Excel;
  the file is then said to have more text lines than rows, and why.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from rollout.decoding import HEAD_BYTES, diagnose, open_utf8, sniff_encoding
from rollout.errors import InputFileError

__all__ = ["CsvChunk", "CsvLayout", "csv_chunks", "csv_layout"]

DELIMITERS = (",", "\t", ";", "|")
#: Records of the head searched for the header row.
HEADER_SEARCH_ROWS = 10
#: Bytes the parser reads at a time (about 100,000 rows of a typical site file).
_BLOCK_BYTES = 1 << 22
#: Stray quotes after which the rest of a file is read with quotes as plain text.
_MAX_RESTARTS = 20
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
csv.field_size_limit(2**31 - 1)  # a 1 MB cell is odd but must not stop the reading


@dataclass(frozen=True)
class CsvLayout:
    """What the head of a CSV file says: encoding, delimiter, header and where the data starts."""

    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    #: Row of the header as Excel shows it (1 when it is the first line).
    header_row: int
    #: Text line on which the first data row starts.
    first_line: int
    #: The first records of the file (for messages about a file without a recognisable header).
    head: list[list[str]]


@dataclass
class CsvChunk:
    """Consecutive data rows of a CSV file: cells by position, and where each row is."""

    cells: pd.DataFrame  # columns 0 .. width-1, text
    rows: np.ndarray  # row as Excel shows it
    lines: np.ndarray  # text line on which the row starts
    #: Problems with the rows' shape: row, line, severity, reason_code, params.
    problems: pd.DataFrame
    #: Rows with a line break inside a cell (one row, several text lines): row, line, last_line.
    multiline: pd.DataFrame


def csv_layout(path: Path, best_header) -> CsvLayout:
    """Encoding, delimiter and header row of the CSV file ``path``.

    ``best_header(records)`` returns the index and the number of recognised columns of the record
    most like a header. Raises :class:`InputFileError` for an empty file.
    """
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        complete = not handle.read(1)
    if not head.strip():
        raise InputFileError("errors.file_empty", path=path)
    encoding = sniff_encoding(path, head, complete=complete)
    text = _head_text(head, encoding)
    lines = [m.group(0) for m in re.finditer(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)][: HEADER_SEARCH_ROWS * 4]
    scores = []
    for rank, delimiter in enumerate(DELIMITERS):
        records, ends = _records(lines, delimiter)
        index, hits = best_header(records)
        bonus = 1 if delimiter == "\t" and path.suffix.lower() == ".tsv" and hits else 0
        scores.append(((hits + bonus, -rank), delimiter, records, ends, index))
    _, delimiter, records, ends, index = max(scores, key=lambda s: s[0])
    if not records:
        raise InputFileError("errors.file_empty", path=path)
    return CsvLayout(
        path=path,
        encoding=encoding,
        delimiter=delimiter,
        header=[c.strip() for c in records[index]],
        header_row=index + 1,
        first_line=ends[index] + 1,
        head=records,
    )


def _head_text(head: bytes, encoding: str) -> str:
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    text = head.decode(codec, errors="ignore") if codec != "utf-16" else head.decode("utf-16", errors="ignore")
    return text.removeprefix("\ufeff")


def _records(lines: list[str], delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first records of ``lines`` and, for each, how many lines it has used up so far."""
    consumed = 0

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in lines:
            consumed += 1
            yield line

    records: list[list[str]] = []
    ends: list[int] = []
    try:
        for record in csv.reader(feed(), delimiter=delimiter):
            records.append(record)
            ends.append(consumed)
            if len(records) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        pass  # a head that is not CSV with this delimiter: judged on what was read
    return records, ends


def csv_chunks(layout: CsvLayout, *, chunk_rows: int = 200_000) -> Iterator[CsvChunk]:
    """The data rows of the file in chunks of about ``chunk_rows`` rows, in file order."""
    start_line, start_row, restarts = layout.first_line, layout.header_row + 1, 0
    while True:
        # After many stray quotes, the rest is read with quotes as plain text: each line one row.
        restart = yield from _segment(layout, start_line, start_row, chunk_rows, quotes=restarts < _MAX_RESTARTS)
        if restart is None:
            return
        start_line, start_row = restart
        restarts += 1


def _segment(layout: CsvLayout, start_line: int, start_row: int, chunk_rows: int, *, quotes: bool = True):
    """Parse from ``start_line`` to the end, or to a stray quote (then return where to go on from)."""
    width = len(layout.header)
    names = [str(i) for i in range(width)]
    invalid: list[tuple[int, int, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append((int(row.number), int(row.actual_columns), str(row.text)))
        return "skip"

    state = _State(start_line=start_line, start_row=start_row)
    pending: list[_Piece] = []
    resume = (start_line, start_row)  # the first row not yet handed out
    try:
        reader = pcsv.open_csv(
            open_utf8(layout.path, layout.encoding, from_line=start_line),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=_BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char='"' if quotes else False,
                newlines_in_values=quotes,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()), strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
        while True:
            batch = _next_batch(reader)
            piece, swallowed = _window(batch, invalid, state, layout, final=batch is None)
            if piece is not None and piece.size:
                pending.append(piece)
            if batch is None and swallowed is None and pending:
                pending, swallowed = _unclosed_at_end(pending, layout)
            if pending and (swallowed is not None or batch is None or sum(p.size for p in pending) >= chunk_rows):
                yield from _chunks(pending, layout, chunk_rows)
                pending = []
                resume = (state.line, state.start_row + state.record - 1)
            if swallowed is not None:
                yield _chunk(_quote_row(layout, swallowed), layout)
                return swallowed.line + 1, swallowed.row + 1
            if batch is None:
                return None
    except (UnicodeDecodeError, pa.ArrowInvalid) as e:
        if isinstance(e, pa.ArrowInvalid) and str(e).startswith("Empty CSV file"):
            return None  # nothing after the header
        if isinstance(e, pa.ArrowInvalid) and "utf8" not in str(e).lower():
            raise InputFileError("errors.csv_unreadable", path=layout.path, detail=str(e).splitlines()[0]) from e
        encoding = diagnose(layout.path, layout.encoding)  # raises unless another encoding reads every line
        if encoding == layout.encoding:
            raise InputFileError("errors.encoding_unknown", path=layout.path, line=resume[0]) from e
        # An ASCII head hid a GB18030 file: go on reading it as such, from the first row not handed out.
        return (yield from _segment(replace(layout, encoding=encoding), resume[0], resume[1], chunk_rows, quotes=quotes))


def _next_batch(reader: pcsv.CSVStreamingReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


@dataclass
class _State:
    """Where the parser is: the next record's number (1-based in the segment), its row and line."""

    start_line: int
    start_row: int
    record: int = 1
    line_shift: int = 0  # line breaks inside the cells of the records so far

    @property
    def line(self) -> int:
        return self.start_line + self.record - 1 + self.line_shift


@dataclass(frozen=True)
class _Swallowed:
    row: int
    line: int
    last_line: int


@dataclass(frozen=True)
class _Piece:
    """Consecutive records: their cells by position (an Arrow batch as parsed, or a pandas frame
    when rows set aside by the parser were put back in), and per record ``_row``, ``_line``,
    ``_breaks`` (line breaks inside cells), ``_code`` (a problem with its shape), ``_cells``."""

    cells: pa.RecordBatch | pd.DataFrame
    meta: pd.DataFrame

    @property
    def size(self) -> int:
        return len(self.meta)

    def slice(self, start: int, stop: int) -> _Piece:
        cells = self.cells.slice(start, stop - start) if isinstance(self.cells, pa.RecordBatch) else self.cells.iloc[start:stop]
        return _Piece(cells, self.meta.iloc[start:stop])

    def frame(self) -> pd.DataFrame:
        if isinstance(self.cells, pd.DataFrame):
            return self.cells.reset_index(drop=True)
        frame = self.cells.to_pandas()
        frame.columns = list(range(frame.shape[1]))
        return frame


def _window(batch, invalid, state: _State, layout: CsvLayout, *, final: bool) -> tuple[_Piece | None, _Swallowed | None]:
    """The records up to the end of ``batch`` (with the rows the parser set aside among them, put
    back in their place), and the first record swallowed by a stray quote, if any."""
    width = len(layout.header)
    n_valid = 0 if batch is None else batch.num_rows
    invalid.sort()
    numbers = np.array([i[0] for i in invalid], dtype=np.int64)
    q = numbers - state.record - np.arange(len(numbers))
    valid_numbers = state.record + np.arange(n_valid) + np.searchsorted(q, np.arange(n_valid), side="right")
    last = int(valid_numbers[-1]) if n_valid else (int(numbers[-1]) if final and len(numbers) else state.record - 1)
    taken = [i for i in invalid if i[0] <= last]
    del invalid[: len(taken)]
    if not n_valid and not taken:
        return None, None
    breaks = _cell_breaks(batch) if n_valid else np.zeros(0, dtype=np.int64)
    meta = pd.DataFrame({"_number": valid_numbers, "_breaks": breaks, "_code": "", "_cells": width})
    cells: pa.RecordBatch | pd.DataFrame = batch if n_valid else pd.DataFrame({i: pd.Series(dtype=str) for i in range(width)})
    if taken:  # rows set aside by the parser, put back in their place (rare: pandas is fine here)
        extra = _invalid_frame(taken, width, layout.delimiter)
        valid = _Piece(cells, meta).frame() if n_valid else cells
        both = pd.concat([valid.assign(**meta), extra], ignore_index=True).sort_values("_number", kind="stable", ignore_index=True)
        cells, meta = both[list(range(width))], both[[c for c in both.columns if isinstance(c, str)]]
    shift = np.concatenate([[0], np.cumsum(meta["_breaks"].to_numpy())[:-1]]) + state.line_shift
    meta = meta.assign(
        _row=state.start_row + meta["_number"].to_numpy() - 1, _line=state.start_line + meta["_number"].to_numpy() - 1 + shift
    ).reset_index(drop=True)
    piece = _Piece(cells, meta)
    swallowed = _first_swallowed(piece, layout.delimiter, width)
    if swallowed is not None:
        keep = int(np.searchsorted(meta["_number"].to_numpy(), swallowed[0]))
        row, line, breaks_in = swallowed[1], swallowed[2], swallowed[3]
        return piece.slice(0, keep), _Swallowed(row=row, line=line, last_line=line + breaks_in)
    state.record = last + 1
    state.line_shift = int(shift[-1] + meta["_breaks"].iloc[-1]) if len(meta) else state.line_shift
    return piece, None


def _unclosed_at_end(pending: list[_Piece], layout: CsvLayout) -> tuple[list[_Piece], _Swallowed | None]:
    """A last record whose quote is never closed (it runs to the end of the file over several
    lines): cut it off, to be rejected and its lines read again."""
    last = pending[-1]
    record = last.meta.iloc[-1]
    if int(record["_breaks"]) == 0:
        return pending, None
    stream = open_utf8(layout.path, layout.encoding, from_line=int(record["_line"]))
    if stream.read().count(b'"') % 2 == 0:
        return pending, None
    cut = last.slice(0, last.size - 1)
    swallowed = _Swallowed(row=int(record["_row"]), line=int(record["_line"]), last_line=int(record["_line"] + record["_breaks"]))
    return [*pending[:-1], *([cut] if cut.size else [])], swallowed


def _chunks(pieces: list[_Piece], layout: CsvLayout, chunk_rows: int) -> Iterator[CsvChunk]:
    """Pieces joined into chunks of at most ``chunk_rows`` rows. Pieces as parsed are joined as Arrow
    tables (no copy) and turned into pandas once per chunk."""
    if all(isinstance(p.cells, pa.RecordBatch) for p in pieces):
        table = pa.Table.from_batches([p.cells for p in pieces])
        meta = pd.concat([p.meta for p in pieces], ignore_index=True)
        for start in range(0, len(meta), chunk_rows):
            frame = table.slice(start, chunk_rows).to_pandas()
            frame.columns = list(range(frame.shape[1]))
            yield _chunk(frame.assign(**meta.iloc[start : start + chunk_rows].reset_index(drop=True)), layout)
        return
    frame = pd.concat([p.frame().assign(**p.meta.reset_index(drop=True)) for p in pieces], ignore_index=True)
    for start in range(0, len(frame), chunk_rows):
        yield _chunk(frame.iloc[start : start + chunk_rows], layout)


def _cell_breaks(batch: pa.RecordBatch) -> np.ndarray:
    """Line breaks inside the cells of each row (``\\r\\n`` counts once)."""
    total = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        data = column.buffers()[2]
        if data is None:
            continue
        raw = np.frombuffer(data, dtype=np.uint8)
        if not ((raw == 0x0A).any() or (raw == 0x0D).any()):  # the common case, at memory speed
            continue
        lf = pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
        cr = pc.count_substring(column, "\r").to_numpy(zero_copy_only=False)
        crlf = pc.count_substring(column, "\r\n").to_numpy(zero_copy_only=False)
        total += lf + cr - crlf
    return total


def _invalid_frame(taken: list[tuple[int, int, str]], width: int, delimiter: str) -> pd.DataFrame:
    """Rows the parser set aside (another number of cells than the header), read by Python's csv."""
    out = []
    for number, actual, text in taken:
        try:
            cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:
            cells = text.split(delimiter)
        code = ""
        if actual > width and any(c.strip() for c in cells[width:]):
            code = "too_many_cells"
        elif actual < width and any(c.strip() for c in cells):
            code = "too_few_cells"
        padded = (cells + [""] * width)[:width]
        breaks = len(_LINE_BREAK.findall(text))
        out.append([*padded, number, breaks, code, actual, text])
    frame = pd.DataFrame(out, columns=[*range(width), "_number", "_breaks", "_code", "_cells", "_text"])
    return frame.astype({c: str for c in range(width)})


def _first_swallowed(piece: _Piece, delimiter: str, width: int) -> tuple[int, int, int, int] | None:
    """(record number, row, line, line breaks) of the first record whose text goes on over lines
    that look like rows of their own: a stray quote opened a cell and took them in.

    A line inside a cell "looks like a row" when it holds about half as many delimiters as a
    row has (at least 2): an address or a note typed over two lines does not.
    """
    threshold = max(1, min(width - 1, max(2, (width - 1) // 2)))
    spread = np.flatnonzero(piece.meta["_breaks"].to_numpy() > 0)
    if not len(spread):
        return None
    cells = piece.slice(0, piece.size).frame().iloc[spread]
    meta = piece.meta.iloc[spread]
    hit = np.zeros(len(spread), dtype=bool)
    texts = meta["_text"] if "_text" in meta else pd.Series(np.nan, index=meta.index)
    columns = [texts.where(texts.notna(), "")] + [cells[c].astype(str) for c in range(width)]
    for column in columns:
        parts = pc.list_slice(pc.split_pattern_regex(pa.array(column.to_numpy(dtype=object), pa.string()), r"\r\n|\r|\n"), 1)
        counts = pc.count_substring(pc.list_flatten(parts), delimiter).to_numpy(zero_copy_only=False)
        parents = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False)
        hit[parents[counts >= threshold]] = True
    if not hit.any():
        return None
    first = meta.iloc[int(np.flatnonzero(hit)[0])]
    return int(first["_number"]), int(first["_row"]), int(first["_line"]), int(first["_breaks"])


def _quote_row(layout: CsvLayout, swallowed: _Swallowed) -> pd.DataFrame:
    """The line with the stray quote, read with quotes as plain text, as a row to reject."""
    width = len(layout.header)
    stream = open_utf8(layout.path, layout.encoding, from_line=swallowed.line)
    raw = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="").readline()
    text = _LINE_BREAK.sub("", raw)
    cells = next(csv.reader([text], delimiter=layout.delimiter, quoting=csv.QUOTE_NONE), [])
    frame = pd.DataFrame([(cells + [""] * width)[:width]], columns=list(range(width)), dtype=str)
    return frame.assign(
        _number=0,
        _breaks=0,
        _code="quote_unbalanced",
        _cells=len(cells),
        _row=swallowed.row,
        _line=swallowed.line,
        _last=swallowed.last_line,
    )


def _chunk(frame: pd.DataFrame, layout: CsvLayout) -> CsvChunk:
    width = len(layout.header)
    meta = frame[[c for c in ("_code", "_row", "_line", "_cells", "_last", "_breaks") if c in frame.columns]]
    flagged = meta[meta["_code"].to_numpy() != ""]
    lines = flagged["_line"].to_numpy(dtype=np.int64)
    cells = flagged["_cells"].to_numpy(dtype=np.int64)
    last = flagged["_last"].to_numpy(dtype=np.int64) if "_last" in flagged else lines
    codes = flagged["_code"].to_numpy()
    params = [
        {"line": int(line), "last_line": int(end)} if code == "quote_unbalanced" else {"cells": int(n), "header": width, "line": int(line)}
        for code, line, n, end in zip(codes, lines, cells, last, strict=True)
    ]
    problems = pd.DataFrame(
        {
            "row": flagged["_row"].to_numpy(dtype=np.int64),
            "line": lines,
            "severity": np.where(codes == "too_few_cells", "warning", "rejected"),
            "reason_code": codes,
            "params": params,
        }
    )
    spread = meta[meta["_breaks"].to_numpy() > 0]
    multiline = pd.DataFrame(
        {
            "row": spread["_row"].to_numpy(dtype=np.int64),
            "line": spread["_line"].to_numpy(dtype=np.int64),
            "last_line": (spread["_line"] + spread["_breaks"]).to_numpy(dtype=np.int64),
        }
    )
    return CsvChunk(
        cells=frame[list(range(width))].reset_index(drop=True),
        rows=frame["_row"].to_numpy(dtype=np.int64),
        lines=frame["_line"].to_numpy(dtype=np.int64),
        problems=problems,
        multiline=multiline,
    )
