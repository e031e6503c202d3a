"""Options shared by several commands, defined once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from rollout.values import as_date


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
