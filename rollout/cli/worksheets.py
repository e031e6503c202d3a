"""``rollout worksheets``: one compound, one plan (一小区一方案)."""

from __future__ import annotations

from pathlib import Path

import click

from rollout import settings
from rollout.cli.options import as_of_option, project_options
from rollout.cli.options import load_site_project as load_project
from rollout.worksheets import FORMATS, write_worksheets


@click.command("worksheets")
@click.option("--compound", "compounds", multiple=True, help="Compound id; repeat for several (default: every compound).")
@click.option(
    "--operator", default=None, help="Only this operator's compounds, as a bundle folder and zip: 移动, 电信, 联通, 广电 or 铁塔."
)
@click.option("--format", "formats", default="html,pdf,xlsx", show_default=True, help="Comma-separated: html, pdf, xlsx.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("worksheets"), show_default=True, help="Folder to write to."
)
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
    """Write a printable A4 worksheet per garage compound: facts, plan, milestones, blockers,
    acceptance evidence, contacts, nearby on-air stations, a map and a sign-off block; with an
    index. Worksheets are the only output that shows contact phone numbers.

    \b
    Example:
      rollout worksheets --compound PT-GA-001 --format html,pdf
      rollout worksheets --operator 移动 --out worksheets/
    """
    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    if not wanted or set(wanted) - set(FORMATS):
        raise click.BadParameter(f"{formats!r}: choose from {', '.join(FORMATS)}", param_hint="--format")
    project = load_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    folder, sheets = write_worksheets(project, out, formats=wanted, compound_ids=compounds or None, operator=operator)
    zh = settings.language == "zh"
    flagged = sum(s.accepted_without_evidence for s in sheets)
    click.echo(f"{len(sheets)} 份工作单已写入 {folder}" if zh else f"{len(sheets)} worksheets written to {folder}")
    if operator:
        click.echo(f"打包文件：{folder.with_suffix('.zip')}" if zh else f"Bundle: {folder.with_suffix('.zip')}")
    if flagged:
        click.echo(
            f"注意：{flagged} 个小区已标为验收但证据不达标" if zh else f"Note: {flagged} compounds marked accepted without passing evidence"
        )
