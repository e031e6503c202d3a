"""CSV text into rows of cells, with every line of the file accounted for.

:func:`csv_layout` reads the head of the file: its encoding (:mod:`rollout.decoding`), the
delimiter, and the header row (a title row above it is fine). :func:`csv_chunks` then
streams the data rows through pyarrow's CSV parser, a chunk of rows at a time, so that a
large file is never held whole in memory. The parser runs in C++; Python only sees the rows
it could not parse as they stand, and the numbering of rows as Excel shows them (the header
is row 1 when it is on the first line).

Nothing is lost or silently changed: :mod:`rollout.csvrows` numbers the parsed rows and
accounts for rows with too many or too few cells, stray quotes and line breaks inside cells;
after a stray quote this module reads the file again from the next line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from rollout.csvrows import CsvChunk, ParseState, Piece, join_chunks, quote_row, take_window, to_chunk, unclosed_at_end
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

    state = ParseState(start_line=start_line, start_row=start_row)
    pending: list[Piece] = []
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
            piece, swallowed = take_window(batch, invalid, state, layout, final=batch is None)
            if piece is not None and piece.size:
                pending.append(piece)
            if batch is None and swallowed is None and pending:
                pending, swallowed = unclosed_at_end(pending, layout)
            if pending and (swallowed is not None or batch is None or sum(p.size for p in pending) >= chunk_rows):
                yield from join_chunks(pending, layout, chunk_rows)
                pending = []
                resume = (state.line, state.start_row + state.record - 1)
            if swallowed is not None:
                yield to_chunk(quote_row(layout, swallowed), layout)
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
