"""``rollout boundaries``: fetch, import and show the street polygons."""

from __future__ import annotations

from pathlib import Path

import click

from rollout import settings
from rollout.boundaries import fetch_streets, import_streets, read_streets, write_streets
from rollout.config import load_config
from rollout.crs import METRIC_CRS


@click.group("boundaries", context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """Street polygons: fetch them from OpenStreetMap, import your own, or show what is used.

    \b
    Example:
      rollout boundaries fetch
      rollout boundaries import 街道边界.shp --name-field 街道名称
    """


@command.command("fetch")
@click.option("--nominatim-url", default=None, help="Nominatim server (default: osmnx's, nominatim.openstreetmap.org).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: data/boundaries/<district>_streets.geojson).",
)
def fetch(nominatim_url: str | None, out: Path | None) -> None:
    """Download the street polygons from OpenStreetMap by their relation ids (osm_relation_id in
    streets.csv), check them and write them as GeoJSON.

    \b
    Example:
      rollout boundaries fetch
    """
    import osmnx as ox

    if nominatim_url:
        ox.settings.nominatim_url = nominatim_url
    config = load_config(settings.data_dir)
    streets = fetch_streets(config)
    path = write_streets(streets, out or config.boundaries_file)
    _report(streets, path)


@command.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--name-field", default=None, help="Field holding street names (default: guessed).")
@click.option("--code-field", default=None, help="Field holding 12-digit street codes.")
@click.option("--crs", default=None, help="The file's CRS if missing or wrong: EPSG:4326, EPSG:4490, gcj02, bd09, ...")
@click.option("--layer", default=None, help="Layer to read from a GeoPackage.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: data/boundaries/<district>_streets.geojson).",
)
def import_(file: Path, name_field: str | None, code_field: str | None, crs: str | None, layer: str | None, out: Path | None) -> None:
    """Import the team's own street boundary file (GeoJSON, GeoPackage, Shapefile; any CRS),
    matching its features to the streets by code, name or alias.

    \b
    Example:
      rollout boundaries import 普陀街道.geojson --name-field name --crs gcj02
    """
    config = load_config(settings.data_dir)
    streets = import_streets(file, config, name_field=name_field, code_field=code_field, crs=crs, layer=layer)
    path = write_streets(streets, out or config.boundaries_file)
    _report(streets, path)


@command.command("show")
def show() -> None:
    """List the street polygons in use, where they come from and their areas.

    \b
    Example:
      rollout boundaries show
    """
    config = load_config(settings.data_dir)
    streets = read_streets(config)
    _report(streets, None)


def _report(streets, path: Path | None) -> None:
    zh = settings.language == "zh"
    areas = streets.to_crs(METRIC_CRS).area / 1e6
    for row, area in zip(streets.itertuples(index=False), areas, strict=True):
        name = row.name if zh else row.name_en
        click.echo(f"{row.street_code}  {name}  {area:.2f} km²  ({row.source})")
    if path is not None:
        click.echo(f"已写入 {path}" if zh else f"Written to {path}")
    if (streets["source"] == "approximate").any():
        click.echo("注：街道边界为近似示意" if zh else "Note: approximate street zones")
