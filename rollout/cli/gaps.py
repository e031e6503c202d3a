"""``rollout gaps``: what stands between each street and its targets."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import as_of_option, current_lang, engine_options, open_project, project_options
from rollout.i18n import t


@click.command("gaps")
@as_of_option
@click.option("--street", default=None, help="One street, by code or name.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write .xlsx, .html, .pdf or .csv.")
@project_options
@engine_options
def command(
    as_of,
    street: str | None,
    out: Path | None,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Per street: what stands between it and its targets."""
    import pandas as pd

    from rollout import labels
    from rollout.boundaries import match_streets
    from rollout.gaps import reasons_text, street_gaps
    from rollout.reports import open_records_text, write_gap_report

    lang = current_lang()
    with open_project(engine, scheduler, partitions, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries) as project:
        report = street_gaps(project)  # the lists are made where the records are
        street_table = project.street_table
    if street:
        code = match_streets(pd.Series([street]), street_table).iloc[0]
        if not isinstance(code, str):
            raise click.BadParameter(t("cli.msg.street_unknown", lang, value=street), param_hint="--street")
        report = report.for_street(code)
    if out is not None:
        write_gap_report(report, out, lang=lang)
        click.echo(t("cli.msg.written", lang, path=out))
        return
    if street:  # one street: its to-do list, most urgent first
        click.echo(open_records_text(report, lang=lang))
        return
    click.echo(t("labels.as_of_title", lang, date=report.as_of))
    name = labels.street_name_column(lang)
    for _, row in report.summary[report.summary["level"] == "street"].iterrows():
        reasons = reasons_text(row["reasons"], lang) or t("gaps.reason.none", lang)
        click.echo(t("gaps.ranked_line", lang, rank=row["attention_rank"], name=row[name], reasons=reasons))
    if report.approximate:
        click.echo(t("labels.note", lang, text=labels.approximate_note(lang)))
