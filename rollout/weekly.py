"""The weekly coverage pack: one folder per ISO week with the map, tables, chart and summary.

:func:`build_weekly_pack` computes everything from a loaded :class:`~rollout.pipeline.Project`
and writes ``<out>/<YYYY-Www>/`` atomically: it is assembled in a temporary folder beside
the target and swapped in only when complete, so a failure leaves the previous pack as it
was. Same inputs give the same HTML, CSV, Markdown and PNG bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout import settings
from rollout.boundaries import APPROXIMATE_NOTE
from rollout.charts import burnup_series, plot_burnup
from rollout.coverage import coverage_analysis
from rollout.io import atomic_path, write_table
from rollout.maps import build_map, save_map
from rollout.pipeline import Project
from rollout.progress import PACE_LABELS, street_rows
from rollout.schema import GARAGE, MACRO, SiteKind
from rollout.status import status_as_of
from rollout.writers import records_table, write_progress

__all__ = ["WeeklyPack", "build_weekly_pack", "iso_week", "status_changes", "week_end", "write_pack_index"]

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
)


def iso_week(day: dt.date) -> str:
    """The ISO week of ``day`` as ``YYYY-Www``.

    >>> iso_week(dt.date(2024, 6, 30))
    '2024-W26'
    """
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_end(week: str) -> dt.date:
    """The last day (Sunday) of an ISO week written ``2024-W26``.

    >>> week_end("2024-W26")
    datetime.date(2024, 6, 30)
    """
    match = _WEEK.match(week.strip())
    if not match:
        msg = f"week {week!r}: write it as 2024-W26"
        raise ValueError(msg)
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 7)
    except ValueError as e:
        msg = f"week {week!r}: {e}"
        raise ValueError(msg) from e


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
        value = rows.at[index, column] if column in rows.columns else pd.NaT
        dates.append(value.date().isoformat() if pd.notna(value) else after.isoformat())
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
    """What a pack holds, for callers that want the numbers as well as the files."""

    folder: Path
    week: str
    as_of: dt.date
    progress: pd.DataFrame
    changes: pd.DataFrame


def build_weekly_pack(project: Project, out_root: Path | str, *, week: str | None = None, basemap: str = "osm") -> WeeklyPack:
    """Write the pack for the week of ``project.as_of`` (or ``week``) under ``out_root``."""
    as_of = project.as_of
    week = week or iso_week(as_of)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    lang = settings.language
    zh = lang == "zh"
    progress = project.progress()
    previous = as_of - dt.timedelta(days=7)
    macro, garage = project.macro.records, project.garage.records
    changes = pd.concat([status_changes(macro, MACRO, previous, as_of), status_changes(garage, GARAGE, previous, as_of)], ignore_index=True)
    config = project.config
    district = config.district_name if zh else config.district_name_en
    title = f"{district} 5G宏站与车库覆盖周报" if zh else f"{district} 5G and garage coverage"
    subtitle = f"{week} · 截至 {as_of.isoformat()}" if zh else f"{week} · as of {as_of.isoformat()}"
    folder = out_root / week
    staging = Path(tempfile.mkdtemp(prefix=f".{week}.", dir=out_root))
    try:
        fmap = build_map(
            project.streets,
            progress,
            macro,
            garage,
            as_of=as_of,
            title=title,
            subtitle=subtitle,
            changed={k: set(changes.loc[changes["kind"] == k, "record_id"]) for k in ("macro", "garage")},
            basemap=basemap,
            approximate=project.approximate,
            coverage=coverage_analysis(project),
            aggregate_above=config.map_aggregate_above,
        )
        if project.register is not None:  # records from the register: its conflicts on the map
            from rollout.register.weekly import add_conflict_layer

            add_conflict_layer(fmap, project, basemap=basemap, lang=lang)
        save_map(fmap, staging / "index.html")
        write_progress(progress, staging / "progress.csv", approximate=project.approximate)
        write_progress(progress, staging / "progress.xlsx", approximate=project.approximate)
        write_table(_localised_changes(changes), staging / "changes.csv")
        write_table(_changes_by_street(changes, progress), staging / "changes_by_street.csv")
        _burnup(project, progress, staging / "burnup.png", title=title)
        summary = _summary(project, progress, changes, week=week, title=title)
        if project.register is not None:  # the 本周报送 section
            from rollout.register.weekly import weekly_section

            summary += weekly_section(project, lang=lang)
        (staging / "summary.md").write_text(summary, encoding="utf-8")
        _write_geopackage(project, progress, staging / "sites.gpkg")
        staging.chmod(0o755)  # mkdtemp makes it private; a pack is meant to be shared
        _swap_in(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    write_pack_index(out_root)
    return WeeklyPack(folder=folder, week=week, as_of=as_of, progress=progress, changes=changes)


def _swap_in(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging`` with renames only, so a pack is never half-written."""
    if folder.exists():
        retired = folder.with_name(f".{folder.name}.old")
        if retired.exists():
            shutil.rmtree(retired)
        os.replace(folder, retired)
        os.replace(staging, folder)
        shutil.rmtree(retired)
    else:
        os.replace(staging, folder)


def _localised_changes(changes: pd.DataFrame) -> pd.DataFrame:
    kinds = {"macro": MACRO, "garage": GARAGE}
    table = changes.copy()
    lang = settings.language
    for column in ("from", "to"):
        table[column] = [kinds[k].status_label(s, lang) for k, s in zip(table["kind"], table[column], strict=True)]
    if lang == "zh":
        table["kind"] = table["kind"].map({"macro": "宏站", "garage": "车库"})
        table = table.rename(
            columns={
                "kind": "类型",
                "record_id": "编码",
                "name": "名称",
                "street_code": "街道代码",
                "street_name": "街道",
                "from": "原状态",
                "to": "新状态",
                "date": "日期",
            }
        )
    return table


def _changes_by_street(changes: pd.DataFrame, progress: pd.DataFrame) -> pd.DataFrame:
    streets = street_rows(progress)[["street_code", "street_name"]]
    counts = {"street_code": streets["street_code"].tolist(), "street_name": streets["street_name"].tolist()}
    for kind in (MACRO, GARAGE):
        mine = changes[changes["kind"] == kind.name]
        done = mine[mine["to"].isin(kind.done) & ~mine["from"].isin(kind.done)]
        counts[f"{kind.name}_changes"] = mine.groupby("street_code").size().reindex(streets["street_code"], fill_value=0).tolist()
        counts[f"{kind.name}_newly_done"] = done.groupby("street_code").size().reindex(streets["street_code"], fill_value=0).tolist()
    table = pd.DataFrame(counts)
    total = {"street_code": progress["street_code"].iloc[-1], "street_name": progress["street_name"].iloc[-1]}
    total |= {c: int(table[c].sum()) for c in table.columns if c.endswith(("_changes", "_done"))}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def _burnup(project: Project, progress: pd.DataFrame, path: Path, *, title: str) -> None:
    config = project.config
    weeks = [d.date() for d in pd.date_range(config.start, project.as_of, freq="W-SUN")]
    if not weeks or weeks[-1] != project.as_of:
        weeks.append(project.as_of)
    codes = [*street_rows(progress)["street_code"], progress["street_code"].iloc[-1]]
    district = codes[-1]
    done: dict[str, pd.DataFrame] = {}
    for kind, records in ((MACRO, project.macro.records), (GARAGE, project.garage.records)):
        if "counts_toward_target" in records.columns:
            records = records[records["counts_toward_target"].astype(bool)]
        table = pd.DataFrame(0, index=weeks, columns=codes)
        for day in weeks:
            states = status_as_of(records, kind, day) if len(records) else pd.Series(dtype=object)
            per_street = (
                records.loc[states.isin(kind.done).to_numpy(), "street_code"].value_counts() if len(records) else pd.Series(dtype=int)
            )
            table.loc[day, per_street.index] = per_street.to_numpy()
            table.loc[day, district] = int(per_street.sum())
        done[kind.name] = table
    series = burnup_series(weeks, done)
    targets = progress.set_index("street_code")[["macro_target", "garage_target"]]
    zh = settings.language == "zh"
    names = dict(zip(progress["street_code"], progress["street_name"] if zh else progress["street_name_en"], strict=True))
    names = {district: names[district], **{c: names[c] for c in codes[:-1]}}
    plot_burnup(series, targets, names, start=config.start, deadline=config.deadline, as_of=project.as_of, title=title, path=path)


def _summary(project: Project, progress: pd.DataFrame, changes: pd.DataFrame, *, week: str, title: str) -> str:
    zh = settings.language == "zh"
    total = progress.iloc[-1]
    streets = street_rows(progress)
    name = "street_name" if zh else "street_name_en"
    lines = [f"# {title}", "", f"{week} · {'截至' if zh else 'as of'} {project.as_of.isoformat()}", ""]
    if project.approximate:
        lines += [f"> {'注：' if zh else 'Note: '}{APPROXIMATE_NOTE['zh' if zh else 'en']}", ""]
    for kind, label in (("macro", "5G宏站" if zh else "5G macro stations"), ("garage", "车库覆盖" if zh else "Garage coverage")):
        pct = total[f"{kind}_pct"]
        pace = PACE_LABELS[total[f"{kind}_pace"]][0 if zh else 1]
        if zh:
            lines.append(
                f"- **{label}**：完成 {int(total[f'{kind}_done'])}/{int(total[f'{kind}_target'])}（{pct:.1f}%），"
                f"按线性计划应完成 {total[f'{kind}_expected']:.1f}，{pace}（{total[f'{kind}_vs_plan']:+.1f}）。"
            )
        else:
            lines.append(
                f"- **{label}**: {int(total[f'{kind}_done'])}/{int(total[f'{kind}_target'])} done ({pct:.1f}%), "
                f"{total[f'{kind}_expected']:.1f} expected on the linear plan: {pace} ({total[f'{kind}_vs_plan']:+.1f})."
            )
    lines.append("")
    for kind, label in (("macro", "宏站" if zh else "macro"), ("garage", "车库" if zh else "garage")):
        ahead = streets[streets[f"{kind}_pace"] == "ahead"][name].tolist()
        behind = streets.loc[streets[f"{kind}_pace"] == "behind"].sort_values(f"{kind}_vs_plan")
        behind_text = (
            "、".join(f"{n}（{v:+.1f}）" for n, v in zip(behind[name], behind[f"{kind}_vs_plan"], strict=True))
            if zh
            else ", ".join(f"{n} ({v:+.1f})" for n, v in zip(behind[name], behind[f"{kind}_vs_plan"], strict=True))
        )
        if zh:
            lines.append(f"- {label}超前街道：{'、'.join(ahead) or '无'}；落后街道：{behind_text or '无'}。")
        else:
            lines.append(f"- {label} ahead: {', '.join(ahead) or 'none'}; behind: {behind_text or 'none'}.")
    lines.append("")
    new_macro = changes[(changes["kind"] == "macro") & changes["to"].isin(MACRO.done)]
    new_garage = changes[(changes["kind"] == "garage") & changes["to"].isin(GARAGE.done) & ~changes["from"].isin(GARAGE.done)]
    blocked = changes[changes["to"] == "blocked"]
    if zh:
        lines.append(
            f"- 本周状态变化 {len(changes)} 条：新开通宏站 {len(new_macro)} 个，新完成车库覆盖 {len(new_garage)} 个，新增受阻 {len(blocked)} 个。"
        )
        lines.append(f"- 当前受阻：宏站 {int(total['macro_blocked'])} 个，车库 {int(total['garage_blocked'])} 个。")
    else:
        lines.append(
            f"- {len(changes)} status changes this week: {len(new_macro)} macro stations on air, "
            f"{len(new_garage)} garages covered, {len(blocked)} newly blocked."
        )
        lines.append(f"- Blocked now: {int(total['macro_blocked'])} macro stations, {int(total['garage_blocked'])} garage compounds.")
    blockers = []
    for kind, records in (("macro", project.macro.records), ("garage", project.garage.records)):
        if records.empty:
            continue
        states = status_as_of(records, MACRO if kind == "macro" else GARAGE, project.as_of)
        for _, row in records[states.eq("blocked").to_numpy()].sort_values("street_code").iterrows():
            reason = _md_text(row.get("blocker", "")) or ("未填写原因" if zh else "no reason given")
            blockers.append(
                f"  - {_md_text(row['street_name'])} · {_md_text(row[MACRO.id_field if kind == 'macro' else GARAGE.id_field])} {_md_text(row.get('name', ''))}：{reason}"
            )
    if blockers:
        lines.append("- 受阻清单：" if zh else "- Blocked records:")
        lines.extend(blockers)
    return "\n".join(lines) + "\n"


def _md_text(value: object) -> str:
    """Text from site files, made inert in Markdown (no links, HTML or emphasis)."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = html.escape(text.replace("\n", " ").strip())
    return re.sub(r"([\\`*_{}\[\]()#+!|])", r"\\\1", text)


def _write_geopackage(project: Project, progress: pd.DataFrame, path: Path) -> None:
    streets = project.streets.merge(progress.drop(columns=["street_name", "street_name_en"]), on="street_code", how="left")
    layers = {"streets": gpd.GeoDataFrame(streets, geometry="geometry", crs=4326)}
    for load in (project.macro, project.garage):
        table = records_table(load)
        if load.kind.name == "garage":
            table = table.drop(columns=[c for c in ("contact", "phone") if c in table.columns])
        table.insert(4, "status_as_of", status_as_of(load.records, load.kind, project.as_of).to_numpy() if len(load.records) else [])
        for column in table.columns:
            if str(table[column].dtype) == "Int64":
                table[column] = table[column].astype("float64")
        layers[{"macro": "macro_stations", "garage": "garage_compounds"}[load.kind.name]] = table
    with atomic_path(path) as tmp:
        for name, layer in layers.items():
            layer.to_file(tmp, layer=name, driver="GPKG")


def write_pack_index(out_root: Path | str) -> Path:
    """Write ``<out_root>/index.html``: every weekly pack, newest first."""
    out_root = Path(out_root)
    zh = settings.language == "zh"
    packs = sorted((p for p in out_root.iterdir() if p.is_dir() and _WEEK.match(p.name)), key=lambda p: p.name, reverse=True)
    items = []
    for pack in packs:
        detail = ""
        progress_file = pack / "progress.csv"
        if progress_file.is_file():
            total = pd.read_csv(progress_file, encoding="utf-8-sig", dtype={"street_code": str}).iloc[-1]
            detail = (
                f" — 截至 {total['as_of']}：宏站 {total['macro_done']}/{total['macro_target']}，车库 {total['garage_done']}/{total['garage_target']}"
                if zh
                else f" — as of {total['as_of']}: macro {total['macro_done']}/{total['macro_target']}, garage {total['garage_done']}/{total['garage_target']}"
            )
        items.append(f'<li><a href="{html.escape(pack.name)}/index.html">{html.escape(pack.name)}</a>{html.escape(detail)}</li>')
    title = "周报列表" if zh else "Weekly packs"
    page = (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if zh else "en"}">\n<head><meta charset="utf-8"><title>{title}</title>\n'
        '<style>body{font:15px/1.6 "Noto Sans CJK SC",sans-serif;margin:2em;}li{margin:.3em 0;}</style></head>\n'
        f"<body>\n<h1>{title}</h1>\n<ul>\n" + "\n".join(items) + "\n</ul>\n</body>\n</html>\n"
    )
    path = out_root / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
