"""Where the work runs: in this process, or on a dask cluster.

Every step of loading a project (check a partition, place it in streets, count it) is a plain
function applied to partitions; an executor decides where. The in-memory executor applies it
here, one partition after the other; :class:`rollout.engine.DaskExecutor` sends it to the
workers, like dask's own ``compute(scheduler=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["Executor", "InMemoryExecutor"]


class Executor(Protocol):
    """Applies functions to partitions somewhere, and brings results back."""

    #: How many workers share the work (partitions are planned to keep each busy).
    workers: int
    #: Rows per partition when a file is split.
    rows_per_part: int

    def map(self, function: Callable[..., Any], items: Sequence[Any], **kwargs: Any) -> list[Any]:
        """``function(item, **kwargs)`` for each item: handles of the results, in order."""
        ...

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """The results the handles stand for."""
        ...

    def broadcast(self, value: Any) -> Any:
        """``value`` made available to every worker once (a handle to pass to :meth:`map`)."""
        ...


class InMemoryExecutor:
    """Runs every step here; handles are the results themselves."""

    workers = 1
    #: Inputs are checked in partitions of this many rows at most, so that the checks' working
    #: columns stay small (the duplicate-id pass still sees every row).
    rows_per_part = 200_000

    def map(self, function: Callable[..., Any], items: Sequence[Any], **kwargs: Any) -> list[Any]:
        """Apply ``function`` to each item now."""
        return [function(item, **kwargs) for item in items]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """The results (they are the handles)."""
        return list(handles)

    def broadcast(self, value: Any) -> Any:
        """The value itself."""
        return value
