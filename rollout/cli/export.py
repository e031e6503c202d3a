"""``rollout export``: the register's records for QGIS, 奥维互动地图/Google Earth, Excel."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli._register import open_cli_register, project_config
from rollout.cli.options import DateType, current_lang
from rollout.i18n import t


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["gpkg", "kml", "kmz", "geojson", "xlsx", "csv"]), default=None, help="Format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--as-of", "as_of", type=DateType(), default=None, help="Records as known on this day (default: now).")
def command(fmt, out: Path, as_of) -> None:
    """Export the register's records for QGIS, 奥维互动地图/Google Earth or Excel."""
    from rollout.boundaries import read_streets
    from rollout.register.clock import shanghai_today
    from rollout.register.export import EXPORT_FORMATS, export_tables, write_export
    from rollout.register.loads import site_loads_from

    lang = current_lang()
    fmt = fmt or out.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise click.UsageError(t("cli.msg.format_unknown", lang, path=out, allowed="|".join(EXPORT_FORMATS)))
    config = project_config()
    with open_cli_register() as register:
        loads, _ = site_loads_from(register, config, read_streets(config), as_of=as_of)
    day = as_of or shanghai_today()
    title = t("register.export_title", lang, district=config.district(lang), day=day)
    for path in write_export(export_tables(loads, day), out, fmt=fmt, lang=lang, title=title):
        click.echo(t("cli.msg.written", lang, path=path))
