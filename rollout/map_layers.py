"""The map's vector layers as folium objects: street choropleths, boundaries, modelled coverage.

Every layer is built in the coordinate system of the basemap (``shift``: ``wgs84`` or
``gcj02``, see :func:`rollout.basemaps.vector_system`), with coordinates rounded to 6
decimals (about 0.1 m), which keeps the page small. Text from input files is escaped.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rollout import labels
from rollout.crs import from_wgs84
from rollout.i18n import Lang, t
from rollout.map_data import PCT_BINS, PCT_COLORS, RSRP_COLORS, rsrp_edges

__all__ = ["boundary_layer", "choropleth_layer", "coverage_layers", "geojson", "shift_frame"]

#: Simplification of the RSRP classes' outlines (Visvalingam-Whyatt, square root of the area
#: dropped, metres): a 50 m cell's staircase step (1,250 m², 35 m) goes, curves stay.
RSRP_SIMPLIFY_M = 40.0


def shift_frame(frame: gpd.GeoDataFrame, shift: str) -> gpd.GeoDataFrame:
    """``frame`` in WGS-84 (or shifted to GCJ-02), coordinates rounded to 6 decimals."""
    frame = frame.to_crs(4326)

    def move(xy: np.ndarray) -> np.ndarray:
        if shift != "wgs84":
            xy = np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], shift))
        return np.round(xy, 6)

    return frame.set_geometry(gpd.GeoSeries(shapely.transform(frame.geometry.to_numpy(), move), index=frame.index, crs=4326))


def geojson(frame: gpd.GeoDataFrame) -> dict:
    """``frame`` (WGS-84) as the GeoJSON mapping folium embeds: what ``to_json`` writes, given as
    a mapping so that folium does not parse the text back.

    The mapping ``to_geo_dict(drop_id=True)`` makes (properties as Python scalars, missing ones
    null), with each polygon's coordinates read in one call instead of point by point (the RSRP
    classes have thousands of points); rings and lines are lists where shapely gives tuples,
    which JSON writes alike."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    values = [_scalars(frame[c]) for c in columns]
    features = [
        {"type": "Feature", "properties": dict(zip(columns, row, strict=True)), "geometry": _mapping(geometry) if geometry else None}
        for row, geometry in zip(zip(*values, strict=True) if values else [()] * len(frame), frame.geometry.to_numpy(), strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _scalars(column: pd.Series) -> list:
    """The column's values as Python scalars, missing ones None (as ``to_geo_dict`` gives them)."""
    values = column.astype(object).to_numpy(copy=True)
    values[column.isna().to_numpy()] = None
    return values.tolist()


def _mapping(geometry: shapely.Geometry) -> dict:
    """``shapely.geometry.mapping(geometry)``, polygons and multipolygons without a loop per point."""
    kind = shapely.get_type_id(geometry)
    if kind not in (3, 6) or shapely.has_z(geometry):  # (multi)polygons; the rest as shapely maps them
        return shapely.geometry.mapping(geometry)
    parts = shapely.get_parts(geometry)
    rings = shapely.get_rings(parts)
    ends = np.cumsum(shapely.get_num_coordinates(rings))
    points = shapely.get_coordinates(rings).tolist()
    ring_lists = [points[start:end] for start, end in zip(np.r_[0, ends[:-1]].tolist(), ends.tolist(), strict=True)]
    ring_ends = np.cumsum(shapely.get_num_interior_rings(parts) + 1).tolist()
    polygons = [ring_lists[start:end] for start, end in zip([0, *ring_ends[:-1]], ring_ends, strict=True)]
    if kind == 3:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def choropleth_layer(streets: gpd.GeoDataFrame, by_code: pd.DataFrame, kind: str, *, show: bool, lang: Lang) -> folium.GeoJson:
    """The streets coloured by % of ``kind``'s target done, with a tooltip of the numbers."""
    numbers = by_code.reindex(streets["street_code"])
    pct = numbers[f"{kind}_pct"].to_numpy(dtype=float)
    frame = gpd.GeoDataFrame(
        {
            "street_code": streets["street_code"].to_numpy(),
            "name": [html.escape(str(n)) for n in streets["name" if lang == "zh" else "name_en"]],
            "pct": ["—" if np.isnan(p) else f"{p:.1f}%" for p in pct],
            "target": numbers[f"{kind}_target"].astype(int).to_numpy(),
            "done": numbers[f"{kind}_done"].astype(int).to_numpy(),
            "remaining": numbers[f"{kind}_remaining"].astype(int).to_numpy(),
            "expected": [f"{v:.1f}" for v in numbers[f"{kind}_expected"]],
            "pace": [
                f"{labels.pace(p, lang)} ({v:+.1f})" for p, v in zip(numbers[f"{kind}_pace"], numbers[f"{kind}_vs_plan"], strict=True)
            ],
            "fill": [pct_color(p) for p in pct],
        },
        geometry=streets.geometry.to_numpy(),
        crs=4326,
    )
    fields = ["name", "pct", "target", "done", "remaining", "expected", "pace"]
    aliases = [t(f"maps.tooltip.{k}", lang) for k in ("street", f"pct_{kind}", "target", "done", "remaining", "expected", "pace")]
    return folium.GeoJson(
        geojson(frame),
        name=t(f"maps.layer.{kind}_pct", lang),
        show=show,
        style_function=lambda feature: {
            "fillColor": feature["properties"]["fill"],
            "color": "#333333",
            "weight": 1.5,
            "fillOpacity": 0.6,
            "className": "street-zone",
        },
        highlight_function=lambda feature: {"weight": 3, "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    )


def pct_color(value: float) -> str:
    """The choropleth colour of a % done (grey when there is no target)."""
    if value is None or pd.isna(value):
        return "#cccccc"
    index = int(np.searchsorted(PCT_BINS, min(value, 100.0), side="right")) - 1
    return PCT_COLORS[max(index, 0)]


def boundary_layer(streets: gpd.GeoDataFrame, *, lang: Lang) -> folium.GeoJson:
    """Street boundaries (thin) and the district outline (bold), never in the way of clicks.

    Drawn whatever the basemap, so that the district stays readable with no tiles at all.
    """
    outline = shapely.union_all(shapely.make_valid(streets.geometry.to_numpy()))
    lines = gpd.GeoDataFrame(
        {"level": ["street"] * len(streets) + ["district"]},
        geometry=[*shapely.boundary(streets.geometry.to_numpy()), shapely.boundary(outline)],
        crs=4326,
    )
    return folium.GeoJson(
        geojson(lines),
        name=t("maps.layer.boundaries", lang),
        show=True,
        interactive=False,
        style_function=lambda feature: (
            {"color": "#3a3a3a", "weight": 3.5, "opacity": 0.9, "className": "district-outline"}
            if feature["properties"]["level"] == "district"
            else {"color": "#555555", "weight": 1, "opacity": 0.8, "dashArray": "4 3", "className": "street-line"}
        ),
    )


def coverage_layers(coverage, shift: str, *, show: bool, lang: Lang) -> dict[str, folium.map.Layer]:
    """Modelled SS-RSRP in classes, the covered area, coverage gaps and the existing network.

    Keys: ``rsrp``, ``coverage``, ``gaps`` (when there are gaps), ``existing`` (when the
    existing network was counted). ``show`` switches RSRP and gaps on when the page opens.
    """
    service = t(f"maps.service.{coverage.service}", lang)
    layers: dict[str, folium.map.Layer] = {"rsrp": _rsrp_layer(coverage, shift, show=show, lang=lang)}
    covered = gpd.GeoDataFrame({"service": [service]}, geometry=coverage.covered_area().simplify(0.00005).to_numpy(), crs=4326)
    layers["coverage"] = folium.GeoJson(
        geojson(shift_frame(covered, shift)),
        name=t("maps.layer.coverage", lang, service=service),
        show=False,
        interactive=False,
        style_function=lambda feature: {
            "fillColor": "#3182bd",
            "color": "#3182bd",
            "weight": 0.5,
            "fillOpacity": 0.25,
            "className": "coverage-area",
        },
    )
    gaps = coverage.gaps[["gap_id", "street_name", "area_m2", "geometry"]].copy()
    if len(gaps):
        gaps["street_name"] = gaps["street_name"].astype(str).map(html.escape)
        layers["gaps"] = folium.GeoJson(
            geojson(shift_frame(gaps, shift)),
            name=t("maps.layer.gaps", lang),
            show=show,
            style_function=lambda feature: {
                "fillColor": "#e31a1c",
                "color": "#67000d",
                "weight": 1.5,
                "fillOpacity": 0.15,
                "dashArray": "5 3",
                "className": "coverage-gap",
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["gap_id", "street_name", "area_m2"], aliases=[t(f"maps.tooltip.{k}", lang) for k in ("gap", "street", "area")]
            ),
        )
    existing = coverage.stations[coverage.stations["source"] == "existing"] if "source" in coverage.stations else None
    if existing is not None and len(existing):
        from rollout.planmap import existing_layer

        points = gpd.GeoDataFrame(
            {"site_id": existing["site_id"].to_numpy()}, geometry=gpd.points_from_xy(existing["x"], existing["y"]), crs=coverage.cells.crs
        )
        points = shift_frame(points, shift)
        layers["existing"] = existing_layer(
            pd.DataFrame({"site_id": points["site_id"], "lon": points.geometry.x, "lat": points.geometry.y}), lang
        )
    return layers


def _rsrp_layer(coverage, shift: str, *, show: bool, lang: Lang) -> folium.GeoJson:
    """The grid's best-server SS-RSRP in five classes around the coverage threshold, each class
    one merged polygon (cells tile the district, so their union is a coverage union and the
    simplification keeps shared edges shared)."""
    edges = rsrp_edges(coverage.threshold_dbm)  # ascending: threshold-10, threshold, +10, +20
    values = coverage.cells["rsrp_dbm"].to_numpy(dtype=float)
    classes = np.digitize(np.where(np.isnan(values), -np.inf, values), edges)  # 0 (weakest) .. 4
    geometries = coverage.cells.geometry.to_numpy()
    present = [c for c in range(len(edges) + 1) if (classes == c).any()]
    merged = [shapely.coverage_union_all(geometries[classes == c]) for c in present]
    simplified = shapely.coverage_simplify(np.array(merged, dtype=object), RSRP_SIMPLIFY_M) if merged else np.array([], dtype=object)
    frame = gpd.GeoDataFrame(
        {"rsrp_class": present, "fill": [RSRP_COLORS[c] for c in present]}, geometry=list(simplified), crs=coverage.cells.crs
    )
    frame = shift_frame(frame, shift)
    return folium.GeoJson(
        geojson(frame),
        name=t("maps.layer.rsrp", lang, service=t(f"maps.service.{coverage.service}", lang)),
        show=show,
        interactive=False,
        style_function=lambda feature: {
            "fillColor": feature["properties"]["fill"],
            "color": feature["properties"]["fill"],
            "weight": 0,
            "fillOpacity": 0.6,
            "className": "rsrp-class",
        },
    )
