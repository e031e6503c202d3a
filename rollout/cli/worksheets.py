"""``rollout worksheets``: one compound, one plan (一小区一方案); ``--read`` takes filled-in ones back."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import as_of_option, current_lang, load_site_project, project_options
from rollout.i18n import Lang, t

FORMATS = ("html", "pdf", "xlsx")  # as rollout.worksheets.FORMATS


@click.command("worksheets")
@click.option("--compound", "compounds", multiple=True, help="Compound id; repeat for several.")
@click.option("--operator", default=None, help="Only this operator's compounds, as a bundle folder and zip.")
@click.option("--format", "formats", default="html,pdf,xlsx", show_default=True, help="Comma-separated: html, pdf, xlsx.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("worksheets"), show_default=True, help="Folder.")
@click.option(
    "--read", "read", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Filled-in worksheet XLSX."
)
@click.option("--update", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Garage update file to write.")
@as_of_option
@project_options
def command(
    compounds: tuple[str, ...],
    operator: str | None,
    formats: str,
    out: Path,
    read: tuple[Path, ...],
    update: Path | None,
    as_of,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
) -> None:
    """Write a printable A4 worksheet per garage compound."""
    lang = current_lang()
    if read:
        _read_back(read, update, lang)
        return
    from rollout.worksheets import write_worksheets

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
    for one in sheets:
        if one.attachment_problem:
            click.echo(
                f"  {one.compound_id}：{one.attachment_problem}" if lang == "zh" else f"  {one.compound_id}: {one.attachment_problem}"
            )


def _read_back(paths: tuple[Path, ...], update: Path | None, lang: Lang) -> None:
    import pandas as pd

    from rollout.worksheet_xlsx import read_worksheet
    from rollout.writers import Table, write_file

    if update is None:
        raise click.UsageError(t("cli.msg.update_needed", lang))
    rows = pd.concat([read_worksheet(path) for path in paths], ignore_index=True)
    write_file(update, Table(rows, sheet_name="garage"))
    click.echo(t("cli.msg.worksheets_read", lang, count=len(rows), path=update))
