"""The register's part of the weekly pack: the 本周报送 section of summary.md (submissions,
overdue senders, open conflicts, regressions, records no longer reported) and a map layer of
the records with open conflicts."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pandas as pd

from rollout import labels
from rollout.i18n import Lang, t
from rollout.register.render import field_label, value_label

__all__ = ["conflict_layers", "weekly_section"]

_LISTED = 20


def weekly_section(project, *, lang: Lang) -> str:
    """Markdown for the week ending ``project.as_of``, read from the register it came from."""
    from rollout.register.queries import changes_between, overdue_senders, submissions_between
    from rollout.register.replay import read_versions
    from rollout.register.store import open_register

    snapshot = project.register
    end = project.as_of
    start = end - dt.timedelta(days=6)
    with open_register(project.config, snapshot.db) as register:
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
                kind=labels.kind(r.kind, lang),
                file=_md(r.file_name or "—"),
                rows=r.rows,
                loaded=r.loaded,
                rejected=r.rejected,
                day=r.reported_on,
            )
            for r in _rows(submitted)
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
                kind=labels.kind(r.kind, lang),
                day=r.last_reported,
                weeks=r.weeks_silent,
            )
            for r in _rows(overdue)
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
                counted_status=labels.status(r.kind, r.counted_status, lang),
                other=_md(r.other_source),
                other_status=labels.status(r.kind, r.other_status, lang),
                distance=f"{r.distance_m:.0f}",
            )
            for r in _rows(conflicts)
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
            for r in _rows(regressions)
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
                kind=labels.kind(r.kind, lang),
            )
            for r in _rows(missing)
        ],
        lang,
    )
    return "\n".join(lines) + "\n"


def conflict_layers(conflicts: pd.DataFrame, *, basemap: str, lang: Lang) -> list:
    """The map layer (on by default) ringing each record with an open conflict, with a tooltip;
    none when there is no conflict (for :func:`rollout.maps.build_map`'s ``layers``)."""
    import folium

    from rollout.crs import from_wgs84

    if conflicts is None or conflicts.empty:
        return []
    group = folium.FeatureGroup(name=t("register.weekly.layer", lang), show=True)
    per_record = conflicts.groupby(["kind", "record_id"], sort=True)
    for (kind, record_id), rows in per_record:
        first = rows.iloc[0]
        lon, lat = from_wgs84(
            rows["lon"].to_numpy(dtype=float)[:1], rows["lat"].to_numpy(dtype=float)[:1], "gcj02" if basemap == "gaode" else "wgs84"
        )
        parts = [f"{first['counted_source']} {labels.status(str(kind), str(first['counted_status']), lang)}"]
        parts += [f"{r.other_source} {labels.status(str(kind), r.other_status, lang)} ({r.distance_m:.0f} m)" for r in _rows(rows)]
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
    return [group]


def _rows(frame: pd.DataFrame) -> list[Any]:
    """The rows of ``frame`` as named tuples."""
    return list(frame.itertuples())


def _block(title: str, items: list[str], lang: Lang) -> list[str]:
    lines = [f"- {title}" if items else "- " + t("register.weekly.empty", lang, title=title.rstrip("：:"))]
    lines += [f"  - {item}" for item in items[:_LISTED]]
    if len(items) > _LISTED:
        lines.append(f"  - {t('register.weekly.more', lang, count=len(items) - _LISTED)}")
    return lines


def _md(value: object) -> str:
    """Text from files, made inert in Markdown."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = html.escape(text.replace("\n", " ").strip())
    return re.sub(r"([\\`*_{}\[\]()#+!|])", r"\\\1", text)
