"""The ``rollout`` click group: lazy commands, help in the reader's language, one error path.

- Commands are imported only when invoked (:data:`rollout.cli.COMMANDS`); ``rollout --help``
  lists them with their short help from the catalogue.
- The language is known before click parses anything (:func:`rollout.i18n.argv_lang`), so help
  texts (from ``cli.toml``) and click's own words (through gettext, see
  :mod:`rollout.cli.translations`) are in it.
- The global options ``--data``, ``--lang`` and ``-v`` are accepted before or after the command.
- Library errors become one line in the chosen language and exit 2 (``-v`` adds the
  traceback); Ctrl-C is one line and exit 130.
"""

from __future__ import annotations

import errno
import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from rollout import __version__
from rollout.cli import COMMANDS
from rollout.cli.options import CONTEXT_SETTINGS, CliState, global_options, state
from rollout.cli.translations import click_language
from rollout.errors import RolloutError
from rollout.i18n import Lang, LanguageError, argv_lang, has, t

__all__ = ["LocalizedContext", "RolloutGroup", "cli", "localize"]


class Failure(click.ClickException):
    """A message for the user, exit code 2 (1 means "rows were rejected")."""

    exit_code = 2


class LocalizedContext(click.Context):
    """A context whose help (``-h``, or a group run without a command) is in the run's language."""

    def get_help(self) -> str:
        _put_texts(self.command, state(self).lang)
        return super().get_help()


class RolloutGroup(click.Group):
    """The top-level group: lazy subcommands, localized help, errors as one line."""

    context_class = LocalizedContext

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, *other: Any, **extra: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        try:
            lang = argv_lang(args)
        except LanguageError as e:
            click.echo(str(e), err=True)
            if extra.get("standalone_mode", True):
                sys.exit(2)
            raise
        extra.setdefault("obj", CliState(lang=lang))
        _PATHS[self] = ()  # its help, in the language, when shown (see LocalizedContext)
        with click_language(lang):
            return super().main(args, prog_name, *other, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        localize(command, (cmd_name,), state(ctx).lang)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command listing, from the catalogue: no command module is imported for it."""
        lang = state(ctx).lang
        rows = [(name, t(f"cli.{_key(name)}.short", lang)) for name in COMMANDS]
        with formatter.section(t("click.commands", lang)):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        current = state(ctx)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo(t("cli.msg.interrupted", current.lang), err=True)
            raise click.exceptions.Exit(130) from None
        except RolloutError as e:
            _fail(e, e.message(current.lang), current)
        except LanguageError as e:
            _fail(e, str(e), current)
        except PermissionError as e:
            _fail(e, t("cli.msg.permission_denied", current.lang, path=e.filename or "—"), current)
        except OSError as e:
            if e.filename is not None:
                _fail(e, t("cli.msg.os_error", current.lang, path=e.filename, reason=e.strerror), current)
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                _fail(e, t("cli.msg.disk_full", current.lang), current)
            _fail(e, t("cli.msg.system_error", current.lang, reason=e.strerror or str(e) or type(e).__name__), current)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # a bug: still one line (with -v, the traceback to report)
            detail = " ".join(str(e).split())[:200] or "—"
            _fail(e, t("cli.msg.unexpected", current.lang, kind=type(e).__name__, detail=detail), current)


def _fail(error: BaseException, message: str, current: CliState) -> NoReturn:
    if current.verbose:
        traceback.print_exception(error, file=sys.stderr)
    raise Failure(message) from error


def localize(command: click.Command, path: tuple[str, ...], lang: Lang) -> None:
    """Give ``command`` (and its subcommands) the global options, so that they are accepted after
    the command too, and help and option help in the run's language from the catalogue.

    The words are put in when help is shown (:class:`LocalizedContext`), not now: a command that
    runs shows none of them, and the catalogue they come from (cli.toml) is the largest one.
    """
    names = {param.name for param in command.params}
    command.params.extend(option for option in global_options() if option.name not in names)
    command.context_class = LocalizedContext
    _PATHS[command] = path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            localize(sub, (*path, name), lang)


#: Command -> its path under ``rollout`` (the group itself: ()), for its texts in the catalogue.
_PATHS: dict[click.Command, tuple[str, ...]] = {}


def _put_texts(command: click.Command, lang: Lang) -> None:
    """Help and option help of ``command`` (and its subcommands, listed in its help) in ``lang``."""
    path = _PATHS.get(command)
    if path is None:
        return
    if not path and isinstance(command, click.Group):
        _localize_group(command, lang)
        return
    key = ".".join(_key(p) for p in path)
    if has(f"cli.{key}.help"):
        command.help = t(f"cli.{key}.help", lang)
        command.short_help = t(f"cli.{key}.short", lang) if has(f"cli.{key}.short") else None
    for param in command.params:
        if isinstance(param, click.Option) and param.name:
            for option_key in (f"cli.{key}.options.{param.name}", f"cli.options.{param.name}"):
                if has(option_key):
                    param.help = t(option_key, lang)
                    break
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _put_texts(sub, lang)


def _key(name: str) -> str:
    return name.replace("-", "_")


@click.group(cls=RolloutGroup, context_settings=CONTEXT_SETTINGS, invoke_without_command=False)
@click.version_option(__version__, "--version", prog_name="rollout")
@global_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Track Putuo's 5G macro station and garage coverage rollout, street by street."""


def _localize_group(group: click.Group, lang: Lang) -> None:
    group.help = t("cli.rollout.help", lang)
    for param in group.params:
        if isinstance(param, click.Option) and param.name == "version":
            param.help = t("click.version_option", lang)  # click set it when the module was imported
        elif isinstance(param, click.Option) and param.name and has(f"cli.options.{param.name}"):
            param.help = t(f"cli.options.{param.name}", lang)
