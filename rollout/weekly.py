"""The weekly coverage pack: one folder per ISO week with the map, tables, chart and summary.

:func:`weekly_pack` builds everything in memory from a loaded :class:`~rollout.pipeline.Project`;
:func:`write_weekly_pack` writes ``<out>/<YYYY-Www>/`` as a whole (assembled in a temporary
folder and swapped in, so a failure leaves the previous pack as it was) and the list of packs.
Same inputs give the same HTML, CSV, Markdown and PNG bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from rollout import labels
from rollout.charts import burnup_png, burnup_series
from rollout.errors import InvalidValueError
from rollout.executors import here, in_background
from rollout.exports import progress_table, records_table
from rollout.i18n import Lang, t
from rollout.pipeline import Project
from rollout.progress import street_rows, total_row
from rollout.schema import GARAGE, MACRO, SiteKind
from rollout.status import done_counts, status_as_of
from rollout.writers import GeoLayers, Table, write_file, write_folder, write_text

if TYPE_CHECKING:
    from rollout.network import ExistingNetwork

__all__ = [
    "PACK_FILES",
    "WeeklyPack",
    "build_weekly_pack",
    "burnup_chart",
    "is_week_folder",
    "iso_week",
    "status_changes",
    "week_days",
    "week_end",
    "week_notes",
    "week_subtitle",
    "weekly_pack",
    "write_weekly_pack",
]

_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)
PACK_FILES = (
    "index.html",
    "progress.csv",
    "progress.xlsx",
    "changes.csv",
    "changes_by_street.csv",
    "burnup.png",
    "summary.md",
    "sites.gpkg",
    "brief.docx",
    "brief.pdf",
)


def iso_week(day: dt.date) -> str:
    """The ISO week of ``day`` as ``YYYY-Www``.

    >>> iso_week(dt.date(2024, 6, 30))
    '2024-W26'
    """
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def is_week_folder(name: str) -> bool:
    """Whether a folder name is a pack's ISO week (``2024-W26``)."""
    return bool(_WEEK.match(name))


def week_end(week: str) -> dt.date:
    """The last day (Sunday) of an ISO week written ``2024-W26``.

    >>> week_end("2024-W26")
    datetime.date(2024, 6, 30)
    """
    match = _WEEK.match(week.strip())
    if not match:
        raise InvalidValueError("errors.week_format", value=week)
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 7)
    except ValueError as e:
        raise InvalidValueError("errors.week_invalid", value=week, year=match.group(1), week=match.group(2)) from e


def week_days(week: str) -> tuple[dt.date, dt.date]:
    """The first (Monday) and last (Sunday) day of an ISO week; at the year's end they can lie
    in two calendar years.

    >>> week_days("2025-W01")
    (datetime.date(2024, 12, 30), datetime.date(2025, 1, 5))
    """
    end = week_end(week)
    return end - dt.timedelta(days=6), end


def week_subtitle(week: str, as_of: dt.date, *, lang: Lang) -> str:
    """The pack's subtitle: the ISO week, the days it covers, the day the numbers are for.

    >>> week_subtitle("2025-W01", dt.date(2024, 12, 31), lang="zh")
    '2025-W01（2024-12-30 至 2025-01-05）· 截至 2024-12-31'
    """
    first, last = week_days(week)
    return t("weekly.subtitle", lang, week=week, first=first.isoformat(), last=last.isoformat(), date=as_of.isoformat())


def week_notes(week: str, as_of: dt.date, *, lang: Lang) -> list[str]:
    """A note when ``as_of`` lies in another ISO year than its calendar year (the last days of
    December can belong to week 1 of the next year, the first days of January to week 52 or 53
    of the one before), so that nobody reads 2025-W01 as a mistake for a December report.

    >>> week_notes("2025-W01", dt.date(2024, 12, 31), lang="en")
    ['ISO weeks start on Monday and belong to the year of their Thursday: 2024-12-31 is in week 1 of 2025 (2025-W01).']
    """
    iso_year, number, _ = as_of.isocalendar()
    if iso_year == as_of.year:
        return []
    return [t("weekly.iso_year_note", lang, date=as_of.isoformat(), year=iso_year, number=number, week=week)]


def status_changes(records: pd.DataFrame, kind: SiteKind, before: dt.date, after: dt.date) -> pd.DataFrame:
    """Records whose status on ``after`` differs from their status on ``before``.

    Columns: ``kind``, ``record_id``, ``name``, ``street_code``, ``street_name``, ``from``, ``to``,
    ``date`` (the milestone or status date that made the change, else ``after``).
    """
    columns = ["kind", "record_id", "name", "street_code", "street_name", "from", "to", "date"]
    if records.empty:
        return pd.DataFrame(columns=columns)
    old = status_as_of(records, kind, before)
    new = status_as_of(records, kind, after)
    moved = old != new
    rows = records[moved]
    milestone = dict(kind.ladder)
    dates = []
    for index, status in new[moved].items():
        column = milestone.get(status) or "status_date"
        value: Any = rows.at[index, column] if column in rows.columns else pd.NaT
        dates.append(pd.Timestamp(value).date().isoformat() if pd.notna(value) else after.isoformat())
    table = pd.DataFrame(
        {
            "kind": kind.name,
            "record_id": rows[kind.id_field].astype(str),
            "name": rows["name"].astype(str) if "name" in rows else "",
            "street_code": rows["street_code"],
            "street_name": rows["street_name"],
            "from": old[moved],
            "to": new[moved],
            "date": dates,
        }
    )
    return table.sort_values(["street_code", "record_id"], kind="stable")[columns].reset_index(drop=True)


@dataclass(frozen=True)
class WeeklyPack:
    """A pack: its numbers, and its files in memory (name -> artefact) until written."""

    week: str
    as_of: dt.date
    progress: pd.DataFrame
    changes: pd.DataFrame
    files: dict[str, Any] = field(repr=False)
    lang: Lang = "zh"
    #: Where the pack was written (None until it is).
    folder: Path | None = None


def weekly_pack(
    project: Project,
    *,
    week: str | None = None,
    basemap: str | None = None,
    existing: ExistingNetwork | None = None,
    lang: Lang = "zh",
) -> WeeklyPack:
    """Build the pack for the week of ``project.as_of`` (or ``week``), in memory.

    ``basemap`` defaults to ``[map] basemap`` of rollout.toml (else OpenStreetMap); ``existing``
    (the existing network) adds its stations to the map's coverage and gap layers.
    """
    from rollout.basemaps import check_basemap
    from rollout.coverage import coverage_analysis
    from rollout.maps import build_map, render_map

    basemap = basemap or project.config.map_basemap
    check_basemap(basemap, tianditu_key=project.config.tianditu_key)  # before the slow steps
    as_of = project.as_of
    week = week or iso_week(as_of)
    progress = project.progress()
    previous = as_of - dt.timedelta(days=7)
    macro, garage = project.macro.records, project.garage.records
    changes = pd.concat([status_changes(macro, MACRO, previous, as_of), status_changes(garage, GARAGE, previous, as_of)], ignore_index=True)
    config = project.config
    district = config.district(lang)
    title = t("weekly.title", lang, district=district)
    subtitle = week_subtitle(week, as_of, lang=lang)
    # The chart is the slowest file (matplotlib's import and drawing): draw it alongside the rest.
    chart_title = t("weekly.chart.title", lang, title=title, subtitle=subtitle)
    burnup = in_background(burnup_png, *_burnup_data(project, progress, lang=lang), title=chart_title, lang=lang)
    coverage = in_background(coverage_analysis, project, existing=existing)
    # The leaders' one-page brief (its numbers, chart, Word and PDF layout) is the next slowest: alongside too.
    # (Only where a forked process can run Typst: not once this process has laid out a page with it.)
    from rollout.typst_pdf import may_fork

    brief = (in_background if may_fork() else here)(_brief_files, project, week, lang)
    register_layers = []
    if project.register is not None:  # records from the register: its open conflicts on the map
        from rollout.register.weekly import conflict_layers

        register_layers = conflict_layers(project.register.conflicts, basemap=basemap, lang=lang)
    # The files that need no coverage first, while the coverage is computed alongside.
    summary = _summary(project, progress, changes, week=week, title=title, lang=lang)
    if project.register is not None:  # the 本周报送 section
        from rollout.register.weekly import weekly_section

        summary += weekly_section(project, lang=lang)
    others: dict[str, Any] = {
        "progress.csv": progress_table(progress, fmt="csv", lang=lang),
        "progress.xlsx": progress_table(progress, fmt="xlsx", lang=lang, approximate=project.approximate),
        "changes.csv": Table(_changes_for_people(changes, lang), headers=labels.headers(changes.columns, lang, family="change_column")),
        "changes_by_street.csv": Table(_changes_by_street(changes, progress)),
        "summary.md": summary,
        "sites.gpkg": _geopackage(project, progress),
    }
    fmap = build_map(
        project.streets,
        progress,
        macro,
        garage,
        as_of=as_of,
        title=title,
        subtitle=subtitle,
        notes=week_notes(week, as_of, lang=lang),
        changed={k: set(changes.loc[changes["kind"] == k, "record_id"]) for k in ("macro", "garage")},
        basemap=basemap,
        tianditu_key=project.config.tianditu_key,
        approximate=project.approximate,
        coverage=coverage.result(),
        aggregate_above=config.map_aggregate_above,
        layers=register_layers,
        lang=lang,
    )
    files: dict[str, Any] = {"index.html": render_map(fmap), **others}
    files |= brief.result()
    files["burnup.png"] = burnup.result()
    return WeeklyPack(week=week, as_of=as_of, progress=progress, changes=changes, files=files, lang=lang)


def _brief_files(project: Project, week: str, lang: Lang) -> dict[str, bytes]:
    from rollout.brief import brief_files, leaders_brief

    return brief_files(leaders_brief(project, week=week), lang=lang)


def write_weekly_pack(pack: WeeklyPack, out_root: Path | str) -> WeeklyPack:
    """Write the pack to ``out_root/<week>/`` as a whole, then the list of packs."""
    out_root = Path(out_root)
    from rollout.pack_index import pack_index

    folder = write_folder(out_root / pack.week, pack.files, write=write_file)
    write_text(out_root / "index.html", pack_index(out_root, lang=pack.lang))
    return replace(pack, folder=folder)


def build_weekly_pack(
    project: Project,
    out_root: Path | str,
    *,
    week: str | None = None,
    basemap: str | None = None,
    existing: ExistingNetwork | None = None,
    lang: Lang = "zh",
) -> WeeklyPack:
    """Build the pack (:func:`weekly_pack`) and write it under ``out_root`` (:func:`write_weekly_pack`)."""
    return write_weekly_pack(weekly_pack(project, week=week, basemap=basemap, existing=existing, lang=lang), out_root)


def burnup_chart(project: Project, *, lang: Lang = "zh") -> bytes:
    """The pack's burn-up chart (PNG) for ``project``'s day, drawn in this process (the web dashboard's)."""
    title = t("weekly.title", lang, district=project.config.district(lang))
    return burnup_png(*_burnup_data(project, project.progress(), lang=lang), title=title, lang=lang)


def _changes_for_people(changes: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Statuses and kinds in words; the headers are renamed by the table's ``headers``."""
    return labels.render_codes(changes, lang)


def _changes_by_street(changes: pd.DataFrame, progress: pd.DataFrame) -> pd.DataFrame:
    streets = street_rows(progress)[["street_code", "street_name"]]
    counts = {"street_code": streets["street_code"].tolist(), "street_name": streets["street_name"].tolist()}
    for kind in (MACRO, GARAGE):
        mine = changes[changes["kind"] == kind.name]
        done = mine[mine["to"].isin(kind.done) & ~mine["from"].isin(kind.done)]
        counts[f"{kind.name}_changes"] = mine.groupby("street_code").size().reindex(streets["street_code"], fill_value=0).tolist()
        counts[f"{kind.name}_newly_done"] = done.groupby("street_code").size().reindex(streets["street_code"], fill_value=0).tolist()
    table = pd.DataFrame(counts)
    top = total_row(progress)
    total = {"street_code": top["street_code"], "street_name": top["street_name"]}
    total |= {c: int(table[c].sum()) for c in table.columns if c.endswith(("_changes", "_done"))}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def _burnup_data(project: Project, progress: pd.DataFrame, *, lang: Lang) -> tuple[Any, ...]:
    """What the burn-up chart draws: done per street and for the district every week, counted in
    one pass per kind (:func:`rollout.status.done_counts`), with targets and street names."""
    config = project.config
    weeks = [d.date() for d in pd.date_range(config.start, project.as_of, freq="W-SUN")]
    if not weeks or weeks[-1] != project.as_of:
        weeks.append(project.as_of)
    streets = street_rows(progress)
    district = str(total_row(progress)["street_code"])
    codes = list(streets["street_code"])
    done: dict[str, pd.DataFrame] = {}
    for kind, records in ((MACRO, project.macro.records), (GARAGE, project.garage.records)):
        if "counts_toward_target" in records.columns:
            records = records[records["counts_toward_target"].astype(bool)]
        table = done_counts(records, kind, weeks, codes)
        table[district] = table.sum(axis=1)
        done[kind.name] = table[[*codes, district]]
    series = burnup_series(weeks, done)
    targets = progress.set_index("street_code")[["macro_target", "garage_target"]]
    name_column = labels.street_name_column(lang)
    names = dict(zip(progress["street_code"], progress[name_column], strict=True))
    ordered = {district: names[district], **{c: names[c] for c in codes}}
    return series, targets, ordered, config.start, config.deadline, project.as_of


def _summary(project: Project, progress: pd.DataFrame, changes: pd.DataFrame, *, week: str, title: str, lang: Lang) -> str:
    total = total_row(progress)
    streets = street_rows(progress)
    name = labels.street_name_column(lang)
    lines = [f"# {title}", "", week_subtitle(week, project.as_of, lang=lang), ""]
    if notes := week_notes(week, project.as_of, lang=lang):
        lines += [*(f"> {note}" for note in notes), ""]
    if project.approximate:
        lines += [f"> {t('labels.note', lang, text=labels.approximate_note(lang))}", ""]
    for kind in ("macro", "garage"):
        lines.append(
            t(
                "weekly.summary.kind_line",
                lang,
                label=t(f"weekly.summary.{kind}", lang),
                done=int(total[f"{kind}_done"]),
                target=int(total[f"{kind}_target"]),
                pct=total[f"{kind}_pct"],
                expected=total[f"{kind}_expected"],
                pace=labels.pace(total[f"{kind}_pace"], lang),
                vs_plan=total[f"{kind}_vs_plan"],
            )
        )
    lines.append("")
    none = t("labels.none", lang)
    for kind in ("macro", "garage"):
        ahead = streets[streets[f"{kind}_pace"] == "ahead"][name].tolist()
        behind = streets.loc[streets[f"{kind}_pace"] == "behind"].sort_values(f"{kind}_vs_plan")
        behind_text = labels.join(
            (
                t("weekly.summary.behind_street", lang, name=n, vs_plan=v)
                for n, v in zip(behind[name], behind[f"{kind}_vs_plan"], strict=True)
            ),
            lang,
        )
        lines.append(
            t(
                "weekly.summary.ahead_behind",
                lang,
                kind=labels.kind(kind, lang),
                ahead=labels.join(ahead, lang) or none,
                behind=behind_text or none,
            )
        )
    lines.append("")
    new_macro = changes[(changes["kind"] == "macro") & changes["to"].isin(MACRO.done)]
    new_garage = changes[(changes["kind"] == "garage") & changes["to"].isin(GARAGE.done) & ~changes["from"].isin(GARAGE.done)]
    blocked = changes[changes["to"] == "blocked"]
    lines.append(
        t("weekly.summary.changes", lang, changes=len(changes), macro=len(new_macro), garage=len(new_garage), blocked=len(blocked))
    )
    lines.append(t("weekly.summary.blocked_now", lang, macro=int(total["macro_blocked"]), garage=int(total["garage_blocked"])))
    blockers = []
    for site_kind, records in ((MACRO, project.macro.records), (GARAGE, project.garage.records)):
        if records.empty:
            continue
        states = status_as_of(records, site_kind, project.as_of)
        for _, row in records[states.eq("blocked").to_numpy()].sort_values("street_code").iterrows():
            blockers.append(
                t(
                    "weekly.summary.blocked_item",
                    lang,
                    street=_md_text(row["street_name"]),
                    record_id=_md_text(row[site_kind.id_field]),
                    name=_md_text(row.get("name", "")),
                    reason=_md_text(row.get("blocker", "")) or t("weekly.summary.no_reason", lang),
                )
            )
    if blockers:
        lines.append(t("weekly.summary.blocked_list", lang))
        lines.extend(blockers)
    return "\n".join(lines) + "\n"


def _md_text(value: object) -> str:
    """Text from site files, made inert in Markdown (no links, HTML or emphasis)."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = html.escape(text.replace("\n", " ").strip())
    return re.sub(r"([\\`*_{}\[\]()#+!|])", r"\\\1", text)


def _geopackage(project: Project, progress: pd.DataFrame) -> GeoLayers:
    """Layers for QGIS: streets with progress, and both kinds of records with their state that
    day (no contact names or phone numbers)."""
    streets = project.streets.merge(progress.drop(columns=["street_name", "street_name_en"]), on="street_code", how="left")
    layers = {"streets": gpd.GeoDataFrame(streets, geometry="geometry", crs=4326)}
    for load in (project.macro, project.garage):
        table = records_table(load)
        if load.kind.name == "garage":
            table = table.drop(columns=[c for c in ("contact", "phone") if c in table.columns])
        table.insert(4, "status_as_of", status_as_of(load.records, load.kind, project.as_of).to_numpy() if len(load.records) else [])
        layers[{"macro": "macro_stations", "garage": "garage_compounds"}[load.kind.name]] = table
    return GeoLayers(layers)
