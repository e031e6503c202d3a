"""The interactive coverage map: streets as choropleths, sites as markers, all offline.

:func:`build_map` makes a folium map and touches no file; :func:`render_map` turns it into the
page's text (with stable ids) and :func:`save_map` has the writers write it. The page
carries Leaflet and its plugin inline (see :mod:`rollout.assets`), so it renders with no
internet; only basemap tiles need a network, and without them the vectors still show.

Site markers are drawn by rollout's own script from one JSON block, which keeps the page
small for large counts and puts untrusted text on the page as text only. Contact names and
phone numbers are never put in that block.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from rollout import labels
from rollout.assets import inline_head, page_script, page_style
from rollout.crs import from_wgs84
from rollout.errors import InvalidValueError
from rollout.i18n import Lang, t
from rollout.map_data import (
    AGGREGATE_CELL_M,
    AGGREGATE_THRESHOLD,
    GARAGE_FIELDS,
    MACRO_FIELDS,
    PCT_BINS,
    PCT_COLORS,
    page_labels,
    site_rows,
)
from rollout.map_data import legend as base_legend
from rollout.schema import GARAGE, MACRO
from rollout.writers import write_text

__all__ = ["BASEMAPS", "build_map", "build_project_map", "render_map", "save_map"]

BASEMAPS = ("osm", "gaode", "none")
#: Above this many markers of a kind, markers are clustered.
CLUSTER_THRESHOLD = 300
_GAODE_TILES = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


class OfflineMap(folium.Map):
    """A folium map that links no CDN: its assets are inlined by :func:`build_map`."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - overrides folium's class attribute
    default_css: list[tuple[str, str]] = []  # noqa: RUF012


class _SiteLayers(MacroElement):
    """Emits the site data block and the call that draws the markers into two layer groups."""

    _template = Template(
        """
{% macro header(this, kwargs) %}<style>{{ this.style }}</style>
<script>{{ this.script }}</script>{% endmacro %}
{% macro html(this, kwargs) %}<script type="application/json" id="rollout-data">{{ this.data }}</script>{% endmacro %}
{% macro script(this, kwargs) %}
    rolloutSites({{ this._parent.get_name() }}, {macro: {{ this.macro.get_name() }}, garage: {{ this.garage.get_name() }}},
        JSON.parse(document.getElementById("rollout-data").textContent));
{% endmacro %}
"""
    )

    def __init__(self, data: dict, macro: folium.FeatureGroup, garage: folium.FeatureGroup) -> None:
        super().__init__()
        self._name = "SiteLayers"
        self.data = _json_for_html(data)
        self.macro, self.garage = macro, garage
        self.style = page_style()
        self.script = page_script().replace("</script", "<\\/script")


def build_map(
    streets: gpd.GeoDataFrame,
    progress: pd.DataFrame,
    macro: pd.DataFrame,
    garage: pd.DataFrame,
    *,
    as_of: dt.date,
    title: str,
    subtitle: str,
    changed: dict[str, Iterable[str]] | None = None,
    basemap: str = "osm",
    approximate: bool = False,
    aggregated_note: str = "",
    coverage=None,
    aggregate_above: int | None = None,
    lang: Lang = "zh",
    layers: Iterable[folium.map.Layer] = (),
    legend: Iterable[dict] = (),
) -> folium.Map:
    """Build the coverage map (no file is written).

    Parameters
    ----------
    streets
        Street polygons (WGS-84) with ``street_code`` and ``name``/``name_en``.
    progress
        The table from :meth:`rollout.pipeline.Project.progress` for ``as_of``.
    macro, garage
        Loaded records (WGS-84, with ``street_name``); their state is derived for ``as_of``.
    changed
        Record ids per kind (``"macro"``, ``"garage"``) whose status changed this week.
    basemap
        ``osm``, ``gaode`` (GCJ-02 tiles: every vector is shifted to GCJ-02 to line up) or ``none``.
    lang
        Language of every label on the page.
    layers, legend
        More layers (e.g. :func:`rollout.planmap.planning_layers`) and legend sections
        (``{"heading": ..., "items": [{"color" or "className": ..., "label": ...}]}``).
    """
    if basemap not in BASEMAPS:
        raise InvalidValueError("errors.basemap_unknown", value=basemap, allowed=", ".join(BASEMAPS))
    shift = "gcj02" if basemap == "gaode" else "wgs84"
    changed_ids: dict[str, set[str]] = {k: set(v) for k, v in (changed or {}).items()}
    streets = _shift_frame(streets, shift)
    west, south, east, north = streets.total_bounds
    fmap = OfflineMap(location=[(south + north) / 2, (west + east) / 2], zoom_start=13, tiles=None, control_scale=True, prefer_canvas=False)
    root: Any = fmap.get_root()
    root.header.add_child(Element(inline_head()), name="rollout_assets")
    root.title = title
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    elif basemap == "gaode":
        folium.TileLayer(tiles=_GAODE_TILES, attr="© 高德地图 AutoNavi", name=t("maps.layer.gaode", lang), subdomains="1234").add_to(fmap)
    by_code = progress.set_index("street_code")
    for column, show in (("macro_pct", True), ("garage_pct", False)):
        _choropleth(streets, by_code, column, t(f"maps.layer.{column}", lang), show=show, lang=lang).add_to(fmap)
    names = folium.FeatureGroup(name=t("maps.layer.street_names", lang), show=True)
    name_column = "name" if lang == "zh" else "name_en"
    for _, street in streets.iterrows():
        point = street.geometry.representative_point()
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(html=f'<div class="street-label">{html.escape(str(street[name_column]))}</div>', icon_size=(0, 0)),
            interactive=False,
        ).add_to(names)
    names.add_to(fmap)
    if coverage is not None:
        for layer in _coverage_layers(coverage, shift, lang):
            layer.add_to(fmap)
    for extra in layers:
        extra.add_to(fmap)
    macro_group = folium.FeatureGroup(name=t("maps.layer.macro", lang), show=True)
    garage_group = folium.FeatureGroup(name=t("maps.layer.garage", lang), show=True)
    macro_group.add_to(fmap)
    garage_group.add_to(fmap)
    limit = AGGREGATE_THRESHOLD if aggregate_above is None else aggregate_above
    macro_spec = site_rows(macro, MACRO, MACRO_FIELDS, as_of, changed_ids.get("macro", set()), shift, lang, limit)
    garage_spec = site_rows(garage, GARAGE, GARAGE_FIELDS, as_of, changed_ids.get("garage", set()), shift, lang, limit)
    aggregated = [spec["count"] for spec in (macro_spec, garage_spec) if spec.get("aggregated")]
    if aggregated and not aggregated_note:
        aggregated_note = t("maps.aggregated", lang, count=sum(aggregated), cell=f"{AGGREGATE_CELL_M:.0f}")
    data = {
        "title": title,
        "subtitle": subtitle,
        "approximate": (labels.approximate_note(lang) if approximate else ""),
        "aggregated": aggregated_note,
        "clusterThreshold": CLUSTER_THRESHOLD,
        "pctBins": list(PCT_BINS),
        "pctColors": list(PCT_COLORS),
        "labels": page_labels(lang),
        "legend": base_legend(lang) + list(legend),
        "macro": macro_spec,
        "garage": garage_spec,
    }
    fmap.add_child(_SiteLayers(data, macro_group, garage_group))
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def build_project_map(
    project, *, title: str, subtitle: str | None = None, progress: pd.DataFrame | None = None, lang: Lang = "zh", **options
) -> folium.Map:
    """:func:`build_map` for a loaded :class:`~rollout.pipeline.Project` on its day."""
    return build_map(
        project.streets,
        project.progress() if progress is None else progress,
        project.macro.records,
        project.garage.records,
        as_of=project.as_of,
        title=title,
        subtitle=subtitle or t("labels.as_of", lang, date=project.as_of),
        lang=lang,
        approximate=project.approximate,
        aggregate_above=options.pop("aggregate_above", project.config.map_aggregate_above),
        **options,
    )


def _shift_frame(frame: gpd.GeoDataFrame, shift: str) -> gpd.GeoDataFrame:
    frame = frame.to_crs(4326)
    if shift == "wgs84":
        return frame
    moved = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], shift)))
    return frame.set_geometry(gpd.GeoSeries(moved, index=frame.index, crs=4326))


def _coverage_layers(coverage, shift: str, lang: Lang) -> list[folium.GeoJson]:
    """Modelled coverage (merged covered cells) and coverage gaps, both off until switched on."""
    service = t(f"maps.service.{coverage.service}", lang)
    covered = gpd.GeoDataFrame({"service": [service]}, geometry=coverage.covered_area().simplify(0.00005).to_numpy(), crs=4326)
    gaps = coverage.gaps[["gap_id", "street_name", "area_m2", "geometry"]].copy()
    gaps["street_name"] = gaps["street_name"].astype(str).map(html.escape)
    layers = [
        folium.GeoJson(
            _shift_frame(covered, shift).to_json(drop_id=True),
            name=t("maps.layer.coverage", lang, service=service),
            show=False,
            style_function=lambda feature: {
                "fillColor": "#3182bd",
                "color": "#3182bd",
                "weight": 0.5,
                "fillOpacity": 0.25,
                "className": "coverage-area",
            },
        )
    ]
    if len(gaps):
        layers.append(
            folium.GeoJson(
                _shift_frame(gaps, shift).to_json(drop_id=True),
                name=t("maps.layer.gaps", lang),
                show=False,
                style_function=lambda feature: {
                    "fillColor": "#e31a1c",
                    "color": "#b10026",
                    "weight": 1,
                    "fillOpacity": 0.45,
                    "className": "coverage-gap",
                },
                tooltip=folium.GeoJsonTooltip(
                    fields=["gap_id", "street_name", "area_m2"],
                    aliases=[t(f"maps.tooltip.{k}", lang) for k in ("gap", "street", "area")],
                ),
            )
        )
    existing = coverage.stations[coverage.stations["source"] == "existing"] if "source" in coverage.stations else None
    if existing is not None and len(existing):
        from rollout.planmap import existing_layer

        points = gpd.GeoDataFrame(
            {"site_id": existing["site_id"].to_numpy()}, geometry=gpd.points_from_xy(existing["x"], existing["y"]), crs=coverage.cells.crs
        )
        points = _shift_frame(points, shift)
        layers.append(
            existing_layer(pd.DataFrame({"site_id": points["site_id"], "lon": points.geometry.x, "lat": points.geometry.y}), lang)
        )
    return layers


def render_map(fmap: folium.Map) -> str:
    """The map as one self-contained HTML page, the same text for the same map."""
    _stable_ids(fmap.get_root())
    return fmap.get_root().render()


def save_map(fmap: folium.Map, path: Path | str) -> Path:
    """Write the map as one self-contained HTML file, atomically and byte-for-byte reproducibly."""
    return write_text(path, render_map(fmap))


def _stable_ids(root: Element) -> None:
    """folium names elements with random ids; renumber them so the same map gives the same page."""
    counter = 0

    def walk(element: Element) -> None:
        nonlocal counter
        element._id = f"{counter:05d}"
        counter += 1
        for child in list(element._children.values()):
            walk(child)

    walk(root)


def _json_for_html(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Inside a <script> block, "<", ">" and "&" must not appear raw.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _pct_color(value: float) -> str:
    if value is None or pd.isna(value):
        return "#cccccc"
    index = int(np.searchsorted(PCT_BINS, min(value, 100.0), side="right")) - 1
    return PCT_COLORS[max(index, 0)]


def _choropleth(streets: gpd.GeoDataFrame, by_code: pd.DataFrame, column: str, name: str, *, show: bool, lang: Lang) -> folium.GeoJson:
    prefix = column.split("_")[0]
    name_column = "name" if lang == "zh" else "name_en"
    rows = []
    for _, street in streets.iterrows():
        numbers = by_code.loc[street["street_code"]]
        pct = numbers[column]
        rows.append(
            {
                "street_code": street["street_code"],
                "name": html.escape(str(street[name_column])),
                "pct": "—" if pd.isna(pct) else f"{pct:.1f}%",
                "target": int(numbers[f"{prefix}_target"]),
                "done": int(numbers[f"{prefix}_done"]),
                "remaining": int(numbers[f"{prefix}_remaining"]),
                "expected": f"{numbers[f'{prefix}_expected']:.1f}",
                "pace": f"{labels.pace(numbers[f'{prefix}_pace'], lang)} ({numbers[f'{prefix}_vs_plan']:+.1f})",
                "fill": _pct_color(pct),
                "geometry": street.geometry,
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    aliases = [t(f"maps.tooltip.{k}", lang) for k in ("street", "pct", "target", "done", "remaining", "expected", "pace")]
    return folium.GeoJson(
        frame.to_json(drop_id=True),
        name=name,
        show=show,
        style_function=lambda feature: {
            "fillColor": feature["properties"]["fill"],
            "color": "#333333",
            "weight": 1.5,
            "fillOpacity": 0.55,
            "className": "street-zone",
        },
        highlight_function=lambda feature: {"weight": 3, "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "pct", "target", "done", "remaining", "expected", "pace"], aliases=aliases, sticky=True
        ),
    )
