"""The weekly coverage pack: one folder per ISO week with the map, tables, chart and summary.

:func:`weekly_pack` builds everything in memory from a loaded :class:`~rollout.pipeline.Project`;
:func:`write_weekly_pack` writes ``<out>/<YYYY-Www>/`` as a whole (assembled in a temporary
folder and swapped in, so a failure leaves the previous pack as it was) and the list of packs.
Same inputs give the same HTML, CSV, Markdown and PNG bytes. The ISO weeks are
:mod:`rollout.weeks`'; the summary, the changes tables and the GeoPackage :mod:`rollout.weekly_files`'.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rollout import labels
from rollout.burnup import burnup_series, burnup_values
from rollout.charts import Burnup, burnup_png
from rollout.executors import Owed
from rollout.exports import progress_table
from rollout.i18n import Lang, t
from rollout.pipeline import Project
from rollout.progress import street_rows, total_row
from rollout.schema import GARAGE, MACRO, SiteKind
from rollout.status import done_counts, status_as_of
from rollout.weekly_files import changes_by_street, changes_for_people, pack_geopackage, summary_markdown
from rollout.weeks import is_week_folder, iso_week, week_days, week_end, week_notes, week_subtitle
from rollout.writers import Table, write_file, write_folder, write_text

if TYPE_CHECKING:
    from rollout.executors import Helper
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


#: The order the files are written in: this process's first, then the helper's (drawn meanwhile),
#: then the map (modelled and drawn meanwhile by the map helper, the longest).
_WRITTEN_IN_ORDER = (
    "progress.csv",
    "changes.csv",
    "changes_by_street.csv",
    "summary.md",
    "sites.gpkg",
    "burnup.png",
    "progress.xlsx",
    "brief.docx",
    "brief.pdf",
    "index.html",
)


def weekly_pack(
    project: Project,
    *,
    week: str | None = None,
    basemap: str | None = None,
    existing: ExistingNetwork | None = None,
    lang: Lang = "zh",
    helper: Helper | None = None,
    mapper: Helper | None = None,
) -> WeeklyPack:
    """Build the pack for the week of ``project.as_of`` (or ``week``), in memory.

    ``basemap`` defaults to ``[map] basemap`` of rollout.toml (else OpenStreetMap); ``existing``
    (the existing network) adds its stations to the map's coverage and gap layers. The chart, the
    brief and the workbook are made by ``helper`` (a :func:`rollout.weekly_helper.pack_helper`
    started before the project was loaded, so that it is ready), else by one started now; the
    coverage and the map by ``mapper`` (a :func:`rollout.weekly_map.map_helper`, started
    likewise), else here, while the helper draws.
    """
    basemap = _checked_basemap(project, basemap)  # before the slow steps
    with _helping(helper) as helper:
        pack = _pack(project, week=week, basemap=basemap, existing=existing, lang=lang, helper=helper, mapper=mapper)
        return replace(pack, files=_ready(pack.files))


def _checked_basemap(project: Project, basemap: str | None) -> str:
    from rollout.basemaps import check_basemap

    basemap = basemap or project.config.map_basemap
    check_basemap(basemap, tianditu_key=project.config.tianditu_key)
    return basemap


@contextlib.contextmanager
def _helping(helper: Helper | None) -> Iterator[Helper]:
    """``helper``, else one started now (and ended with the block)."""
    if helper is not None:
        yield helper
        return
    from rollout.weekly_helper import pack_helper

    with pack_helper() as own:
        yield own


def _ready(files: dict[str, Any]) -> dict[str, Any]:
    return {name: artefact.result() if isinstance(artefact, Owed) else artefact for name, artefact in files.items()}


def _pack(
    project: Project, *, week: str | None, basemap: str, existing: ExistingNetwork | None, lang: Lang, helper: Helper, mapper: Helper | None
) -> WeeklyPack:
    """The pack, with the helpers' files still owed (see :data:`_WRITTEN_IN_ORDER`)."""
    from rollout.brief import brief_view, leaders_brief
    from rollout.progress_xlsx import progress_sheet
    from rollout.weekly_helper import helper_files
    from rollout.weekly_map import pack_map, sendable

    as_of = project.as_of
    week = week or iso_week(as_of)
    progress = project.progress()
    config = project.config
    district = config.district(lang)
    title = t("weekly.title", lang, district=district)
    subtitle = week_subtitle(week, as_of, lang=lang)
    previous = as_of - dt.timedelta(days=7)
    macro, garage = project.macro.records, project.garage.records
    changes = pd.concat([status_changes(macro, MACRO, previous, as_of), status_changes(garage, GARAGE, previous, as_of)], ignore_index=True)
    # The map first (the longest: its coverage model), then the chart (its values are quick to
    # count) and the brief: the helpers model and draw while this process makes the tables.
    map_call: dict[str, Any] = {
        "existing": existing,
        "changed": {k: set(changes.loc[changes["kind"] == k, "record_id"]) for k in ("macro", "garage")},
        "basemap": basemap,
        "title": title,
        "subtitle": subtitle,
        "notes": week_notes(week, as_of, lang=lang),
        "lang": lang,
    }
    page = mapper.submit(pack_map, project, **map_call) if mapper is not None and mapper.forked and sendable(project) else None
    chart_title = t("weekly.chart.title", lang, title=title, subtitle=subtitle)
    chart = helper.submit(helper_files, chart=_burnup_data(project, progress, lang=lang), chart_title=chart_title, lang=lang)
    view = brief_view(leaders_brief(project, week=week), lang=lang)
    sheet = progress_sheet(progress, lang=lang, approximate=project.approximate)
    documents = helper.submit(helper_files, brief=view, progress=sheet, lang=lang)
    summary = summary_markdown(project, progress, changes, week=week, title=title, lang=lang)
    if project.register is not None:  # the 本周报送 section
        from rollout.register.weekly import weekly_section

        summary += weekly_section(project, lang=lang)
    mine: dict[str, Any] = {
        "index.html": page if page is not None else pack_map(project, **map_call),
        "progress.csv": progress_table(progress, fmt="csv", lang=lang),
        "changes.csv": Table(changes_for_people(changes, lang), headers=labels.headers(changes.columns, lang, family="change_column")),
        "changes_by_street.csv": Table(changes_by_street(changes, progress)),
        "summary.md": summary,
        "sites.gpkg": pack_geopackage(project, progress),
    }
    # The helper's files are owed until written (or asked for): this process writes its own meanwhile.
    owed = {name: _OwedFile(documents, name) for name in ("progress.xlsx", "brief.docx", "brief.pdf")} | {
        "burnup.png": _OwedFile(chart, "burnup.png")
    }
    files = {**mine, **owed}
    files = {name: files[name] for name in _WRITTEN_IN_ORDER}
    return WeeklyPack(week=week, as_of=as_of, progress=progress, changes=changes, files=files, lang=lang)


class _OwedFile(Owed):
    """One file of the files a call to the helper makes."""

    def __init__(self, made: Owed, name: str) -> None:
        self._made, self._name = made, name

    def result(self) -> Any:
        return self._made.result()[self._name]


def write_weekly_pack(pack: WeeklyPack, out_root: Path | str) -> WeeklyPack:
    """Write the pack to ``out_root/<week>/`` as a whole, then the list of packs."""
    out_root = Path(out_root)
    from rollout.pack_index import pack_index

    folder = write_folder(out_root / pack.week, pack.files, write=_write)
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
    helper: Helper | None = None,
    mapper: Helper | None = None,
) -> WeeklyPack:
    """Build the pack (:func:`weekly_pack`) and write it under ``out_root`` (:func:`write_weekly_pack`):
    this process's files are written while the helpers finish theirs."""
    basemap = _checked_basemap(project, basemap)
    with _helping(helper) as helper:
        pack = _pack(project, week=week, basemap=basemap, existing=existing, lang=lang, helper=helper, mapper=mapper)
        written = write_weekly_pack(pack, out_root)
        return replace(written, files=_ready(pack.files))


def _write(path: Path, artefact: Any) -> Path:
    return write_file(path, artefact.result() if isinstance(artefact, Owed) else artefact)


def burnup_chart(project: Project, *, lang: Lang = "zh") -> bytes:
    """The pack's burn-up chart (PNG) for ``project``'s day, drawn in this process (the web dashboard's)."""
    title = t("weekly.title", lang, district=project.config.district(lang))
    return burnup_png(_burnup_data(project, project.progress(), lang=lang), title=title, lang=lang)


def _burnup_data(project: Project, progress: pd.DataFrame, *, lang: Lang) -> Burnup:
    """What the burn-up chart draws: done per street and for the district every week, counted in
    one pass per kind (:func:`rollout.status.done_counts`), as % of the targets, with street names."""
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
    return burnup_values(series, targets, ordered, config.start, config.deadline, project.as_of)
