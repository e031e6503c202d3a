"""Background tiles for the maps: OpenStreetMap, Gaode, 天地图 (Tianditu) or none.

Gaode's tiles are drawn in GCJ-02, so a map on them shifts every vector to GCJ-02
(:func:`vector_system`). Tianditu's are CGCS2000, the same as WGS-84 to within centimetres,
so nothing moves; they need a key (``[map] tianditu_key`` in rollout.toml), which ends up in
the page's tile addresses as every Tianditu web map's does. Without a network no tile loads:
the page then shows a plain light background with the district outline and says that the
tiles are offline (see ``templates/sites.js``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rollout.errors import ConfigError, InvalidValueError
from rollout.i18n import Lang, t

if TYPE_CHECKING:
    import folium

__all__ = ["BASEMAPS", "check_basemap", "tile_layers", "vector_system"]

BASEMAPS = ("osm", "gaode", "tianditu", "none")
_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
_GAODE = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_TIANDITU_ATTRIBUTION = '© <a href="https://www.tianditu.gov.cn">天地图</a>'
#: Tianditu keys are 32 hexadecimal digits; anything else cannot be one (and must not reach a URL).
_KEY = re.compile(r"^[0-9A-Za-z]{16,64}$")


def check_basemap(basemap: str, *, tianditu_key: str | None = None) -> None:
    """Raise a clear error for an unknown basemap or Tianditu without a usable key."""
    if basemap not in BASEMAPS:
        raise InvalidValueError("errors.basemap_unknown", value=basemap, allowed=", ".join(BASEMAPS))
    if basemap == "tianditu":
        if not tianditu_key:
            raise ConfigError("errors.tianditu_key_missing")
        if not _KEY.match(tianditu_key):
            raise ConfigError("errors.tianditu_key_invalid", value=tianditu_key)


def vector_system(basemap: str) -> str:
    """The coordinate system vectors are drawn in to line up with ``basemap``'s tiles."""
    return "gcj02" if basemap == "gaode" else "wgs84"


def tile_layers(basemap: str, *, lang: Lang, tianditu_key: str | None = None) -> list[folium.TileLayer]:
    """The tile layers of ``basemap`` (none for ``none``), in drawing order."""
    import folium  # heavy: only when a map is built

    check_basemap(basemap, tianditu_key=tianditu_key)
    if basemap == "osm":
        # The address and attribution folium would look up in xyzservices' catalogue (8 ms on
        # the first map of a process), given directly.
        return [folium.TileLayer(tiles=_OSM, attr=_OSM_ATTRIBUTION, name=t("maps.layer.osm", lang), max_zoom=19)]
    if basemap == "gaode":
        return [
            folium.TileLayer(tiles=_GAODE, attr="© 高德地图 AutoNavi", name=t("maps.layer.gaode", lang), subdomains="1234", max_zoom=18)
        ]
    if basemap == "tianditu":
        labels = "cva" if lang == "zh" else "eva"  # Chinese or English place names
        common: dict[str, Any] = {"attr": _TIANDITU_ATTRIBUTION, "subdomains": "01234567", "max_zoom": 19, "max_native_zoom": 18}
        key = str(tianditu_key)
        return [
            folium.TileLayer(tiles=_tianditu_url("vec", key), name=t("maps.layer.tianditu", lang), **common),
            folium.TileLayer(tiles=_tianditu_url(labels, key), name=t("maps.layer.tianditu_labels", lang), overlay=True, **common),
        ]
    return []


def _tianditu_url(layer: str, key: str) -> str:
    """A Tianditu WMTS layer in Web Mercator (``_w``) as a Leaflet tile address."""
    return (
        f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
        f"&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
    )
