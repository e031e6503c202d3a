"""Options and input reports shared by ``coverage``, ``plan-sites``, ``weekly`` and ``map``:
the existing network, clutter, MR grids and complaints."""

from __future__ import annotations

from pathlib import Path

import click

from rollout.i18n import Lang, t

existing_option = click.option(
    "--existing",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Existing network: stations on air (CSV/XLSX/Parquet; 站址编码, 经度, 纬度, 坐标系, 频段, 挂高, 下倾角, 状态), counted "
    "inside the district and within [coverage] existing_margin_m (3 km) outside it. Default: [coverage] existing in rollout.toml.",
)
clutter_option = click.option(
    "--clutter",
    default=None,
    help="Clutter classes: a polygon file (GeoJSON/GeoPackage with a 地物类型/clutter column), or 'osm' to measure "
    "building density from OpenStreetMap (online; kept in boundaries/clutter_osm.geojson). Default: [coverage] clutter, "
    "else the clutter column of streets.csv.",
)


def read_existing_network(project, path: Path | None, *, crs: str | None, lang: Lang, echo=click.echo):
    """The existing network named by ``--existing`` or rollout.toml, reported on the terminal; None if neither."""
    from rollout.coverage import load_coverage_settings
    from rollout.network import read_existing

    settings = load_coverage_settings(project.config)
    path = path or settings.existing
    if path is None:
        return None
    district = project.config.district_name if lang == "zh" else project.config.district_name_en
    network = read_existing(path, project.streets, margin_m=settings.existing_margin_m, crs=crs, district=district, lang=lang)
    for line in load_lines(network.load, lang):
        echo(line)
    echo(t("planning.existing.summary", lang, inside=network.inside, outside=network.outside, km=network.margin_m / 1000))
    for code, params in network.warnings():
        echo(t(f"planning.{code}", lang, **params), err=True)
    return network


def load_clutter_option(project, value: str | None, *, lang: Lang, echo=click.echo):
    """The clutter map for ``--clutter`` (a file, or ``osm``), or None for rollout.toml's / the streets'."""
    from rollout.boundaries import read_street_table
    from rollout.clutter import ClutterFetchError, ClutterMap, fetch_building_clutter, load_clutter
    from rollout.coverage import load_coverage_settings

    if value is None:
        return None
    settings = load_coverage_settings(project.config)
    table = read_street_table(project.config)
    if value.strip().lower() == "osm":
        try:
            polygons = fetch_building_clutter(project.streets)
        except ClutterFetchError as e:
            echo(t("coverage.clutter_offline", lang, error=str(e)), err=True)
            return load_clutter(project.config, table, default=settings.default_clutter)
        path = write_osm_clutter(polygons, project.config.data_dir / "boundaries" / "clutter_osm.geojson")
        echo(t("coverage.clutter_fetched", lang, n=len(polygons), path=str(path)))
        base = load_clutter(project.config, table, default=settings.default_clutter)
        return ClutterMap(polygons, base.by_street, base.default, "osm", str(path))
    path = Path(value)
    if not path.is_file():
        raise click.BadParameter(t("coverage.clutter_missing", lang, path=value), param_hint="--clutter")
    return load_clutter(project.config, table, path=path, default=settings.default_clutter)


def write_osm_clutter(polygons, path: Path) -> Path:
    """Keep the clutter measured from OpenStreetMap, so later runs need no network."""
    from rollout.io import atomic_path

    with atomic_path(path) as tmp:
        polygons.to_file(tmp, driver="GeoJSON")
    return path


def clutter_line(source: str, counts: dict[str, int], lang: Lang) -> str:
    """Where the clutter classes came from and how the grid divides between them."""
    shares = (
        "，".join(f"{t(f'coverage.clutter.{c}', lang)} {n}" for c, n in sorted(counts.items()))
        if lang == "zh"
        else ", ".join(f"{t(f'coverage.clutter.{c}', lang)} {n}" for c, n in sorted(counts.items()))
    )
    return t(f"coverage.clutter_source.{source}", lang, shares=shares)


def load_lines(load, lang: Lang, *, limit: int = 10) -> list[str]:
    """A planning table's counts, then its first rejects."""
    from rollout.measurements import reject_reasons

    counts = load.counts
    label = load.kind.label_zh if lang == "zh" else load.kind.label_en
    lines = [t("planning.load.summary", lang, file=str(load.path), label=label, **counts)]
    for code, params in load.notes:
        lines.append("  " + t(f"planning.{code}", lang, **params))
    if len(load.rejects):
        reasons = reject_reasons(load.rejects, lang)
        for (_, row), reason in list(zip(load.rejects.iterrows(), reasons, strict=True))[:limit]:
            lines.append(
                "  "
                + t("planning.load.rejected", lang, row=int(row["row"]), column=row["column"], value=str(row["value"])[:60], reason=reason)
            )
        if len(load.rejects) > limit:
            lines.append("  " + t("planning.load.more", lang, n=len(load.rejects) - limit))
    if len(load.ignored):
        first = load.ignored.drop_duplicates("reason_code")
        counts = load.ignored["reason_code"].value_counts()
        for (_, row), reason in zip(first.iterrows(), reject_reasons(first, lang), strict=True):
            lines.append("  " + t("planning.load.ignored", lang, n=int(counts[row["reason_code"]]), reason=reason))
    return lines


def rejects_table(loads, lang: Lang):
    """Every rejected or ignored row of the planning tables, with the reason in words (a DataFrame)."""
    import pandas as pd

    from rollout.measurements import reject_reasons

    frames = []
    for load in loads:
        if load is None:
            continue
        for frame, severity in ((load.rejects, "rejected"), (load.ignored, "ignored")):
            if len(frame):
                frames.append(frame.assign(severity=t(f"planning.severity.{severity}", lang), reason=reject_reasons(frame, lang)))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).drop(columns="params")
