"""Planning inputs: MR grids, 12345 complaints, the existing network and candidate files, and their rejects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import INSIDE, REPO, write_text

from rollout.candidates import read_candidates
from rollout.coverage import district_crs
from rollout.crs import to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from rollout.errors import InputFileError
from rollout.measurements import read_complaints, read_mr
from rollout.network import read_existing
from rollout.pipeline import load_project
from rollout.problems import REJECTED, with_reasons


@pytest.fixture(scope="module")
def project():
    return load_project(REPO / "data", as_of=dt.date(2024, 6, 30))


def _bd(lon: float, lat: float) -> tuple[float, float]:
    x, y = wgs84_to_bd09(lon, lat)
    return round(float(x), 6), round(float(y), 6)


def test_mr_grid_with_chinese_headers_bd09_and_rejects(project, tmp_path: Path) -> None:
    a, b = _bd(*INSIDE["changshou"]), _bd(*INSIDE["taopu"])
    text = "\n".join(
        [
            "普陀区MR栅格统计（2024年6月）",  # a title row above the header
            "栅格编号,栅格中心经度,栅格中心纬度,坐标系,平均RSRP(dBm),采样点数",
            f"G1,{a[0]},{a[1]},百度,-115.2,1200",
            f"G2,{b[0]},{b[1]},bd09,-98.0,800",
            f"G3,{a[0]},{a[1]},bd09,-160,50",  # below the reporting range
            f"G4,{a[0]},{a[1]},bd09,-12,50",  # RSRQ pasted by mistake?
            f"G5,{a[0]},{a[1]},bd09,-111,0",
            f"G6,{a[0]},{a[1]},bd09,-111,-3",
            "G7,116.40,39.90,wgs84,-112,10",  # Beijing: outside the district
            f"G8,{a[0]},{a[1]},bd09,,10",
            f"G9,{a[0]},{a[1]},bd09,弱,10",
        ]
    )
    path = write_text(tmp_path / "mr.csv", text, encoding="gb18030")
    load = read_mr(path, project.streets, threshold_dbm=-110)
    assert load.counts == {"rows": 9, "loaded": 2, "rejected": 7, "ignored": 0}  # reconciles: 2 + 7 = 9
    rejects = load.rejects.set_index("row")
    assert rejects.loc[5, "reason_code"] == "rsrp_out_of_range" and rejects.loc[5, "column"] == "平均RSRP(dBm)"
    assert rejects.loc[6, "reason_code"] == "rsrp_out_of_range" and rejects.loc[6, "value"] == "-12"
    assert rejects.loc[7, "reason_code"] == "samples_not_positive" and rejects.loc[7, "column"] == "采样点数"
    assert rejects.loc[8, "reason_code"] == "samples_not_positive" and rejects.loc[8, "value"] == "-3"
    assert rejects.loc[9, "reason_code"] == "point_outside_district" and rejects.loc[9, "params"]["km"] > 900
    assert (load.rejects["severity"] == REJECTED).all() and (load.rejects["kind"] == "mr").all()
    assert rejects.loc[5, "record_id"] == "G3"
    assert rejects.loc[10, "reason_code"] == "rsrp_missing" and rejects.loc[11, "reason_code"] == "not_number"
    reasons = with_reasons(load.rejects, "zh")["reason"]
    assert reasons.str.contains("-156～-31 dBm").sum() == 2 and reasons.str.contains("区界外").sum() == 1
    assert "outside the measurable -156 to -31 dBm" in with_reasons(load.rejects, "en")["reason"].iloc[0]
    records = load.records.set_index("grid_id")
    lon, lat = to_wgs84([a[0]], [a[1]], "bd09")
    assert records.loc["G1", "lon"] == pytest.approx(lon[0]) and records.loc["G1", "lat"] == pytest.approx(lat[0])
    assert records.loc["G1", "lon"] == pytest.approx(INSIDE["changshou"][0], abs=2e-5)  # BD-09 converted back
    assert records["weak"].tolist() == [True, False] and records["samples"].tolist() == [1200, 800]
    assert records.loc["G1", "street_code"] == "310107015000"


def test_mr_without_an_rsrp_column_is_refused(project, tmp_path: Path) -> None:
    path = write_text(tmp_path / "mr.csv", "经度,纬度,采样点数\n121.43,31.25,10\n")
    with pytest.raises(InputFileError, match=r"no column for 平均RSRP/rsrp_dbm"):
        read_mr(path, project.streets)


def test_mr_from_xlsx_and_parquet_and_without_sample_counts(project, tmp_path: Path) -> None:
    lon, lat = INSIDE["shiquan"]
    frame = pd.DataFrame({"longitude": [lon, lon + 0.001], "latitude": [lat, lat], "rsrp": [-118.5, -101.0]})
    xlsx = tmp_path / "drive_test.xlsx"
    frame.to_excel(xlsx, index=False)
    parquet = tmp_path / "drive_test.parquet"
    frame.to_parquet(parquet)
    for path in (xlsx, parquet):
        load = read_mr(path, project.streets)
        assert load.counts["loaded"] == 2 and load.records["samples"].tolist() == [1, 1]
        assert load.notes == (("mr_no_samples", {}),)


def test_complaints_about_signal_inside_the_district(project, tmp_path: Path) -> None:
    g = [round(float(v), 6) for v in wgs84_to_gcj02(*INSIDE["taopu"])]
    text = "\n".join(
        [
            "工单编号,受理时间,投诉类别,诉求内容,经度,纬度,坐标系",
            f"T1,2024-05-02,通信信号,家中手机没有信号,{g[0]},{g[1]},高德",
            f"T2,2024/6/1,市容环境,垃圾清运不及时,{g[0]},{g[1]},高德",
            f"T3,2024-07-15,通信信号,5G 上网卡顿,{g[0]},{g[1]},高德",
            f"T4,2024-13-01,通信信号,无服务,{g[0]},{g[1]},高德",
            "T5,2024-05-03,通信信号,信号差,121.60,31.20,wgs84",
        ]
    )
    path = write_text(tmp_path / "12345.csv", text)
    load = read_complaints(path, project.streets, as_of=dt.date(2024, 6, 30))
    assert load.records["complaint_id"].tolist() == ["T1"]
    assert load.counts == {"rows": 5, "loaded": 1, "rejected": 2, "ignored": 2}
    assert dict(zip(load.rejects["row"], load.rejects["reason_code"], strict=True)) == {5: "date_unreadable", 6: "point_outside_district"}
    assert dict(zip(load.ignored["row"], load.ignored["reason_code"], strict=True)) == {3: "complaint_not_signal", 4: "after_as_of"}
    assert load.ignored.set_index("row").loc[3, "column"] == "投诉类别"
    assert (load.ignored["severity"] == "ignored").all() and load.ignored["record_id"].tolist() == ["T2", "T3"]


def test_existing_network_from_the_real_telecom_sites(project, shared_data: Path) -> None:
    # Real Shanghai Telecom base stations (BD-09 in lon_bd09/lat_bd09): the header names the system.
    network = read_existing(shared_data / "shanghai_telecom_base_stations_shanghai.csv", project.streets)
    assert network.load.headers["lon"] == "lon_bd09"
    assert network.inside == 159  # as SOURCES.md counts inside Putuo when read as BD-09
    assert network.outside == 471  # within 3 km of the district's edge
    counts = network.load.counts
    assert counts["rows"] == 3042 and counts["loaded"] + counts["rejected"] + counts["ignored"] == 3042
    assert (network.load.ignored["reason_code"] == "far_from_district").sum() == counts["ignored"]
    assert network.warnings() == []
    assert network.stations["distance_m"].max() <= 3000
    wider = read_existing(shared_data / "shanghai_telecom_base_stations_shanghai.csv", project.streets, margin_m=6000)
    assert wider.outside > network.outside and wider.inside == 159
    alone = read_existing(shared_data / "shanghai_telecom_base_stations_putuo.csv", project.streets)
    assert (alone.inside, alone.outside) == (159, 0)
    assert [code for code, _ in alone.warnings()] == ["existing_none_outside"]


def test_existing_network_in_the_wrong_coordinate_system_is_refused(project, shared_data: Path, tmp_path: Path) -> None:
    real = pd.read_csv(shared_data / "shanghai_telecom_base_stations_putuo.csv")
    from pyproj import Transformer

    east, north = Transformer.from_crs(4326, 32651, always_xy=True).transform(real["lon_wgs84"], real["lat_wgs84"])
    path = tmp_path / "现网_utm.csv"
    pd.DataFrame({"站址编码": real["bs_id"], "经度": np.round(east, 1), "纬度": np.round(north, 1)}).to_csv(path, index=False)
    with pytest.raises(InputFileError) as refused:
        read_existing(path, project.streets)
    assert "159 行中有 159 个点距区界超过 50 km 或不在中国境内，坐标系很可能有误" in refused.value.message("zh")
    swapped = tmp_path / "swapped.csv"
    pd.DataFrame({"站址编码": real["bs_id"], "经度": real["lat_wgs84"], "纬度": real["lon_wgs84"]}).to_csv(swapped, index=False)
    with pytest.raises(InputFileError, match="the coordinates are probably in another system"):
        read_existing(swapped, project.streets)


def test_existing_network_status_and_ids(project, tmp_path: Path) -> None:
    text = "站址编码,经度,纬度,状态,频段,挂高,下倾角\nE1,121.3775,31.2829,已开通,n41,35,8\nE2,121.3673,31.2399,在建,n41,,\n,121.4290,31.2462,,,,\n"
    network = read_existing(write_text(tmp_path / "existing.csv", text), project.streets)
    assert network.stations["site_id"].tolist() == ["E1", "row 4"]
    assert network.load.ignored["reason_code"].tolist() == ["not_on_air"]
    assert network.stations.set_index("site_id").loc["E1", "downtilt_deg"] == "8"


def test_candidate_file_types_heights_and_rejects(project, tmp_path: Path) -> None:
    text = "\n".join(
        [
            "候选编码,名称,类型,经度,纬度,挂高",
            "R1,某大厦,楼顶,121.4290,31.2462,42",
            "P1,灯杆,智慧灯杆,121.4123,31.2509,",
            "T1,塔,单管塔,121.3775,31.2829,",
            "X1,区外,楼顶,121.60,31.20,",
        ]
    )
    cands = read_candidates(write_text(tmp_path / "candidates.csv", text), project.streets, district_crs(project.streets))
    frame = cands.frame.set_index("candidate_id")
    assert frame["type"].to_dict() == {"R1": "rooftop", "P1": "smart_pole", "T1": "tower"}
    assert frame["antenna_height_m"].to_dict() == {"R1": 42.0, "P1": 15.0, "T1": 35.0}
    assert cands.load.rejects["row"].tolist() == [5] and cands.load.rejects["reason_code"].tolist() == ["candidate_outside_district"]
