"""Options shared by several commands, defined once."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import click

from rollout.i18n import DEFAULT_LANG, Lang
from rollout.values import as_date


def current_db() -> str | None:
    """The register named by the global ``--db`` option of this run, if any."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj.get("db") if isinstance(obj, dict) else None


def load_site_project(**load):
    """:func:`rollout.pipeline.load_project` with this run's ``--db`` and language; says first (on
    standard error, so piped tables stay clean) whether the records come from the register or
    the site files."""
    from rollout.pipeline import load_project
    from rollout.register.loads import source_line

    project = load_project(db=current_db(), lang=current_lang(), **load)
    if load.get("use_register") is not False:
        click.echo(source_line(project.register, project.config.sites_dir, lang=current_lang()), err=True)
    return project


def current_lang() -> Lang:
    """The language of this command line run (``--lang``), to pass to library functions."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj.get("lang", DEFAULT_LANG) if isinstance(obj, dict) else DEFAULT_LANG


class DateType(click.ParamType):
    """A date as people type it (2024-06-30, 2024/6/30, 2024年6月30日, 20240630)."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            result = as_date(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as 2024-06-30", param, ctx)
        assert result is not None
        return result


as_of_option = click.option(
    "--as-of",
    "as_of",
    type=DateType(),
    default=None,
    help="Report the state on this day (default: today). Statuses are derived from milestone dates.",
)
crs_option = click.option(
    "--crs",
    default=None,
    help="Coordinate system of rows with a blank 坐标系 cell: wgs84 (default), gcj02 (高德/腾讯) or bd09 (百度).",
)
sheet_option = click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
boundaries_option = click.option(
    "--boundaries",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Street polygons to use instead of data/boundaries/ (GeoJSON/GeoPackage with street_code).",
)


def out_option(help_text: str) -> click.decorators.FC:  # type: ignore[name-defined]
    """An --out FILE option."""
    return click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help_text)


def project_options(function):
    """The options every command that loads the site files shares: --crs, --sheet, --boundaries."""
    return crs_option(sheet_option(boundaries_option(function)))


def engine_options(function):
    """--engine, --scheduler and --partitions for the commands that join and aggregate."""
    function = click.option(
        "--partitions",
        type=click.IntRange(min=1),
        default=None,
        help="Partitions per kind with --engine dask (default: by row groups or 250,000 rows).",
    )(function)
    function = click.option(
        "--scheduler", default=None, help="Address of a running dask scheduler (tcp://host:8786); default: a local cluster of 2 workers."
    )(function)
    return click.option(
        "--engine",
        type=click.Choice(["memory", "dask"]),
        default="memory",
        show_default=True,
        help="Where the work runs: in this process, or on a dask cluster.",
    )(function)


@contextlib.contextmanager
def open_project(engine: str, scheduler: str | None, partitions: int | None, *, gather: bool = True, **load):
    """Load the project with the chosen engine; with dask and ``gather=False`` the records stay on
    the workers (a :class:`rollout.engine.DistributedProject`)."""
    if engine == "memory":
        yield load_site_project(**load)
        return
    _refuse_dask_with_register(load)
    load.pop("use_register", None)
    from rollout.engine import cluster, load_project_distributed

    with cluster(scheduler) as client:
        distributed = load_project_distributed(client, partitions=partitions, **load)
        yield distributed.gather() if gather else distributed


def _refuse_dask_with_register(load: dict) -> None:
    """The dask engine reads site files; with a register present that would ignore it."""
    if load.get("use_register") is False or load.get("macro") is not None or load.get("garage") is not None:
        return
    from rollout import settings
    from rollout.config import load_config
    from rollout.i18n import t
    from rollout.register.store import find_register

    target = find_register(load_config(settings.data_dir), current_db())
    if target is not None:
        raise click.UsageError(t("register.dask_with_register", current_lang(), where=target.shown))
