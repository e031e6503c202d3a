"""``rollout targets``: per-street targets."""

from __future__ import annotations

import click

from rollout import settings
from rollout.boundaries import read_streets
from rollout.config import load_config
from rollout.targets import allocate_street_targets, write_targets


@click.group("targets", context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """Per-street targets (data/targets.csv).

    \b
    Example:
      rollout targets allocate --by population
    """


@command.command("allocate")
@click.option(
    "--by", "by", required=True, help="Weight: a numeric column of streets.csv (population, area_km2), area (from polygons) or equal."
)
@click.option("--force", is_flag=True, help="Overwrite an existing targets.csv.")
def allocate(by: str, force: bool) -> None:
    """Split the district targets over the streets by largest remainder and write targets.csv.

    \b
    Example:
      rollout targets allocate --by area
    """
    config = load_config(settings.data_dir)
    if config.targets_file.exists() and not force:
        raise click.ClickException(f"{config.targets_file} exists (the district's own targets?); add --force to replace it.")
    targets = allocate_street_targets(config, read_streets(config), by=by)
    write_targets(targets, config.targets_file)
    zh = settings.language == "zh"
    for row in targets.itertuples(index=False):
        click.echo(f"{row.street_code}  {row.street_name}  {row.macro_target}  {row.garage_target}")
    click.echo(f"已写入 {config.targets_file}" if zh else f"Written to {config.targets_file}")
