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
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from rollout import labels
from rollout.assets import inline_head, page_script, page_style
from rollout.basemaps import BASEMAPS, check_basemap, tile_layers, vector_system
from rollout.i18n import Lang, t
from rollout.map_data import (
    AGGREGATE_CELL_M,
    AGGREGATE_THRESHOLD,
    GARAGE_FIELDS,
    MACRO_FIELDS,
    PCT_BINS,
    PCT_COLORS,
    coverage_legend,
    page_labels,
    site_rows,
    street_labels,
)
from rollout.map_data import legend as base_legend
from rollout.map_layers import boundary_layer, choropleth_layer, coverage_layers, shift_frame
from rollout.map_render import Literal, render_figure
from rollout.schema import GARAGE, MACRO
from rollout.writers import write_text

__all__ = ["BASEMAPS", "build_map", "build_project_map", "render_map", "save_map"]

#: Above this many markers of a kind, markers are clustered.
CLUSTER_THRESHOLD = 300


class OfflineMap(folium.Map):
    """A folium map that links no CDN: its assets are inlined by :func:`build_map`."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - overrides folium's class attribute
    default_css: list[tuple[str, str]] = []  # noqa: RUF012


class _SiteLayers(MacroElement):
    """Emits the page's data block and the call that draws sites, labels, legend and controls.

    ``bound`` names the layers that legend sections and street labels follow (``macro_pct``,
    ``garage_pct``, ``macro``, ``garage``, ``rsrp``, ...).
    """

    _template = Template(
        """
{% macro header(this, kwargs) %}<style>{{ this.style }}</style>
<script>{{ this.script }}</script>{% endmacro %}
{% macro html(this, kwargs) %}<script type="application/json" id="rollout-data">{{ this.data }}</script>{% endmacro %}
{% macro script(this, kwargs) %}
    rolloutSites({{ this._parent.get_name() }}, {
        {%- for key, layer in this.bound.items() %}{{ key|tojson }}: {{ layer.get_name() }}{{ ", " if not loop.last }}{% endfor -%}
    }, JSON.parse(document.getElementById("rollout-data").textContent));
{% endmacro %}
"""
    )

    def __init__(self, data: dict, bound: dict[str, folium.map.Layer]) -> None:
        super().__init__()
        self._name = "SiteLayers"
        self.data = _json_for_html(data)
        self.bound = bound
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
    tianditu_key: str | None = None,
    approximate: bool = False,
    aggregated_note: str = "",
    coverage=None,
    show_coverage: bool = False,
    aggregate_above: int | None = None,
    notes: Iterable[str] = (),
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
        ``osm``, ``gaode`` (GCJ-02 tiles: every vector is shifted to GCJ-02 to line up),
        ``tianditu`` (needs ``tianditu_key``) or ``none``.
    coverage, show_coverage
        A :class:`~rollout.coverage.CoverageResult` drawn as SS-RSRP classes, covered area and
        gaps; with ``show_coverage`` the page opens on the RSRP and the gaps (the street
        choropleths off), otherwise on the macro % done with coverage off.
    notes
        Lines shown under the title (e.g. which days an ISO week covers).
    lang
        Language of every label on the page.
    layers, legend
        More layers (e.g. :func:`rollout.planmap.planning_layers`) and legend sections
        (``{"heading": ..., "items": [{"color" or "className": ..., "label": ...}]}``).
    """
    check_basemap(basemap, tianditu_key=tianditu_key)
    shift = vector_system(basemap)
    changed_ids: dict[str, set[str]] = {k: set(v) for k, v in (changed or {}).items()}
    streets = shift_frame(streets, shift)
    west, south, east, north = streets.total_bounds
    fmap = OfflineMap(location=[(south + north) / 2, (west + east) / 2], zoom_start=13, tiles=None, prefer_canvas=False)
    root: Any = fmap.get_root()
    root.header.add_child(Literal(inline_head()), name="rollout_assets")  # 200 kB: no template
    root.title = title
    for tiles in tile_layers(basemap, lang=lang, tianditu_key=tianditu_key):
        tiles.add_to(fmap)
    by_code = progress.set_index("street_code")
    bound: dict[str, folium.map.Layer] = {}
    for kind in ("macro", "garage"):
        shown = kind == "macro" and not (coverage is not None and show_coverage)
        bound[f"{kind}_pct"] = choropleth_layer(streets, by_code, kind, show=shown, lang=lang)
    legend_sections = base_legend(lang)
    if coverage is not None:
        bound |= coverage_layers(coverage, shift, show=show_coverage, lang=lang)
        legend_sections += coverage_legend(coverage.threshold_dbm, has_gaps="gaps" in bound, lang=lang)
    for layer in [*bound.values(), boundary_layer(streets, lang=lang), *layers]:
        layer.add_to(fmap)
    for key in ("names", "macro", "garage"):
        name = t(f"maps.layer.{'street_names' if key == 'names' else key}", lang)
        bound[key] = folium.FeatureGroup(name=name, show=True)
        bound[key].add_to(fmap)
    limit = AGGREGATE_THRESHOLD if aggregate_above is None else aggregate_above
    macro_spec = site_rows(macro, MACRO, MACRO_FIELDS, as_of, changed_ids.get("macro", set()), shift, lang, limit)
    garage_spec = site_rows(garage, GARAGE, GARAGE_FIELDS, as_of, changed_ids.get("garage", set()), shift, lang, limit)
    aggregated = [spec["count"] for spec in (macro_spec, garage_spec) if spec.get("aggregated")]
    if aggregated and not aggregated_note:
        aggregated_note = t("maps.aggregated", lang, count=sum(aggregated), cell=f"{AGGREGATE_CELL_M:.0f}")
    data = {
        "title": title,
        "subtitle": subtitle,
        "notes": list(notes),
        "approximate": (labels.approximate_note(lang) if approximate else ""),
        "aggregated": aggregated_note,
        "clusterThreshold": CLUSTER_THRESHOLD,
        "pctBins": list(PCT_BINS),
        "pctColors": list(PCT_COLORS),
        "labels": page_labels(lang),
        "legend": legend_sections + list(legend),
        "streetLabels": street_labels(streets, by_code, lang),
        "macro": macro_spec,
        "garage": garage_spec,
    }
    # The layer list first: the page script puts the title above it and fits the legend below.
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.add_child(_SiteLayers(data, bound))
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def build_project_map(
    project, *, title: str, subtitle: str | None = None, progress: pd.DataFrame | None = None, lang: Lang = "zh", **options
) -> folium.Map:
    """:func:`build_map` for a loaded :class:`~rollout.pipeline.Project` on its day (the
    Tianditu key from its rollout.toml)."""
    options.setdefault("tianditu_key", project.config.tianditu_key)
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


def render_map(fmap: folium.Map) -> str:
    """The map as one self-contained HTML page, the same text for the same map (rendered in one
    pass: text from the data is never read as template code, see :mod:`rollout.map_render`)."""
    _stable_ids(fmap.get_root())
    return render_figure(fmap.get_root())


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
