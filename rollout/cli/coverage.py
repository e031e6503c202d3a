"""``rollout coverage`` and ``rollout plan-sites``: modelled coverage and recommended sites."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.cli.options import as_of_option, current_data_dir, current_lang, load_site_project, project_options
from rollout.cli.planning_options import (
    clutter_line,
    clutter_option,
    existing_option,
    load_clutter_option,
    load_lines,
    read_existing_network,
    rejects_files,
)
from rollout.i18n import t


@click.command("coverage")
@as_of_option
@click.option("--operator", default=None, help="Only stations shared by this operator.")
@click.option("--service", type=click.Choice(["outdoor", "indoor"]), default="outdoor", show_default=True, help="Outdoor or indoor.")
@click.option("--grid", default=None, help="Grid: 50m or h3:10.")
@existing_option
@clutter_option
@click.option(
    "--explain",
    type=click.Choice(["dense_urban", "urban", "suburban", "open"]),  # rollout.linkbudget.CLUTTER_CODES, kept light for --help
    is_flag=False,
    flag_value="dense_urban",
    default=None,
    help="Print the link budget, then stop.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("coverage"), show_default=True, help="Folder.")
@project_options
def command(as_of, operator, service, grid, existing, clutter, explain, out, crs, sheet, boundaries) -> None:
    """Modelled coverage per street, coverage gaps, compounds outside coverage."""
    from rollout.config import load_config
    from rollout.coverage import coverage_analysis, coverage_files, load_coverage_settings
    from rollout.maps import build_project_map, render_map
    from rollout.progress import total_row
    from rollout.writers import write_file, write_folder

    lang = current_lang()
    if explain:
        from rollout.budget_report import budget_text

        settings = load_coverage_settings(load_config(current_data_dir()))
        for line in budget_text(settings, clutter=explain, service=service, lang=lang):
            click.echo(line)
        return
    project = load_site_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
    network = read_existing_network(project, existing, crs=crs, lang=lang)
    clutter_map = load_clutter_option(project, clutter, lang=lang)
    result = coverage_analysis(project, operator=operator, service=service, grid=grid, existing=network, clutter=clutter_map)
    fmap = build_project_map(
        project,
        title=t("coverage.title", lang, district=project.config.district(lang)),
        subtitle=f"{project.as_of} · {t(f'coverage.service.{service}', lang)}",
        coverage=result,
        show_coverage=True,
        lang=lang,
    )
    files = (
        coverage_files(result)
        | {"coverage.html": render_map(fmap)}
        | rejects_files([network.load if network else None], "rejects.csv", lang)
    )
    write_folder(out, files, write=write_file, merge=True)
    click.echo(clutter_line(result.clutter_source, result.clutter_counts, lang))
    total = total_row(result.by_street)
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


def _weights(values: tuple[str, ...], settings, lang):
    from dataclasses import replace

    from rollout.demand import COMPONENTS

    updates = {}
    for value in values:
        name, _, number = value.partition("=")
        if name.strip() not in COMPONENTS:
            raise click.BadParameter(t("cli.msg.weight_name", lang, value=value, names=", ".join(COMPONENTS)), param_hint="--weight")
        try:
            updates[name.strip()] = float(number)
        except ValueError as e:
            raise click.BadParameter(t("cli.msg.weight_number", lang, value=value, number=number), param_hint="--weight") from e
    return replace(settings.weights, **updates)


@click.command("plan-sites")
@as_of_option
@click.option("--n", "n", type=int, default=None, help="At most this many sites in all.")
@click.option("--street", "streets", multiple=True, help="Only these streets (code).")
@click.option("--candidates", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="Candidate sites.")
@click.option("--exclude", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="Exclusion zones.")
@click.option("--min-spacing", "min_spacing", type=float, default=200.0, show_default=True, help="Minimum spacing (m).")
@click.option("--candidate-spacing", type=float, default=150.0, show_default=True, help="Spacing of the grid of candidates (m).")
@click.option("--service", type=click.Choice(["outdoor", "indoor"]), default="outdoor", show_default=True, help="Outdoor or indoor.")
@existing_option
@click.option("--mr", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="MR or drive-test grid.")
@click.option("--complaints", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="12345 complaints.")
@clutter_option
@click.option("--weight", "weight_values", multiple=True, help="Override a demand weight: NAME=VALUE.")
@click.option("--exact/--no-exact", default=None, help="Also solve exactly.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("recommended_sites.csv"), show_default=True, help="Ranked sites."
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
    """Recommend where each street's remaining stations should go."""
    from rollout.candidates import read_candidates
    from rollout.coverage import district_crs, load_coverage_settings
    from rollout.io import read_geo
    from rollout.maps import build_project_map, render_map
    from rollout.measurements import read_complaints, read_mr
    from rollout.planmap import planning_layers
    from rollout.siting import plan_sites
    from rollout.siting_report import demand_lines, sites_artefact, street_lines, streets_table
    from rollout.writers import write_file

    lang = current_lang()
    project = load_site_project(as_of=as_of, crs=crs, sheet=sheet, boundaries=boundaries)
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
        exclude=read_geo(exclude) if exclude else None,
        min_spacing_m=min_spacing,
        candidate_spacing_m=candidate_spacing,
        weights=_weights(weight_values, settings, lang),
        existing=network,
        mr=mr_load,
        complaints=complaint_load,
        exact=exact,
        service=service,
        settings=settings,
        clutter=load_clutter_option(project, clutter, lang=lang),
    )
    layers, legend = planning_layers(
        result.sites,
        lang=lang,
        mr=mr_load.records if mr_load else None,
        complaints=complaint_load.records if complaint_load else None,
        existing=network.stations if network else None,
    )
    fmap = build_project_map(
        project, title=t("planning.map.title", lang, district=project.config.district(lang)), layers=layers, legend=legend, lang=lang
    )
    files = {
        out: sites_artefact(result.sites, out, lang),
        out.with_name(f"{out.stem}_streets.csv"): streets_table(result.streets, lang),
        **rejects_files([network.load if network else None, *loads], out.with_name(f"{out.stem}_rejects.csv"), lang),
        out.with_suffix(".html"): render_map(fmap),
    }
    written = [write_file(path, artefact) for path, artefact in files.items()]
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
