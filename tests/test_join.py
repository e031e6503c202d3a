"""Placing sites in streets: one street each, deterministic edges, snapping, strays, real data."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from rollout import settings
from rollout.boundaries import read_streets
from rollout.config import load_config
from rollout.join import _covering_polygon, assign_streets, place_sites
from rollout.problems import with_reasons
from rollout.records import read_sites


def _grid_streets() -> gpd.GeoDataFrame:
    # Two unit squares side by side, given out of code order.
    return gpd.GeoDataFrame({"street_code": ["B", "A"]}, geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs=4326)


def test_shared_edges_and_corners_get_the_first_code_every_time() -> None:
    sites = gpd.GeoSeries.from_xy([1.0, 1.0, 1.0, 0.5, 1.5, 2.0], [0.5, 0.0, 1.0, 0.5, 0.5, 0.5], crs=4326)
    result = assign_streets(sites, _grid_streets(), tolerance_m=0)
    assert result["street_code"].tolist() == ["A", "A", "A", "A", "B", "B"]
    assert result["distance_m"].tolist() == [0.0] * 6


def test_index_is_kept_and_inputs_untouched() -> None:
    sites = gpd.GeoSeries.from_xy([0.5, 1.5], [0.5, 0.5], index=[10, 7], crs=4326)
    streets = _grid_streets()
    before = streets.copy()
    result = assign_streets(sites, streets)
    assert result.index.tolist() == [10, 7]
    assert result["street_code"].tolist() == ["A", "B"]
    pd.testing.assert_frame_equal(streets, before)


def test_loop_and_spatial_index_paths_agree_on_many_polygons() -> None:
    rng = np.random.default_rng(0)
    cells = [box(x, y, x + 1, y + 1) for x in range(10) for y in range(10)]
    x = np.concatenate([rng.uniform(-0.5, 10.5, 5000), np.arange(11.0)])  # plus points on edges
    y = np.concatenate([rng.uniform(-0.5, 10.5, 5000), np.arange(11.0)])
    polygons = np.array(cells, dtype=object)
    looped = _covering_polygon(polygons[:64], x, y)
    indexed = _covering_polygon(polygons, x, y)
    expected = np.where(
        (x >= 0) & (x <= 10) & (y >= 0) & (y <= 10),
        np.clip(np.ceil(x) - 1, 0, 9) * 10 + np.clip(np.ceil(y) - 1, 0, 9),
        -1,
    )
    assert (indexed == expected).all()
    first_64 = expected < 64
    assert (looped[first_64] == expected[first_64]).all()


@pytest.fixture
def putuo(data_dir: Path):
    config = load_config(data_dir)
    return config, read_streets(config)


def test_points_just_outside_are_snapped_and_far_ones_rejected_with_their_district(tmp_path: Path, putuo) -> None:
    config, streets = putuo
    outline = streets.to_crs(32651).union_all()
    # A point 30 m outside the district, and one about 1.5 km outside (east, into 静安区).
    edge_x, edge_y = outline.bounds[2], outline.centroid.y
    east = outline.intersection(box(edge_x - 3000, edge_y - 5, edge_x + 10, edge_y + 5)).bounds[2]
    near = gpd.GeoSeries.from_xy([east + 30, east + 1500], [edge_y, edge_y], crs=32651).to_crs(4326)
    rows = [f"S{i},x,移动,{p.x},{p.y},,长寿路街道,n78,30,在建,,,," for i, p in enumerate(near)]
    path = tmp_path / "macro_stations.csv"
    path.write_text(
        "站址编码,站名,运营商,经度,纬度,坐标系,所属街道,频段,挂高,状态,受阻原因,落点日期,开工日期,开通日期\n" + "\n".join(rows),
        encoding="utf-8",
    )
    load = place_sites(read_sites(path), streets, config)
    assert load.records["site_id"].tolist() == ["S0"]
    assert load.records.iloc[0]["flags"].startswith("snapped_")
    problems = with_reasons(load.problems, "zh").set_index("reason_code")
    assert problems.loc["snapped", "severity"] == "warning"
    reason = problems.loc["outside_district", "reason"]
    assert problems.loc["outside_district", "severity"] == "rejected"
    assert re.fullmatch(r"位于静安区，距普陀区边界 1\.\d km：请核对坐标及坐标系", reason)
    english = with_reasons(load.problems, "en").set_index("reason_code").loc["outside_district", "reason"]
    assert re.fullmatch(r"lies in 静安区, 1\.\d km outside Putuo District: check the coordinates and their coordinate system", english)


def test_declared_street_that_differs_is_a_warning(tmp_path: Path, putuo) -> None:
    config, streets = putuo
    lon, lat = 121.4290, 31.2462  # in 长寿路街道
    path = tmp_path / "macro_stations.csv"
    path.write_text(
        f"站址编码,经度,纬度,状态,所属街道\nS1,{lon},{lat},在建,桃浦\nS2,{lon},{lat},在建,长寿\nS3,{lon},{lat},在建,火星街道\n",
        encoding="utf-8",
    )
    load = place_sites(read_sites(path), streets, config)
    assert load.records["street_name"].tolist() == ["长寿路街道"] * 3
    reasons = with_reasons(load.problems, "zh").set_index("row")[["reason_code", "reason"]]
    assert reasons.loc[2, "reason_code"] == "street_mismatch"
    assert reasons.loc[2, "reason"] == "填报街道为桃浦镇，坐标位于长寿路街道"
    assert reasons.loc[4, "reason_code"] == "street_unknown"
    assert 3 not in reasons.index


def _telecom_file(tmp_path: Path, shared_data: Path, crs_word: str) -> Path:
    table = pd.read_csv(shared_data / "shanghai_telecom_base_stations_putuo.csv")
    frame = pd.DataFrame(
        {
            "站址编码": table["bs_id"],
            "经度": table["lon_bd09"],
            "纬度": table["lat_bd09"],
            "坐标系": crs_word,
            "状态": "已开通",
            "开通日期": "2014-06-01",
        }
    )
    path = tmp_path / "macro_stations.csv"
    frame.to_csv(path, index=False)
    return path


def test_real_telecom_stations_given_in_bd09_all_land_in_putuo(tmp_path: Path, shared_data: Path, putuo) -> None:
    config, streets = putuo
    load = place_sites(read_sites(_telecom_file(tmp_path, shared_data, "BD-09")), streets, config)
    assert len(load.records) == 159
    assert load.records["street_code"].notna().all()
    assert load.records["street_code"].nunique() == 10
    assert (load.problems["severity"] != "rejected").all()


def test_the_same_numbers_read_as_wgs84_clearly_miss(tmp_path: Path, shared_data: Path, putuo) -> None:
    config, streets = putuo
    load = place_sites(read_sites(_telecom_file(tmp_path, shared_data, "WGS84")), streets, config)
    assert len(load.records) < 140
    assert (load.problems["reason_code"] == "outside_district").sum() > 20
    assert len(load.records) + len(load.rejected_rows) == 159


def test_real_osm_compounds_all_load_and_get_a_street(tmp_path: Path, shared_data: Path, putuo) -> None:
    config, streets = putuo
    osm = pd.read_csv(shared_data / "osm_residential_putuo.csv")
    frame = pd.DataFrame(
        {"小区编码": "OSM" + osm["osm_id"].astype(str), "小区名称": osm["name"], "经度": osm["lon"], "纬度": osm["lat"], "状态": "未启动"}
    )
    path = tmp_path / "garage_compounds.csv"
    frame.to_csv(path, index=False, encoding="gb18030")
    load = place_sites(read_sites(path), streets, config)
    assert len(load.records) == 210
    assert load.records["street_code"].notna().all()
    assert load.records["street_code"].nunique() >= 8
    assert not (load.problems["severity"] == "rejected").any()


def test_snap_tolerance_is_a_setting(tmp_path: Path, shared_data: Path, putuo) -> None:
    config, streets = putuo
    settings.snap_tolerance_m = 2000.0
    load = place_sites(read_sites(_telecom_file(tmp_path, shared_data, "WGS84")), streets, config)
    assert len(load.records) > 150
