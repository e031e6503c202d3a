"""Options and input reports shared by ``coverage``, ``plan-sites``, ``weekly`` and ``map``:
the existing network, clutter, MR grids and complaints."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.i18n import Lang, t

# Their help is in locale/cli.toml (options.existing, options.clutter), shared by every command.
existing_option = click.option(
    "--existing", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="Existing network."
)
clutter_option = click.option("--clutter", default=None, help="Clutter classes: a polygon file, or osm.")


def read_existing_network(project, path: Path | None, *, crs: str | None, lang: Lang, echo=click.echo):
    """The existing network named by ``--existing`` or rollout.toml, reported on the terminal; None if neither."""
    from rollout.coverage import load_coverage_settings
    from rollout.network import read_existing

    settings = load_coverage_settings(project.config)
    path = path or settings.existing
    if path is None:
        return None
    network = read_existing(path, project.streets, margin_m=settings.existing_margin_m, crs=crs)
    for line in load_lines(network.load, lang):
        echo(line)
    echo(t("planning.existing.summary", lang, inside=network.inside, outside=network.outside, km=network.margin_m / 1000))
    for code, params in network.warnings():
        echo(t(f"planning.{code}", lang, **params), err=True)
    return network


def load_clutter_option(project, value: str | None, *, lang: Lang, echo=click.echo):
    """The clutter map for ``--clutter`` (a file, or ``osm``), or None for rollout.toml's / the streets'."""
    from rollout.clutter import ClutterFetchError, ClutterMap, fetch_building_clutter, load_clutter
    from rollout.coverage import load_coverage_settings
    from rollout.writers import GeoLayers, write_file

    if value is None:
        return None
    settings = load_coverage_settings(project.config)
    table = project.street_table
    if value.strip().lower() == "osm":
        try:
            polygons = fetch_building_clutter(project.streets)
        except ClutterFetchError as e:
            echo(t("coverage.clutter_offline", lang, error=e.message(lang)), err=True)
            return load_clutter(project.config, table, default=settings.default_clutter)
        # Kept, so that later runs need no network.
        path = write_file(project.config.data_dir / "boundaries" / "clutter_osm.geojson", GeoLayers({"clutter": polygons}))
        echo(t("coverage.clutter_fetched", lang, n=len(polygons), path=str(path)))
        base = load_clutter(project.config, table, default=settings.default_clutter)
        return ClutterMap(polygons, base.by_street, base.default, "osm", str(path))
    path = Path(value)
    if not path.is_file():
        raise click.BadParameter(t("coverage.clutter_missing", lang, path=value), param_hint="--clutter")
    return load_clutter(project.config, table, path=path, default=settings.default_clutter)


def clutter_line(source: str, counts: dict[str, int], lang: Lang) -> str:
    """Where the clutter classes came from and how the grid divides between them."""
    from rollout import labels

    shares = labels.join((f"{t(f'coverage.clutter.{c}', lang)} {n}" for c, n in sorted(counts.items())), lang)
    return t(f"coverage.clutter_source.{source}", lang, shares=shares)


def load_lines(load, lang: Lang, *, limit: int = 10) -> list[str]:
    """A planning table's counts, then its first rejects and the rows not counted, by reason."""
    from rollout.problems import with_reasons

    counts = load.counts
    from rollout import labels

    lines = [t("planning.load.summary", lang, file=str(load.path), label=labels.kind_title(load.kind.name, lang), **counts)]
    for code, params in load.notes:
        lines.append("  " + t(f"planning.{code}", lang, **params))
    rejects = with_reasons(load.rejects, lang)
    for row in rejects.head(limit).to_dict("records"):
        shown = t(
            "planning.load.rejected", lang, row=int(row["row"]), column=row["column"], value=str(row["value"])[:60], reason=row["reason"]
        )
        lines.append("  " + shown)
    if len(rejects) > limit:
        lines.append("  " + t("planning.load.more", lang, n=len(rejects) - limit))
    if len(load.ignored):
        counted = load.ignored["reason_code"].value_counts()
        for row in with_reasons(load.ignored.drop_duplicates("reason_code"), lang).to_dict("records"):
            lines.append("  " + t("planning.load.ignored", lang, n=int(counted[row["reason_code"]]), reason=row["reason"]))
    return lines


def rejects_files(loads, path: Path | str, lang: Lang) -> dict:
    """``{path: problems report}`` of every rejected or uncounted row of the planning tables, or
    nothing when there is none."""
    from rollout.exports import problems_table
    from rollout.problems import concat_problems

    problems = concat_problems([load.problems for load in loads if load is not None])
    return {path: problems_table(problems, lang=lang)} if len(problems) else {}
