"""The register's part of the weekly pack: the 本周报送 section of summary.md (submissions,
overdue senders, open conflicts, regressions, records no longer reported) and a map layer of
the records with open conflicts."""

from __future__ import annotations

import datetime as dt
import html
import re

import pandas as pd

from rollout.i18n import Lang, t
from rollout.register.render import field_label, status_label, value_label

__all__ = ["add_conflict_layer", "weekly_section"]

_LISTED = 20


def weekly_section(project, *, lang: Lang) -> str:
    """Markdown for the week ending ``project.as_of``, read from the register it came from."""
    from rollout.register.queries import changes_between, overdue_senders, submissions_between
    from rollout.register.replay import read_versions
    from rollout.register.store import open_register

    snapshot = project.register
    end = project.as_of
    start = end - dt.timedelta(days=6)
    with open_register(project.config, snapshot.db, lang=lang) as register:
        submitted = submissions_between(register, start, end)
        overdue = overdue_senders(register, end)
        regressions = changes_between(register, start, end, changes=("regressed",))
        with register.read() as conn:
            versions = read_versions(conn, register.tables, as_of=end, columns=["name"])
    missing = versions[versions["state"].eq("missing")]
    lines = ["", f"## {t('register.weekly.heading', lang)}", ""]
    lines += _block(
        t("register.weekly.submissions", lang, count=len(submitted)),
        [
            t(
                "register.weekly.submission_line",
                lang,
                source=_md(r.source),
                kind=t(f"register.kind.{r.kind}", lang),
                file=_md(r.file_name or "—"),
                rows=r.rows,
                loaded=r.loaded,
                rejected=r.rejected,
                day=r.reported_on,
            )
            for r in submitted.itertuples()
        ],
        lang,
    )
    lines += _block(
        t("register.weekly.overdue", lang, count=len(overdue)),
        [
            t(
                "register.weekly.overdue_line",
                lang,
                source=_md(r.source),
                kind=t(f"register.kind.{r.kind}", lang),
                day=r.last_reported,
                weeks=r.weeks_silent,
            )
            for r in overdue.itertuples()
        ],
        lang,
    )
    conflicts = snapshot.conflicts
    lines += _block(
        t("register.weekly.conflicts", lang, count=conflicts[["kind", "record_id"]].drop_duplicates().shape[0]),
        [
            t(
                "register.weekly.conflict_line",
                lang,
                id=_md(r.record_id),
                name=_md(r.name),
                counted=_md(r.counted_source),
                counted_status=status_label(r.kind, r.counted_status, lang),
                other=_md(r.other_source),
                other_status=status_label(r.kind, r.other_status, lang),
                distance=f"{r.distance_m:.0f}",
            )
            for r in conflicts.itertuples()
        ],
        lang,
    )
    lines += _block(
        t("register.weekly.regressions", lang, count=len(regressions)),
        [
            t(
                "register.weekly.change_line",
                lang,
                id=_md(r.record_id),
                source=_md(r.source),
                field=field_label(r.kind, r.field, lang),
                old=_md(value_label(r.kind, r.field, r.old, lang)),
                new=_md(value_label(r.kind, r.field, r.new, lang)) or "—",
            )
            for r in regressions.itertuples()
        ],
        lang,
    )
    lines += _block(
        t("register.weekly.missing", lang, count=len(missing)),
        [
            t(
                "register.weekly.missing_line",
                lang,
                id=_md(r.record_id),
                name=_md(r.name or ""),
                source=_md(r.source),
                kind=t(f"register.kind.{r.kind}", lang),
            )
            for r in missing.itertuples()
        ],
        lang,
    )
    return "\n".join(lines) + "\n"


def add_conflict_layer(fmap, project, *, basemap: str, lang: Lang) -> None:
    """Add a layer (on by default) ringing each record with an open conflict, with a tooltip."""
    import folium

    from rollout.crs import from_wgs84

    conflicts = project.register.conflicts if project.register is not None else pd.DataFrame()
    if conflicts is None or conflicts.empty:
        return
    group = folium.FeatureGroup(name=t("register.weekly.layer", lang), show=True)
    per_record = conflicts.groupby(["kind", "record_id"], sort=True)
    for (kind, record_id), rows in per_record:
        first = rows.iloc[0]
        lon, lat = from_wgs84(
            rows["lon"].to_numpy(dtype=float)[:1], rows["lat"].to_numpy(dtype=float)[:1], "gcj02" if basemap == "gaode" else "wgs84"
        )
        parts = [f"{first['counted_source']} {status_label(kind, first['counted_status'], lang)}"]
        parts += [f"{r.other_source} {status_label(kind, r.other_status, lang)} ({r.distance_m:.0f} m)" for r in rows.itertuples()]
        folium.CircleMarker(
            [float(lat[0]), float(lon[0])],
            radius=14,
            color="#111111",
            weight=2.5,
            dash_array="5 4",
            fill=False,
            class_name="register-conflict",
            tooltip=html.escape(f"{record_id} {first['name']}: " + " / ".join(parts)),
        ).add_to(group)
    # The layer control lists the layers defined before it: put the new layer ahead of it.
    controls = {key: child for key, child in fmap._children.items() if isinstance(child, folium.LayerControl)}
    for key in controls:
        del fmap._children[key]
    group.add_to(fmap)
    for key, control in controls.items():
        fmap.add_child(control, name=key)


def _block(title: str, items: list[str], lang: Lang) -> list[str]:
    lines = [f"- {title}" if items else f"- {title.rstrip('：:')}{'：' if lang == 'zh' else ': '}{t('register.weekly.none', lang)}"]
    lines += [f"  - {item}" for item in items[:_LISTED]]
    if len(items) > _LISTED:
        lines.append(f"  - {t('register.weekly.more', lang, count=len(items) - _LISTED)}")
    return lines


def _md(value: object) -> str:
    """Text from files, made inert in Markdown."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = html.escape(text.replace("\n", " ").strip())
    return re.sub(r"([\\`*_{}\[\]()#+!|])", r"\\\1", text)
