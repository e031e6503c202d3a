"""Several server processes on one port: a listening socket opened here, then forked workers that
each open the register and serve from that socket (the kernel hands each connection to one).

The first process only watches: a worker that dies is started again (at most a few times a
minute), and SIGTERM or SIGINT (systemd's stop, Ctrl-C) is passed on to every worker, which
finishes its requests in hand; the first process exits when they all have.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["serve_forked"]

#: A worker that dies is started again, unless this many did within a minute (something is wrong).
_RESTARTS_PER_MINUTE = 5
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def serve_forked(
    open_platform: Callable[[], Any], serve: Callable[[Any, list[socket.socket]], None], *, host: str, port: int, workers: int
) -> None:
    """Serve on ``host:port`` from ``workers`` forked processes until SIGTERM or SIGINT."""
    listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET, backlog=2048)
    listener.set_inheritable(True)
    children: set[int] = set()
    stopping = False

    def start() -> None:
        # A stop signal arriving while a worker is forked waits until each side has its own
        # handlers: else the new worker could run this process's handler (and serve on), or
        # this process could pass the signal on before it knows the new worker.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                _work(open_platform, serve, listener)  # never returns
            children.add(pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(workers):
            start()
        restarts: list[float] = []
        while children:
            try:
                pid, _ = os.wait()
            except ChildProcessError:
                break
            children.discard(pid)
            now = time.monotonic()
            restarts = [r for r in restarts if now - r < 60]
            if not stopping and len(restarts) < _RESTARTS_PER_MINUTE:
                restarts.append(now)
                start()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        listener.close()


def _work(open_platform: Callable[[], Any], serve: Callable[[Any, list[socket.socket]], None], listener: socket.socket) -> None:
    """A worker: its own stop handlers (uvicorn's, once serving), then serve until stopped, and exit."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        platform = open_platform()
        try:
            serve(platform, [listener])
        finally:
            platform.register.close()
    except KeyboardInterrupt:
        pass
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
