"""Chinese map coordinate systems: WGS-84, GCJ-02 (Gaode, Tencent) and BD-09 (Baidu).

GCJ-02 and BD-09 are not pyproj CRSs: they are obfuscated shifts of WGS-84 defined
only inside China. Coordinates are converted once, at load time, into WGS-84, and
converted back only to draw on a GCJ-02 basemap. Every function here works on whole
numpy arrays; there is no per-point Python loop.

The forward formulas are the widely published ones (Krasovsky ellipsoid for GCJ-02,
Baidu's ``x_pi`` rotation for BD-09). Their inverses have no closed form, so they are
solved by fixed-point iteration, which converges to millimetres in a few steps because
the shift is nearly constant over a few hundred metres.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import pyproj

__all__ = [
    "CANONICAL_CRS",
    "METRIC_CRS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "metric_crs",
    "metric_transformer",
    "to_metric",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
    "wgs84_transformer",
]

ArrayLike = npt.ArrayLike
Pair = tuple[np.ndarray, np.ndarray]

#: The three coordinate systems a site file may use.
CANONICAL_CRS = ("wgs84", "gcj02", "bd09")

#: UTM zone 51N, Shanghai's: what :func:`metric_crs` falls back to for empty bounds. Use
#: :func:`metric_crs`, which picks the zone of the area being measured.
METRIC_CRS = pyproj.CRS.from_epsg(32651)


def metric_crs(bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    """The UTM zone (WGS-84) holding the centre of ``bounds`` (minx, miny, maxx, maxy in degrees).

    Distances and areas are measured in metres in it; for an area within one or two zones the
    scale error stays under 0.1 %.

    >>> metric_crs((121.33, 31.21, 121.46, 31.30)).to_epsg()
    32651
    >>> metric_crs((87.0, 43.5, 88.0, 44.0)).to_epsg()  # Urumqi
    32645
    """
    minx, miny, maxx, maxy = bounds
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return METRIC_CRS
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@functools.lru_cache(maxsize=16)
def metric_transformer(crs: pyproj.CRS) -> pyproj.Transformer:
    """WGS-84 longitude/latitude to the metric ``crs`` (x, y), built once per CRS."""
    return pyproj.Transformer.from_crs(4326, crs, always_xy=True)


@functools.lru_cache(maxsize=16)
def wgs84_transformer(crs: pyproj.CRS) -> pyproj.Transformer:
    """The metric ``crs`` (x, y) back to WGS-84 longitude/latitude, built once per CRS (the same
    transformation as ``GeoSeries.to_crs(4326)``, without making geometries)."""
    return pyproj.Transformer.from_crs(crs, 4326, always_xy=True)


def to_metric(frame):
    """A GeoDataFrame or GeoSeries in WGS-84 projected to the :func:`metric_crs` of its bounds."""
    return frame.to_crs(metric_crs(tuple(frame.to_crs(4326).total_bounds)))


_A = 6378245.0  # Krasovsky 1940 semi-major axis, used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_ITERATIONS = 6


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Return True where a point lies in the rough rectangle where GCJ-02 applies.

    >>> in_china([121.4, 2.35], [31.2, 48.85]).tolist()
    [True, False]
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> Pair:
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Shift WGS-84 coordinates to GCJ-02 (points outside China are unchanged)."""
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Shift GCJ-02 coordinates to Baidu's BD-09."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon: np.ndarray, lat: np.ndarray) -> Pair:
    """Solve forward(x) = target by fixed-point iteration, starting at the target."""
    guess_lon, guess_lat = lon.copy(), lat.copy()
    for _ in range(_INVERSE_ITERATIONS):
        f_lon, f_lat = forward(guess_lon, guess_lat)
        guess_lon -= f_lon - lon
        guess_lat -= f_lat - lat
    return guess_lon, guess_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert GCJ-02 coordinates to WGS-84 (iterative inverse, error well under 1 cm)."""
    return _invert(wgs84_to_gcj02, *_as_arrays(lon, lat))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert BD-09 coordinates to GCJ-02 (iterative inverse)."""
    return _invert(gcj02_to_bd09, *_as_arrays(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert BD-09 coordinates to WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Convert WGS-84 coordinates to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: ArrayLike) -> Pair:
    """Convert coordinates given per point in ``wgs84``, ``gcj02`` or ``bd09`` to WGS-84.

    ``crs`` is one name for all points or an array of names, one per point.

    >>> lon, lat = to_wgs84([121.4, 121.4], [31.2, 31.2], ["wgs84", "gcj02"])
    >>> round(float(lon[0] - lon[1]), 4), round(float(lat[0] - lat[1]), 4)  # Gaode's offset in Shanghai
    (0.0046, -0.0018)
    """
    lon, lat = _as_arrays(lon, lat)
    names = np.broadcast_to(np.asarray(crs, dtype=object), lon.shape)
    out_lon, out_lat = lon.copy(), lat.copy()
    for name, convert in _TO_WGS84.items():
        mask = names == name
        if mask.any():
            out_lon[mask], out_lat[mask] = convert(lon[mask], lat[mask])
    return out_lon, out_lat


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> Pair:
    """Convert WGS-84 coordinates to ``crs`` (``wgs84``, ``gcj02`` or ``bd09``)."""
    lon, lat = _as_arrays(lon, lat)
    if crs == "wgs84":
        return lon.copy(), lat.copy()
    return _FROM_WGS84[crs](lon, lat)
