"""``rollout sample``: regenerate the synthetic sample site files."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import current_data_dir


@click.command("sample")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder to write to (default: data/sites).")
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed; the same seed gives the same files.")
def command(out: Path | None, seed: int) -> None:
    """Write the synthetic sample site files (about 230 macro stations, 60 garage compounds)."""
    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.sample import write_sample

    config = load_config(current_data_dir())
    for path in write_sample(config, read_streets(config), out or config.sites_dir, seed=seed):
        click.echo(str(path))
