"""The one flow from files to a project: split, check, find duplicates, place, count.

files -> partitions (:mod:`rollout.partitions`) -> checked rows (:func:`~rollout.records.check_tables`)
-> duplicate ids over all rows -> placed in streets (:func:`~rollout.join.place_sites`)
-> counts per street and status -> progress (:func:`~rollout.progress.progress_from_counts`).

When the project has a register (:mod:`rollout.register`) and no files are named, the register
is the source instead of ``data/sites``: its records that count on the day, checked when they
were imported, are placed and counted by the same steps.

The steps run on an :class:`~rollout.executors.Executor`: here (the default) or on a dask
cluster (:mod:`rollout.engine`). Both share every step; only where they run differs. The
records stay where they were placed until someone asks for them (``project.macro``), so
progress, file summaries and gap tables can be computed next to the data.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from rollout import settings
from rollout.boundaries import is_approximate, read_street_table, read_streets
from rollout.config import Config, load_config, read_targets
from rollout.errors import InputFileError
from rollout.executors import Executor, InMemoryExecutor
from rollout.join import place_sites
from rollout.partitions import Partition, plan_partitions, read_partition
from rollout.problems import REJECTED, WARNING, concat_problems
from rollout.progress import progress_from_counts, status_counts
from rollout.records import SiteLoad, apply_rejects, check_tables, default_crs, duplicate_id_problems, merge_loads, reference_date
from rollout.schema import KINDS, SiteKind
from rollout.status import as_known_on

if TYPE_CHECKING:
    from rollout.register.loads import RegisterSnapshot

__all__ = ["PartitionedLoad", "Project", "default_site_file", "empty_load", "load_project"]

log = logging.getLogger(__name__)
_SUFFIXES = (".csv", ".xlsx")
SUMMARY_COLUMNS = ["file", "rows", "loaded", "rejected", "warnings", "blank_rows", "encoding", "sheet"]


@dataclass
class PartitionedLoad:
    """One kind's records, checked and placed, in partitions held by an executor."""

    kind: SiteKind
    executor: Executor
    parts: list[Any]  # handles of SiteLoad

    def map(self, function: Callable[..., Any], **kwargs: Any) -> list[Any]:
        """``function(part, **kwargs)`` on every partition, where it is; the results here."""
        if not self.parts:
            return [function(empty_load(self.kind), **kwargs)]
        return self.executor.gather(self.executor.map(function, self.parts, **kwargs))

    def gather(self) -> SiteLoad:
        """Every partition brought here, joined into one load."""
        if not self.parts:
            return empty_load(self.kind)
        parts = self.executor.gather(self.parts)
        return parts[0] if len(parts) == 1 else merge_loads(parts)

    def summary_and_problems(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per file: rows read, loaded, rejected, warnings (the counts reconcile); and every
        problem. Computed on the partitions: the records stay where they are."""
        parts = self.map(_file_summary)
        files = pd.concat([f for f, _ in parts], ignore_index=True)
        problems = concat_problems([p for _, p in parts])
        combined = files.groupby("file", sort=False).agg(
            rows=("rows", "sum"),
            blank_rows=("blank_rows", "sum"),
            encoding=("encoding", "first"),
            sheet=("sheet", "first"),
            loaded=("loaded", "sum"),
        )
        rejected = problems[problems["severity"] == REJECTED][["file", "row"]].drop_duplicates().groupby("file").size()
        warnings = problems[problems["severity"] == WARNING].groupby("file").size()
        combined["rejected"] = rejected.reindex(combined.index, fill_value=0)
        combined["warnings"] = warnings.reindex(combined.index, fill_value=0)
        return combined.reset_index()[SUMMARY_COLUMNS], problems

    def rejected_rows(self) -> int:
        """How many input rows were rejected (the ``rejected`` of :meth:`summary_and_problems`, summed)."""
        return sum(self.map(_rejected_rows))

    def counts(self, codes: list[str], as_of: dt.date) -> pd.DataFrame:
        """Records per street and status on ``as_of``, summed over the partitions."""
        index = pd.Index(codes, name="street_code")
        handle = self.executor.broadcast(index) if self.parts else index
        parts = self.map(_counts, codes=handle, as_of=as_of)
        total = parts[0]
        for part in parts[1:]:
            total = total.add(part, fill_value=0)
        return total.astype(int)


@dataclass
class Project:
    """Configuration, streets, their table and both kinds of records, for one day.

    ``macro`` and ``garage`` are the records brought together (from the executor's partitions,
    on first use); :meth:`progress`, :meth:`summary_and_problems` and the gap tables work on the
    partitions where they are.
    """

    config: Config
    streets: gpd.GeoDataFrame
    street_table: pd.DataFrame
    as_of: dt.date
    loads: dict[str, PartitionedLoad]
    #: Where the records came from when they came from the register (None: the site files).
    register: RegisterSnapshot | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def macro(self) -> SiteLoad:
        """The loaded macro stations, with every problem."""
        return self._gathered("macro")

    @property
    def garage(self) -> SiteLoad:
        """The loaded garage compounds, with every problem."""
        return self._gathered("garage")

    def _gathered(self, kind: str) -> SiteLoad:
        if kind not in self._cache:
            self._cache[kind] = self.loads[kind].gather()
        return self._cache[kind]

    @property
    def approximate(self) -> bool:
        """True when the street polygons are the offline approximation."""
        return is_approximate(self.streets)

    @property
    def targets(self) -> pd.DataFrame:
        """Per-street targets (read once, when first needed)."""
        if "targets" not in self._cache:
            self._cache["targets"] = read_targets(self.config, self.street_table)
        return self._cache["targets"]

    @property
    def problems(self) -> pd.DataFrame:
        """Rejects and warnings of both kinds."""
        return concat_problems([self.loads[k].summary_and_problems()[1] for k in ("macro", "garage")])

    def progress(self) -> pd.DataFrame:
        """Per-street progress on ``as_of`` with the district (and city) total rows; see
        :func:`rollout.progress.total_row`. Counted where the records are."""
        if "progress" not in self._cache:
            codes = list(self.street_table["street_code"])
            counts = {kind: load.counts(codes, self.as_of) for kind, load in self.loads.items()}
            table = progress_from_counts(counts, self.street_table, self.targets, self.config, as_of=self.as_of)
            table["street_zones"] = self.streets["source"].iloc[0] if len(self.streets) else ""
            self._cache["progress"] = table
        return self._cache["progress"].copy()

    def gather(self) -> Project:
        """The same project with every record here (the executor may then go away)."""
        loads = {k: PartitionedLoad(load.kind, InMemoryExecutor(), [self._gathered(k)]) for k, load in self.loads.items()}
        return Project(self.config, self.streets, self.street_table, self.as_of, loads, self.register)


def load_project(
    data_dir: Path | str | None = None,
    *,
    macro: Sequence[Path | str] | None = None,
    garage: Sequence[Path | str] | None = None,
    as_of: dt.date | None = None,
    crs: str | None = None,
    sheet: str | None = None,
    boundaries: Path | str | None = None,
    executor: Executor | None = None,
    partitions: int | None = None,
    db: str | None = None,
    use_register: bool | None = None,
) -> Project:
    """Read the configuration, the streets and both kinds of site files, and place the sites.

    Site files default (``None``) to ``data/sites/macro_stations.csv|xlsx`` and
    ``data/sites/garage_compounds.csv|xlsx``; an empty list reads none of that kind. A kind
    with no file loads no records; at least one kind must have a file. ``executor`` says where
    the work runs (here by default; :class:`rollout.engine.DaskExecutor` for a cluster) and
    ``partitions`` how many partitions each file is split into (default: by size).

    The register (``db``, else ``[register] url``, else ``data/register.sqlite``) is read
    instead of ``data/sites`` when one exists and no files are named; ``use_register`` False
    reads the files, True requires the register.
    """
    executor = executor or InMemoryExecutor()
    config = load_config(settings.data_dir if data_dir is None else data_dir)
    as_of = settings.today() if as_of is None else as_of
    street_table = read_street_table(config)
    streets = read_streets(config, path=boundaries, street_table=street_table)
    crs_name, reference = default_crs(crs), reference_date(as_of)
    limits = config.limit_map
    shared = {"streets": executor.broadcast(streets), "street_table": executor.broadcast(street_table), "config": config}
    register = None
    if macro is None and garage is None:
        from rollout.register.loads import register_source

        register = register_source(config, db, as_of=as_of, use_register=use_register, street_table=street_table)
    loads = {}
    for kind, paths in ((KINDS["macro"], macro), (KINDS["garage"], garage)):
        if register is not None:  # the register's records that count, checked when they were imported
            checked, duplicates = [register[0][kind.name]], concat_problems([])
        else:
            checked, duplicates = _checked_files(
                config, kind, paths, executor, sheet=sheet, partitions=partitions, crs=crs_name, reference=reference, limits=limits
            )
        # A past day shows what was known then, and nothing later. Each partition is let go once
        # placed (in one process, the checked and the placed records are never all held at once).
        known = as_of if as_of < settings.today() else None
        placed = executor.map(_place, _drained(checked), problems=executor.broadcast(duplicates), known_on=known, **shared)
        loads[kind.name] = PartitionedLoad(kind, executor, placed)
    if not any(load.parts for load in loads.values()):
        raise InputFileError("errors.no_site_files", folder=config.sites_dir)
    snapshot = register[1] if register is not None else None
    return Project(config=config, streets=streets, street_table=street_table, as_of=as_of, loads=loads, register=snapshot)


def _checked_files(
    config: Config,
    kind: SiteKind,
    paths: Sequence[Path | str] | None,
    executor: Executor,
    *,
    sheet: str | None,
    partitions: int | None,
    crs: str,
    reference: dt.date,
    limits: dict[str, tuple[float, float]],
) -> tuple[list[Any], pd.DataFrame]:
    """The checked partitions of ``kind``'s files (handles) and the duplicate-id problems over all of them."""
    if paths is None:
        default = default_site_file(config, kind)
        if default is None:
            log.warning("no %s file in %s; counting none", kind.name, config.sites_dir)
        paths = [default] if default else []
    # A cluster gets enough partitions for every worker to have work twice over.
    minimum = 2 * executor.workers if executor.workers > 1 else 1
    specs: Iterable[Partition] = []
    if paths:  # made as they are checked: in one process, each chunk is let go once checked
        specs = plan_partitions(paths, kind.name, sheet=sheet, rows_per_part=executor.rows_per_part, parts=partitions, min_parts=minimum)
    checked = executor.map(_check, specs, kind=kind.name, default_crs=crs, reference=reference, limits=limits)
    ids = executor.gather(executor.map(_row_ids, checked))
    row_ids = pd.concat([r for r, _ in ids], ignore_index=True) if ids else pd.DataFrame(columns=["record_id", "file", "row"])
    headers: dict[str, str] = {}
    for _, h in ids:
        headers |= h
    return checked, duplicate_id_problems(row_ids, kind, headers)


def default_site_file(config: Config, kind: SiteKind) -> Path | None:
    """The site file of ``kind`` in ``data/sites``, or None when there is none."""
    found = [config.sites_dir / f"{stem}{suffix}" for stem in kind.file_stems for suffix in _SUFFIXES]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        raise InputFileError("errors.site_files_both", first=found[0], second=found[1])
    return found[0] if found else None


def empty_load(kind: SiteKind) -> SiteLoad:
    """A load with no files and no records."""
    columns = [*kind.field_names, "street_code", "street_name", "source_file", "source_row", "flags"]
    records = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    for name in kind.date_fields():
        records[name] = pd.Series(dtype="datetime64[ns]")
    if "counts_toward_target" in records.columns:
        records["counts_toward_target"] = pd.Series(dtype=bool)
    files = pd.DataFrame(columns=["file", "rows", "blank_rows", "encoding", "sheet", "extra_columns"])
    return SiteLoad(kind=kind, records=records, problems=concat_problems([]), files=files)


# -- the steps, applied to partitions wherever they are (plain functions, so dask can ship them) --


def _check(partition: Partition, kind: str, default_crs: str, reference: dt.date, limits: dict[str, tuple[float, float]]) -> SiteLoad:
    return check_tables(KINDS[kind], [read_partition(partition, kind)], default_crs=default_crs, reference=reference, limits=limits)


def _row_ids(load: SiteLoad) -> tuple[pd.DataFrame, dict[str, str]]:
    return load.row_ids if load.row_ids is not None else pd.DataFrame(columns=["record_id", "file", "row"]), load.id_headers or {}


def _drained(items: list[Any]) -> Iterator[Any]:
    """The items of ``items``, each removed from the list as it is handed out."""
    items.reverse()
    while items:
        yield items.pop()


def _place(
    load: SiteLoad,
    problems: pd.DataFrame,
    streets: gpd.GeoDataFrame,
    street_table: pd.DataFrame,
    config: Config,
    known_on: dt.date | None = None,
) -> SiteLoad:
    placed = place_sites(apply_rejects(load, problems), streets, config, street_table=street_table)
    return placed if known_on is None else _as_known(placed, known_on)


def _as_known(load: SiteLoad, as_of: dt.date) -> SiteLoad:
    return replace(load, records=as_known_on(load.records, load.kind, as_of))


def _file_summary(load: SiteLoad) -> tuple[pd.DataFrame, pd.DataFrame]:
    loaded = load.records.groupby("source_file").size().reindex(load.files["file"], fill_value=0).to_numpy()
    return load.files.assign(loaded=loaded), load.problems


def _rejected_rows(load: SiteLoad) -> int:
    problems = load.problems
    return len(problems.loc[problems["severity"] == REJECTED, ["file", "row"]].drop_duplicates())


def _counts(load: SiteLoad, codes: pd.Index, as_of: dt.date) -> pd.DataFrame:
    return status_counts(load.kind, load.records, list(codes), as_of)
