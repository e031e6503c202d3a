"""``rollout gaps``: what stands between each street and its targets."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from rollout import settings
from rollout.boundaries import match_streets, read_street_table
from rollout.cli.options import as_of_option, engine_options, open_project, project_options
from rollout.gaps import street_gaps
from rollout.reports import write_gap_report


@click.command("gaps")
@as_of_option
@click.option("--street", default=None, help="One street, by code or name (曹杨, 310107005000, ...).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write .xlsx (summary + a sheet per street), .html (printable) or .csv (summary).",
)
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
    """Per street: remaining to target, expected by now, weekly rate and forecast completion,
    blocked and stale records, compounds not started in priority order, acceptances without
    evidence, and which streets need attention first and why.

    \b
    Example:
      rollout gaps --as-of 2024-10-31 --out gaps.xlsx
      rollout gaps --street 长征镇
    """
    with open_project(engine, scheduler, partitions, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries) as project:
        report = street_gaps(project)
    zh = settings.language == "zh"
    if street:
        code = match_streets(pd.Series([street]), read_street_table(project.config)).iloc[0]
        if not isinstance(code, str):
            raise click.BadParameter(f"{street!r} is not one of the streets", param_hint="--street")
        report = report.for_street(code)
    if out is not None:
        write_gap_report(report, out)
        click.echo(f"已写入 {out}" if zh else f"Written to {out}")
        return
    click.echo(f"统计日期 {report.as_of}" if zh else f"As of {report.as_of}")
    for _, row in report.summary[report.summary["level"] == "street"].iterrows():
        name = row["street_name"] if zh else row["street_name_en"]
        click.echo(
            f"{row['attention_rank']:>2}. {name}：{row['reasons'] or ('无明显差距' if zh else 'no gap')}"
            if zh
            else f"{row['attention_rank']:>2}. {name}: {row['reasons'] or 'no gap'}"
        )
    if report.approximate:
        click.echo("注：街道边界为近似示意" if zh else "Note: approximate street zones")
