"""Where the work runs: in this process, or on a dask cluster.

Every step of loading a project (check a partition, place it in streets, count it) is a plain
function applied to partitions; an executor decides where. The in-memory executor applies it
here, one partition after the other; :class:`rollout.engine.DaskExecutor` sends it to the
workers, like dask's own ``compute(scheduler=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

__all__ = ["Executor", "InMemoryExecutor"]


class Executor(Protocol):
    """Applies functions to partitions somewhere, and brings results back."""

    #: How many workers share the work (partitions are planned to keep each busy).
    workers: int
    #: Rows per partition when a file is split.
    rows_per_part: int

    def map(self, function: Callable[..., Any], items: Iterable[Any], **kwargs: Any) -> list[Any]:
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
    rows_per_part = 100_000

    def map(self, function: Callable[..., Any], items: Iterable[Any], **kwargs: Any) -> list[Any]:
        """Apply ``function`` to each item now, one after the other (an iterator of items is
        consumed as it goes, so each item can be let go once done)."""
        return [function(item, **kwargs) for item in items]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """The results (they are the handles)."""
        return list(handles)

    def broadcast(self, value: Any) -> Any:
        """The value itself."""
        return value


class _Done:
    """A result computed here, with the interface of a future."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._value = function(*args, **kwargs)

    def result(self) -> Any:
        return self._value


class _Forked:
    """A result computed in a forked process (which sees this process's memory: nothing is copied
    to it), sent back through a pipe."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)

        def run() -> None:
            try:
                send.send((True, function(*args, **kwargs)))
            except BaseException as e:  # sent back and raised where the result is asked for
                send.send((False, e))
            finally:
                send.close()

        self._process = context.Process(target=run, daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        ok, value = self._receive.recv()
        self._process.join()
        if not ok:
            raise value
        return value


def here(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` computed now, in this process, as a future (``.result()``):
    what :func:`in_background` falls back to, for work that must not be forked."""
    return _Done(function, args, kwargs)


def in_background(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Start ``function(*args, **kwargs)`` in a forked process and return a future of its result
    (``.result()``), so that slow independent work (drawing a chart) overlaps with the rest. Where
    fork is not available, or with one CPU, the function runs here."""
    import multiprocessing
    import os

    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _Done(function, args, kwargs)
    return _Forked(function, args, kwargs)
