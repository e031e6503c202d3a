"""The distributed engine: the project's steps on a dask cluster.

:func:`rollout.pipeline.load_project` with a :class:`DaskExecutor`: site files are split into
partitions (Parquet by row groups, read by the workers themselves; CSV and XLSX read once and
split), each partition is checked on a worker with the same code as in memory, the ids of all
rows come back for the one pass that needs every row (duplicate ids), the street polygons are
broadcast to every worker, each partition is placed in streets and counted there, and only
counts, problems and per-file summaries travel back. Records stay on the workers unless asked
for (``project.macro``), so the client's memory does not grow with the input.

The results are identical to the in-memory engine's: the tests compare them record for record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rollout.pipeline import Project, load_project

__all__ = ["DaskExecutor", "cluster", "load_project_distributed"]

#: Rows per partition when splitting CSV/XLSX files (Parquet partitions follow row groups).
ROWS_PER_PARTITION = 250_000


class DaskExecutor:
    """Runs the steps on a dask.distributed cluster; handles are futures."""

    rows_per_part = ROWS_PER_PARTITION

    def __init__(self, client: Any) -> None:
        self.client = client
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))

    def map(self, function: Callable[..., Any], items: Iterable[Any], **kwargs: Any) -> list[Any]:
        """Submit ``function`` for every item; futures, in order."""
        items = list(items)
        return list(self.client.map(function, items, pure=False, **kwargs)) if items else []

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """The results of the futures."""
        return list(self.client.gather(list(handles))) if handles else []

    def broadcast(self, value: Any) -> Any:
        """``value`` sent once to every worker (one object for all tasks: a plain list argument
        would be taken apart by dask)."""
        return self.client.scatter(value, broadcast=True, hash=False)


@contextmanager
def cluster(scheduler: str | None = None, *, workers: int = 2) -> Iterator[Any]:
    """A dask.distributed client: to ``scheduler`` (``tcp://host:8786``) or a local cluster."""
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


def load_project_distributed(client: Any, data_dir: Path | str | None = None, *, partitions: int | None = None, **load: Any) -> Project:
    """:func:`rollout.pipeline.load_project` (same keyword arguments) with the work done on ``client``'s cluster."""
    return load_project(data_dir, executor=DaskExecutor(client), partitions=partitions, **load)
