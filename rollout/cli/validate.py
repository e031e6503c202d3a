"""``rollout validate``: check site files, report rejects, write normalised records."""

from __future__ import annotations

from pathlib import Path

import click

from rollout import settings
from rollout.cli.options import as_of_option, boundaries_option, crs_option, engine_options, open_project, sheet_option
from rollout.io import expand_paths, read_raw_table
from rollout.records import REJECTED, WARNING, SiteLoad
from rollout.writers import write_problems, write_records

_WARNINGS_SHOWN = 10


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--kind", type=click.Choice(["macro", "garage"]), default=None, help="What the files hold (default: guessed per file).")
@click.option(
    "--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write rejects and warnings to this CSV/XLSX."
)
@click.option(
    "--clean",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write loaded records, normalised, as CSV, GeoJSON or GeoPackage.",
)
@crs_option
@sheet_option
@as_of_option
@boundaries_option
@engine_options
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    kind: str | None,
    rejects: Path | None,
    clean: Path | None,
    crs: str | None,
    sheet: str | None,
    as_of,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Check site files: every row is loaded or rejected, with file, row, column and reason.

    With no FILES, checks data/sites/macro_stations.csv|xlsx and garage_compounds.csv|xlsx.
    A FILE may be a folder of (Geo)Parquet files.
    Exits 0 when nothing was rejected, 1 when something was.

    \b
    Example:
      rollout validate data/sites/macro_stations.csv --rejects rejects.csv --clean clean.gpkg
    """
    by_kind: dict[str, list[Path]] = {"macro": [], "garage": []}
    for path in files:
        by_kind[kind or read_raw_table(expand_paths([path])[0], sheet=sheet).kind.name].append(path)
    if files and not by_kind["macro"] and not by_kind["garage"]:
        raise click.UsageError("no files to check")
    with open_project(
        engine,
        scheduler,
        partitions,
        macro=by_kind["macro"] if files else None,
        garage=by_kind["garage"] if files else None,
        as_of=as_of,
        crs=crs,
        sheet=sheet,
        boundaries=boundaries,
        use_register=False,
    ) as project:  # with dask, the records are gathered here: the cluster can close after
        loads = [load for load in (project.macro, project.garage) if len(load.files)]
    verbose = ctx.obj.get("verbose", 0) if ctx.obj else 0
    for load in loads:
        _print_load(load, verbose=verbose)
    total_loaded = sum(len(load.records) for load in loads)
    total_rejected = sum(len(load.rejected_rows) for load in loads)
    zh = settings.language == "zh"
    click.echo(f"合计：载入 {total_loaded}，拒收 {total_rejected}" if zh else f"Total: {total_loaded} loaded, {total_rejected} rejected")
    if project.approximate:
        click.echo(
            "注意：街道边界为近似示意（未找到街道边界文件）" if zh else "Note: approximate street zones (no street boundary file found)"
        )
    if rejects:
        write_problems(project.problems, rejects)
        click.echo(f"问题清单已写入 {rejects}" if zh else f"Problems written to {rejects}")
    if clean:
        for path in write_records(loads, clean):
            click.echo(f"规范化记录已写入 {path}" if zh else f"Normalised records written to {path}")
    ctx.exit(1 if total_rejected else 0)


def _print_load(load: SiteLoad, *, verbose: int) -> None:
    zh = settings.language == "zh"
    label = load.kind.label_zh if zh else load.kind.label_en
    for row in load.summary().itertuples(index=False):
        encoding = f"，{row.encoding.upper()}" if zh and row.encoding else (f", {row.encoding.upper()}" if row.encoding else "")
        sheet = f"，工作表 {row.sheet}" if zh and row.sheet else (f", sheet {row.sheet}" if row.sheet else "")
        if zh:
            line = f"{row.file}（{label}{encoding}{sheet}）：{row.rows} 行，载入 {row.loaded}，拒收 {row.rejected}，警告 {row.warnings}"
            if row.blank_rows:
                line += f"，空行 {row.blank_rows}（已跳过）"
        else:
            line = f"{row.file} ({label}{encoding}{sheet}): {row.rows} rows, {row.loaded} loaded, {row.rejected} rejected, {row.warnings} warnings"
            if row.blank_rows:
                line += f", {row.blank_rows} blank rows skipped"
        click.echo(line)
        problems = load.problems[load.problems["file"] == row.file]
        for severity in (REJECTED, WARNING):
            shown = problems[problems["severity"] == severity]
            if severity == WARNING and not verbose:
                hidden = max(len(shown) - _WARNINGS_SHOWN, 0)
                shown = shown.head(_WARNINGS_SHOWN)
            else:
                hidden = 0
            mark = ("拒收" if zh else "rejected") if severity == REJECTED else ("警告" if zh else "warning")
            for p in shown.itertuples(index=False):
                where = f"第 {p.row} 行" if zh else f"row {p.row}"
                column = f" {p.column}" if p.column else ""
                value = f" = {p.value!r}" if p.value else ""
                click.echo(f"  {mark} {where}{column}{value}：{p.reason}" if zh else f"  {mark} {where}{column}{value}: {p.reason}")
            if hidden:
                click.echo(f"  …另有 {hidden} 条警告（加 -v 全部显示）" if zh else f"  … {hidden} more warnings (-v shows all)")
