"""The checks a set of street polygons must pass before it is used or written.

One polygon per unit of ``streets.csv``; coordinates that can be degrees (a GeoJSON in metres
without a CRS is refused, not read as degrees); polygons near the configured district (a file in
the wrong coordinate system, or of another place, is refused); valid polygons (an invalid one is
repaired by ``make_valid`` with a warning, unless the repair changes its area by more than the
tolerance); no overlaps beyond the tolerance. A boundary file on disk that fails them is named
with what to do: restore the backup the last import kept, or import again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rollout import crs as _crs
from rollout.config import Config
from rollout.errors import BoundaryError, RolloutError
from rollout.i18n import Lang, t

__all__ = ["BoundaryFileUnusable", "StreetsInvalid", "StreetsOverlap", "check_streets", "writable_streets"]

log = logging.getLogger(__name__)

#: Polygons farther than this from the configured district are refused.
FAR_KM = 5.0
#: A repair by ``make_valid`` that changes a polygon's area by more than this share is refused.
REPAIR_TOLERANCE = 0.01


def check_streets(streets: gpd.GeoDataFrame, table: pd.DataFrame, *, origin: str, config: Config | None = None) -> gpd.GeoDataFrame:
    """Check that ``streets`` (WGS-84) holds each unit of ``table`` once, as a valid,
    non-overlapping polygon in degrees near the configured district (``config``).

    Repaired polygons are listed in ``attrs["repaired"]`` of the frame returned (their codes).
    """
    codes = streets["street_code"].astype(str)
    expected = set(table["street_code"])
    problems: dict[str, str] = {}
    if unknown := sorted(set(codes) - expected):
        problems["unknown"] = ", ".join(unknown)
    if missing := sorted(expected - set(codes)):
        names = table.set_index("street_code").loc[missing, "name"]
        problems["missing"] = ", ".join(f"{c} {n}" for c, n in names.items())
    if codes.duplicated().any():
        problems["repeated"] = ", ".join(sorted(set(codes[codes.duplicated()])))
    types = streets.geometry.geom_type
    if not types.isin(["Polygon", "MultiPolygon"]).all():
        problems["geometry"] = ", ".join(codes[~types.isin(["Polygon", "MultiPolygon"])])
    if problems:
        raise StreetsInvalid(origin, len(expected), problems)
    _in_degrees(streets, origin)
    streets = streets.copy()
    repaired = _repaired(streets, codes, origin)
    if config is not None:
        _near_district(streets, codes, table, config, origin)
    _without_overlaps(streets, codes, origin)
    keep = [c for c in ["street_code", "name", "name_en", "kind", "source"] if c in streets.columns]
    out = gpd.GeoDataFrame(streets[keep], geometry=streets.geometry, crs=4326).sort_values("street_code", ignore_index=True)
    out.attrs["repaired"] = repaired
    return out


def writable_streets(streets: gpd.GeoDataFrame, *, origin: str) -> None:
    """Refuse to write polygons a boundary file must not hold (so the previous file stays)."""
    if streets.empty or "street_code" not in streets.columns:
        raise BoundaryError("errors.boundary_no_features", path=origin)
    if not streets.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all() or not streets.geometry.is_valid.all():
        raise StreetsInvalid(origin, len(streets), {"geometry": ", ".join(streets["street_code"].astype(str))})
    _in_degrees(streets, origin)


def _in_degrees(streets: gpd.GeoDataFrame, origin: str) -> None:
    """Coordinates that cannot be longitudes and latitudes: metres read as degrees."""
    x0, y0, x1, y1 = streets.total_bounds
    if not np.isfinite([x0, y0, x1, y1]).all() or x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        x = max(abs(x0), abs(x1)) if np.isfinite([x0, x1]).all() else float("nan")
        y = max(abs(y0), abs(y1)) if np.isfinite([y0, y1]).all() else float("nan")
        raise BoundaryError("errors.boundary_not_degrees", origin=origin, x=f"{x:,.0f}", y=f"{y:,.0f}")


def _repaired(streets: gpd.GeoDataFrame, codes: pd.Series, origin: str) -> list[str]:
    """Invalid polygons repaired in place (``make_valid``, polygons kept); their codes."""
    invalid = ~streets.geometry.is_valid
    if not invalid.any():
        return []
    before = _crs.to_metric(gpd.GeoDataFrame(geometry=streets.geometry[invalid].to_numpy(), crs=4326))  # shoelace area
    fixed = gpd.GeoSeries([_polygons_only(g) for g in streets.geometry[invalid].make_valid()], crs=4326)
    after = _crs.to_metric(gpd.GeoDataFrame(geometry=fixed, crs=4326))
    change = np.abs(after.area.to_numpy() - before.area.to_numpy()) / np.maximum(before.area.to_numpy(), 1.0)
    bad = change > REPAIR_TOLERANCE
    if bad.any() or fixed.is_empty.any():
        listed = ", ".join(codes[invalid][bad | fixed.is_empty.to_numpy()])
        raise BoundaryError("errors.boundary_invalid", origin=origin, codes=listed, share=f"{REPAIR_TOLERANCE:.0%}")
    streets.loc[invalid, "geometry"] = fixed.to_numpy()
    log.warning("%s: repaired invalid polygon(s) for %s", origin, ", ".join(codes[invalid]))
    return list(codes[invalid])


def _polygons_only(geometry: Any) -> Any:
    """The polygonal part of a repaired geometry (``make_valid`` may add lines or points)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _near_district(streets: gpd.GeoDataFrame, codes: pd.Series, table: pd.DataFrame, config: Config, origin: str) -> None:
    """Polygons far from the configured district: another place, or another coordinate system."""
    reference = _reference(config, table)
    if reference is None:
        return
    metric = _crs.metric_crs(tuple(gpd.GeoSeries([reference], crs=4326).total_bounds))
    area = gpd.GeoSeries([reference], crs=4326).to_crs(metric).iloc[0]
    polygons = streets.geometry.to_crs(metric).to_numpy()
    distance_km = shapely.distance(area, polygons) / 1000
    far = distance_km > FAR_KM
    if far.any():
        worst = int(np.argmax(distance_km))
        raise BoundaryError(
            "errors.boundary_far",
            origin=origin,
            codes=", ".join(codes[far]),
            km=f"{FAR_KM:g}",
            worst=str(codes.iloc[worst]),
            distance=f"{distance_km[worst]:,.1f}",
            district=config.district_name,
        )


def _reference(config: Config, table: pd.DataFrame) -> Any:
    """The configured districts' outlines, else the streets' seed points, else None."""
    from rollout.boundaries import district_outline

    shapes = []
    for district in config.districts:
        try:
            shapes.append(district_outline(district.code))
        except BoundaryError:
            shapes = []
            break
    if shapes:
        return shapely.union_all(shapes)
    if {"seed_lon", "seed_lat"} <= set(table.columns):
        lon = pd.to_numeric(table["seed_lon"], errors="coerce")
        lat = pd.to_numeric(table["seed_lat"], errors="coerce")
        if lon.notna().all() and lat.notna().all():
            return shapely.MultiPoint(np.column_stack([lon, lat]))
    return None


def _without_overlaps(streets: gpd.GeoDataFrame, codes: pd.Series, origin: str) -> None:
    from rollout import settings

    metric = _crs.to_metric(streets)
    left, right = metric.sindex.query(metric.geometry, predicate="intersects")
    pairs = left < right
    if not pairs.any():
        return
    overlap = shapely.intersection(metric.geometry.to_numpy()[left[pairs]], metric.geometry.to_numpy()[right[pairs]])
    areas = shapely.area(overlap)
    too_big = areas > settings.overlap_tolerance_m2
    if too_big.any():
        worst = [
            (str(codes.iloc[a]), str(codes.iloc[b]), f"{area:,.0f}")
            for a, b, area in zip(left[pairs][too_big], right[pairs][too_big], areas[too_big], strict=True)
        ]
        raise StreetsOverlap(origin, f"{settings.overlap_tolerance_m2:,.0f}", worst)


class StreetsInvalid(BoundaryError):
    """Street polygons that are not one valid polygon per unit; the problems are listed by kind."""

    def __init__(self, origin: str, expected: int, problems: dict[str, str]) -> None:
        super().__init__("errors.streets_invalid", origin=origin, expected=expected, problems=problems)

    def message(self, lang: Lang) -> str:
        parts = [
            t(f"errors.streets_invalid_{name}", lang, **{"streets" if name == "missing" else "codes": text})
            for name, text in self.params["problems"].items()
        ]
        return t(
            self.key,
            lang,
            origin=self.params["origin"],
            expected=self.params["expected"],
            problems=t("labels.clause_separator", lang).join(parts),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (StreetsInvalid, (self.params["origin"], self.params["expected"], self.params["problems"]))


class StreetsOverlap(BoundaryError):
    """Street polygons that overlap beyond the tolerance."""

    def __init__(self, origin: str, tolerance: str, pairs: list[tuple[str, str, str]]) -> None:
        super().__init__("errors.streets_overlap", origin=origin, tolerance=tolerance, pairs=pairs)

    def message(self, lang: Lang) -> str:
        pairs = t("labels.clause_separator", lang).join(
            t("errors.streets_overlap_pair", lang, first=a, second=b, area=area) for a, b, area in self.params["pairs"]
        )
        return t(self.key, lang, origin=self.params["origin"], tolerance=self.params["tolerance"], pairs=pairs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (StreetsOverlap, (self.params["origin"], self.params["tolerance"], self.params["pairs"]))


class BoundaryFileUnusable(BoundaryError):
    """The boundary file in the data folder cannot be used: why, and what to do (restore the
    backup the last import kept, or import or fetch the boundaries again)."""

    def __init__(self, path: Path | str, cause: RolloutError, *, backup: bool) -> None:
        super().__init__("errors.boundary_file_unusable", path=str(path), cause=cause, backup=backup)

    def message(self, lang: Lang) -> str:
        path = self.params["path"]
        fix = t("errors.boundary_fix_backup" if self.params["backup"] else "errors.boundary_fix_import", lang, path=path)
        return t(self.key, lang, path=path, reason=self.params["cause"].message(lang), fix=fix)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unusable, (self.params["path"], self.params["cause"], self.params["backup"]))


def _unusable(path: str, cause: RolloutError, backup: bool) -> BoundaryFileUnusable:
    return BoundaryFileUnusable(path, cause, backup=backup)
