"""The ``rollout`` command line: a thin layer over the library.

One module per command; shared options live in :mod:`rollout.cli.options`; library errors
become one-line messages in :class:`RolloutGroup`, never tracebacks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from rollout import __version__, settings
from rollout.errors import RolloutError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class RolloutGroup(click.Group):
    """A click group that turns library errors into clean one-line messages."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except RolloutError as e:
            error = click.ClickException(str(e))
            error.exit_code = getattr(e, "exit_code", error.exit_code)  # register errors exit 2
            raise error from e
        except PermissionError as e:
            raise click.ClickException(f"{e.filename}: permission denied; choose another --out or close the file in Excel/WPS.") from e
        except OSError as e:
            if e.filename is None:
                raise
            raise click.ClickException(f"{e.filename}: {e.strerror}") from e


@click.group(cls=RolloutGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="rollout")
@click.option("-v", "--verbose", count=True, help="Say more (-v: every warning; -vv: debug log).")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Data folder with rollout.toml, targets.csv, sites/ and boundaries/.",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of labels and messages.")
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Register to use: a SQLite file or postgresql://user@host:port/db (default: [register] url in rollout.toml, else data/register.sqlite).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, data_dir: Path, lang: str, db: str | None) -> None:
    """Track Putuo's 5G macro station and garage coverage rollout, street by street.

    \b
    Example:
      rollout weekly --week 2024-W26
      rollout validate
      rollout progress --as-of 2024-06-30
    """
    settings.data_dir = data_dir
    settings.language = lang
    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.WARNING, format="%(levelname)s: %(message)s")
    ctx.obj = {"verbose": verbose, "lang": lang, "db": db}


def _register() -> None:
    from rollout.cli import boundaries, coverage, gaps, progress, sample, targets, validate, weekly, worksheets

    for module in (validate, progress, weekly, gaps, worksheets, coverage, boundaries, targets, sample):
        cli.add_command(module.command)
    cli.add_command(weekly.map_command)
    cli.add_command(coverage.plan_command)
    from rollout.cli import changes, conflicts, export, history, imports, submissions

    cli.add_command(imports.command)
    cli.add_command(changes.command)
    cli.add_command(history.command)
    cli.add_command(submissions.command)
    cli.add_command(conflicts.command)
    cli.add_command(export.command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="rollout")
