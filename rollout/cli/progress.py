"""``rollout progress``: per-street progress toward the targets on a day."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rollout.cli.options import as_of_option, current_lang, engine_options, open_project, out_option, output_format, project_options
from rollout.i18n import t


@click.command("progress")
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx"]), default=None, help="Output format.")
@out_option("Write to this file instead of the terminal.")
@project_options
@engine_options
def command(
    as_of,
    fmt: str | None,
    out: Path | None,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Progress per street and for the district."""
    from rollout.exports import progress_json, progress_table, progress_text

    lang = current_lang()
    fmt = output_format(fmt, out, ("table", "csv", "json", "xlsx"))
    if out is None and fmt == "xlsx":
        raise click.UsageError(t("cli.msg.xlsx_needs_out", lang))
    with open_project(engine, scheduler, partitions, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries) as project:
        table = project.progress()  # counted where the records are
        approximate = project.approximate
    if fmt == "table":
        text = progress_text(table, lang=lang, approximate=approximate)
        if out is None:
            click.echo(text)
        else:
            from rollout.writers import write_text

            write_text(out, text + "\n")
    elif out is None and fmt == "csv":
        click.echo(table.to_csv(index=False, lineterminator="\n"), nl=False)
    elif out is None:
        click.echo(json.dumps(progress_json(table), ensure_ascii=False, indent=2))
    else:
        from rollout.writers import write_file

        target = out.with_suffix(f".{fmt}") if out.suffix.lower() != f".{fmt}" else out
        write_file(target, progress_table(table, fmt=fmt, lang=lang, approximate=approximate))
    if out is not None:
        click.echo(t("cli.msg.written", lang, path=out), err=True)
