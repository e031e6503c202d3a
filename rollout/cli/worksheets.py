"""``rollout worksheets``: one compound, one plan (一小区一方案)."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import as_of_option, current_lang, load_site_project, project_options
from rollout.i18n import t

FORMATS = ("html", "pdf", "xlsx")  # as rollout.worksheets.FORMATS


@click.command("worksheets")
@click.option("--compound", "compounds", multiple=True, help="Compound id; repeat for several.")
@click.option("--operator", default=None, help="Only this operator's compounds, as a bundle folder and zip.")
@click.option("--format", "formats", default="html,pdf,xlsx", show_default=True, help="Comma-separated: html, pdf, xlsx.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("worksheets"), show_default=True, help="Folder.")
@as_of_option
@project_options
def command(
    compounds: tuple[str, ...],
    operator: str | None,
    formats: str,
    out: Path,
    as_of,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
) -> None:
    """Write a printable A4 worksheet per garage compound."""
    from rollout.worksheets import write_worksheets

    lang = current_lang()
    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    if not wanted or set(wanted) - set(FORMATS):
        message = t("errors.worksheet_format", lang, value=formats, allowed=", ".join(FORMATS))
        raise click.BadParameter(message, param_hint="--format")
    project = load_site_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    folder, sheets = write_worksheets(project, out, formats=wanted, compound_ids=compounds or None, operator=operator, lang=lang)
    flagged = sum(s.accepted_without_evidence for s in sheets)
    click.echo(t("cli.msg.worksheets_written", lang, count=len(sheets), path=folder))
    if operator:
        click.echo(t("cli.msg.bundle", lang, path=folder.with_suffix(".zip")))
    if flagged:
        click.echo(t("cli.msg.accepted_without_evidence", lang, count=flagged))
