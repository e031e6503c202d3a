"""Site records: check every row of the site files and keep or reject it, with reasons.

:func:`read_sites` reads one or more files of one kind and returns a :class:`SiteLoad`:
the loaded records (a GeoDataFrame of WGS-84 points under canonical columns), and a
``problems`` table with one line per rejected or questionable cell, each naming the file,
the row as Excel shows it, the column as written in the file, the value and what to do.
Every input row ends up either in ``records`` or rejected in ``problems``; blank rows are
counted per file.

All checks are column-wise (pandas/numpy); messages are only built for the rows that need
one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rollout import crs as _crs
from rollout import settings
from rollout.errors import InputFileError
from rollout.io import RawTable, expand_paths, read_raw_table
from rollout.partitions import split_table
from rollout.problems import PROBLEM_COLUMNS, REJECTED, WARNING, concat_problems
from rollout.schema import BAND_INDEX, BANDS, CRS_INDEX, KINDS, OPERATOR_INDEX, OPERATORS, SOLUTION_INDEX, SOLUTIONS, SiteKind
from rollout.values import as_date, map_distinct, parse_bools, parse_date_columns, parse_multi, parse_numbers, parse_vocab

__all__ = [
    "PROBLEM_COLUMNS",
    "REJECTED",
    "WARNING",
    "SiteLoad",
    "apply_rejects",
    "check_tables",
    "default_crs",
    "duplicate_id_problems",
    "merge_loads",
    "read_sites",
    "reference_date",
    "reject_duplicate_ids",
]

SOURCE_COLUMNS = ["source_file", "source_row"]


@dataclass(frozen=True)
class SiteLoad:
    """The outcome of reading site files: what loaded, what did not, and why."""

    kind: SiteKind
    records: gpd.GeoDataFrame
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
        Coordinate system of rows whose ``crs`` cell is blank: ``wgs84`` (default),
        ``gcj02`` or ``bd09`` (and the names people use for them: 高德, 百度, ...).
    sheet
        XLSX sheet to read; the first one by default.
    as_of
        Reference date for "done in the future" checks (records marked done with a date
        after the later of ``as_of`` and today are rejected).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise InputFileError("errors.no_site_files_given")
    crs_name = default_crs(crs)
    tables = [read_raw_table(p, kind=kind, sheet=sheet) for p in expand_paths(list(paths))]
    kinds = {t.kind.name for t in tables}
    if len(kinds) > 1:
        listing = ", ".join(f"{t.path} ({t.kind.name})" for t in tables)
        raise InputFileError("errors.kinds_mixed", listing=listing)
    site_kind = KINDS[tables[0].kind.name]  # a site file's kind (a RawTable may also hold a planning table)
    reference = reference_date(as_of)
    if sum(len(t.cells) for t in tables) <= CHECK_CHUNK_ROWS:
        return reject_duplicate_ids([check_tables(site_kind, tables, default_crs=crs_name, reference=reference)])[0]
    # Large inputs are checked in chunks, so that the checker's working columns stay small;
    # the duplicate-id pass still sees every row.
    chunks = [part for table in tables for part in split_table(table, CHECK_CHUNK_ROWS)]
    del tables
    loads = []
    while chunks:  # each chunk is let go once checked
        loads.append(check_tables(site_kind, [chunks.pop(0)], default_crs=crs_name, reference=reference))
    return merge_loads(reject_duplicate_ids(loads))


#: Inputs above this many rows are checked in chunks of this size.
CHECK_CHUNK_ROWS = 200_000


def check_tables(kind: SiteKind, tables: list[RawTable], *, default_crs: str, reference: dt.date) -> SiteLoad:
    """Check the rows of ``tables`` (of one kind) together; the duplicate-id pass is left to the
    caller, which must see every row (:func:`reject_duplicate_ids`)."""
    return _Checker(kind, tables, default_crs=default_crs, reference=reference).run()


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
        records=gpd.GeoDataFrame(records, geometry="geometry", crs=4326),
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
        own = pd.MultiIndex.from_frame(load.row_ids[["file", "row"]])
        mine = problems[pd.MultiIndex.from_frame(problems[["file", "row"]]).isin(own)]
    else:
        mine = problems[problems["file"].isin(load.files["file"])]
    keys = pd.MultiIndex.from_frame(mine[["file", "row"]])
    loaded = pd.MultiIndex.from_arrays([load.records["source_file"], load.records["source_row"]])
    drop = pd.Series(loaded.isin(keys), index=load.records.index)
    kept = load.records[~drop].reset_index(drop=True) if drop.any() else load.records
    return replace(load, records=kept, problems=concat_problems([load.problems, mine]))


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


class _Checker:
    """Checks the rows of one kind's files column by column, collecting problems."""

    def __init__(self, kind: SiteKind, tables: list[RawTable], *, default_crs: str, reference: dt.date) -> None:
        self.kind = kind
        self.tables = tables
        self.default_crs = default_crs
        self.reference = reference
        frames = []
        self.row_counts = [len(t.cells) for t in tables]
        for table in tables:
            frame = table.cells
            frame["source_file"] = str(table.path)
            frame["source_row"] = table.rows.to_numpy()
            frames.append(frame)
            table.cells = frame.iloc[:0]  # the checker owns the cells from here on
        self.cells = (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)).fillna("")
        del frames
        self.headers = {str(t.path): t.headers for t in tables}
        #: Columns that some file has; the others are blank everywhere and need no parsing.
        self.given = set().union(*(t.headers for t in tables))
        self.rejected = pd.Series(False, index=self.cells.index)
        self.problems: list[pd.DataFrame] = []
        self.flags: list[pd.Series] = []

    # -- reporting --------------------------------------------------------------------

    def report(
        self,
        mask: pd.Series,
        column: str,
        code: str,
        severity: str,
        *,
        value: pd.Series | None = None,
        **fields: object,
    ) -> None:
        """Record a problem for every row under ``mask``; Series in ``fields`` vary per row."""
        mask = mask.reindex(self.cells.index, fill_value=False).fillna(False).astype(bool)
        if not mask.any():
            return
        rows = self.cells.loc[mask]
        values = (value if value is not None else rows.get(column, pd.Series("", index=rows.index)))[mask]
        per_row = {k: v.reindex(self.cells.index)[mask].tolist() for k, v in fields.items() if isinstance(v, pd.Series)}
        fixed = {k: v for k, v in fields.items() if not isinstance(v, pd.Series)}
        params = [fixed | {k: _plain(per_row[k][i]) for k in per_row} for i in range(len(rows))]
        self.problems.append(
            pd.DataFrame(
                {
                    "file": rows["source_file"],
                    "row": rows["source_row"],
                    "column": [self.headers[f].get(column, column) for f in rows["source_file"]],
                    "value": values.astype(str),
                    "severity": severity,
                    "reason_code": code,
                    "params": params,
                    "kind": self.kind.name,
                    "record_id": rows[self.kind.id_field].astype(str),
                }
            )
        )
        if severity == REJECTED:
            self.rejected |= mask

    def flag(self, mask: pd.Series, word: str | pd.Series) -> None:
        """Attach a flag word to the records under ``mask``."""
        words = pd.Series("", index=self.cells.index)
        words[mask.fillna(False).astype(bool)] = word if isinstance(word, str) else word[mask]
        self.flags.append(words)

    # -- checks -------------------------------------------------------------------------

    def run(self) -> SiteLoad:
        self.check_ragged()
        columns: dict[str, pd.Series] = {self.kind.id_field: self.check_ids()}
        lon, lat, crs_input = self.check_coordinates()
        status = self.check_status()
        dates = self.check_dates(status)
        for f in self.kind.fields:
            if f.name in columns or f.name in ("lon", "lat", "crs", "status") or f.type == "date":
                continue
            columns[f.name] = self.parse_field(f.name, f.type)
        columns["status"] = status
        columns |= dates
        columns["crs_input"] = crs_input
        columns["lon"], columns["lat"] = lon, lat
        columns["source_file"] = self.cells["source_file"]
        columns["source_row"] = self.cells["source_row"].astype("int64")
        columns["flags"] = self._joined_flags()
        out = pd.DataFrame(columns, index=self.cells.index)  # built once: no block re-copies
        del columns
        self.check_milestones(out)
        extras = [c for c in self.cells.columns if c not in out.columns and c not in {f.name for f in self.kind.fields}]
        for column in extras:
            out[column] = self.cells[column]
        keep = ~self.rejected
        del self.cells  # the text cells are no longer needed: free them before building records
        kept = out if keep.all() else out[keep].reset_index(drop=True)
        records = gpd.GeoDataFrame(kept, geometry=gpd.points_from_xy(kept["lon"], kept["lat"]), crs=4326)
        files = pd.DataFrame(
            {
                "file": [str(t.path) for t in self.tables],
                "rows": self.row_counts,
                "blank_rows": [t.blank_rows for t in self.tables],
                "encoding": [t.encoding for t in self.tables],
                "sheet": [t.sheet for t in self.tables],
                "extra_columns": ["; ".join(t.extra_columns) for t in self.tables],
            }
        )
        return SiteLoad(
            kind=self.kind,
            records=records,
            problems=concat_problems(self.problems),
            files=files,
            row_ids=self.row_ids,
            id_headers={file: headers.get(self.kind.id_field, self.kind.id_field) for file, headers in self.headers.items()},
            column_headers=self.headers,
        )

    def check_ragged(self) -> None:
        """Rows with more cells than the header: the extra cells would be lost, so reject."""
        for table in self.tables:
            if table.ragged is None or table.ragged.empty:
                continue
            mask = self.cells["source_file"].eq(str(table.path)) & self.cells["source_row"].isin(table.ragged["row"])
            cells = self.cells.loc[mask, "source_row"].map(dict(zip(table.ragged["row"], table.ragged["cells"], strict=True)))
            self.report(
                mask,
                "",
                "too_many_cells",
                REJECTED,
                value=pd.Series("", index=self.cells.index),
                cells=cells.reindex(self.cells.index),
                header=int(table.ragged["header"].iloc[0]),
            )

    def check_ids(self) -> pd.Series:
        id_field = self.kind.id_field
        ids = self.cells[id_field].astype(str).str.normalize("NFKC").str.strip()
        self.report(ids == "", id_field, "id_missing", REJECTED)
        self.row_ids = pd.DataFrame(
            {"record_id": ids.to_numpy(), "file": self.cells["source_file"].to_numpy(), "row": self.cells["source_row"].to_numpy()}
        )
        return ids

    def check_coordinates(self) -> tuple[pd.Series, pd.Series, pd.Series]:
        lon, lon_bad = parse_numbers(self.cells["lon"])
        lat, lat_bad = parse_numbers(self.cells["lat"])
        for column, values, bad in (("lon", lon, lon_bad), ("lat", lat, lat_bad)):
            self.report(values.isna() & ~bad, column, "coord_missing", REJECTED)
            self.report(bad, column, "coord_not_number", REJECTED)
        crs_cells = self.cells["crs"].astype(str)
        crs_given, crs_bad = parse_vocab(crs_cells, CRS_INDEX)
        self.report(crs_bad, "crs", "crs_unknown", REJECTED)
        crs_names = crs_given.fillna(self.default_crs)
        usable = lon.notna() & lat.notna()
        swapped = usable & ~_crs.in_china(lon, lat) & _crs.in_china(lat, lon)
        if swapped.any():
            self.report(swapped, "lon", "coords_swapped", WARNING, value=self.cells["lon"] + ", " + self.cells["lat"])
            self.flag(swapped, "swapped_lon_lat")
            lon, lat = lon.where(~swapped, lat), lat.where(~swapped, lon)
        outside = usable & ~_crs.in_china(lon, lat)
        self.report(outside, "lon", "coord_outside_china", REJECTED, value=self.cells["lon"] + ", " + self.cells["lat"])
        convertible = usable & ~outside & ~crs_bad
        wgs_lon, wgs_lat = lon.copy(), lat.copy()
        if convertible.any():
            x, y = _crs.to_wgs84(lon[convertible].to_numpy(), lat[convertible].to_numpy(), crs_names[convertible].to_numpy())
            wgs_lon[convertible], wgs_lat[convertible] = x, y
        converted = convertible & crs_names.ne("wgs84")
        self.flag(converted, "from_" + crs_names)
        return wgs_lon, wgs_lat, crs_names.where(~crs_bad, crs_cells)

    def check_status(self) -> pd.Series:
        cells = self.cells["status"].astype(str)
        status = map_distinct(cells, self.kind.parse_status)
        blank = cells.str.strip() == ""
        self.report(blank, "status", "status_missing", REJECTED)
        self.report(status.isna() & ~blank, "status", "status_unknown", REJECTED)
        return status

    def check_dates(self, status: pd.Series) -> dict[str, pd.Series]:
        dates: dict[str, pd.Series] = {}
        given = [name for name in self.kind.date_fields() if name in self.given]
        parsed_columns = parse_date_columns(self.cells, given)
        for name in self.kind.date_fields():
            if name not in self.given:
                dates[name] = pd.Series(pd.NaT, index=self.cells.index, dtype="datetime64[ns]")
                continue
            parsed, bad = parsed_columns[name]
            self.report(bad, name, "date_unreadable", REJECTED)
            dates[name] = parsed
        ladder = [d for _, d in self.kind.ladder if d]
        for later_pos, later in enumerate(ladder):
            for earlier in ladder[:later_pos]:
                wrong = dates[later] < dates[earlier]
                self.report(
                    wrong,
                    later,
                    "date_order",
                    REJECTED,
                    other_column=earlier,
                    other_header=self._header(earlier),
                    other_value=dates[earlier].dt.strftime("%Y-%m-%d"),
                    later_column=later,
                    later_header=self._header(later),
                )
        reference = pd.Timestamp(self.reference)
        for done_status in sorted(self.kind.done):
            milestone = dict(self.kind.ladder)[done_status]
            assert milestone is not None
            future = status.eq(done_status) & (dates[milestone] > reference)
            self.report(
                future,
                milestone,
                "done_in_future",
                REJECTED,
                status=done_status,
                reference=self.reference.isoformat(),
            )
        return dates

    def _header(self, column: str) -> str:
        """The header as a file wrote it, for messages that name a second column ("" when no
        file has the column: the reason then names the column in the reader's language)."""
        for headers in self.headers.values():
            if column in headers:
                return headers[column]
        return ""

    def parse_field(self, name: str, kind: str) -> pd.Series:
        if name not in self.given:
            blank: Any = {"float": np.nan, "int": pd.NA, "bool": True, "flag": pd.NA}.get(kind, "")
            dtype: Any = {"float": "float64", "int": "Int64", "bool": bool, "flag": "boolean"}.get(kind, object)
            return pd.Series(blank, index=self.cells.index, dtype=dtype)
        cells = self.cells[name]
        if kind in ("text", "id"):
            return cells.astype(str).str.normalize("NFKC").str.strip()
        if kind in ("float", "int"):
            values, bad = parse_numbers(cells)
            self.report(bad, name, "number_unreadable", WARNING)
            return values.round().astype("Int64") if kind == "int" else values
        if kind == "flag":
            values, bad = parse_bools(cells, default=None)
            self.report(bad, name, "bool_unreadable", WARNING, default="unknown")
            return values
        if kind == "bool":
            values, bad = parse_bools(cells, default=True)
            self.report(bad, name, "bool_unreadable", WARNING, default="yes")
            return values
        vocab = {
            "operators": (OPERATOR_INDEX, OPERATORS, True),
            "band": (BAND_INDEX, BANDS, False),
            "solution": (SOLUTION_INDEX, SOLUTIONS, False),
        }
        if kind in vocab:
            index, table, multi = vocab[kind]
            values, bad = parse_multi(cells, index) if multi else parse_vocab(cells, index)
            self.report(bad, name, "vocab_unknown", WARNING, allowed="/".join(_vocab_words(table)))
            return values.astype(object).where(~bad, cells.astype(str).str.strip()).fillna("")
        raise ValueError(kind)

    def check_milestones(self, out: pd.DataFrame) -> None:
        """Warnings about statuses and milestone dates that do not agree."""
        ladder = list(self.kind.ladder)
        out = out[~self.rejected]
        rank = {s: i for i, (s, _) in enumerate(ladder)}
        status_rank = out["status"].map(rank)
        for position, (status, milestone) in enumerate(ladder):
            if milestone is None:
                continue
            if status in self.kind.done:
                self.report(
                    out["status"].eq(status) & out[milestone].isna(),
                    milestone,
                    "done_without_date",
                    WARNING,
                    status=status,
                    milestone_column=milestone,
                    milestone_header=self._header(milestone),
                )
            ahead = status_rank.lt(position) & out[milestone].notna()
            self.report(
                ahead,
                milestone,
                "status_behind_dates",
                WARNING,
                status=out["status"],
                milestone_column=milestone,
                milestone_header=self._header(milestone),
            )
        blocked = out["status"].eq("blocked") & out["blocker"].astype(str).str.strip().eq("")
        self.report(blocked, "blocker", "blocked_without_reason", WARNING)

    def _joined_flags(self) -> pd.Series:
        joined = pd.Series("", index=self.cells.index)
        for words in self.flags:
            has = words != ""
            joined = joined.where(~has, joined.where(joined == "", joined + ";") + words)
        return joined


def _vocab_words(table: dict) -> Iterable[str]:
    for key, value in table.items():
        yield value[0] if isinstance(value[0], str) and not value[0].isascii() else key


def _plain(value: object) -> object:
    """A parameter as a plain JSON value (numpy numbers become int and float)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def flags_with(records: pd.DataFrame, mask: pd.Series, word: pd.Series | str) -> pd.Series:
    """Return ``records['flags']`` with ``word`` added under ``mask``."""
    flags = records["flags"].astype(str)
    words = word if isinstance(word, pd.Series) else pd.Series(word, index=records.index)
    added = np.where(flags == "", words, flags + ";" + words)
    return flags.where(~mask, pd.Series(added, index=records.index))
