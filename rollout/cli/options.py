"""Options shared by several commands, defined once; the state of one command-line run."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from rollout.i18n import DEFAULT_LANG, Lang, LanguageError, normalise_lang, t

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class CliState:
    """What the global options say for this run; every command reads it through :func:`state`."""

    lang: Lang = DEFAULT_LANG
    data_dir: Path = Path("data")
    verbose: int = 0
    #: The register named by --db (None: [register] url of rollout.toml, else data/register.sqlite).
    db: str | None = None


def state(ctx: click.Context | None = None) -> CliState:
    """The run's state (a default one outside a run)."""
    ctx = ctx or click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj if isinstance(obj, CliState) else CliState()


def current_lang() -> Lang:
    """The language of this command line run, to pass to library functions."""
    return state().lang


def current_data_dir() -> Path:
    """The data folder of this command line run (``--data``)."""
    return state().data_dir


def current_db() -> str | None:
    """The register named by ``--db`` in this run, if any."""
    return state().db


def _set_data(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        state(ctx).data_dir = value
        # Library calls that take no data folder (commands not yet passing it) follow --data too.
        from rollout import settings

        settings.data_dir = value


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        try:
            state(ctx).lang = normalise_lang(value)
        except LanguageError as e:
            raise click.BadParameter(str(e), ctx=ctx, param=param) from e


def _set_db(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        state(ctx).db = value


def _add_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    current = state(ctx)
    current.verbose += value or 0
    level = logging.DEBUG if current.verbose > 1 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    logging.getLogger().setLevel(level)


def _global_specs() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    return [
        (
            ("--data", "data_dir"),
            {
                "type": click.Path(file_okay=False, path_type=Path),
                "metavar": "DIR",
                "default": None,
                "expose_value": False,
                "is_eager": True,
                "callback": _set_data,
                "help": "Data folder with rollout.toml, targets.csv, sites/ and boundaries/ (default: data).",
            },
        ),
        (
            ("--lang",),
            {
                "metavar": "zh|en",
                "default": None,
                "expose_value": False,
                "is_eager": True,
                "callback": _set_lang,
                "help": "Language of labels and messages: zh (default) or en.",
            },
        ),
        (
            ("--db",),
            {
                "metavar": "URL",
                "default": None,
                "expose_value": False,
                "is_eager": True,
                "callback": _set_db,
                "help": "Register: a SQLite file or postgresql://user@host:port/db.",
            },
        ),
        (
            ("-v", "--verbose"),
            {"count": True, "expose_value": False, "callback": _add_verbose, "help": "Say more (-v: every warning; -vv: debug log)."},
        ),
    ]


def global_options(function: F | None = None) -> Any:
    """``--data``, ``--lang``, ``--db`` and ``-v``, defined once: as a decorator for the group, or (without
    ``function``) as new options that :func:`rollout.cli.group.localize` adds to every command, so
    that they work after the command too."""
    specs = _global_specs()
    if function is None:
        return [click.Option(list(decls), **options) for decls, options in specs]
    for decls, options in reversed(specs):
        function = click.option(*decls, **options)(function)
    return function


class DateType(click.ParamType):
    """A date as people type it (2024-06-30, 2024/6/30, 2024年6月30日, 20240630)."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        from rollout.values import as_date

        if isinstance(value, dt.date):
            return value
        try:
            result = as_date(str(value))
        except ValueError:
            self.fail(t("cli.msg.not_a_date", state(ctx).lang, value=value), param, ctx)
        assert result is not None
        return result


as_of_option = click.option("--as-of", "as_of", type=DateType(), default=None, help="Report the state on this day (default: today).")
crs_option = click.option("--crs", default=None, help="Coordinate system of rows with a blank 坐标系 cell.")
sheet_option = click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
boundaries_option = click.option(
    "--boundaries",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Street polygons to use instead of data/boundaries/.",
)


def output_format(fmt: str | None, out: Path | None, allowed: tuple[str, ...]) -> str:
    """``--format``, else the extension of ``--out``, else ``table``."""
    if fmt is not None:
        return fmt
    if out is None:
        return "table"
    guess = out.suffix.lower().lstrip(".")
    if guess not in allowed:
        raise click.UsageError(t("cli.msg.format_unknown", current_lang(), path=out, allowed="|".join(allowed)))
    return guess


def out_option(help_text: str) -> Callable[[F], F]:
    """An --out FILE option."""
    return click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help_text)


def project_options(function: F) -> F:
    """The options every command that loads the site files shares: --crs, --sheet, --boundaries."""
    return crs_option(sheet_option(boundaries_option(function)))


def engine_options(function: F) -> F:
    """--engine, --scheduler and --partitions for the commands that join and aggregate."""
    function = click.option("--partitions", type=click.IntRange(min=1), default=None, help="Partitions per kind with --engine dask.")(
        function
    )
    function = click.option("--scheduler", default=None, help="Address of a running dask scheduler (tcp://host:8786).")(function)
    return click.option(
        "--engine",
        type=click.Choice(["memory", "dask"]),
        default="memory",
        show_default=True,
        help="Where the work runs: in this process, or on a dask cluster.",
    )(function)


def load_site_project(**load: Any) -> Any:
    """:func:`rollout.pipeline.load_project` for this run's data folder and register (``--db``).
    Unless the site files are asked for (``use_register=False``), it first says on standard
    error (so that piped tables stay clean) whether the records come from the register or the
    site files."""
    from rollout.pipeline import load_project

    load.setdefault("data_dir", current_data_dir())
    project = load_project(db=current_db(), **load)
    if load.get("use_register") is not False:
        from rollout.register.loads import source_line

        click.echo(source_line(project.register, project.config.sites_dir, lang=current_lang()), err=True)
    return project


@contextlib.contextmanager
def open_project(engine: str, scheduler: str | None, partitions: int | None, **load: Any) -> Iterator[Any]:
    """Load the project (:func:`load_site_project`) with the chosen engine. With dask the records
    stay on the workers until asked for, and the cluster closes with the block."""
    if engine == "memory":
        yield load_site_project(**load)
        return
    from rollout.engine import DaskExecutor, cluster

    with cluster(scheduler) as client:
        yield load_site_project(executor=DaskExecutor(client), partitions=partitions, **load)
