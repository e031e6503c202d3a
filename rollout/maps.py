"""The interactive coverage map: streets as choropleths, sites as markers, all offline.

:func:`build_map` makes a folium map and touches no file; :func:`save_map` writes it. The page
carries Leaflet and its plugin inline (see :mod:`rollout.assets`), so it renders with no
internet; only basemap tiles need a network, and without them the vectors still show.

Site markers are drawn by rollout's own script from one JSON block, which keeps the page
small for large counts and puts untrusted text on the page as text only. Contact names and
phone numbers are never put in that block.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
from collections.abc import Iterable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from rollout import settings
from rollout.assets import inline_head, page_script, page_style
from rollout.boundaries import APPROXIMATE_NOTE
from rollout.crs import from_wgs84
from rollout.io import atomic_path
from rollout.progress import PACE_LABELS
from rollout.schema import GARAGE, MACRO, OPERATORS, SOLUTIONS, SiteKind
from rollout.status import status_as_of

__all__ = ["BASEMAPS", "build_map", "build_project_map", "save_map"]

BASEMAPS = ("osm", "gaode", "none")
#: Above this many markers of a kind, markers are clustered.
CLUSTER_THRESHOLD = 300
#: Above this many sites of a kind, the map shows grid cells with counts instead of one marker per
#: site (the page says so); site ids stay searchable.
AGGREGATE_THRESHOLD = 20_000
#: Side of the aggregation grid cells, in metres.
AGGREGATE_CELL_M = 250.0
#: Choropleth classes (% of target done) and their colours.
PCT_BINS = (0, 20, 40, 60, 80, 100)
PCT_COLORS = ("#f7fcb9", "#d9f0a3", "#addd8e", "#78c679", "#31a354", "#006837")
_GAODE_TILES = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"

_MACRO_FIELDS = (
    ("street_name", "街道", "street"),
    ("operator", "运营商", "operators"),
    ("band", "频段", "band"),
    ("antenna_height_m", "挂高(m)", "antenna height (m)"),
    ("site_secured_date", "落点日期", "site secured"),
    ("construction_start_date", "开工日期", "construction start"),
    ("on_air_date", "开通日期", "on air"),
    ("planned_on_air_date", "计划开通日期", "planned on air"),
    ("blocker", "受阻原因", "blocker"),
)
_GARAGE_FIELDS = (
    ("street_name", "街道", "street"),
    ("address", "地址", "address"),
    ("households", "户数", "households"),
    ("parking_spaces", "车位数", "parking spaces"),
    ("solution", "覆盖方案", "solution"),
    ("operators", "覆盖运营商", "operators"),
    ("survey_date", "勘察日期", "surveyed"),
    ("plan_agreed_date", "方案确定日期", "plan agreed"),
    ("construction_start_date", "开工日期", "construction start"),
    ("covered_date", "覆盖日期", "covered"),
    ("accepted_date", "验收日期", "accepted"),
    ("planned_covered_date", "计划覆盖日期", "planned covered"),
    ("blocker", "受阻原因", "blocker"),
)
#: Fields that must never reach a map, whatever a caller passes.
PRIVATE_FIELDS = frozenset({"contact", "phone", "property_manager"})


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
    recommended: gpd.GeoDataFrame | None = None,
    aggregate_above: int | None = None,
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
    layers, legend
        More layers (e.g. :func:`rollout.planmap.planning_layers`) and legend sections
        (``{"heading": ..., "items": [{"color" or "className": ..., "label": ...}]}``).
    """
    if basemap not in BASEMAPS:
        msg = f"basemap {basemap!r}: use one of {', '.join(BASEMAPS)}"
        raise ValueError(msg)
    lang = settings.language
    zh = lang == "zh"
    shift = "gcj02" if basemap == "gaode" else "wgs84"
    changed = {k: set(v) for k, v in (changed or {}).items()}
    streets = _shifted_streets(streets, shift)
    west, south, east, north = streets.total_bounds
    fmap = OfflineMap(location=[(south + north) / 2, (west + east) / 2], zoom_start=13, tiles=None, control_scale=True, prefer_canvas=False)
    fmap.get_root().header.add_child(Element(inline_head()), name="rollout_assets")
    fmap.get_root().title = title
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    elif basemap == "gaode":
        folium.TileLayer(tiles=_GAODE_TILES, attr="© 高德地图 AutoNavi", name="高德地图" if zh else "Gaode", subdomains="1234").add_to(fmap)
    by_code = progress.set_index("street_code")
    layer_names = {
        "macro_pct": "宏站完成率（街道）" if zh else "Macro % done (streets)",
        "garage_pct": "车库完成率（街道）" if zh else "Garage % done (streets)",
    }
    for column, show in (("macro_pct", True), ("garage_pct", False)):
        _choropleth(streets, by_code, column, layer_names[column], show=show, lang=lang).add_to(fmap)
    labels = folium.FeatureGroup(name="街道名称" if zh else "Street names", show=True)
    for _, street in streets.iterrows():
        point = street.geometry.representative_point()
        name = street["name"] if zh else street["name_en"]
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(html=f'<div class="street-label">{html.escape(str(name))}</div>', icon_size=(0, 0)),
            interactive=False,
        ).add_to(labels)
    labels.add_to(fmap)
    if coverage is not None:
        for layer in _coverage_layers(coverage, shift, zh):
            layer.add_to(fmap)
    if recommended is not None and len(recommended):
        _recommended_layer(recommended, shift, zh).add_to(fmap)
    for layer in layers:
        layer.add_to(fmap)
    macro_group = folium.FeatureGroup(name=("5G宏站" if zh else "5G macro stations"), show=True).add_to(fmap)
    garage_group = folium.FeatureGroup(name=("车库覆盖小区" if zh else "Garage compounds"), show=True).add_to(fmap)
    limit = AGGREGATE_THRESHOLD if aggregate_above is None else aggregate_above
    macro_spec = _site_rows(macro, MACRO, _MACRO_FIELDS, as_of, changed.get("macro", set()), shift, lang, limit)
    garage_spec = _site_rows(garage, GARAGE, _GARAGE_FIELDS, as_of, changed.get("garage", set()), shift, lang, limit)
    aggregated = [spec["count"] for spec in (macro_spec, garage_spec) if spec.get("aggregated")]
    if aggregated and not aggregated_note:
        cell = f"{AGGREGATE_CELL_M:.0f}"
        aggregated_note = (
            f"站点较多（{sum(aggregated):,} 个），已按 {cell} 米网格汇总显示；可按编码搜索定位"
            if zh
            else f"{sum(aggregated):,} sites shown as {cell} m grid cells with counts; search by id to locate one"
        )
    data = {
        "title": title,
        "subtitle": subtitle,
        "approximate": (APPROXIMATE_NOTE[lang] if approximate else ""),
        "aggregated": aggregated_note,
        "clusterThreshold": CLUSTER_THRESHOLD,
        "pctBins": list(PCT_BINS),
        "pctColors": list(PCT_COLORS),
        "labels": _labels(lang),
        "legend": _legend(lang) + list(legend),
        "macro": macro_spec,
        "garage": garage_spec,
    }
    fmap.add_child(_SiteLayers(data, macro_group, garage_group))
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def build_project_map(project, *, title: str, subtitle: str | None = None, progress: pd.DataFrame | None = None, **options) -> folium.Map:
    """:func:`build_map` for a loaded :class:`~rollout.pipeline.Project` on its day."""
    zh = settings.language == "zh"
    return build_map(
        project.streets,
        project.progress() if progress is None else progress,
        project.macro.records,
        project.garage.records,
        as_of=project.as_of,
        title=title,
        subtitle=subtitle or (f"截至 {project.as_of}" if zh else f"as of {project.as_of}"),
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


def _coverage_layers(coverage, shift: str, zh: bool) -> list[folium.GeoJson]:
    """Modelled coverage (merged covered cells) and coverage gaps, both off until switched on."""
    service = {"outdoor": "室外" if zh else "outdoor", "indoor": "室内" if zh else "indoor"}[coverage.service]
    covered = gpd.GeoDataFrame({"service": [service]}, geometry=coverage.covered_area().simplify(0.00005).to_numpy(), crs=4326)
    gaps = coverage.gaps[["gap_id", "street_name", "area_m2", "geometry"]].copy()
    gaps["street_name"] = gaps["street_name"].astype(str).map(html.escape)
    layers = [
        folium.GeoJson(
            _shift_frame(covered, shift).to_json(drop_id=True),
            name=f"模型覆盖（{service}）" if zh else f"Modelled coverage ({service})",
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
                name="覆盖缺口" if zh else "Coverage gaps",
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
                    aliases=["缺口", "街道", "面积(㎡)"] if zh else ["Gap", "Street", "Area (m²)"],
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
            existing_layer(
                pd.DataFrame({"site_id": points["site_id"], "lon": points.geometry.x, "lat": points.geometry.y}), "zh" if zh else "en"
            )
        )
    return layers


def _recommended_layer(sites: gpd.GeoDataFrame, shift: str, zh: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="推荐站址" if zh else "Recommended sites", show=True)
    shifted = _shift_frame(sites, shift)
    for _, site in shifted.iterrows():
        folium.CircleMarker(
            [site.geometry.y, site.geometry.x],
            radius=7,
            color="#6a3d9a",
            fill=True,
            fill_opacity=0.9,
            class_name="recommended-site",
            tooltip=html.escape(f"#{site['rank']} {site['candidate_id']} · {site['street_name']} · +{site['marginal_demand']:g}"),
        ).add_to(group)
    return group


def save_map(fmap: folium.Map, path: Path | str) -> Path:
    """Write the map as one self-contained HTML file, atomically and byte-for-byte reproducibly."""
    path = Path(path)
    _stable_ids(fmap.get_root())
    text = fmap.get_root().render()
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


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


def _shifted_streets(streets: gpd.GeoDataFrame, shift: str) -> gpd.GeoDataFrame:
    if shift == "wgs84":
        return streets
    moved = shapely.transform(streets.geometry.to_numpy(), lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], shift)))
    return streets.set_geometry(gpd.GeoSeries(moved, index=streets.index, crs=4326))


def _pct_color(value: float) -> str:
    if value is None or pd.isna(value):
        return "#cccccc"
    index = int(np.searchsorted(PCT_BINS, min(value, 100.0), side="right")) - 1
    return PCT_COLORS[max(index, 0)]


def _choropleth(streets: gpd.GeoDataFrame, by_code: pd.DataFrame, column: str, name: str, *, show: bool, lang: str) -> folium.GeoJson:
    prefix = column.split("_")[0]
    zh = lang == "zh"
    rows = []
    for _, street in streets.iterrows():
        numbers = by_code.loc[street["street_code"]]
        pct = numbers[column]
        rows.append(
            {
                "street_code": street["street_code"],
                "name": html.escape(str(street["name"] if zh else street["name_en"])),
                "pct": "—" if pd.isna(pct) else f"{pct:.1f}%",
                "target": int(numbers[f"{prefix}_target"]),
                "done": int(numbers[f"{prefix}_done"]),
                "remaining": int(numbers[f"{prefix}_remaining"]),
                "expected": f"{numbers[f'{prefix}_expected']:.1f}",
                "pace": f"{PACE_LABELS[numbers[f'{prefix}_pace']][0 if zh else 1]} ({numbers[f'{prefix}_vs_plan']:+.1f})",
                "fill": _pct_color(pct),
                "geometry": street.geometry,
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    aliases = (
        ["街道", "完成率", "目标", "已完成", "剩余", "应完成", "进度"]
        if zh
        else ["Street", "% done", "Target", "Done", "Remaining", "Expected by now", "Pace"]
    )
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


def _format(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_float_dtype(values):
        return values.map(lambda v: "" if pd.isna(v) else f"{v:g}")
    return values.astype(object).where(values.notna(), "").astype(str)


def _operator_names(codes: pd.Series, lang: str) -> pd.Series:
    index = 0 if lang == "zh" else 1

    def name(cell: str) -> str:
        return "/".join(OPERATORS[c][index] if c in OPERATORS else c for c in str(cell).split(";") if c)

    return codes.fillna("").astype(str).map(name)


def _site_rows(
    records: pd.DataFrame,
    kind: SiteKind,
    fields: tuple[tuple[str, str, str], ...],
    as_of: dt.date,
    changed: set[str],
    shift: str,
    lang: str,
    aggregate_above: int = AGGREGATE_THRESHOLD,
) -> dict:
    assert not PRIVATE_FIELDS & {f for f, _, _ in fields}
    zh = lang == "zh"
    spec = {
        "fields": [zh_label if zh else en_label for _, zh_label, en_label in fields],
        "statusLabels": {s: kind.status_label(s, lang) for s in kind.statuses},
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
    for name, _, _ in fields:
        values = records[name] if name in records.columns else pd.Series("", index=records.index)
        if name in ("operator", "operators"):
            values = _operator_names(values, lang)
        elif name == "solution":
            values = values.map(lambda v: SOLUTIONS[v][0 if zh else 1] if v in SOLUTIONS else v)
        columns.append(_format(values).tolist())
    if len(records) > aggregate_above:
        return _aggregated(spec, records, kind, status, lon, lat)
    spec["rows"] = [list(row) for row in zip(*columns, strict=True)]
    return spec


def _aggregated(spec: dict, records: pd.DataFrame, kind: SiteKind, status: pd.Series, lon: np.ndarray, lat: np.ndarray) -> dict:
    """Counts per status in square grid cells, plus a compact index of ids for search."""
    from rollout.crs import METRIC_CRS

    x, y = pyproj.Transformer.from_crs(4326, METRIC_CRS, always_xy=True).transform(records["lon"].to_numpy(), records["lat"].to_numpy())
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


def _labels(lang: str) -> dict[str, str]:
    if lang == "zh":
        return {
            "id": "编码",
            "status": "状态",
            "changed": "本周状态变化",
            "search": "搜索站址编码或小区名称",
            "noMatch": "无匹配",
            "fullscreen": "全屏",
        }
    return {
        "id": "ID",
        "status": "Status",
        "changed": "Status changed this week",
        "search": "Search site id or compound name",
        "noMatch": "No match",
        "fullscreen": "Full screen",
    }


def _legend(lang: str) -> list[dict]:
    zh = lang == "zh"
    sections = []
    for kind, heading in ((MACRO, "5G宏站" if zh else "5G macro stations"), (GARAGE, "车库小区" if zh else "Garage compounds")):
        sections.append(
            {
                "heading": heading,
                "items": [{"className": f"{kind.name} status-{s}", "label": kind.status_label(s, lang)} for s in kind.statuses],
            }
        )
    sections.append(
        {
            "heading": "标记" if zh else "Marks",
            "items": [{"className": "macro changed", "label": "本周状态变化" if zh else "changed this week"}],
        }
    )
    bins = [f"{low}–{high}%" for low, high in itertools.pairwise(PCT_BINS)] + ["≥100%"]
    sections.append(
        {
            "heading": "街道完成率" if zh else "Street % done",
            "items": [{"color": color, "label": label} for color, label in zip(PCT_COLORS, bins, strict=True)],
        }
    )
    return sections
