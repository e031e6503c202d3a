"""Recommended sites: quotas filled or explained, the existing network, measured weak coverage, rationale, CLI and map."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import REPO, write_text

from rollout import labels
from rollout.candidates import read_candidates
from rollout.cli import cli
from rollout.coverage import district_crs, load_coverage_settings
from rollout.coverage_settings import DemandWeights
from rollout.crs import wgs84_to_bd09
from rollout.errors import InputFileError
from rollout.measurements import read_mr
from rollout.network import read_existing
from rollout.pipeline import load_project
from rollout.schema import MACRO
from rollout.siting import LOWER_BOUND, plan_sites
from rollout.siting_report import localised_sites, street_lines
from rollout.status import status_as_of

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def sample():
    return load_project(REPO / "data", as_of=AS_OF)


@pytest.fixture(scope="module")
def sample_plan(sample):
    return plan_sites(sample, exact=False)


def test_every_street_gets_its_quota_on_the_sample(sample, sample_plan) -> None:
    streets = sample_plan.streets.set_index("street_code")
    progress = sample.progress().set_index("street_code")
    records = sample.macro.records
    state = status_as_of(records, MACRO, AS_OF)
    pipeline = records[state.isin(["site_secured", "under_construction"]).to_numpy() & records["counts_toward_target"].to_numpy()]
    for code, row in streets.iterrows():
        assert row["remaining"] == progress.loc[code, "macro_remaining"]
        assert row["pipeline"] == (pipeline["street_code"] == code).sum()
        assert row["quota"] == max(row["remaining"] - row["pipeline"], 0)
        assert row["placed"] == row["quota"] and row["shortfall"] == 0 and row["reason"] == ""
    assert streets["remaining"].sum() == 119 and streets["placed"].sum() == 119 - streets["pipeline"].sum()
    sites = sample_plan.sites
    assert len(sites) == streets["quota"].sum()
    counts = sites["street_code"].value_counts()
    assert all(counts[c] == streets.loc[c, "quota"] for c in counts.index)
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    demand_driven = sites[sites["driver"] != "densify"]
    assert (np.diff(demand_driven["marginal_demand"]) <= 1e-9).all()  # greedy gains shrink


def test_spacing_from_stations_and_between_sites(sample, sample_plan) -> None:
    crs = district_crs(sample.streets)
    xy = np.column_stack([sample_plan.sites.to_crs(crs).geometry.x, sample_plan.sites.to_crs(crs).geometry.y])
    distances = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert distances[np.triu_indices(len(xy), 1)].min() >= 200 - 1e-6
    assert (sample_plan.sites["nearest_station_m"] >= 200).all()


def test_every_site_says_why_in_named_units(sample_plan) -> None:
    sites = sample_plan.sites
    table = localised_sites(sites, "zh")
    assert table["rationale"].str.len().gt(0).all()
    first = table.iloc[0]
    assert f"{int(sites.iloc[0]['households']):,} 户" in first["rationale"] or "Mbps" in first["rationale"]
    demand = sample_plan.demand.set_index("component")
    assert demand.loc["households", "total"] == 99_411  # the sample's garage households
    assert demand.loc["area_km2", "total"] == pytest.approx(55.5, abs=0.3)
    # What the plan adds equals what the sites say they serve, component by component.
    for component in ("households", "area_km2", "traffic_mbps"):
        assert demand.loc[component, "added"] == pytest.approx(sites[component].sum(), rel=1e-3, abs=0.01)
        assert demand.loc[component, "added"] <= demand.loc[component, "open"] + 1e-6
    offloaded = sites[sites["offload_mbps"] > 0]
    assert len(offloaded) and offloaded["neighbours"].str.match(r"^PT-5G-\d{4}").all()
    english = localised_sites(sites, "en")["rationale"]
    assert english.str.contains("households|Mbit/s|km²").all()


def test_the_existing_network_lowers_the_gain_next_to_it(sample, shared_data: Path, tmp_path: Path) -> None:
    network = read_existing(shared_data / "shanghai_telecom_base_stations_shanghai.csv", sample.streets)
    stations = network.stations
    crs = district_crs(sample.streets)
    # A candidate 250 m east of a real Telecom site inside the district, and the plan's best site without it.
    anchor = stations[stations["distance_m"] == 0].iloc[0]
    point = gpd.GeoSeries.from_xy([anchor["lon"]], [anchor["lat"]], crs=4326).to_crs(crs).translate(250, 0).to_crs(4326).iloc[0]
    path = write_text(tmp_path / "candidates.csv", f"候选编码,类型,经度,纬度\nNEAR,楼顶,{point.x:.6f},{point.y:.6f}\n")
    candidates = read_candidates(path, sample.streets, crs)
    code = candidates.frame["street_code"].iloc[0]
    without = plan_sites(sample, streets=[code], candidates=candidates, n=1, exact=False)
    with_network = plan_sites(sample, streets=[code], candidates=candidates, n=1, exact=False, existing=network)
    assert with_network.fixed_demand > without.fixed_demand  # the network already serves demand
    gain_without = without.sites["marginal_demand"].iloc[0]
    gain_with = with_network.sites["marginal_demand"].iloc[0] if len(with_network.sites) else 0.0
    assert gain_with < gain_without
    for component in ("households", "traffic_mbps"):
        assert with_network.sites[component].sum() <= without.sites[component].sum()


def test_a_weak_coverage_cluster_pulls_a_site(sample, tmp_path: Path) -> None:
    """A planted cluster of weak MR cells in a grid of good ones gets a site within one cell range."""
    crs = district_crs(sample.streets)
    area = sample.streets.to_crs(crs)
    street = area[area["street_code"] == "310107102000"]  # 长征镇
    xmin, ymin, xmax, ymax = street.total_bounds
    gx, gy = (a.ravel() for a in np.meshgrid(np.arange(xmin, xmax, 100), np.arange(ymin, ymax, 100)))
    inside = shapely.contains_xy(street.union_all(), gx, gy)
    gx, gy = gx[inside], gy[inside]
    # The cluster sits where the street is farthest from every station on air or in the pipeline.
    records = sample.macro.records
    fixed = records[status_as_of(records, MACRO, AS_OF).isin(["on_air", "site_secured", "under_construction"]).to_numpy()]
    fixed_xy = gpd.GeoSeries.from_xy(fixed["lon"], fixed["lat"], crs=4326).to_crs(crs)
    far = np.hypot(gx[:, None] - fixed_xy.x.to_numpy()[None, :], gy[:, None] - fixed_xy.y.to_numpy()[None, :]).min(axis=1)
    centre = gx[np.argmax(far)], gy[np.argmax(far)]
    near = np.hypot(gx - centre[0], gy - centre[1]) < 150
    rsrp = np.where(near, -121.0, -92.0)
    samples = np.where(near, 5000, 300)
    lonlat = gpd.GeoSeries.from_xy(gx, gy, crs=crs).to_crs(4326)
    blon, blat = wgs84_to_bd09(lonlat.x.to_numpy(), lonlat.y.to_numpy())
    frame = pd.DataFrame(
        {"栅格编号": [f"M{i}" for i in range(len(gx))], "经度": blon, "纬度": blat, "坐标系": "百度", "平均RSRP": rsrp, "采样点数": samples}
    )
    path = tmp_path / "mr.csv"
    frame.to_csv(path, index=False, encoding="gb18030")
    mr = read_mr(path, sample.streets)
    assert mr.records["weak"].sum() == near.sum() > 0
    weights = replace(load_coverage_settings(sample.config).weights, weak_mr_samples=0.01)
    result = plan_sites(sample, streets=["310107102000"], mr=mr, weights=weights, exact=False)
    sites = result.sites.to_crs(crs)
    distance = np.hypot(sites.geometry.x - centre[0], sites.geometry.y - centre[1])
    best = int(np.argmin(distance))
    assert distance.iloc[best] <= sites["range_m"].iloc[best]
    assert result.sites.iloc[best]["weak_mr_samples"] >= 5000  # it serves the planted cells
    assert "MR弱覆盖采样点" in localised_sites(result.sites, "zh").iloc[best]["rationale"]
    plain = plan_sites(sample, streets=["310107102000"], exact=False).sites.to_crs(crs)
    assert np.hypot(plain.geometry.x - centre[0], plain.geometry.y - centre[1]).min() > distance.iloc[best]
    assert result.demand.set_index("component").loc["weak_mr_samples", "total"] == samples[near].sum()


def test_a_street_that_cannot_be_filled_says_why(sample) -> None:
    zones = sample.streets[sample.streets["street_code"] == "310107016000"]  # all of 甘泉路街道 is excluded
    result = plan_sites(sample, exclude=zones, exact=False, streets=["310107016000", "310107020000"])
    streets = result.streets.set_index("street_code")
    assert streets.loc["310107016000", "placed"] == 0 and streets.loc["310107016000", "reason"] == "all_excluded_or_close"
    assert streets.loc["310107016000", "excluded"] == streets.loc["310107016000", "candidates"] > 0
    assert streets.loc["310107020000", "shortfall"] == 0
    lines = "\n".join(street_lines(result.streets, "zh"))
    assert "甘泉路街道少推荐 3 个" in lines and "在限建/禁建区内" in lines
    wide = plan_sites(sample, streets=["310107016000"], min_spacing_m=2000, exact=False)
    row = wide.streets.set_index("street_code").loc["310107016000"]
    assert row["placed"] < row["quota"] and row["reason"] in ("spacing", "all_excluded_or_close")


def test_candidates_from_a_file_only_where_they_are(sample, tmp_path: Path) -> None:
    crs = district_crs(sample.streets)
    text = "候选编码,类型,经度,纬度\nR1,楼顶,121.4290,31.2462\nR2,智慧灯杆,121.4250,31.2430\n"
    candidates = read_candidates(write_text(tmp_path / "c.csv", text), sample.streets, crs)
    result = plan_sites(sample, candidates=candidates, exact=True, streets=["310107015000", "310107022000"])
    streets = result.streets.set_index("street_code")
    assert set(result.sites["candidate_id"]) <= {"R1", "R2"}
    assert streets.loc["310107022000", "reason"] == "no_candidates"  # 万里街道 has none
    assert result.optimum is not None and result.greedy_value <= result.optimum + 1e-6


def test_plan_sites_reports_the_gap_to_the_optimum(sample) -> None:
    result = plan_sites(sample, streets=["310107016000"], candidate_spacing_m=300, exact=True)
    assert result.optimum is not None and result.greedy_value <= result.optimum + 1e-6
    assert 0 <= result.gap_to_optimum_pct <= (1 - LOWER_BOUND) * 100


def test_weights_come_from_rollout_toml_and_the_command_line(sample) -> None:
    settings = load_coverage_settings(sample.config)
    assert settings.weights == DemandWeights(1.0, 0.01, 0.01, 0.0001, 0.5)
    only_area = plan_sites(sample, weights=DemandWeights(1.0, 0.0, 0.0, 0.0, 0.0), streets=["310107016000"], exact=False)
    assert set(only_area.sites["driver"]) <= {"area_km2", "densify"}


def test_candidates_outside_every_street_are_a_clear_error(sample, tmp_path: Path) -> None:
    path = write_text(tmp_path / "far.csv", "候选编码,经度,纬度\nB1,116.4,39.9\nB2,116.5,39.9\n")  # Beijing
    with pytest.raises(InputFileError, match="none of the 2 candidate points lies in a street"):
        read_candidates(path, sample.streets, district_crs(sample.streets))


def test_cli_plan_sites_with_measurements(sample_data_dir: Path, shared_data: Path, tmp_path: Path) -> None:
    lon, lat = (float(v) for v in wgs84_to_bd09(121.4265, 31.2660))
    mr = write_text(
        tmp_path / "mr.csv",
        f"栅格编号,经度,纬度,坐标系,平均RSRP,采样点数\nM1,{lon:.6f},{lat:.6f},百度,-118,900\nM2,{lon:.6f},{lat:.6f},百度,-170,10\n",
        encoding="gb18030",
    )
    complaints = write_text(
        tmp_path / "12345.csv",
        "工单编号,投诉日期,投诉类别,经度,纬度\nC1,2024-05-01,手机信号差,121.4265,31.2660\nC2,2024-05-02,噪音扰民,121.4265,31.2660\n",
    )
    out = tmp_path / "plan" / "sites.csv"
    args = ["--data", str(sample_data_dir), "plan-sites", "--as-of", "2024-06-30", "--street", "310107016000", "--exact"]
    args += [
        "--mr",
        str(mr),
        "--complaints",
        str(complaints),
        "--existing",
        str(shared_data / "shanghai_telecom_base_stations_shanghai.csv"),
    ]
    result = CliRunner().invoke(cli, [*args, "--weight", "complaints=2", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    output = result.output
    assert "mr.csv（MR/路测栅格）：2 行，载入 1，拒收 1，不计入 0" in output
    assert "拒收 第 3 行 平均RSRP = '-170'" in output
    assert "12345.csv（12345投诉）：2 行，载入 1，拒收 0，不计入 1" in output
    assert "现网：区内 159 个站点，区界外 3 km 内 471 个站点计入" in output
    assert "MR弱覆盖采样点：900 / 0 / 900 /" in output and "（权重 0.0001/个）" in output
    assert "12345信号投诉：1 / 0 / 1 /" in output and "（权重 2/件）" in output
    assert "甘泉路街道：4 - 1 = 3，已推荐 3" in output and "贪心解与最优解（HiGHS）相差" in output
    sites = pd.read_csv(out, encoding="utf-8-sig", dtype={"街道编码": str})
    assert len(sites) == 3 and (sites["街道编码"] == "310107016000").all() and sites["推荐理由"].str.len().gt(0).all()
    streets = pd.read_csv(out.with_name("sites_streets.csv"), encoding="utf-8-sig")
    assert streets["名额"].sum() == 3
    rejects = pd.read_csv(out.with_name("sites_rejects.csv"), encoding="utf-8-sig")
    codes = set(rejects[labels.column("reason_code", "zh", family="problem_column")])
    assert {"rsrp_out_of_range", "complaint_not_signal", "far_from_district"} <= codes
    assert set(rejects[labels.column("kind", "zh", family="problem_column")]) == {"MR栅格", "12345投诉", "现网站点"}
    page = out.with_suffix(".html").read_text(encoding="utf-8")
    assert page.count("recommended-site rank-label") == 3
    assert "推荐站址（数字为排序）" in page and "MR弱覆盖栅格" in page and "现网站点" in page


def test_plan_map_shows_ranks_and_legend_in_a_browser(sample_data_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    out = tmp_path / "sites.csv"
    args = ["--data", str(sample_data_dir), "plan-sites", "--as-of", "2024-06-30", "--street", "310107015000", "--out", str(out)]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("http*://**", lambda route: route.abort())
        page.goto(out.with_suffix(".html").as_uri())
        page.wait_for_selector(".rank-label")
        ranks = page.locator(".rank-label").all_inner_texts()
        legend = page.locator(".rollout-legend").inner_text()
        browser.close()
    assert errors == []
    quota = pd.read_csv(out.with_name("sites_streets.csv"), encoding="utf-8-sig").set_index("街道编码").loc[310107015000, "名额"]
    assert sorted(int(r) for r in ranks) == list(range(1, quota + 1))
    assert "推荐站址（数字为排序）" in legend
