"""``rollout targets``: per-street targets."""

from __future__ import annotations

import click

from rollout.cli.options import CONTEXT_SETTINGS, current_data_dir, current_lang
from rollout.i18n import t


@click.group("targets", context_settings=CONTEXT_SETTINGS)
def command() -> None:
    """Per-street targets (data/targets.csv)."""


@command.command("allocate")
@click.option("--by", "by", required=True, help="Weight: a numeric column of streets.csv, area or equal.")
@click.option("--force", is_flag=True, help="Overwrite an existing targets.csv.")
def allocate(by: str, force: bool) -> None:
    """Split the district targets over the streets by largest remainder and write targets.csv."""
    from rollout.boundaries import read_street_table, read_streets
    from rollout.config import load_config
    from rollout.errors import ConfigError
    from rollout.targets import allocate_street_targets, write_targets

    lang = current_lang()
    config = load_config(current_data_dir())
    if config.targets_file.exists() and not force:
        raise ConfigError("errors.targets_exist", path=config.targets_file)
    table = read_street_table(config)
    targets = allocate_street_targets(config, read_streets(config, street_table=table), by=by, street_table=table)
    write_targets(targets, config.targets_file)
    for row in targets.to_dict("records"):
        click.echo(
            t(
                "cli.msg.target_line",
                lang,
                code=row["street_code"],
                name=row["street_name"],
                macro=row["macro_target"],
                garage=row["garage_target"],
            )
        )
    click.echo(t("cli.msg.written", lang, path=config.targets_file))
