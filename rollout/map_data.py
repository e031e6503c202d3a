"""The data the map page draws: site rows for popups (or grid cells above a size), the page's
words and the legend, as JSON-ready structures (no folium here)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from rollout import labels
from rollout.crs import from_wgs84, metric_crs, metric_transformer
from rollout.i18n import Lang, t
from rollout.schema import GARAGE, MACRO, SiteKind
from rollout.status import status_as_of

__all__ = [
    "GARAGE_FIELDS",
    "MACRO_FIELDS",
    "PRIVATE_FIELDS",
    "RSRP_COLORS",
    "coverage_legend",
    "legend",
    "page_labels",
    "rsrp_edges",
    "site_rows",
    "street_labels",
]

#: Above this many sites of a kind, the map shows grid cells with counts instead of one marker per
#: site (the page says so); site ids stay searchable.
AGGREGATE_THRESHOLD = 20_000
#: Side of the aggregation grid cells, in metres.
AGGREGATE_CELL_M = 250.0
#: Choropleth classes (% of target done) and their colours.
PCT_BINS = (0, 20, 40, 60, 80, 100)
PCT_COLORS = ("#f7fcb9", "#d9f0a3", "#addd8e", "#78c679", "#31a354", "#006837")
#: SS-RSRP classes, weakest first (ColorBrewer RdYlGn): below threshold-10, below the threshold,
#: up to 10 dB above it, 10-20 dB above, 20 dB or more above (-115/-105/-95/-85 dBm at -105).
RSRP_COLORS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
GAP_COLOR = "#f9d3d3"  # the gap layer: light red fill, dashed dark red outline
COVERED_COLOR = "#3182bd"

#: Popup fields per kind (labels in maps.toml, field.*).
MACRO_FIELDS = (
    "street_name",
    "operator",
    "band",
    "antenna_height_m",
    "site_secured_date",
    "construction_start_date",
    "on_air_date",
    "planned_on_air_date",
    "blocker",
)
GARAGE_FIELDS = (
    "street_name",
    "address",
    "households",
    "parking_spaces",
    "solution",
    "operators",
    "survey_date",
    "plan_agreed_date",
    "construction_start_date",
    "covered_date",
    "accepted_date",
    "planned_covered_date",
    "blocker",
)
#: Fields that must never reach a map, whatever a caller passes.
PRIVATE_FIELDS = frozenset({"contact", "phone", "property_manager"})


def _format(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_float_dtype(values):
        return values.map(lambda v: "" if pd.isna(v) else f"{v:g}")
    return values.astype(object).where(values.notna(), "").astype(str)


def site_rows(
    records: pd.DataFrame,
    kind: SiteKind,
    fields: tuple[str, ...],
    as_of: dt.date,
    changed: set[str],
    shift: str,
    lang: Lang,
    aggregate_above: int = AGGREGATE_THRESHOLD,
) -> dict:
    """The rows of one kind's layer: position, id, name, state on ``as_of``, changed, and the
    popup fields in words (never contacts or phones); grid cells above ``aggregate_above``."""
    assert not PRIVATE_FIELDS & set(fields)
    spec: dict = {
        "fields": [t(f"maps.field.{name}", lang) for name in fields],
        "statusLabels": {s: labels.status(kind.name, s, lang) for s in kind.statuses},
        "rows": [],
    }
    if records.empty:
        return spec
    records = records.sort_values(kind.id_field, kind="stable")
    status = status_as_of(records, kind, as_of)
    lon, lat = from_wgs84(records["lon"].to_numpy(), records["lat"].to_numpy(), shift)
    columns = [
        np.round(lat, 6).tolist(),
        np.round(lon, 6).tolist(),
        records[kind.id_field].astype(str).tolist(),
        records["name"].fillna("").astype(str).tolist() if "name" in records else [""] * len(records),
        status.tolist(),
        records[kind.id_field].astype(str).isin(changed).astype(int).tolist(),
    ]
    for name in fields:
        values = records[name] if name in records.columns else pd.Series("", index=records.index)
        if name in ("operator", "operators"):
            values = values.map(lambda cell: labels.operators(cell, lang))
        elif name == "solution":
            values = values.map(lambda v: labels.solution(v, lang))
        columns.append(_format(values).tolist())
    if len(records) > aggregate_above:
        return _aggregated(spec, records, kind, status, lon, lat)
    spec["rows"] = [list(row) for row in zip(*columns, strict=True)]
    return spec


def _aggregated(spec: dict, records: pd.DataFrame, kind: SiteKind, status: pd.Series, lon: np.ndarray, lat: np.ndarray) -> dict:
    """Counts per status in square grid cells, plus a compact index of ids for search."""
    lons, lats = records["lon"].to_numpy(), records["lat"].to_numpy()
    crs = metric_crs((float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())))
    x, y = metric_transformer(crs).transform(lons, lats)
    cells = pd.DataFrame(
        {
            "ix": np.floor(x / AGGREGATE_CELL_M).astype(np.int64),
            "iy": np.floor(y / AGGREGATE_CELL_M).astype(np.int64),
            "lon": lon,
            "lat": lat,
            "status": pd.Categorical(status.to_numpy(), categories=list(kind.statuses)),
        }
    )
    grouped = cells.groupby(["ix", "iy"], sort=True)
    centres = grouped[["lat", "lon"]].mean().round(6)
    counts = pd.crosstab([cells["ix"], cells["iy"]], cells["status"], dropna=False).reindex(columns=list(kind.statuses), fill_value=0)
    counts = counts.loc[centres.index]
    spec["aggregated"] = True
    spec["cellSize"] = AGGREGATE_CELL_M
    spec["statuses"] = list(kind.statuses)
    spec["done"] = sorted(kind.done)
    spec["cells"] = np.column_stack([centres["lat"], centres["lon"], counts.to_numpy()]).tolist()
    spec["cells"] = [[row[0], row[1], *(int(v) for v in row[2:])] for row in spec["cells"]]
    spec["index"] = [
        [la, lo, site, st]
        for la, lo, site, st in zip(
            np.round(lat, 6).tolist(), np.round(lon, 6).tolist(), records[kind.id_field].astype(str).tolist(), status.tolist(), strict=True
        )
    ]
    spec["count"] = len(records)
    return spec


def page_labels(lang: Lang) -> dict[str, str]:
    keys = {
        "id": "id",
        "status": "status",
        "changed": "changed",
        "search": "search",
        "noMatch": "no_match",
        "fullscreen": "fullscreen",
        "tilesOffline": "tiles_offline",
    }
    return {name: t(f"maps.page.{key}", lang) for name, key in keys.items()}


def legend(lang: Lang) -> list[dict]:
    """The legend of the progress layers, each section tied to the layer it explains (``layer``):
    the page shows a section only while its layer is on, so switching the choropleth from the
    macro to the garage rate switches the legend too. ``row`` puts sections side by side."""
    statuses = [
        {
            "heading": t(f"maps.legend.{kind.name}", lang),
            "layer": kind.name,
            "items": [{"className": f"{kind.name} status-{s}", "label": labels.status(kind.name, s, lang)} for s in kind.statuses],
        }
        for kind in (MACRO, GARAGE)
    ]
    sections: list[dict] = [{"row": statuses}]
    sections.append(
        {"heading": t("maps.legend.marks", lang), "items": [{"className": "macro changed", "label": t("maps.legend.changed", lang)}]}
    )
    ends = [*(str(b) for b in PCT_BINS[:-1]), f"{PCT_BINS[-1]}+"]
    for kind in ("macro", "garage"):
        sections.append(
            {
                "heading": t(f"maps.legend.pct_{kind}", lang),
                "layer": f"{kind}_pct",
                "ramp": True,
                "items": [{"color": color, "label": label} for color, label in zip(PCT_COLORS, ends, strict=True)],
            }
        )
    return sections


def rsrp_edges(threshold_dbm: float) -> tuple[float, ...]:
    """The SS-RSRP class edges around the coverage threshold, ascending (dBm)."""
    return (threshold_dbm - 10, threshold_dbm, threshold_dbm + 10, threshold_dbm + 20)


def coverage_legend(threshold_dbm: float, *, has_gaps: bool, lang: Lang) -> list[dict]:
    """Legend sections of the coverage layers: the RSRP scale, the covered area, the gaps."""
    low, edge, good, strong = (f"{v:g}" for v in rsrp_edges(threshold_dbm))
    scale = [
        t("maps.legend.rsrp_below", lang, value=low),
        t("maps.legend.rsrp_between", lang, low=low, high=edge),
        t("maps.legend.rsrp_between", lang, low=edge, high=good),
        t("maps.legend.rsrp_between", lang, low=good, high=strong),
        t("maps.legend.rsrp_above", lang, value=strong),
    ]
    sections = [
        {
            "heading": t("maps.legend.rsrp", lang, threshold=edge),
            "layer": "rsrp",
            "items": [{"color": color, "label": label} for color, label in reversed(list(zip(RSRP_COLORS, scale, strict=True)))],
        }
    ]
    items = [{"color": COVERED_COLOR, "label": t("maps.legend.covered", lang), "layer": "coverage"}]
    if has_gaps:
        items.append({"color": GAP_COLOR, "label": t("maps.legend.gap", lang), "layer": "gaps", "className": "gap"})
    sections.append({"heading": t("maps.legend.coverage", lang), "items": items})
    return sections


def street_labels(streets, by_code: pd.DataFrame, lang: Lang) -> list[list]:
    """One label per street: position, name, and the % done of each measure in words
    (``{"macro_pct": "宏站 40.5%", ...}``); the page shows the measures whose layer is on."""
    name_column = "name" if lang == "zh" else "name_en"
    points = streets.geometry.representative_point()
    rows = []
    for code, name, point in zip(streets["street_code"], streets[name_column], points, strict=True):
        numbers = by_code.loc[code]
        pct = {
            f"{kind}_pct": t("maps.label.pct", lang, kind=t(f"maps.label.{kind}", lang), pct=_pct_text(numbers[f"{kind}_pct"]))
            for kind in ("macro", "garage")
        }
        rows.append([round(point.y, 6), round(point.x, 6), str(name), pct])
    return rows


def _pct_text(value: float) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1f}%"
