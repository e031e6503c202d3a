"""``rollout boundaries``: fetch, import and show the street polygons."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import CONTEXT_SETTINGS, current_data_dir, current_lang
from rollout.i18n import t


@click.group("boundaries", context_settings=CONTEXT_SETTINGS)
def command() -> None:
    """Street polygons: fetch them from OpenStreetMap, import your own, or show what is used."""


@command.command("fetch")
@click.option("--nominatim-url", default=None, help="Nominatim server.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Where to write.")
def fetch(nominatim_url: str | None, out: Path | None) -> None:
    """Download the street polygons from OpenStreetMap."""
    import osmnx as ox

    from rollout.boundaries import fetch_streets, write_streets
    from rollout.config import load_config

    if nominatim_url:
        ox.settings.nominatim_url = nominatim_url
    config = load_config(current_data_dir())
    streets = fetch_streets(config)
    target = out or config.boundaries_file
    had_file = target.is_file()
    _report(streets, write_streets(streets, target))
    if had_file:
        from rollout.boundaries import backup_path

        click.echo(t("cli.msg.boundary_backup", current_lang(), path=backup_path(target)))


@command.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--name-field", default=None, help="Field holding street names (default: guessed).")
@click.option("--code-field", default=None, help="Field holding 12-digit street codes.")
@click.option("--crs", default=None, help="The file's CRS if missing or wrong.")
@click.option("--layer", default=None, help="Layer to read from a GeoPackage.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Where to write.")
def import_(file: Path, name_field: str | None, code_field: str | None, crs: str | None, layer: str | None, out: Path | None) -> None:
    """Import the team's own street boundary file."""
    from rollout.boundaries import import_streets, write_streets
    from rollout.config import load_config

    config = load_config(current_data_dir())
    streets = import_streets(file, config, name_field=name_field, code_field=code_field, crs=crs, layer=layer)
    target = out or config.boundaries_file
    had_file = target.is_file()
    _report(streets, write_streets(streets, target))
    lang = current_lang()
    if streets.attrs.get("repaired"):
        click.echo(t("cli.msg.boundary_repaired", lang, codes=", ".join(streets.attrs["repaired"])))
    if had_file:
        from rollout.boundaries import backup_path

        click.echo(t("cli.msg.boundary_backup", lang, path=backup_path(target)))


@command.command("show")
def show() -> None:
    """List the street polygons in use, where they come from and their areas."""
    from rollout.boundaries import read_streets
    from rollout.config import load_config

    _report(read_streets(load_config(current_data_dir())), None)


def _report(streets, path: Path | None) -> None:
    from rollout import labels
    from rollout.crs import to_metric

    lang = current_lang()
    areas = to_metric(streets).area / 1e6
    name = "name" if lang == "zh" else "name_en"
    for row, area in zip(streets.to_dict("records"), areas, strict=True):
        click.echo(t("cli.msg.street_line", lang, code=row["street_code"], name=row[name], area=area, source=row["source"]))
    if path is not None:
        click.echo(t("cli.msg.written", lang, path=path))
    if (streets["source"] == "approximate").any():
        click.echo(t("labels.note", lang, text=labels.approximate_note(lang)))
