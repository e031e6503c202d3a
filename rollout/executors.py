"""Where the work runs: in this process, in a forked one, or on a dask cluster.

Every step of loading a project (check a partition, place it in streets, count it) is a plain
function applied to partitions; an executor decides where. The in-memory executor applies it
here, one partition after the other; :class:`rollout.engine.DaskExecutor` sends it to the
workers, like dask's own ``compute(scheduler=...)``.

Independent slow work (a chart, a document) runs alongside on the other core: a :class:`Helper`
is forked at the start of a command, gets ready (imports) while this process reads the data, and
runs the calls sent to it.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

__all__ = ["Executor", "Helper", "InMemoryExecutor", "Owed", "importing"]


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


class Owed:
    """A result computed here or by a :class:`Helper`: :meth:`result` gives it, waiting if need be."""

    def result(self) -> Any:
        """The result (an error of the call is raised here)."""
        raise NotImplementedError


class _Done(Owed):
    """A call made here, now, with the interface of a future (its error is raised by :meth:`result`)."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._error: Exception | None = None
        try:
            self._value = function(*args, **kwargs)
        except Exception as e:
            self._error = e

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


class Helper:
    """A second process, forked now, that gets ready while this one goes on, then runs the calls
    sent to it.

    Fork it at the start of a command: ``warm_up`` (imports, fonts: a function, or steps in the
    order the calls will need them) runs there while this process reads the site files on the
    other core; the steps stop when the first call arrives, so that a call is never kept waiting
    for what it does not need. :meth:`submit` sends it a call (a module-level function
    and its arguments, pickled: keep them small) and returns a future; the calls run one after the
    other, and a result comes back when asked for (so that neither side ever waits on the other's
    sending). Use it as a context manager: the process ends with the block.

    With ``fork=False``, one CPU, no fork, or other threads running here (a fork would not carry
    them over), there is no second process and each call runs here when submitted. Should the
    process end early, the calls it owed run here.
    """

    def __init__(self, warm_up: Callable[[], Any] | Sequence[Callable[[], Any]] | None = None, *, fork: bool = True) -> None:
        import multiprocessing
        import os
        import sys
        import threading

        self._pending: dict[int, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {}
        self._count = 0
        self._finishing = False
        self._process: Any = None
        if not fork or (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
            return
        context = multiprocessing.get_context("fork")
        self._connection, theirs = context.Pipe()
        for stream in (sys.stdout, sys.stderr):  # else the helper would write what is buffered once more on exit
            stream.flush()
        self._process = context.Process(target=_help, args=(theirs, self._connection, warm_up), daemon=True)
        self._process.start()
        theirs.close()

    @property
    def forked(self) -> bool:
        """Whether the calls run in the second process."""
        return self._process is not None

    def submit(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Owed:
        """``function(*args, **kwargs)`` in the helper, as a future (``.result()``)."""
        if self._process is None:
            return _Done(function, args, kwargs)
        self._count += 1
        number = self._count
        self._pending[number] = (function, args, kwargs)
        try:  # pickled here (what Connection.send does) to know that it can be
            message = pickle.dumps(("call", number, function, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # e.g. a database connection: the call runs here
            del self._pending[number]
            return _Done(function, args, kwargs)
        try:
            self._connection.send_bytes(message)
        except OSError:  # the helper is gone: the result is computed here when asked for
            self._stop()
        return _Sent(self, number)

    def finish(self) -> None:
        """Ask the helper to end, without waiting for it (so that several helpers end side by
        side), once the results wanted are asked for (one asked for later is computed here);
        :meth:`close` then waits."""
        if self._process is not None and not self._finishing:
            self._finishing = True
            with contextlib.suppress(OSError):
                self._connection.send(None)

    def close(self, *, wait: bool = True) -> None:
        """End the helper process: once it is done with the calls sent (``wait``), or now."""
        if self._process is not None:
            if wait:
                self.finish()
            self._stop(wait=wait)

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(wait=kind is None)  # after an error, its results will not be asked for

    def _result(self, number: int) -> Any:
        function, args, kwargs = self._pending.pop(number)
        if self._process is not None:
            try:
                self._connection.send(("result", number))
                ok, value = self._connection.recv()
            except (OSError, EOFError):
                self._stop()
            else:
                if not ok:
                    raise value
                return value
        return function(*args, **kwargs)

    def _stop(self, *, wait: bool = True) -> None:
        self._connection.close()
        if wait:
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._process = None


class _Sent(Owed):
    """A call sent to a :class:`Helper`: its result, when asked for."""

    def __init__(self, helper: Helper, number: int) -> None:
        self._helper, self._number = helper, number
        self._value: Any = None
        self._done = False

    def result(self) -> Any:
        if not self._done:
            self._value = self._helper._result(self._number)
            self._done = True
        return self._value


def importing(*names: str) -> Callable[[], None]:
    """A warm-up step (see :class:`Helper`) that imports the modules ``names``."""

    def step() -> None:
        for name in names:
            importlib.import_module(name)

    return step


def _steps(warm_up: Callable[[], Any] | Sequence[Callable[[], Any]] | None) -> Sequence[Callable[[], Any]]:
    if warm_up is None:
        return ()
    return (warm_up,) if callable(warm_up) else tuple(warm_up)


def _help(connection: Any, parents_end: Any, warm_up: Callable[[], Any] | Sequence[Callable[[], Any]] | None) -> None:
    """The helper process: get ready, then run calls and answer requests for results, in order."""
    import gc
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to answer; it ends this process
    parents_end.close()
    # No collection of reference cycles in this process: what the parent had and what the warm-up
    # imports lives as long as it does (a collection would walk it, and copy the parent's pages to
    # do so), and it ends once its command's few calls are done, giving all its memory back. The
    # collector's passes over the objects the calls make cost the map a sixth of its time.
    gc.disable()
    # The steps run until the first call arrives (the rest happens when a call needs it). A
    # failure here is met again by the calls, and reported where their results are asked for.
    for step in _steps(warm_up):
        if connection.poll():
            break
        with contextlib.suppress(Exception):
            step()
    gc.freeze()
    results: dict[int, tuple[bool, Any]] = {}
    while True:
        try:
            message = connection.recv()
        except Exception:  # the parent is gone, or a call it could pickle cannot be unpickled here: the parent makes what it owes
            return
        if message is None:
            return
        if message[0] == "call":
            _, number, function, args, kwargs = message
            try:
                results[number] = (True, function(*args, **kwargs))
            except Exception as e:
                results[number] = (False, e)
            continue
        reply = results.pop(message[1])
        try:
            connection.send(reply)
        except (EOFError, OSError):
            return
        except Exception as e:  # a result or an error that cannot be pickled
            connection.send((False, RuntimeError(f"{type(e).__name__}: {e}")))
