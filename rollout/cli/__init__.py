"""The ``rollout`` command line: a thin layer over the library.

Commands are imported when they run: the registry below names each command's module, and the
listing in ``rollout --help`` comes from the catalogue (``rollout/locale/cli.toml``), so help
costs no more than click. To add a command, write ``rollout/cli/<name>.py`` with a click
``command`` and add a line here; its help and option help go into ``cli.toml``
(``<name>.short``, ``<name>.help``, ``<name>.options.<param>``).

This module imports only the standard library at the top, so that Ctrl-C during start-up is
one line too: until :func:`main` runs, Ctrl-C is answered by a small handler installed on import
(one line, exit 130); from there on, by the command line's own handling.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from typing import Any

__all__ = ["COMMANDS", "cli", "main"]

#: Command name -> "module:attribute" of its click command, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "validate": "rollout.cli.validate:command",
    "progress": "rollout.cli.progress:command",
    "weekly": "rollout.cli.weekly:command",
    "map": "rollout.cli.weekly:map_command",
    "brief": "rollout.cli.brief:command",
    "gaps": "rollout.cli.gaps:command",
    "worksheets": "rollout.cli.worksheets:command",
    "coverage": "rollout.cli.coverage:command",
    "plan-sites": "rollout.cli.coverage:plan_command",
    "import": "rollout.cli.imports:command",
    "changes": "rollout.cli.changes:command",
    "history": "rollout.cli.history:command",
    "submissions": "rollout.cli.submissions:command",
    "conflicts": "rollout.cli.conflicts:command",
    "export": "rollout.cli.export:command",
    "serve": "rollout.cli.serve:command",
    "users": "rollout.cli.users:command",
    "boundaries": "rollout.cli.boundaries:command",
    "targets": "rollout.cli.targets:command",
    "template": "rollout.cli.template:command",
    "sample": "rollout.cli.sample:command",
}


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the command line; Ctrl-C at any moment is one line, exit 130."""
    args = sys.argv[1:] if argv is None else list(argv)
    finished: SystemExit | None = None
    try:
        # From here on Ctrl-C raises KeyboardInterrupt, so that writes in progress clean up.
        if signal.getsignal(signal.SIGINT) is _interrupted_early:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        from rollout.cli.group import cli

        cli.main(args=args, prog_name="rollout")
    except SystemExit as e:  # how click ends every command
        finished = e
        raise
    except KeyboardInterrupt:
        try:
            interrupted(args)
        except KeyboardInterrupt:  # a second Ctrl-C while saying so: the line is out or on its way
            sys.stderr.flush()
            os._exit(130)
    finally:
        if _ENTRY:  # the exit code is decided: a Ctrl-C while Python shuts down changes nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            # The command's files are closed: the garbage collections of Python's shutdown would
            # walk every object pandas, geopandas and folium made (a quarter of a second), to free
            # memory the process is about to give back anyway.
            gc.freeze()
            # Not while other threads run (Python's exit waits for them), nor under a profiler or a
            # debugger (they report once the program has returned).
            if finished is not None and threading.active_count() == 1 and sys.getprofile() is None and sys.gettrace() is None:
                _exit(finished)


def _exit(finished: SystemExit) -> None:
    """End the process as Python's exit would (the exit functions registered with :mod:`atexit`
    run, the output is flushed, the exit status is the same) without then tearing down every
    module and object one by one: tens of milliseconds, with pandas and folium loaded, that free
    memory the system takes back at once."""
    import atexit

    code = finished.code
    if code is not None and not isinstance(code, int):  # sys.exit("message"): said on stderr, status 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can be said
            stream.flush()
    os._exit(code or 0)


def interrupted(args: list[str]) -> None:
    """Say "interrupted" in one line, in the chosen language, and exit 130 (as shells do for Ctrl-C)."""
    from rollout.i18n import DEFAULT_LANG, LanguageError, argv_lang, t

    try:
        lang = argv_lang(args)
    except LanguageError:
        lang = DEFAULT_LANG
    sys.stderr.write(t("cli.msg.interrupted", lang) + "\n")
    sys.exit(130)


def _interrupted_early(signum: int, frame: Any) -> None:
    """Ctrl-C before :func:`main` took over (while Python imports the package): one line, 130."""
    words = {"en": "interrupted"}.get(_early_lang(), "已中断")
    os.write(2, (words + "\n").encode("utf-8"))
    os._exit(130)


def _early_lang() -> str:
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1][:2].lower()
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1][:2].lower()
    return os.environ.get("ROLLOUT_LANG", "zh")[:2].lower()


def _is_entry(program: str) -> bool:
    """Whether ``program`` (``sys.argv[0]``) is the ``rollout`` command: its console script, or
    ``python -m rollout`` (rollout's own ``__main__.py``; not another tool's, such as pytest's,
    whose process must never end with the command line's).

    >>> [_is_entry(p) for p in ("/usr/bin/rollout", "/x/rollout/__main__.py", "/x/pytest/__main__.py", "-c", "")]
    [True, True, False, False, False]
    """
    folder, name = os.path.split(program)
    return os.path.splitext(name)[0] == "rollout" or (name == "__main__.py" and os.path.basename(folder) == "rollout")


#: True when this process is the ``rollout`` command (console script or ``python -m rollout``).
_ENTRY = bool(sys.argv) and _is_entry(sys.argv[0])
if _ENTRY and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_early)
if _ENTRY:
    # One BLAS thread unless the user says otherwise: the commands' arithmetic is elementwise, and
    # OpenBLAS starting a thread per core costs 60 ms at numpy's import in every command.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def __getattr__(name: str) -> Any:
    if name == "cli":
        from rollout.cli.group import cli

        return cli
    msg = f"module 'rollout.cli' has no attribute {name!r}"
    raise AttributeError(msg)
