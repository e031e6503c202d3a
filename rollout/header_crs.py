"""Coordinate systems named in headers: 经度(百度), 百度经度, 高德经度, lng_gcj, bd_lon, 经度(GCJ02), lon_wgs84.

A coordinate header may name its system. Such a header is the column's coordinate system: it is
never read as WGS-84 unless it says so. :func:`coordinate_header` reads the column (``lon`` or
``lat``) and the system a header names, beside the vocabulary of :mod:`rollout.schema`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["HEADER_CRS_WORDS", "HeaderHint", "coordinate_header"]

#: Words that name a coordinate system in a header (normalised, without separators).
HEADER_CRS_WORDS: dict[str, tuple[str, ...]] = {
    "bd09": ("bd09ll", "bd09mc", "bd09", "bd", "baidu", "百度"),
    "gcj02": ("gcj02", "gcj", "amap", "gaode", "tencent", "高德", "腾讯", "火星", "国测局"),
    "wgs84": ("wgs84", "wgs", "gps", "cgcs2000", "epsg4326", "4326", "epsg4490", "天地图", "国际", "大地"),
}
_CORES = {"经度": "lon", "东经": "lon", "longitude": "lon", "long": "lon", "lng": "lon", "lon": "lon", "x": "lon"}
_CORES |= {"纬度": "lat", "北纬": "lat", "latitude": "lat", "lat": "lat", "y": "lat"}
#: Words that may stand beside a system's name without changing it: units, "coordinates", hemispheres.
_HINT_FILLER = (
    "坐标系统", "坐标系", "坐标", "地图", "系统", "系", "coordinates", "coordinate", "coords", "coord", "crs",
    "十进制度", "十进制", "decimal", "degrees", "degree", "deg", "dd", "度", "°", "e", "n", "东", "北",
)  # fmt: skip
_HINT_WORDS = sorted(
    [(w, c) for c, words in HEADER_CRS_WORDS.items() for w in words] + [(w, "") for w in _HINT_FILLER], key=lambda p: -len(p[0])
)
_BRACKETS = re.compile(r"[(\[（【{<《](.*?)[)\]）】}>》]")
_HINT_TOKENS = re.compile(r"[a-z0-9]+|[^\sa-z0-9_\-—–·./:：,，;；|]+")
_CJK_SPLIT = re.compile("(经度|纬度|东经|北纬)")


@dataclass(frozen=True)
class HeaderHint:
    """What a coordinate header says: its column (``lon``/``lat``), the coordinate system it
    names (None when it names none or several), every system it names, and any words in
    brackets that name no known system."""

    field: str
    crs: str | None
    unknown: str = ""
    systems: tuple[str, ...] = ()


def coordinate_header(header: object) -> HeaderHint | None:
    """Read a longitude/latitude header and the coordinate system it names, if any.

    >>> coordinate_header("经度(百度)")
    HeaderHint(field='lon', crs='bd09', unknown='', systems=('bd09',))
    >>> coordinate_header("lng_gcj").crs, coordinate_header("百度经度").crs, coordinate_header("纬度（°）").crs
    ('gcj02', 'bd09', None)
    >>> coordinate_header("经度(北京54)").unknown
    '北京54'
    >>> coordinate_header("站名") is None, coordinate_header("站点经度") is None
    (True, True)
    """
    return _coordinate_header(str(header))


@functools.lru_cache(maxsize=4096)
def _coordinate_header(header: str) -> HeaderHint | None:
    # Cached: finding a file's header row and delimiter reads the same head cells many times.
    text = unicodedata.normalize("NFKC", _strip_format(header)).strip().lower()
    inside = [m.group(1) for m in _BRACKETS.finditer(text)]
    tokens: list[str] = []
    for token in _HINT_TOKENS.findall(_BRACKETS.sub(" ", text)):
        tokens.extend(part for part in _CJK_SPLIT.split(token) if part)
    cores = [t for t in tokens if t in _CORES]
    if len(cores) != 1:
        return None
    systems: list[str] = []
    outside = "".join(t for t in tokens if t not in _CORES)
    if _hint_words(outside, systems):
        return None  # other words around the coordinate word: not a coordinate header (e.g. 站点经度)
    unknown = [part.strip() for part in inside if _hint_words(part, systems)]
    distinct = tuple(dict.fromkeys(systems))
    return HeaderHint(_CORES[cores[0]], distinct[0] if len(distinct) == 1 else None, "、".join(unknown), distinct)


def _hint_words(text: str, systems: list[str]) -> str:
    """Read ``text`` as system names and filler words (the systems go into ``systems``); return
    what is left over."""
    rest = re.sub(r"[\s_\-—–·./:：,，;；|+]+", "", text)
    while rest:
        for word, code in _HINT_WORDS:
            if rest.startswith(word):
                if code:
                    systems.append(code)
                rest = rest[len(word) :]
                break
        else:
            return rest
    return ""


def _strip_format(text: str) -> str:
    """``text`` without invisible format characters (Unicode category Cf: zero-width spaces, BOMs)."""
    return text if text.isascii() else "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
