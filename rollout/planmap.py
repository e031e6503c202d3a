"""Map layers for site planning: ranked recommended sites with their range, weak MR cells,
12345 complaints and the existing network, with their legend sections.

Layers are folium objects for :func:`rollout.maps.build_map` (``layers=`` and ``legend=``);
no file is written here. Text from input files is escaped.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import pandas as pd
from folium.map import Layer

from rollout import labels
from rollout.i18n import Lang, t
from rollout.map_layers import geojson
from rollout.siting_report import site_rationale

__all__ = ["DRIVER_COLORS", "existing_layer", "planning_layers"]

#: Marker colour of a recommended site by what drives it.
DRIVER_COLORS = {
    "households": "#6a3d9a",
    "traffic_mbps": "#e6550d",
    "area_km2": "#3182bd",
    "weak_mr_samples": "#d62728",
    "complaints": "#8c564b",
    "densify": "#7f7f7f",
}
MR_COLOR = "#fb6a4a"
COMPLAINT_COLOR = "#8c564b"
EXISTING_COLOR = "#525252"
_RANK_STYLE = (
    "width:22px;height:22px;line-height:22px;border-radius:11px;text-align:center;color:#fff;"
    "font:bold 11px/22px sans-serif;border:1.5px solid #fff;box-shadow:0 0 3px rgba(0,0,0,.6);"
)


def planning_layers(
    sites: gpd.GeoDataFrame,
    *,
    lang: Lang,
    mr: pd.DataFrame | None = None,
    complaints: pd.DataFrame | None = None,
    existing: pd.DataFrame | None = None,
) -> tuple[list[Layer], list[dict]]:
    """The layers and legend sections of a plan map."""
    layers: list[Layer] = []
    legend: list[dict] = []
    if len(sites):
        layers.append(_ranges(sites, lang))
        layers.append(_sites(sites, lang))
        drivers = [d for d in DRIVER_COLORS if d in set(sites["driver"])]
        legend.append(
            {
                "heading": t("planning.map.sites_legend", lang),
                "items": [{"color": DRIVER_COLORS[d], "label": t(f"planning.driver.{d}", lang)} for d in drivers],
            }
        )
    measured = []
    if mr is not None and len(mr):
        layers.append(_mr(mr, lang))
        measured.append({"color": MR_COLOR, "label": t("planning.map.mr", lang)})
    if complaints is not None and len(complaints):
        layers.append(_complaints(complaints, lang))
        measured.append({"color": COMPLAINT_COLOR, "label": t("planning.map.complaints", lang)})
    if existing is not None and len(existing):
        layers.append(existing_layer(existing, lang))
        measured.append({"color": EXISTING_COLOR, "label": t("planning.map.existing", lang)})
    if measured:
        legend.append({"heading": t("planning.map.inputs_legend", lang), "items": measured})
    return layers, legend


def _sites(sites: gpd.GeoDataFrame, lang: Lang) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=t("planning.map.sites", lang), show=True)
    for _, site in sites.iterrows():
        color = DRIVER_COLORS.get(site["driver"], "#6a3d9a")
        label = f'<div class="recommended-site rank-label" style="{_RANK_STYLE}background:{color}">{int(site["rank"])}</div>'
        text = (
            _safe(
                t(
                    "planning.map.popup",
                    lang,
                    rank=int(site["rank"]),
                    id=site["candidate_id"],
                    street=site.get(labels.street_name_column(lang), site["street_name"]),
                    driver=t(f"planning.driver.{site['driver']}", lang),
                    range=int(site["range_m"]),
                )
            )
            + "<br>"
            + _safe(site_rationale(site, lang))
        )
        folium.Marker(
            [site.geometry.y, site.geometry.x],
            icon=folium.DivIcon(html=label, icon_size=(22, 22), icon_anchor=(11, 11), class_name="rank-icon"),
            tooltip=folium.Tooltip(text, style="max-width: 360px; white-space: normal;", sticky=False),
            z_index_offset=1000,  # above the site markers
        ).add_to(group)
    return group


def _ranges(sites: gpd.GeoDataFrame, lang: Lang) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=t("planning.map.ranges", lang), show=True)
    for _, site in sites.iterrows():
        folium.Circle(
            [site.geometry.y, site.geometry.x],
            radius=float(site["range_m"]),
            color=DRIVER_COLORS.get(site["driver"], "#6a3d9a"),
            weight=1,
            fill=True,
            fill_opacity=0.06,
            interactive=False,
            class_name="site-range",
        ).add_to(group)
    return group


def _mr(mr: pd.DataFrame, lang: Lang) -> folium.GeoJson:
    weak = mr[mr["weak"]]
    frame = pd.DataFrame(
        {"rsrp_dbm": weak["rsrp_dbm"].round(1), "samples": weak["samples"].astype(int), "lon": weak["lon"], "lat": weak["lat"]}
    )
    return _points(
        frame,
        t("planning.map.mr", lang),
        "weak-mr",
        MR_COLOR,
        3,
        ["rsrp_dbm", "samples"],
        ["RSRP (dBm)", t("planning.map.samples", lang)],
        show=True,
    )


def _complaints(complaints: pd.DataFrame, lang: Lang) -> folium.GeoJson:
    frame = pd.DataFrame({"complaint_id": complaints["complaint_id"], "lon": complaints["lon"], "lat": complaints["lat"]})
    return _points(
        frame,
        t("planning.map.complaints", lang),
        "complaint",
        COMPLAINT_COLOR,
        4,
        ["complaint_id"],
        [t("planning.map.ticket", lang)],
        show=True,
    )


def existing_layer(existing: pd.DataFrame, lang: Lang) -> folium.GeoJson:
    """Existing-network stations as small grey dots (off until switched on)."""
    frame = pd.DataFrame({"site_id": existing["site_id"], "lon": existing["lon"], "lat": existing["lat"]})
    return _points(
        frame,
        t("planning.map.existing", lang),
        "existing-station",
        EXISTING_COLOR,
        2.5,
        ["site_id"],
        [t("planning.map.site", lang)],
        show=False,
    )


def _points(frame: pd.DataFrame, name: str, class_name: str, color: str, radius: float, fields, aliases, *, show: bool) -> folium.GeoJson:
    """Many points as one GeoJSON layer of circle markers (a marker element each would make the page slow)."""
    shown = frame.drop(columns=["lon", "lat"]).copy()
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].astype(str).map(html.escape)  # file text: escaped before it reaches the page
    points = gpd.GeoDataFrame(shown, geometry=gpd.points_from_xy(frame["lon"].round(6), frame["lat"].round(6)), crs=4326)
    return folium.GeoJson(
        geojson(points),
        name=name,
        show=show,
        marker=folium.CircleMarker(radius=radius, weight=0, fill=True, fill_color=color, fill_opacity=0.75, class_name=class_name),
        tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(aliases)),
    )


def _safe(text: str) -> str:
    """Text for a tooltip: HTML-escaped, and safe inside the JavaScript template literal folium puts it in."""
    return html.escape(str(text)).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
