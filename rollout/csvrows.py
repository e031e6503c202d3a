"""The accounting of a CSV file's rows as pyarrow parses them: nothing is lost or silently changed.

:mod:`rollout.csvfile` streams the rows through pyarrow's parser; this module turns each batch it
parses into :class:`CsvChunk` rows numbered as Excel shows them, and finds what is wrong with
their shape:

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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rollout.decoding import open_utf8

if TYPE_CHECKING:
    from rollout.csvfile import CsvLayout

__all__ = ["CsvChunk", "ParseState", "Piece", "join_chunks", "quote_row", "take_window", "to_chunk", "unclosed_at_end"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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


@dataclass
class ParseState:
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
class Piece:
    """Consecutive records: their cells by position (an Arrow batch as parsed, or a pandas frame
    when rows set aside by the parser were put back in), and per record ``_row``, ``_line``,
    ``_breaks`` (line breaks inside cells), ``_code`` (a problem with its shape), ``_cells``."""

    cells: pa.RecordBatch | pd.DataFrame
    meta: pd.DataFrame

    @property
    def size(self) -> int:
        return len(self.meta)

    def slice(self, start: int, stop: int) -> Piece:
        cells = self.cells.slice(start, stop - start) if isinstance(self.cells, pa.RecordBatch) else self.cells.iloc[start:stop]
        return Piece(cells, self.meta.iloc[start:stop])

    def frame(self) -> pd.DataFrame:
        if isinstance(self.cells, pd.DataFrame):
            return self.cells.reset_index(drop=True)
        frame = self.cells.to_pandas()
        frame.columns = list(range(frame.shape[1]))
        return frame


def take_window(batch, invalid, state: ParseState, layout: CsvLayout, *, final: bool) -> tuple[Piece | None, _Swallowed | None]:
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
        valid = Piece(cells, meta).frame() if n_valid else cells
        both = pd.concat([valid.assign(**meta), extra], ignore_index=True).sort_values("_number", kind="stable", ignore_index=True)
        cells, meta = both[list(range(width))], both[[c for c in both.columns if isinstance(c, str)]]
    shift = np.concatenate([[0], np.cumsum(meta["_breaks"].to_numpy())[:-1]]) + state.line_shift
    meta = meta.assign(
        _row=state.start_row + meta["_number"].to_numpy() - 1, _line=state.start_line + meta["_number"].to_numpy() - 1 + shift
    ).reset_index(drop=True)
    piece = Piece(cells, meta)
    swallowed = _first_swallowed(piece, layout.delimiter, width)
    if swallowed is not None:
        keep = int(np.searchsorted(meta["_number"].to_numpy(), swallowed[0]))
        row, line, breaks_in = swallowed[1], swallowed[2], swallowed[3]
        return piece.slice(0, keep), _Swallowed(row=row, line=line, last_line=line + breaks_in)
    state.record = last + 1
    state.line_shift = int(shift[-1] + meta["_breaks"].iloc[-1]) if len(meta) else state.line_shift
    return piece, None


def unclosed_at_end(pending: list[Piece], layout: CsvLayout) -> tuple[list[Piece], _Swallowed | None]:
    """A last record whose quote is never closed (it runs to the end of the file over several
    lines): cut it off, to be rejected and its lines read again."""
    last = pending[-1]
    record = last.meta.iloc[-1]
    if int(record["_breaks"]) == 0:
        return pending, None
    tail = open_utf8(layout.path, layout.encoding, from_line=int(record["_line"])).read()
    if not _runs_to_the_end(tail, layout.delimiter):
        return pending, None
    cut = last.slice(0, last.size - 1)
    # The file's own last line break was taken into the open cell: it ends the last line, it does not start one.
    last_line = int(record["_line"] + record["_breaks"]) - (1 if tail.endswith((b"\n", b"\r")) else 0)
    swallowed = _Swallowed(row=int(record["_row"]), line=int(record["_line"]), last_line=max(last_line, int(record["_line"])))
    return [*pending[:-1], *([cut] if cut.size else [])], swallowed


def _runs_to_the_end(tail: bytes, delimiter: str) -> bool:
    """Whether a quote opened in ``tail`` (the file from the last record's line) is never closed.
    Read as the parser reads it: a quote inside an unquoted cell (``a"b``) is a character, not an
    opening (counting quotes would take it for one, and miss a quote left open after it)."""
    text = tail.decode("utf-8", errors="replace")
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            return True
        return text.count('"') % 2 == 1  # another irregularity: fall back to counting
    return False


def join_chunks(pieces: list[Piece], layout: CsvLayout, chunk_rows: int) -> Iterator[CsvChunk]:
    """Pieces joined into chunks of at most ``chunk_rows`` rows. Pieces as parsed are joined as Arrow
    tables (no copy) and turned into pandas once per chunk."""
    if all(isinstance(p.cells, pa.RecordBatch) for p in pieces):
        table = pa.Table.from_batches([p.cells for p in pieces])
        meta = pd.concat([p.meta for p in pieces], ignore_index=True)
        for start in range(0, len(meta), chunk_rows):
            frame = table.slice(start, chunk_rows).to_pandas()
            frame.columns = list(range(frame.shape[1]))
            yield to_chunk(frame.assign(**meta.iloc[start : start + chunk_rows].reset_index(drop=True)), layout)
        return
    frame = pd.concat([p.frame().assign(**p.meta.reset_index(drop=True)) for p in pieces], ignore_index=True)
    for start in range(0, len(frame), chunk_rows):
        yield to_chunk(frame.iloc[start : start + chunk_rows], layout)


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


def _first_swallowed(piece: Piece, delimiter: str, width: int) -> tuple[int, int, int, int] | None:
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


def quote_row(layout: CsvLayout, swallowed: _Swallowed) -> pd.DataFrame:
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


def to_chunk(frame: pd.DataFrame, layout: CsvLayout) -> CsvChunk:
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
