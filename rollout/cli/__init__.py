"""The ``rollout`` command line: a thin layer over the library.

Commands are imported when they run: the registry below names each command's module, and the
listing in ``rollout --help`` comes from the catalogue (``rollout/locale/cli.toml``), so help
costs no more than click. To add a command, write ``rollout/cli/<name>.py`` with a click
``command`` and add a line here; its help and option help go into ``cli.toml``
(``<name>.short``, ``<name>.help``, ``<name>.options.<param>``).

This module imports only the standard library at the top, so that Ctrl-C during start-up is
one line too.
"""

from __future__ import annotations

import sys
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
    try:
        from rollout.cli.group import cli

        cli.main(args=args, prog_name="rollout")
    except KeyboardInterrupt:
        interrupted(args)


def interrupted(args: list[str]) -> None:
    """Say "interrupted" in one line, in the chosen language, and exit 130 (as shells do for Ctrl-C)."""
    from rollout.i18n import DEFAULT_LANG, LanguageError, argv_lang, t

    try:
        lang = argv_lang(args)
    except LanguageError:
        lang = DEFAULT_LANG
    sys.stderr.write(t("cli.msg.interrupted", lang) + "\n")
    sys.exit(130)


def __getattr__(name: str) -> Any:
    if name == "cli":
        from rollout.cli.group import cli

        return cli
    msg = f"module 'rollout.cli' has no attribute {name!r}"
    raise AttributeError(msg)
