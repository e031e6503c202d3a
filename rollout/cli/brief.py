"""``rollout brief``: the leaders' one-page brief (brief.docx, brief.pdf)."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import as_of_option, current_lang, engine_options, open_project, project_options
from rollout.i18n import t

FORMATS = ("docx", "pdf")  # as rollout.brief.FORMATS


@click.command("brief")
@click.option("--week", default=None, help="ISO week such as 2024-W26.")
@as_of_option
@click.option("--format", "formats", default="docx,pdf", show_default=True, help="Comma-separated: docx, pdf.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="Folder.")
@project_options
@engine_options
def command(
    week: str | None,
    as_of,
    formats: str,
    out: Path,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Write the leaders' one-page brief."""
    from rollout.brief import brief_files, leaders_brief
    from rollout.cli.weekly import _as_of
    from rollout.writers import write_file

    lang = current_lang()
    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    if not wanted or set(wanted) - set(FORMATS):
        raise click.BadParameter(t("errors.brief_format", lang, value=formats, allowed=", ".join(FORMATS)), param_hint="--format")
    week, as_of = _as_of(week, as_of)
    with open_project(engine, scheduler, partitions, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries) as project:
        brief = leaders_brief(project, week=week)
    paths = [write_file(out / name, data) for name, data in brief_files(brief, formats=wanted, lang=lang).items()]
    click.echo(t("brief.written", lang, paths=", ".join(str(p) for p in paths)))
