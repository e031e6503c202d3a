"""The worksheet's location map: an SVG drawn directly (no plotting library), labels that never
overlap. The compound, its street's outline, the 800 m circle and the on-air stations nearby;
a station whose label finds no free place is numbered and listed instead."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

__all__ = ["location_svg"]

_SIZE = 300.0  # drawing units (the page scales it)
_OFFSETS = ((6, -4), (6, 10), (-6, -4), (-6, 10), (0, -9), (0, 15))


def location_svg(centre: tuple[float, float], radius_m: float, stations: list[dict], street: Any | None, *, name: str, title: str) -> str:
    """The map as SVG text. ``centre`` and station ``x``/``y`` are metric coordinates; ``street``
    is the street's polygon in the same coordinates (or None)."""
    x0, y0 = centre
    half = radius_m * 1.25
    scale = _SIZE / (2 * half)

    def to_px(x: float, y: float) -> tuple[float, float]:
        return (x - x0 + half) * scale, (y0 + half - y) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_SIZE:.0f} {_SIZE:.0f}" font-family="Noto Sans CJK SC, sans-serif">',
        f'<rect width="{_SIZE:.0f}" height="{_SIZE:.0f}" fill="#f7f9fb" stroke="#999" stroke-width="0.8"/>',
    ]
    if street is not None:
        import shapely

        view = shapely.box(x0 - half, y0 - half, x0 + half, y0 + half)
        for polygon in shapely.get_parts(shapely.intersection(street, view)):
            if polygon.geom_type != "Polygon":
                continue
            points = " ".join(f"{px:.1f},{py:.1f}" for px, py in (to_px(x, y) for x, y in np.asarray(polygon.exterior.coords)))
            parts.append(f'<polygon points="{points}" fill="#e8f1e4" stroke="#5a7d4e" stroke-width="1.2"/>')
    cx, cy = to_px(x0, y0)
    parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius_m * scale:.1f}" fill="none" stroke="#888" stroke-dasharray="4 3"/>')
    taken: list[tuple[float, float, float, float]] = [(cx - 6, cy - 6, cx + 6, cy + 6)]
    taken += [(px - 4, py - 4, px + 4, py + 4) for px, py in (to_px(s["x"], s["y"]) for s in stations)]
    label_box = _place(cx, cy, name, 9.5, taken, first=(8, 14))
    labels, unplaced = [], []
    for number, station in enumerate(stations, start=1):
        px, py = to_px(station["x"], station["y"])
        parts.append(
            f'<path d="M{px:.1f},{py - 5:.1f} L{px + 4.5:.1f},{py + 3.5:.1f} L{px - 4.5:.1f},{py + 3.5:.1f} Z" fill="#1a9850" stroke="#fff" stroke-width="0.6"/>'
        )
        box = _place(px, py, station["site_id"], 7.0, taken)
        if box is None:
            box = _place(px, py, str(number), 7.0, taken)
            unplaced.append(number)
            text = str(number)
        else:
            text = station["site_id"]
        if box is not None:
            labels.append(_text(box, text, 7.0, "#14532d"))
    parts.append(f'<rect x="{cx - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" fill="#d7191c" stroke="#fff" stroke-width="0.8"/>')
    parts += labels
    if label_box is not None:
        parts.append(_text(label_box, name, 9.5, "#7f0000", bold=True))
    bar = 500 * scale
    parts.append(f'<path d="M10,{_SIZE - 12:.0f} h{bar:.1f}" stroke="#000" stroke-width="2"/>')
    parts.append(f'<text x="{10 + bar / 2:.1f}" y="{_SIZE - 16:.0f}" font-size="8" text-anchor="middle">500 m</text>')
    parts.append(f'<text x="{_SIZE - 8:.0f}" y="14" font-size="10" text-anchor="end">N ↑</text>')
    parts.append(f'<text x="8" y="14" font-size="9">{escape(title)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _width(text: str, size: float) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def _place(
    x: float, y: float, text: str, size: float, taken: list[tuple[float, float, float, float]], first: tuple[float, float] | None = None
) -> tuple[float, float, float, float] | None:
    """The first free box for ``text`` around (x, y), added to ``taken``; None when none is free."""
    width = _width(text, size)
    for dx, dy in ((first,) if first else ()) + _OFFSETS:
        left = x + dx if dx >= 0 else x + dx - width
        if dx == 0:
            left = x - width / 2
        box = (left, y + dy - size, left + width, y + dy + 1)
        inside = box[0] >= 2 and box[1] >= 16 and box[2] <= _SIZE - 2 and box[3] <= _SIZE - 20
        if inside and not any(_overlaps(box, other) for other in taken):
            taken.append(box)
            return box
    return None


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _text(box: tuple[float, float, float, float], text: str, size: float, colour: str, *, bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    halo = 'stroke="#fff" stroke-width="2.2" paint-order="stroke"'
    return f'<text x="{box[0]:.1f}" y="{box[3] - 1:.1f}" font-size="{size}" fill="{colour}" {halo}{weight}>{escape(text)}</text>'
