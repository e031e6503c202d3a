"""The distributed engine: the same checks, join and counts, on a dask cluster.

Site files are split into partitions (Parquet by row groups, read by the workers themselves;
CSV and XLSX read once and split), each partition is checked on a worker with the same code
as the in-memory engine, ids of all rows come back to the client for the one global pass
that needs every row (duplicate ids), the street polygons are broadcast to every worker, each
partition is placed in streets and counted per street and status there, and only the counts,
the problems and the per-file summaries travel back. Records stay on the workers unless asked
for (:meth:`DistributedLoad.gather`), so the client's memory does not grow with the input.

The results are identical to the in-memory engine's: the tests compare them record for record.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout import settings
from rollout.boundaries import read_street_table, read_streets
from rollout.config import Config, load_config, read_targets
from rollout.errors import InputFileError
from rollout.io import expand_paths, parquet_row_groups, read_raw_table
from rollout.join import place_sites
from rollout.pipeline import Project, default_site_file, empty_load
from rollout.progress import progress_from_counts, status_counts
from rollout.records import (
    SiteLoad,
    _Checker,
    _concat_problems,
    _default_crs,
    apply_rejects,
    as_of_date,
    duplicate_id_problems,
    merge_loads,
)
from rollout.schema import KINDS, SiteKind

__all__ = ["DistributedProject", "cluster", "load_project_distributed"]

#: Rows per partition when splitting CSV/XLSX files (Parquet partitions follow row groups).
ROWS_PER_PARTITION = 250_000


@contextmanager
def cluster(scheduler: str | None = None, *, workers: int = 2):
    """A dask.distributed client: to ``scheduler`` (``tcp://host:8786``) or a local cluster."""
    import logging

    from distributed import Client, LocalCluster

    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # dask.distributed narrates every worker start and stop at INFO level; keep it quiet.
        for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker", "distributed.core"):
            logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR) as local,
        Client(local) as client,
    ):
        yield client


def _partition_specs(paths: Sequence[Path], kind: str, sheet: str | None, partitions: int | None, workers: int = 2) -> list[tuple]:
    """Work units: ("parquet", path, row groups) read on a worker, or ("table", RawTable part).

    ``partitions`` per file; by default enough for every worker to have work twice over, and
    no partition above ``ROWS_PER_PARTITION`` rows.
    """
    specs: list[tuple] = []
    for path in expand_paths(list(paths)):
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            sizes = parquet_row_groups(path)
            count = partitions or max(2 * workers, math.ceil(sum(sizes) / ROWS_PER_PARTITION))
            groups = list(range(len(sizes)))
            per = max(1, math.ceil(len(groups) / count))
            specs.extend(("parquet", path, groups[i : i + per]) for i in range(0, max(len(groups), 1), per))
            continue
        table = read_raw_table(path, kind=kind, sheet=sheet)
        n = len(table.cells)
        count = partitions or max(2 * workers, math.ceil(n / ROWS_PER_PARTITION))
        size = max(1, math.ceil(n / count))
        for start in range(0, max(n, 1), size):
            part = replace(
                table,
                cells=table.cells.iloc[start : start + size].reset_index(drop=True),
                rows=table.rows.iloc[start : start + size].reset_index(drop=True),
                blank_rows=table.blank_rows if start == 0 else 0,
                ragged=table.ragged if start == 0 else None,
            )
            specs.append(("table", part))
    return specs


def _check_partition(spec: tuple, kind: str, default_crs: str, reference: dt.date, language: str) -> SiteLoad:
    settings.language = language
    if spec[0] == "parquet":
        table = read_raw_table(spec[1], kind=kind, row_groups=spec[2])
    else:
        table = spec[1]
    return _Checker(KINDS[kind], [table], default_crs=default_crs, reference=reference).run()


def _row_ids(load: SiteLoad) -> tuple[pd.DataFrame, dict[str, str]]:
    return load.row_ids, load.id_headers or {}


def _place(load: SiteLoad, problems: pd.DataFrame, streets: gpd.GeoDataFrame, config: Config, language: str) -> SiteLoad:
    settings.language = language
    return place_sites(apply_rejects(load, problems), streets, config)


def _summary(load: SiteLoad) -> tuple[pd.DataFrame, pd.DataFrame]:
    return load.files.assign(
        loaded=load.records.groupby("source_file").size().reindex(load.files["file"], fill_value=0).to_numpy()
    ), load.problems


def _counts(load: SiteLoad, codes: pd.Index, as_of: dt.date) -> pd.DataFrame:
    return status_counts(load.kind, load.records, list(codes), as_of)


@dataclass
class DistributedLoad:
    """One kind's partitions, placed, held on the workers as futures."""

    kind: SiteKind
    client: object
    partitions: list  # futures of SiteLoad

    def summary_and_problems(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per-file summary (as :meth:`SiteLoad.summary`) and all problems, without the records."""
        if not self.partitions:
            return empty_load(self.kind).summary(), _concat_problems([])
        parts = self.client.gather(self.client.map(_summary, self.partitions))
        files = pd.concat([f for f, _ in parts], ignore_index=True)
        problems = _concat_problems([p for _, p in parts])
        combined = files.groupby("file", sort=False).agg(
            rows=("rows", "sum"),
            blank_rows=("blank_rows", "sum"),
            encoding=("encoding", "first"),
            sheet=("sheet", "first"),
            loaded=("loaded", "sum"),
        )
        rejected = problems[problems["severity"] == "rejected"][["file", "row"]].drop_duplicates().groupby("file").size()
        warnings = problems[problems["severity"] == "warning"].groupby("file").size()
        combined["rejected"] = rejected.reindex(combined.index, fill_value=0)
        combined["warnings"] = warnings.reindex(combined.index, fill_value=0)
        table = combined.reset_index()[["file", "rows", "loaded", "rejected", "warnings", "blank_rows", "encoding", "sheet"]]
        return table, problems

    def counts(self, codes: list[str], as_of: dt.date) -> pd.DataFrame:
        """Per-street status counts, summed over the partitions."""
        if not self.partitions:
            return status_counts(self.kind, empty_load(self.kind).records, codes, as_of)
        # One object for all tasks (a plain list argument would be taken apart by dask).
        codes_future = self.client.scatter(pd.Index(codes, name="street_code"), broadcast=True, hash=False)
        parts = self.client.gather(self.client.map(_counts, self.partitions, codes=codes_future, as_of=as_of))
        total = parts[0]
        for part in parts[1:]:
            total = total.add(part, fill_value=0)
        return total.astype(int)

    def gather(self) -> SiteLoad:
        """All partitions brought back and joined into one load (for tables that need records)."""
        if not self.partitions:
            return empty_load(self.kind)
        return merge_loads(self.client.gather(self.partitions))


@dataclass
class DistributedProject:
    """Configuration, streets and both kinds' partitions on a cluster."""

    config: Config
    streets: gpd.GeoDataFrame
    macro: DistributedLoad
    garage: DistributedLoad
    as_of: dt.date

    @property
    def approximate(self) -> bool:
        """True when the street polygons are the offline approximation."""
        from rollout.boundaries import is_approximate

        return is_approximate(self.streets)

    def progress(self) -> pd.DataFrame:
        """The same table as :meth:`Project.progress`, from counts made on the workers."""
        table = read_street_table(self.config)
        codes = list(table["street_code"])
        targets = read_targets(self.config, codes)
        counts = {load.kind.name: load.counts(codes, self.as_of) for load in (self.macro, self.garage)}
        result = progress_from_counts(counts, table, targets, self.config, as_of=self.as_of)
        result["street_zones"] = self.streets["source"].iloc[0] if len(self.streets) else ""
        return result

    def gather(self) -> Project:
        """An in-memory :class:`Project` with every record (for gaps, weekly packs, worksheets)."""
        return Project(config=self.config, streets=self.streets, macro=self.macro.gather(), garage=self.garage.gather(), as_of=self.as_of)


def load_project_distributed(
    client,
    data_dir: Path | str | None = None,
    *,
    macro: Sequence[Path | str] | None = None,
    garage: Sequence[Path | str] | None = None,
    as_of: dt.date | None = None,
    crs: str | None = None,
    sheet: str | None = None,
    boundaries: Path | str | None = None,
    partitions: int | None = None,
) -> DistributedProject:
    """Like :func:`rollout.pipeline.load_project`, with the work done on ``client``'s cluster."""
    config = load_config(settings.data_dir if data_dir is None else data_dir)
    as_of = settings.today() if as_of is None else as_of
    streets = read_streets(config, path=boundaries)
    default_crs = _default_crs(crs)
    reference = max(filter(None, [as_of_date(as_of), settings.today()]))
    streets_future = client.scatter(streets, broadcast=True, hash=False)
    loads = {}
    for kind, paths in ((KINDS["macro"], macro), (KINDS["garage"], garage)):
        if paths is None:
            default = default_site_file(config, kind)
            paths = [default] if default else []
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        specs = _partition_specs([Path(p) for p in paths], kind.name, sheet, partitions, workers) if paths else []
        checked = client.map(
            _check_partition, specs, kind=kind.name, default_crs=default_crs, reference=reference, language=settings.language, pure=False
        )
        ids = client.gather(client.map(_row_ids, checked))
        row_ids = pd.concat([r for r, _ in ids], ignore_index=True) if ids else pd.DataFrame(columns=["record_id", "file", "row"])
        headers: dict[str, str] = {}
        for _, h in ids:
            headers |= h
        duplicates = client.scatter(duplicate_id_problems(row_ids, kind, headers), broadcast=True, hash=False)
        placed = client.map(
            _place, checked, problems=duplicates, streets=streets_future, config=config, language=settings.language, pure=False
        )
        loads[kind.name] = DistributedLoad(kind, client, placed)
    if not any(load.partitions for load in loads.values()):
        msg = f"{config.sites_dir}: no site files (macro_stations.csv|xlsx|parquet, garage_compounds.csv|xlsx|parquet)."
        raise InputFileError(msg)
    return DistributedProject(config=config, streets=streets, macro=loads["macro"], garage=loads["garage"], as_of=as_of)
