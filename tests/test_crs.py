"""Coordinate conversion: round trips, reference values, and the real Telecom data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest

from rollout import crs

GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(("forward", "inverse"), [(crs.wgs84_to_gcj02, crs.gcj02_to_wgs84), (crs.wgs84_to_bd09, crs.bd09_to_wgs84)])
def test_round_trip_error_under_half_a_metre_across_china(forward, inverse) -> None:
    rng = np.random.default_rng(1)
    lon = rng.uniform(75, 134, 20_000)
    lat = rng.uniform(19, 53, 20_000)
    back_lon, back_lat = inverse(*forward(lon, lat))
    error = _metres(lon, lat, back_lon, back_lat)
    assert error.max() < 0.5
    assert np.median(error) < 0.01


def test_shift_in_shanghai_has_the_known_size() -> None:
    gcj_lon, gcj_lat = crs.wgs84_to_gcj02(121.4, 31.25)
    # The GCJ-02 offset around Putuo is about +0.0045 deg lon, -0.0019 deg lat (roughly 500 m).
    assert gcj_lon - 121.4 == pytest.approx(0.0045, abs=0.0003)
    assert gcj_lat - 31.25 == pytest.approx(-0.0020, abs=0.0003)
    assert 400 < _metres(121.4, 31.25, gcj_lon, gcj_lat) < 600


def test_points_outside_china_are_not_shifted() -> None:
    lon, lat = crs.wgs84_to_gcj02([2.35, -74.0], [48.85, 40.7])
    assert lon.tolist() == [2.35, -74.0]
    assert lat.tolist() == [48.85, 40.7]


def test_per_row_crs_names() -> None:
    lon, _lat = crs.to_wgs84([121.4, 121.4, 121.4], [31.25, 31.25, 31.25], ["wgs84", "gcj02", "bd09"])
    assert lon[0] == 121.4
    assert lon[1] < lon[0] and lon[2] < lon[1]  # BD-09 is shifted further than GCJ-02


def test_matches_the_published_conversion_of_real_shanghai_stations(shared_data) -> None:
    table = pd.read_csv(shared_data / "shanghai_telecom_base_stations_shanghai.csv")
    table = table[table["district_adcode"].notna()]
    lon, lat = crs.bd09_to_wgs84(table["lon_bd09"], table["lat_bd09"])
    error = _metres(lon, lat, table["lon_wgs84"].to_numpy(), table["lat_wgs84"].to_numpy())
    assert len(table) > 2900
    assert error.max() < 0.5
