"""Site records: check every row of the site files and keep or reject it, with reasons.

:func:`read_sites` reads one or more files of one kind and returns a :class:`SiteLoad`:
the loaded records (a table under canonical columns, with WGS-84 ``lon``/``lat`` and no point
objects: :func:`rollout.exports.records_table` makes the points where a file holds geometry), and a
``problems`` table with one line per rejected or questionable cell, each naming the file,
the row as Excel shows it, the column as written in the file, the value and what to do.
Every input row ends up either in ``records`` or rejected in ``problems``; blank rows are
counted per file.

Files are read in chunks (:func:`rollout.io.iter_raw_tables`: a large CSV file is streamed) and
each chunk is checked by the row checks of :mod:`rollout.checks`, small pure functions composed
by a list; the duplicate-id pass then sees every row of every file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rollout import settings
from rollout.checks import Context, run_checks
from rollout.errors import InputFileError
from rollout.io import RawTable, expand_paths, iter_raw_tables
from rollout.problems import PROBLEM_COLUMNS, REJECTED, WARNING, concat_problems, locate
from rollout.schema import CRS_INDEX, KINDS, SiteKind
from rollout.values import as_date, parse_vocab

__all__ = [
    "PROBLEM_COLUMNS",
    "REJECTED",
    "WARNING",
    "SiteLoad",
    "apply_rejects",
    "check_tables",
    "default_crs",
    "duplicate_id_problems",
    "flags_with",
    "merge_loads",
    "read_sites",
    "reference_date",
    "reject_duplicate_ids",
]

SOURCE_COLUMNS = ["source_file", "source_row"]
#: Text columns whose values repeat over many rows: kept as shared strings (see ``_shared``).
_REPEATING = frozenset({"source_file", "street", "note", "blocker", "lead_unit", "property_manager", "solution", "flags"})
#: Inputs are read and checked in chunks of this many rows, so that the checks' working columns
#: stay small (the duplicate-id pass still sees every row).
CHECK_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class SiteLoad:
    """The outcome of reading site files: what loaded, what did not, and why."""

    kind: SiteKind
    records: pd.DataFrame
    problems: pd.DataFrame
    files: pd.DataFrame  # file, encoding, sheet, rows, blank_rows, extra_columns
    #: Every input row's id, file and row, and the id column's header per file: what the
    #: duplicate-id pass needs, which must see all rows of all files (and partitions) together.
    row_ids: pd.DataFrame | None = None
    id_headers: dict[str, str] | None = None
    #: Per file, the header each canonical column had in it (for problems found later, e.g. by the join).
    column_headers: dict[str, dict[str, str]] | None = None

    @property
    def rejected_rows(self) -> pd.DataFrame:
        """One line per rejected row: file and row."""
        rejected = self.problems[self.problems["severity"] == REJECTED]
        return rejected[["file", "row"]].drop_duplicates()

    def summary(self) -> pd.DataFrame:
        """Per file: rows read, loaded, rejected, warnings; the counts reconcile."""
        loaded = self.records.groupby("source_file").size()
        rejected = self.rejected_rows.groupby("file").size()
        warnings = self.problems[self.problems["severity"] == WARNING].groupby("file").size()
        table = self.files.set_index("file")
        table["loaded"] = loaded.reindex(table.index, fill_value=0)
        table["rejected"] = rejected.reindex(table.index, fill_value=0)
        table["warnings"] = warnings.reindex(table.index, fill_value=0)
        return table.reset_index()[["file", "rows", "loaded", "rejected", "warnings", "blank_rows", "encoding", "sheet"]]

    def reject(self, mask: pd.Series, problems: pd.DataFrame) -> SiteLoad:
        """Return a new load with the records under ``mask`` moved out, and ``problems`` added."""
        return replace(self, records=self.records[~mask], problems=concat_problems([self.problems, problems]))

    def add_problems(self, problems: pd.DataFrame) -> SiteLoad:
        """Return a new load with more (warning) problems."""
        return replace(self, problems=concat_problems([self.problems, problems]))


def read_sites(
    paths: Path | str | Sequence[Path | str],
    *,
    kind: str | None = None,
    crs: str | None = None,
    sheet: str | None = None,
    as_of: dt.date | str | None = None,
    limits: Mapping[str, tuple[float, float]] | None = None,
) -> SiteLoad:
    """Read and check site files of one kind (macro stations or garage compounds).

    Parameters
    ----------
    paths
        One CSV/XLSX file or several; their rows are checked together (an id repeated in a
        second file is a duplicate).
    kind
        ``"macro"`` or ``"garage"``; guessed from the file name and headers when omitted.
    crs
        Coordinate system of rows whose ``crs`` cell is blank and whose coordinate headers
        name none: ``wgs84`` (default), ``gcj02`` or ``bd09`` (and the names people use for
        them: 高德, 百度, ...).
    sheet
        XLSX sheet to read; by default the first visible sheet with a recognised header.
    as_of
        Reference date for "done in the future" checks (records marked done with a date
        after the later of ``as_of`` and today are rejected).
    limits
        Plausible range of numbers (column -> (lowest, highest)); default
        :data:`rollout.config.DEFAULT_LIMITS` (``Config.limit_map`` gives a project's).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise InputFileError("errors.no_site_files_given")
    crs_name = default_crs(crs)
    reference = reference_date(as_of)
    loads: list[SiteLoad] = []
    site_kind: SiteKind | None = None
    seen: list[tuple[Path, str]] = []
    for path in expand_paths(list(paths)):
        for table in iter_raw_tables(path, kind=kind, sheet=sheet, chunk_rows=CHECK_CHUNK_ROWS):
            if not seen or seen[-1][0] != path:
                seen.append((path, table.kind.name))
            if len({k for _, k in seen}) > 1:
                listing = ", ".join(f"{p} ({k})" for p, k in seen)
                raise InputFileError("errors.kinds_mixed", listing=listing)
            site_kind = KINDS[table.kind.name]  # a site file's kind (a RawTable may also hold a planning table)
            loads.append(check_tables(site_kind, [table], default_crs=crs_name, reference=reference, limits=limits))
    return merge_loads(reject_duplicate_ids(loads))


def iter_tables(paths: Sequence[Path | str], *, kind: str | None, sheet: str | None) -> Iterator[RawTable]:
    """The chunks of every file, in order."""
    for path in expand_paths(list(paths)):
        yield from iter_raw_tables(path, kind=kind, sheet=sheet, chunk_rows=CHECK_CHUNK_ROWS)


def check_tables(
    kind: SiteKind,
    tables: list[RawTable],
    *,
    default_crs: str,
    reference: dt.date,
    limits: Mapping[str, tuple[float, float]] | None = None,
) -> SiteLoad:
    """Check the rows of ``tables`` (of one kind) together with the row checks of
    :mod:`rollout.checks`; the duplicate-id pass is left to the caller, which must see every
    row (:func:`reject_duplicate_ids`)."""
    from rollout.config import DEFAULT_LIMITS

    frames = [t.cells.assign(source_file=_repeated(str(t.path), len(t.cells)), source_row=t.rows.to_numpy()) for t in tables]
    cells = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    del frames
    headers = {str(t.path): t.headers for t in tables}
    read_problems = [t.problems.assign(file=str(t.path)) for t in tables if not t.problems.empty]
    context = Context(
        kind=kind,
        given=frozenset().union(*(t.headers for t in tables)),
        headers=headers,
        default_crs=default_crs,
        reference=reference,
        limits=DEFAULT_LIMITS if limits is None else limits,
        crs_hints={str(t.path): t.crs_hint for t in tables if t.crs_hint},
        read_problems=pd.concat(read_problems, ignore_index=True) if read_problems else None,
    )
    result = run_checks(cells, context)
    problems = concat_problems([locate(result.problems, cells, kind=kind.name, id_field=kind.id_field, headers=headers), *result.located])
    records = _records(kind, cells, result.values, result.flags, result.rejected)
    files = pd.DataFrame(
        {
            "file": [str(t.path) for t in tables],
            "rows": [len(t.cells) for t in tables],
            "blank_rows": [t.blank_rows for t in tables],
            "encoding": [t.encoding for t in tables],
            "sheet": [t.sheet for t in tables],
            "extra_columns": ["; ".join(t.extra_columns) for t in tables],
        }
    )
    ids = result.values[kind.id_field]
    if len(cells) >= _TRIM_ROWS:  # a small chunk leaves too little behind to be worth a heap walk
        _release_memory()
    row_ids = pd.DataFrame({"record_id": ids.array, "file": cells["source_file"].array, "row": cells["source_row"].to_numpy()})
    return SiteLoad(
        kind=kind,
        records=records,
        problems=problems,
        files=files,
        row_ids=row_ids,
        id_headers={file: h.get(kind.id_field, kind.id_field) for file, h in headers.items()},
        column_headers=headers,
    )


def _release_memory() -> None:
    """Give the memory freed by the checks back to the system (glibc keeps it otherwise, and a
    large file read in chunks would hold each chunk's working memory to the end)."""
    global _LIBC
    if _LIBC is None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        try:
            _LIBC = ctypes.CDLL(name) if name else False
        except OSError:
            _LIBC = False
    if _LIBC and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


_LIBC: Any = None
#: Chunks of at least this many rows give their working memory back to the system when checked.
_TRIM_ROWS = 10_000


def _shared(values: pd.Series) -> pd.Series:
    """A column whose texts repeat (file, street, note, blocker: a few distinct values over many
    rows) as one Python string per distinct value shared by its rows, 8 bytes a row instead of a
    copy of the text on each."""
    codes, uniques = pd.factorize(values)
    distinct = np.empty(len(uniques) + 1, dtype=object)  # the last one, None, for code -1 (missing)
    distinct[:-1] = np.asarray(uniques, dtype=object)
    return pd.Series(distinct.take(codes), index=values.index, dtype=object)


def _repeated(text: str, n: int) -> pd.Series:
    """A text column holding ``text`` on every row, made by Arrow (not a Python object per row)."""
    import pyarrow as pa

    return pd.Series(pa.repeat(pa.scalar(text, pa.large_string()), n).to_pandas().array) if n else pd.Series([], dtype=str)


def _records(kind: SiteKind, cells: pd.DataFrame, values: Mapping[str, pd.Series], flags: pd.Series, rejected: np.ndarray) -> pd.DataFrame:
    """The kept rows as records: canonical columns in a fixed order, then the file's other columns."""
    others = [f.name for f in kind.fields if f.name not in (kind.id_field, "lon", "lat", "crs", "status") and f.type != "date"]
    order = [kind.id_field, *others, "status", *kind.date_fields(), "crs_input", "lon", "lat"]
    columns = {name: values[name] for name in order}
    columns |= {"source_file": cells["source_file"], "source_row": cells["source_row"].astype("int64"), "flags": flags}
    known = set(kind.field_names) | set(columns)
    columns |= {c: cells[c] for c in cells.columns if c not in known}
    shared = {name: _shared(values) if name in _REPEATING and values.dtype == "str" else values for name, values in columns.items()}
    out = pd.DataFrame(shared, index=cells.index, copy=False)
    if rejected.any():
        out = out[~rejected].reset_index(drop=True)
    return out


def reference_date(as_of: dt.date | str | None) -> dt.date:
    """The day after which a done date is in the future: the later of ``as_of`` and today."""
    return max(filter(None, [as_of_date(as_of), settings.today()]))


def merge_loads(loads: Sequence[SiteLoad]) -> SiteLoad:
    """One load from loads of parts of the same files (chunks, partitions), in order."""
    records = pd.concat([load.records for load in loads], ignore_index=True)
    files = pd.concat([load.files for load in loads], ignore_index=True)
    files = files.groupby("file", sort=False).agg(
        rows=("rows", "sum"),
        blank_rows=("blank_rows", "sum"),
        encoding=("encoding", "first"),
        sheet=("sheet", "first"),
        extra_columns=("extra_columns", "first"),
    )
    return SiteLoad(
        kind=loads[0].kind,
        records=records,
        problems=concat_problems([load.problems for load in loads]),
        files=files.reset_index(),
        column_headers={f: h for load in loads for f, h in (load.column_headers or {}).items()},
    )


def duplicate_id_problems(row_ids: pd.DataFrame, kind: SiteKind, id_headers: dict[str, str]) -> pd.DataFrame:
    """Rejects for every copy of an id after its first, naming the first; ``row_ids`` in input order."""
    ids = row_ids["record_id"]
    present = ids != ""
    duplicate = present & ids.duplicated(keep="first")
    if not duplicate.any():
        return concat_problems([])
    first = row_ids[present].drop_duplicates("record_id").set_index("record_id")
    copies = row_ids[duplicate]
    firsts = first.loc[copies["record_id"]]
    return pd.DataFrame(
        {
            "file": copies["file"].to_numpy(),
            "row": copies["row"].to_numpy(),
            "column": [id_headers.get(f, kind.id_field) for f in copies["file"]],
            "value": copies["record_id"].to_numpy(),
            "severity": REJECTED,
            "reason_code": "id_duplicate",
            "params": [{"first_file": Path(f).name, "first_row": int(r)} for f, r in zip(firsts["file"], firsts["row"], strict=True)],
            "kind": kind.name,
            "record_id": copies["record_id"].to_numpy(),
        }
    )


def apply_rejects(load: SiteLoad, problems: pd.DataFrame) -> SiteLoad:
    """Move the records named (by file and row) in ``problems`` out of ``load``, adding the problems."""
    if problems.empty:
        return load
    if load.row_ids is not None:  # a partition holds some rows of a file: keep only its own
        mine = problems[_pairs_among(problems["file"], problems["row"], load.row_ids["file"], load.row_ids["row"])]
    else:
        mine = problems[problems["file"].isin(load.files["file"])]
    drop = _pairs_among(load.records["source_file"], load.records["source_row"], mine["file"], mine["row"])
    kept = load.records[~drop].reset_index(drop=True) if drop.any() else load.records
    return replace(load, records=kept, problems=concat_problems([load.problems, mine]))


def _pairs_among(files: pd.Series, rows: pd.Series, other_files: pd.Series, other_rows: pd.Series) -> np.ndarray:
    """Which (file, row) pairs are among the other pairs: one integer key per pair (file code,
    row) and ``np.isin``, cheaper than two MultiIndexes on small tables."""
    numbers = np.concatenate([rows.to_numpy(), other_rows.to_numpy()])
    if numbers.dtype.kind not in "iu" or (len(numbers) and (numbers.min() < 0 or numbers.max() >= 1 << 32)):
        return pd.MultiIndex.from_arrays([files, rows]).isin(pd.MultiIndex.from_arrays([other_files, other_rows]))
    codes, _ = pd.factorize(np.concatenate([files.to_numpy(dtype=object), other_files.to_numpy(dtype=object)]))
    keys = (codes.astype(np.int64) << 32) | numbers.astype(np.int64)
    return np.isin(keys[: len(files)], keys[len(files) :])


def reject_duplicate_ids(loads: Sequence[SiteLoad]) -> list[SiteLoad]:
    """The global duplicate-id pass over loads read separately (files, or partitions of files)."""
    if not loads:
        return []
    row_ids = pd.concat([load.row_ids for load in loads if load.row_ids is not None], ignore_index=True)
    headers: dict[str, str] = {}
    for load in loads:
        headers |= load.id_headers or {}
    problems = duplicate_id_problems(row_ids, loads[0].kind, headers)
    return [apply_rejects(load, problems) for load in loads]


def as_of_date(value: dt.date | str | None) -> dt.date | None:
    """Accept ``--as-of`` as typed by a person."""
    return as_date(value)


def default_crs(crs: str | None) -> str:
    """The canonical coordinate system named by ``--crs`` (``wgs84`` when None)."""
    if crs is None:
        return "wgs84"
    parsed, bad = parse_vocab(pd.Series([crs]), CRS_INDEX)
    if bad.iloc[0]:
        raise InputFileError("errors.crs_option_unknown", value=crs)
    return str(parsed.iloc[0])


def flags_with(records: pd.DataFrame, mask: pd.Series, word: pd.Series | str) -> pd.Series:
    """Return ``records['flags']`` with ``word`` added under ``mask`` (only those rows are touched)."""
    flags = records["flags"]
    where = np.asarray(mask, dtype=bool)
    if not where.any():
        return flags
    current = flags.to_numpy(dtype=object)
    words = word.to_numpy(dtype=object)[where] if isinstance(word, pd.Series) else word
    out = current.copy()
    out[where] = np.where(current[where] == "", words, current[where] + ";" + words)
    return pd.Series(out, index=records.index, dtype=object)
