"""``rollout weekly`` and ``rollout map``: the weekly coverage pack and the map alone."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from pathlib import Path
from typing import Any

import click

from rollout.basemaps import BASEMAPS
from rollout.cli.options import (
    as_of_option,
    current_lang,
    engine_options,
    load_site_project,
    open_project,
    project_options,
)
from rollout.cli.planning_options import existing_option, read_existing_network
from rollout.i18n import t

# Default: [map] basemap in rollout.toml, else OpenStreetMap.
basemap_option = click.option("--basemap", type=click.Choice(BASEMAPS), default=None, help="Background tiles.")


def _as_of(week: str | None, as_of: dt.date | None) -> tuple[str | None, dt.date | None]:
    from rollout.errors import InvalidValueError
    from rollout.weeks import iso_week, week_end

    if week is None:
        return None, as_of
    lang = current_lang()
    try:
        end = week_end(week)
    except InvalidValueError as e:
        raise click.BadParameter(e.message(lang), param_hint="--week") from e
    if as_of is not None and iso_week(as_of) != week.upper():
        raise click.BadParameter(t("cli.msg.week_as_of", lang, as_of=as_of, week=week), param_hint="--as-of")
    return week.upper(), as_of or end


@click.command("weekly")
@click.option("--week", default=None, help="ISO week such as 2024-W26.")
@as_of_option
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("maps"), show_default=True, help="Folder of the packs."
)
@basemap_option
@existing_option
@project_options
@engine_options
def command(
    week: str | None,
    as_of,
    out: Path,
    basemap: str | None,
    existing: Path | None,
    crs: str | None,
    sheet: str | None,
    boundaries: Path | None,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
) -> None:
    """Write the weekly coverage pack."""
    from rollout.weekly_helper import pack_helper

    lang = current_lang()
    week, as_of = _as_of(week, as_of)
    # The chart, the brief and the workbook are made by a helper process, the coverage and the map
    # by another (records in this process's memory only); both import what they need while the
    # site files are read here.
    with (
        pack_helper() as helper,
        _map_helper(engine) as mapper,
        open_project(engine, scheduler, partitions, as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries) as project,
    ):
        from rollout.progress import total_row
        from rollout.weekly import build_weekly_pack, week_notes

        # The libraries and the loaded records live until the command ends: the collections made
        # while the pack is built need not walk them again and again.
        gc.freeze()

        network = read_existing_network(project, existing, crs=crs, lang=lang)
        pack = build_weekly_pack(project, out, week=week, basemap=basemap, existing=network, lang=lang, helper=helper, mapper=mapper)
        for done in (helper, mapper):  # they end side by side while this process goes on
            if done is not None:
                done.finish()
        rejected = sum(load.rejected_rows() for load in project.loads.values())
    total = total_row(pack.progress)
    click.echo(
        t(
            "cli.msg.weekly_done",
            lang,
            week=pack.week,
            as_of=pack.as_of,
            macro_done=total["macro_done"],
            macro_target=total["macro_target"],
            garage_done=total["garage_done"],
            garage_target=total["garage_target"],
            changes=len(pack.changes),
        )
    )
    for note in week_notes(pack.week, pack.as_of, lang=lang):
        click.echo(note)
    if rejected:
        click.echo(t("cli.msg.rows_rejected", lang, count=rejected))
    click.echo(t("cli.msg.pack_written", lang, path=pack.folder))


def _map_helper(engine: str) -> contextlib.AbstractContextManager[Any]:
    if engine != "memory":  # the records stay on the dask workers
        return contextlib.nullcontext()
    from rollout.weekly_map import map_helper

    return map_helper()


@click.command("map")
@as_of_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("maps/map.html"), show_default=True, help="HTML file.")
@basemap_option
@existing_option
@project_options
def map_command(
    as_of, out: Path, basemap: str | None, existing: Path | None, crs: str | None, sheet: str | None, boundaries: Path | None
) -> None:
    """Write only the interactive coverage map for a day."""
    from rollout.basemaps import check_basemap
    from rollout.coverage import coverage_analysis
    from rollout.maps import build_project_map, save_map
    from rollout.weekly import status_changes

    lang = current_lang()
    project = load_site_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    basemap = basemap or project.config.map_basemap
    check_basemap(basemap, tianditu_key=project.config.tianditu_key)  # before the coverage model
    network = read_existing_network(project, existing, crs=crs, lang=lang)
    previous = project.as_of - dt.timedelta(days=7)
    changed = {
        load.kind.name: set(status_changes(load.records, load.kind, previous, project.as_of)["record_id"])
        for load in (project.macro, project.garage)
    }
    district = project.config.district(lang)
    fmap = build_project_map(
        project,
        title=t("weekly.map_title", lang, district=district),
        changed=changed,
        basemap=basemap,
        coverage=coverage_analysis(project, existing=network),
        lang=lang,
    )
    save_map(fmap, out)
    click.echo(t("cli.msg.written", lang, path=out))
