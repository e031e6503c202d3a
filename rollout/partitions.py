"""Splitting site files into partitions: the unit of work of every executor.

A partition is some row groups of a Parquet file (read where it is checked, so a worker reads
its own rows) or a slice of the rows of a CSV/XLSX file. Partitions are made as they are asked
for: a CSV file is streamed, so that in one process each chunk is read, checked and let go
before the next is read. Rows keep their numbers as Excel shows them, so problems name the
same rows whatever the split.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rollout.io import RawTable, expand_paths, iter_raw_tables, parquet_row_groups, read_raw_table

__all__ = ["Partition", "plan_partitions", "read_partition", "split_table"]


@dataclass(frozen=True)
class Partition:
    """Some rows of one site file: Parquet row groups to read, or rows already read."""

    path: Path
    row_groups: tuple[int, ...] | None = None
    table: RawTable | None = None


def plan_partitions(
    paths: Sequence[Path | str],
    kind: str | None,
    *,
    sheet: str | None = None,
    rows_per_part: int,
    parts: int | None = None,
    min_parts: int = 1,
) -> Iterator[Partition]:
    """The partitions of the files ``paths`` (folders give their Parquet files), made as they are
    asked for.

    Each file is split into ``parts`` partitions, or by default into enough of them that none
    holds more than ``rows_per_part`` rows, and at least ``min_parts`` (a cluster wants work for
    every worker). Without ``parts`` and ``min_parts``, a CSV file is streamed in chunks of
    ``rows_per_part`` rows.
    """
    for path in expand_paths(list(paths)):
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            sizes = parquet_row_groups(path)
            count = parts or max(min_parts, math.ceil(sum(sizes) / rows_per_part))
            per = max(1, math.ceil(len(sizes) / count))
            groups = list(range(len(sizes)))
            yield from (Partition(path, tuple(groups[i : i + per])) for i in range(0, max(len(groups), 1), per))
            continue
        if parts is None and min_parts <= 1:
            yield from (Partition(path, table=chunk) for chunk in iter_raw_tables(path, kind=kind, sheet=sheet, chunk_rows=rows_per_part))
            continue
        table = read_raw_table(path, kind=kind, sheet=sheet)
        count = parts or max(min_parts, math.ceil(len(table.cells) / rows_per_part))
        yield from (Partition(path, table=piece) for piece in split_table(table, max(1, math.ceil(len(table.cells) / count))))


def read_partition(partition: Partition, kind: str | None) -> RawTable:
    """The rows of ``partition`` as text cells (reading its Parquet row groups if need be)."""
    if partition.table is not None:
        return partition.table
    groups = list(partition.row_groups) if partition.row_groups is not None else None
    return read_raw_table(partition.path, kind=kind, row_groups=groups)


def split_table(table: RawTable, rows: int) -> list[RawTable]:
    """``table`` in slices of at most ``rows`` rows; the first keeps the count of blank rows and
    the notes about the file as a whole, so that summing over the slices counts them once; the
    problems found while reading go with the slice holding their row."""
    n = len(table.cells)
    if n <= rows:
        return [table]
    out = []
    about_file = ~table.problems["row"].isin(table.rows)  # notes on the header row or the file
    for start in range(0, n, rows):
        numbers = table.rows.iloc[start : start + rows]
        mine = table.problems["row"].isin(numbers) | (about_file if start == 0 else False)
        out.append(
            replace(
                table,
                cells=table.cells.iloc[start : start + rows].reset_index(drop=True),
                rows=numbers.reset_index(drop=True),
                blank_rows=table.blank_rows if start == 0 else 0,
                problems=table.problems[mine].reset_index(drop=True),
            )
        )
    return out
