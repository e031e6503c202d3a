"""``rollout weekly`` and ``rollout map``: the weekly coverage pack and the map alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from rollout import settings
from rollout.cli.options import as_of_option, engine_options, open_project, project_options
from rollout.cli.options import load_site_project as load_project
from rollout.maps import BASEMAPS, build_project_map, save_map
from rollout.weekly import build_weekly_pack, iso_week, status_changes, week_end

basemap_option = click.option(
    "--basemap",
    type=click.Choice(BASEMAPS),
    default="osm",
    show_default=True,
    help="Background tiles: OpenStreetMap, Gaode (vectors shifted to GCJ-02 to line up) or none.",
)


def _as_of(week: str | None, as_of: dt.date | None) -> tuple[str | None, dt.date | None]:
    if week is None:
        return None, as_of
    try:
        end = week_end(week)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--week") from e
    if as_of is not None and iso_week(as_of) != week.upper():
        raise click.BadParameter(f"--as-of {as_of} is not in {week}", param_hint="--as-of")
    return week.upper(), as_of or end


@click.command("weekly")
@click.option("--week", default=None, help="ISO week such as 2024-W26 (default: the week of --as-of, or this week).")
@as_of_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("maps"),
    show_default=True,
    help="Folder that holds the weekly packs.",
)
@basemap_option
@project_options
@engine_options
def command(
    week: str | None,
    as_of,
    out: Path,
    basemap: str,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Write the weekly coverage pack: map, progress tables, changes, burn-up chart, summary and
    GeoPackage, in OUT/<YYYY-Www>/, and the list of packs in OUT/index.html.

    The as-of date is the week's last day unless given.

    \b
    Example:
      rollout weekly --week 2024-W26
    """
    week, as_of = _as_of(week, as_of)
    with open_project(engine, scheduler, partitions, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries) as project:
        pack = build_weekly_pack(project, out, week=week, basemap=basemap)
    zh = settings.language == "zh"
    total = pack.progress.iloc[-1]
    click.echo(
        f"{pack.week}（截至 {pack.as_of}）：宏站 {total['macro_done']}/{total['macro_target']}，"
        f"车库 {total['garage_done']}/{total['garage_target']}，本周状态变化 {len(pack.changes)} 条"
        if zh
        else f"{pack.week} (as of {pack.as_of}): macro {total['macro_done']}/{total['macro_target']}, "
        f"garage {total['garage_done']}/{total['garage_target']}, {len(pack.changes)} status changes this week"
    )
    rejected = len(project.macro.rejected_rows) + len(project.garage.rejected_rows)
    if rejected:
        click.echo(
            f"注意：{rejected} 行被拒收，运行 rollout validate 查看"
            if zh
            else f"Note: {rejected} rows rejected; run rollout validate to see them"
        )
    click.echo(f"已写入 {pack.folder}/index.html" if zh else f"Written to {pack.folder}/index.html")


@click.command("map")
@as_of_option
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("maps/map.html"), show_default=True, help="HTML file to write."
)
@basemap_option
@project_options
def map_command(as_of, out: Path, basemap: str, crs: str | None, sheet: str | None, boundaries: Path | None) -> None:
    """Write only the interactive coverage map for a day.

    \b
    Example:
      rollout map --as-of 2024-06-30 --out putuo.html --basemap gaode
    """
    project = load_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    progress = project.progress()
    zh = settings.language == "zh"
    previous = project.as_of - dt.timedelta(days=7)
    changed = {
        load.kind.name: set(status_changes(load.records, load.kind, previous, project.as_of)["record_id"])
        for load in (project.macro, project.garage)
    }
    district = project.config.district_name if zh else project.config.district_name_en
    fmap = build_project_map(
        project,
        progress=progress,
        title=f"{district} 5G宏站与车库覆盖" if zh else f"{district} 5G and garage coverage",
        changed=changed,
        basemap=basemap,
    )
    save_map(fmap, out)
    click.echo(f"已写入 {out}" if zh else f"Written to {out}")
