"""``rollout sample``: regenerate the synthetic sample site files (or sample weekly submissions)."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import current_data_dir


@click.command("sample")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder to write to (default: data/sites).")
@click.option("--seed", type=int, default=2024, show_default=True, help="Random seed; the same seed gives the same files.")
@click.option("--submissions", is_flag=True, help="Instead, write weekly submissions from several senders.")
def command(out: Path | None, seed: int, submissions: bool) -> None:
    """Write the synthetic sample site files (about 230 macro stations, 60 garage compounds)."""
    from rollout.boundaries import read_streets
    from rollout.config import load_config

    config = load_config(current_data_dir())
    if submissions:
        from rollout.pipeline import load_project
        from rollout.register.sample import write_submissions

        project = load_project(current_data_dir(), use_register=False)
        for path in write_submissions(project, out or config.sites_dir / "submissions"):
            click.echo(str(path))
        return
    from rollout.sample import write_sample

    for path in write_sample(config, read_streets(config), out or config.sites_dir, seed=seed):
        click.echo(str(path))
