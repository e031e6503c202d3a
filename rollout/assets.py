"""Leaflet and its marker-cluster plugin, inlined so that pages render with no internet.

The files come from the installed ``xstatic-leaflet`` and ``xstatic-leaflet-markercluster``
packages (the same builds that CDNs serve); the CSS's images become data URIs. rollout's own
page script and styles live in ``rollout/templates``.
"""

from __future__ import annotations

import base64
import functools
import re
from importlib import resources
from pathlib import Path

__all__ = ["inline_head", "page_script", "page_style"]

_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def _xstatic_dir(module: str) -> Path:
    import importlib

    package = importlib.import_module(f"xstatic.pkg.{module}")
    return Path(package.BASE_DIR)


def _css_with_data_uris(css: str, base: Path) -> str:
    def embed(match: re.Match[str]) -> str:
        path = base / match.group(1)
        if not path.is_file():
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})"

    return re.sub(r"url\((images/[^)]+\.png)\)", embed, css)


def _script(text: str) -> str:
    # A script body must not contain "</script"; library code never does, but be sure.
    return "<script>" + _SOURCE_MAP.sub("", text).replace("</script", "<\\/script") + "</script>"


@functools.cache
def inline_head() -> str:
    """``<style>`` and ``<script>`` tags carrying Leaflet 1.9.3 and Leaflet.markercluster."""
    leaflet = _xstatic_dir("leaflet")
    cluster = _xstatic_dir("leaflet_markercluster")
    css = _css_with_data_uris((leaflet / "leaflet.css").read_text(encoding="utf-8"), leaflet)
    css += (cluster / "MarkerCluster.css").read_text(encoding="utf-8")
    css += (cluster / "MarkerCluster.Default.css").read_text(encoding="utf-8")
    return "\n".join(
        [
            f"<style>{css}</style>",
            _script((leaflet / "leaflet.js").read_text(encoding="utf-8")),
            _script((cluster / "leaflet.markercluster.js").read_text(encoding="utf-8")),
        ]
    )


def _template(name: str) -> str:
    return (resources.files("rollout") / "templates" / name).read_text(encoding="utf-8")


def page_script() -> str:
    """rollout's map script (site layers, popups, legend, search, fullscreen)."""
    return _template("sites.js")


def page_style() -> str:
    """rollout's map styles."""
    return _template("map.css")
