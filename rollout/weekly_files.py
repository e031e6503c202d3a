"""The weekly pack's summary and tables: ``summary.md``, the changes tables and ``sites.gpkg``.

:mod:`rollout.weekly` assembles the pack; this module makes the files people read or open in
QGIS besides the map, the chart and the brief. Text from site files is made inert in Markdown.
"""

from __future__ import annotations

import html
import re

import geopandas as gpd
import pandas as pd

from rollout import labels
from rollout.exports import records_table
from rollout.i18n import Lang, t
from rollout.pipeline import Project
from rollout.progress import street_rows, total_row
from rollout.schema import GARAGE, MACRO
from rollout.status import status_as_of
from rollout.weeks import week_notes, week_subtitle
from rollout.writers import GeoLayers

__all__ = ["changes_by_street", "changes_for_people", "pack_geopackage", "summary_markdown"]


def changes_for_people(changes: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Statuses and kinds in words; the headers are renamed by the table's ``headers``."""
    return labels.render_codes(changes, lang)


def changes_by_street(changes: pd.DataFrame, progress: pd.DataFrame) -> pd.DataFrame:
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


def summary_markdown(project: Project, progress: pd.DataFrame, changes: pd.DataFrame, *, week: str, title: str, lang: Lang) -> str:
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


def pack_geopackage(project: Project, progress: pd.DataFrame) -> GeoLayers:
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
