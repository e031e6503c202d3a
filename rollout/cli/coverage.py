"""``rollout coverage`` and ``rollout plan-sites``: modelled coverage and recommended sites."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd

from rollout import settings
from rollout.cli.options import as_of_option, project_options
from rollout.cli.options import load_site_project as load_project
from rollout.coverage import coverage_analysis, write_coverage
from rollout.io import atomic_path, write_table
from rollout.maps import build_project_map, save_map
from rollout.records import read_sites


def _read_geo(path: Path, what: str) -> gpd.GeoDataFrame:
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
    help="Outdoor, or indoor with the band's penetration loss.",
)
@click.option("--grid", default=None, help="Grid: metric squares like 50m, or H3 like h3:10 (default from rollout.toml: 50m).")
@click.option(
    "--existing",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A site file of the existing network (stations marked on air), counted from the start.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("coverage"),
    show_default=True,
    help="Folder for the CSV, GeoJSON, GeoPackage and map.",
)
@project_options
def command(as_of, operator, service, grid, existing, out, crs, sheet, boundaries) -> None:
    """Modelled best-server RSRP on a grid from the stations on air: % of area and of households
    covered per street, gap polygons, and compounds whose garages lie outside outdoor coverage.

    \b
    Example:
      rollout coverage --as-of 2024-06-30 --service indoor --grid h3:10
    """
    project = load_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    existing_records = read_sites(existing, kind="macro", crs=crs).records if existing else None
    result = coverage_analysis(project, operator=operator, service=service, grid=grid, existing=existing_records)
    write_coverage(result, out)
    zh = settings.language == "zh"
    fmap = build_project_map(
        project,
        title=f"{project.config.district_name} 模型覆盖" if zh else f"{project.config.district_name_en} modelled coverage",
        subtitle=f"{'截至' if zh else 'as of'} {project.as_of} · {service}",
        coverage=result,
    )
    save_map(fmap, out / "coverage.html")
    total = result.by_street.iloc[-1]
    uncovered = int((~result.compounds["outdoor_covered"]).sum()) if len(result.compounds) else 0
    click.echo(
        f"{len(result.stations)} 个站点：面积覆盖 {total['area_covered_pct']}%，户数覆盖 {total['households_covered_pct']}%，"
        f"缺口 {len(result.gaps)} 处，室外未覆盖小区 {uncovered} 个；已写入 {out}"
        if zh
        else f"{len(result.stations)} stations: {total['area_covered_pct']}% of area and {total['households_covered_pct']}% of households covered, "
        f"{len(result.gaps)} gaps, {uncovered} compounds outside outdoor coverage; written to {out}"
    )


@click.command("plan-sites")
@as_of_option
@click.option("--n", "n", type=int, default=None, help="At most this many sites in all (default: each street's remaining target).")
@click.option("--street", "streets", multiple=True, help="Only these streets (code); repeat for several.")
@click.option(
    "--candidates",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Candidate points (smart poles, rooftops, parks) as GeoJSON/GeoPackage; default: a grid.",
)
@click.option(
    "--exclude", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="Exclusion zones (限建/禁建) as polygons."
)
@click.option(
    "--min-spacing", "min_spacing", type=float, default=200.0, show_default=True, help="Minimum distance in metres between stations."
)
@click.option("--service", type=click.Choice(["outdoor", "indoor"]), default="outdoor", show_default=True)
@click.option("--area-weight", type=float, default=1.0, show_default=True, help="Demand weight per km² of uncovered area.")
@click.option(
    "--household-weight",
    type=float,
    default=0.01,
    show_default=True,
    help="Demand weight per household of a garage compound (0.01: 100 households weigh as 1 km²).",
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
    help="Ranked sites as .csv or .geojson (a map is written beside it).",
)
@project_options
def plan_command(
    as_of, n, streets, candidates, exclude, min_spacing, service, area_weight, household_weight, exact, out, crs, sheet, boundaries
) -> None:
    """Recommend where each street's remaining stations should go to cover the most demand
    (a maximal covering location problem, lazy greedy; exact for small instances).

    \b
    Example:
      rollout plan-sites --as-of 2024-06-30 --service indoor --min-spacing 250 --out sites.geojson
    """
    from rollout.siting import plan_sites

    project = load_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    result = plan_sites(
        project,
        n=n,
        streets=list(streets) or None,
        candidates=_read_geo(candidates, "candidates") if candidates else None,
        exclude=_read_geo(exclude, "exclusion zones") if exclude else None,
        min_spacing_m=min_spacing,
        area_weight=area_weight,
        household_weight=household_weight,
        exact=exact,
        service=service,
    )
    if out.suffix.lower() == ".geojson":
        with atomic_path(out) as tmp:
            result.sites.to_file(tmp, driver="GeoJSON")
    else:
        write_table(result.sites.drop(columns="geometry"), out)
    zh = settings.language == "zh"
    fmap = build_project_map(project, title="推荐站址" if zh else "Recommended sites", recommended=result.sites)
    save_map(fmap, out.with_suffix(".html"))
    gap = result.gap_to_optimum_pct
    click.echo(
        f"推荐 {len(result.sites)} 个站址，新增覆盖需求 {result.greedy_value:g}（共 {result.total_demand:g}，已覆盖 {result.fixed_demand:g}）"
        + (f"；与最优解差 {gap}%" if gap is not None else "")
        + f"；已写入 {out}"
        if zh
        else f"{len(result.sites)} sites recommended, adding {result.greedy_value:g} demand covered (of {result.total_demand:g}; {result.fixed_demand:g} already)"
        + (f"; {gap}% below the optimum" if gap is not None else "")
        + f"; written to {out}"
    )
