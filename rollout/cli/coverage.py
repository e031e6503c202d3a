"""``rollout coverage`` and ``rollout plan-sites``: modelled coverage and recommended sites."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import as_of_option, current_lang, project_options
from rollout.cli.planning_options import (
    clutter_line,
    clutter_option,
    existing_option,
    load_clutter_option,
    load_lines,
    read_existing_network,
    rejects_table,
)
from rollout.i18n import t


def _read_geo(path: Path, what: str):
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own error types for unreadable files
        raise click.ClickException(f"{path}: cannot read the {what} ({e}); use GeoJSON, GeoPackage or Shapefile.") from e
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame


@click.command("coverage")
@as_of_option
@click.option("--operator", default=None, help="Only stations shared by this operator (移动, 电信, 联通, 广电).")
@click.option(
    "--service",
    type=click.Choice(["outdoor", "indoor"]),
    default="outdoor",
    show_default=True,
    help="Outdoor, or indoor with TR 38.901 building penetration for each clutter class.",
)
@click.option("--grid", default=None, help="Grid: metric squares like 50m, or H3 like h3:10 (default from rollout.toml: 50m).")
@existing_option
@clutter_option
@click.option(
    "--explain",
    type=click.Choice(["dense_urban", "urban", "suburban", "open"]),  # rollout.linkbudget.CLUTTER_CODES, kept light for --help
    is_flag=False,
    flag_value="dense_urban",
    default=None,
    help="Print the link budget line by line per band (downlink SS-RSRP, uplink PUSCH) for a clutter class "
    "(default dense_urban) and the cell range per band and clutter, then stop.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("coverage"),
    show_default=True,
    help="Folder for the CSV, GeoJSON, GeoPackage and map.",
)
@project_options
def command(as_of, operator, service, grid, existing, clutter, explain, out, crs, sheet, boundaries) -> None:
    """Modelled best-server SS-RSRP on a grid from the stations on air (and the existing network):
    % of area and of households covered per street, gap polygons, and compounds whose garages lie
    outside outdoor coverage. Each point closes the downlink and uplink budgets of its clutter class.

    \b
    Example:
      rollout coverage --explain
      rollout coverage --as-of 2024-06-30 --existing 现网站点.xlsx --service indoor --grid h3:10
    """
    from rollout import settings as global_settings
    from rollout.config import load_config
    from rollout.coverage import coverage_analysis, load_coverage_settings, write_coverage
    from rollout.maps import build_project_map, save_map
    from rollout.pipeline import load_project

    lang = current_lang()
    if explain:
        from rollout.budget_report import budget_text

        settings = load_coverage_settings(load_config(global_settings.data_dir))
        for line in budget_text(settings, clutter=explain, service=service, lang=lang):
            click.echo(line)
        return
    project = load_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    network = read_existing_network(project, existing, crs=crs, lang=lang)
    clutter_map = load_clutter_option(project, clutter, lang=lang)
    result = coverage_analysis(project, operator=operator, service=service, grid=grid, existing=network, clutter=clutter_map)
    write_coverage(result, out)
    _write_rejects([network.load if network else None], out / "rejects.csv", lang)
    district = project.config.district_name if lang == "zh" else project.config.district_name_en
    fmap = build_project_map(
        project,
        title=t("coverage.title", lang, district=district),
        subtitle=f"{project.as_of} · {t(f'coverage.service.{service}', lang)}",
        coverage=result,
    )
    save_map(fmap, out / "coverage.html")
    click.echo(clutter_line(result.clutter_source, result.clutter_counts, lang))
    total = result.by_street.iloc[-1]
    uncovered = int((~result.compounds["outdoor_covered"]).sum()) if len(result.compounds) else 0
    click.echo(
        t(
            "coverage.summary",
            lang,
            stations=len(result.stations),
            existing=int((result.stations["source"] == "existing").sum()),
            area=total["area_covered_pct"],
            households=total["households_covered_pct"],
            gaps=len(result.gaps),
            uncovered=uncovered,
            out=out,
        )
    )


def _write_rejects(loads, path: Path, lang) -> Path | None:
    table = rejects_table(loads, lang)
    if table.empty:
        return None
    from rollout.io import write_table

    return write_table(table, path)


def _weights(values: tuple[str, ...], settings):
    from dataclasses import replace

    from rollout.demand import COMPONENTS

    updates = {}
    for value in values:
        name, _, number = value.partition("=")
        if name.strip() not in COMPONENTS:
            raise click.BadParameter(f"{value!r}: use NAME=VALUE with NAME one of {', '.join(COMPONENTS)}", param_hint="--weight")
        try:
            updates[name.strip()] = float(number)
        except ValueError as e:
            raise click.BadParameter(f"{value!r}: {number!r} is not a number", param_hint="--weight") from e
    return replace(settings.weights, **updates)


@click.command("plan-sites")
@as_of_option
@click.option("--n", "n", type=int, default=None, help="At most this many sites in all (default: each street's quota).")
@click.option("--street", "streets", multiple=True, help="Only these streets (code); repeat for several.")
@click.option(
    "--candidates",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Candidate sites (rooftops 楼顶, smart poles 智慧灯杆, towers 铁塔) as CSV/XLSX/Parquet (候选编码, 类型, 经度, 纬度, "
    "坐标系, 挂高) or GeoJSON/GeoPackage points; default: a grid.",
)
@click.option(
    "--exclude", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="Exclusion zones (限建/禁建) as polygons."
)
@click.option(
    "--min-spacing", "min_spacing", type=float, default=200.0, show_default=True, help="Minimum distance in metres between stations."
)
@click.option("--candidate-spacing", type=float, default=150.0, show_default=True, help="Spacing of the grid of candidates (m).")
@click.option(
    "--service",
    type=click.Choice(["outdoor", "indoor"]),
    default="outdoor",
    show_default=True,
    help="Service for the area demand (households are always served indoors).",
)
@existing_option
@click.option(
    "--mr",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="MR or drive-test grid (CSV/XLSX/Parquet: 经度, 纬度, 平均RSRP, 采样点数, optional 坐标系): cells below "
    "[coverage] mr_threshold_dbm (-110) are demand, weighted by their samples.",
)
@click.option(
    "--complaints",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="12345 complaints (CSV/XLSX/Parquet: 工单编号, 经度, 纬度, 投诉日期, 投诉类别/投诉内容); those about signal are demand.",
)
@clutter_option
@click.option(
    "--weight",
    "weight_values",
    multiple=True,
    help="Override a demand weight of [coverage.demand]: area_km2=1, households=0.01, traffic_mbps=0.01, "
    "weak_mr_samples=0.0001, complaints=0.5. Repeat for several.",
)
@click.option(
    "--exact/--no-exact",
    default=None,
    help="Also solve exactly (HiGHS) to report the greedy's gap; default: when there are at most 400 candidates.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("recommended_sites.csv"),
    show_default=True,
    help="Ranked sites as .csv, .xlsx or .geojson; the per-street table (_streets.csv) and a map (.html) are written beside it.",
)
@project_options
def plan_command(
    as_of,
    n,
    streets,
    candidates,
    exclude,
    min_spacing,
    candidate_spacing,
    service,
    existing,
    mr,
    complaints,
    clutter,
    weight_values,
    exact,
    out,
    crs,
    sheet,
    boundaries,
) -> None:
    """Recommend where each street's remaining stations should go: the quota (remaining target less
    stations under construction or with a secured site) filled with the sites that serve the most
    demand (uncovered area, garage households, busy-hour traffic above capacity, weak MR samples,
    12345 complaints), each with its rationale; a street that cannot be filled says why.

    \b
    Example:
      rollout plan-sites --as-of 2024-06-30 --existing 现网站点.xlsx --mr mr_grid.csv --complaints 12345.xlsx
    """
    from rollout.candidates import read_candidates
    from rollout.coverage import district_crs, load_coverage_settings
    from rollout.maps import build_project_map, save_map
    from rollout.measurements import read_complaints, read_mr
    from rollout.pipeline import load_project
    from rollout.planmap import planning_layers
    from rollout.siting import plan_sites
    from rollout.siting_report import demand_lines, street_lines, write_sites, write_streets

    lang = current_lang()
    project = load_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    settings = load_coverage_settings(project.config)
    network = read_existing_network(project, existing, crs=crs, lang=lang)
    loads = []
    mr_load = read_mr(mr, project.streets, threshold_dbm=settings.mr_threshold_dbm, crs=crs) if mr else None
    complaint_load = read_complaints(complaints, project.streets, as_of=project.as_of, crs=crs) if complaints else None
    candidate_set = read_candidates(candidates, project.streets, district_crs(project.streets), coords=crs) if candidates else None
    for load in (mr_load, complaint_load, candidate_set.load if candidate_set else None):
        if load is not None:
            loads.append(load)
            for line in load_lines(load, lang):
                click.echo(line)
    result = plan_sites(
        project,
        n=n,
        streets=list(streets) or None,
        candidates=candidate_set,
        exclude=_read_geo(exclude, "exclusion zones") if exclude else None,
        min_spacing_m=min_spacing,
        candidate_spacing_m=candidate_spacing,
        weights=_weights(weight_values, settings),
        existing=network,
        mr=mr_load,
        complaints=complaint_load,
        exact=exact,
        service=service,
        settings=settings,
        clutter=load_clutter_option(project, clutter, lang=lang),
    )
    written = [write_sites(result.sites, out, lang), write_streets(result.streets, out.with_name(f"{out.stem}_streets.csv"), lang)]
    rejects = _write_rejects([network.load if network else None, *loads], out.with_name(f"{out.stem}_rejects.csv"), lang)
    written += [rejects] if rejects else []
    layers, legend = planning_layers(
        result.sites,
        lang=lang,
        mr=mr_load.records if mr_load else None,
        complaints=complaint_load.records if complaint_load else None,
        existing=network.stations if network else None,
    )
    district = project.config.district_name if lang == "zh" else project.config.district_name_en
    fmap = build_project_map(project, title=t("planning.map.title", lang, district=district), layers=layers, legend=legend)
    written.append(save_map(fmap, out.with_suffix(".html")))
    click.echo(
        t(
            "planning.result",
            lang,
            n=len(result.sites),
            candidates=result.candidates,
            added=f"{result.sites['marginal_demand'].sum():.2f}",
            total=f"{result.total_demand:.2f}",
            fixed=f"{result.fixed_demand:.2f}",
        )
    )
    for line in demand_lines(result.demand, lang) + street_lines(result.streets, lang):
        click.echo(line)
    if result.gap_to_optimum_pct is not None:
        greedy = int((result.sites["driver"] != "densify").sum())
        click.echo(t("planning.gap", lang, gap=result.gap_to_optimum_pct, greedy=greedy))
    click.echo(t("planning.written", lang, paths=", ".join(str(p) for p in written)))
