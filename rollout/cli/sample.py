"""``rollout sample``: regenerate the synthetic sample site files."""

from __future__ import annotations

from pathlib import Path

import click

from rollout import settings
from rollout.boundaries import read_streets
from rollout.config import load_config
from rollout.sample import write_sample


@click.command("sample")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder to write to (default: data/sites).")
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed; the same seed gives the same files.")
@click.option(
    "--submissions",
    is_flag=True,
    help="Instead, write weekly submissions from several senders (for the register) to data/sites/submissions.",
)
def command(out: Path | None, seed: int, submissions: bool) -> None:
    """Write the synthetic sample site files (about 230 macro stations, 60 garage compounds).

    \b
    Example:
      rollout sample --out /tmp/sample
    """
    config = load_config(settings.data_dir)
    if submissions:
        from rollout.pipeline import load_project
        from rollout.register.sample import write_submissions

        project = load_project(settings.data_dir, use_register=False)
        for path in write_submissions(project, out or config.sites_dir / "submissions"):
            click.echo(str(path))
        return
    for path in write_sample(config, read_streets(config), out or config.sites_dir, seed=seed):
        click.echo(str(path))
