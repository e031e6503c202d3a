"""Propagation reference values, coverage on a grid, gaps, the existing network, and the MCLP solvers."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import REPO, write_text
from scipy import sparse

from rollout import labels
from rollout.cli import cli
from rollout.coverage import coverage_analysis, district_crs, load_coverage_settings, make_grid
from rollout.linkbudget import BANDS, CLUTTER, Receiver, mapl
from rollout.pipeline import load_project
from rollout.progress import total_row
from rollout.propagation import cell_range_m, cost231_hata, path_loss, uma_38901
from rollout.siting import LOWER_BOUND, MCLP, exact_mclp, greedy_mclp, random_instance


def test_38901_uma_reference_values() -> None:
    assert uma_38901(3.5, 100, 25, 1.5, los=True) == pytest.approx(83.14, abs=0.01)
    assert uma_38901(3.5, 100, 25, 1.5) == pytest.approx(103.04, abs=0.01)
    # Beyond the breakpoint d'BP = 4 x 24 x 0.5 x 3.5 GHz / c = 560.4 m, LOS follows PL2.
    d3d = math.hypot(1000, 23.5)
    expected = 28 + 40 * math.log10(d3d) + 20 * math.log10(3.5) - 9 * math.log10(560.4**2 + 23.5**2)
    assert uma_38901(3.5, 1000, 25, 1.5, los=True) == pytest.approx(expected, abs=0.01)


def test_cost231_published_formula_points() -> None:
    # 46.3 + 33.9 log f - 13.82 log hb - a(hm) + (44.9 - 6.55 log hb) log d + Cm, by hand.
    assert cost231_hata(1800, 1000, 30, 1.5) == pytest.approx(136.20, abs=0.01)
    assert cost231_hata(2000, 2000, 30, 1.5) == pytest.approx(148.35, abs=0.01)
    assert cost231_hata(1800, 1000, 30, 1.5, environment="dense_urban") == pytest.approx(139.20, abs=0.01)
    # The extension joins continuously at both ends of the nominal range.
    assert cost231_hata(1499.999, 500, 30) == pytest.approx(cost231_hata(1500, 500, 30), abs=1e-3)
    assert cost231_hata(2000.001, 500, 30) == pytest.approx(cost231_hata(2000, 500, 30), abs=1e-3)
    assert cost231_hata(4000, 500, 30) == pytest.approx(cost231_hata(2000, 500, 30) + 20 * math.log10(2), abs=1e-9)


@pytest.mark.parametrize("model", ["uma_nlos", "uma_los", "cost231_urban", "cost231_dense_urban"])
def test_monotonic_in_distance_and_frequency(model: str) -> None:
    d = np.geomspace(20, 20_000, 400)
    f = np.linspace(700, 6000, 400)
    assert (np.diff(path_loss(model, 3500, d, 30)) >= 0).all()
    assert (np.diff(path_loss(model, f, 500, 30)) >= 0).all()


def test_cell_range_inverts_the_model() -> None:
    bands = list(BANDS.values())
    budgets = np.array([min(mapl(b, CLUTTER["urban"], Receiver())) for b in bands])
    ranges = cell_range_m("uma_nlos", [b.f_mhz for b in bands], [25, 30, 35, 40], budgets)
    assert path_loss("uma_nlos", [b.f_mhz for b in bands], ranges, [25, 30, 35, 40]) == pytest.approx(budgets, abs=0.01)
    assert ranges[0] > ranges[2] > ranges[3]  # lower bands reach farther
    indoor = min(mapl(BANDS["n78"], CLUTTER["urban"], Receiver(), indoor=True))
    assert cell_range_m("uma_nlos", 3500, 30, indoor) < cell_range_m("uma_nlos", 3500, 30, budgets[2])


def _one_clutter(data_dir: Path, clutter: str) -> None:
    table = pd.read_csv(data_dir / "boundaries" / "streets.csv", dtype=str, keep_default_na=False)
    table.assign(clutter=clutter).to_csv(data_dir / "boundaries" / "streets.csv", index=False)


def test_one_station_covers_its_disc_clipped_to_the_district(data_dir: Path) -> None:
    write_text(
        data_dir / "sites" / "macro_stations.csv",
        "站址编码,经度,纬度,状态,开通日期,频段,挂高\nS1,121.3650,31.2420,已开通,2024-01-10,n78,30\n",
    )
    _one_clutter(data_dir, "urban")
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    settings = load_coverage_settings(project.config)
    result = coverage_analysis(project, grid="25m")
    band = settings.bands["n78"]
    budget = min(mapl(band, settings.clutters["urban"], settings.receiver))
    radius = float(cell_range_m("uma_nlos", band.f_mhz, 30, budget, tilt_deg=band.downtilt_deg, beamwidth_deg=band.vertical_beamwidth_deg))
    assert 400 < radius < 450  # n78, urban, 30 m, 6 degrees down
    crs = district_crs(project.streets)
    centre = gpd.GeoSeries.from_xy([121.365], [31.242], crs=4326).to_crs(crs).iloc[0]
    district = project.streets.to_crs(crs).union_all()
    expected_km2 = centre.buffer(radius, 256).intersection(district).area / 1e6
    total = result.by_street.pipe(total_row)
    assert 0 < expected_km2 < total["area_km2"]  # the disc is clipped by the district edge
    cell_tolerance = 2 * math.pi * radius * 25 / 1e6  # one cell along the circle
    assert total["covered_km2"] == pytest.approx(expected_km2, abs=cell_tolerance)
    assert total["area_km2"] == pytest.approx(district.area / 1e6, rel=0.01)
    assert result.clutter_source == "streets" and set(result.cells["clutter"]) == {"urban"}


def test_clutter_shrinks_and_grows_the_covered_area(data_dir: Path) -> None:
    write_text(data_dir / "sites" / "macro_stations.csv", "站址编码,经度,纬度,状态,开通日期\nS1,121.4290,31.2462,已开通,2024-01-10\n")
    covered = {}
    for clutter in ("dense_urban", "urban", "suburban"):
        _one_clutter(data_dir, clutter)
        covered[clutter] = coverage_analysis(load_project(data_dir, as_of=dt.date(2024, 6, 30))).by_street.pipe(total_row)["covered_km2"]
    assert covered["dense_urban"] < covered["urban"] < covered["suburban"]
    # A clutter polygon file overrides the streets' default where it lies.
    from rollout.boundaries import read_street_table
    from rollout.clutter import load_clutter

    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    zone = gpd.GeoDataFrame({"地物类型": ["密集市区"]}, geometry=[shapely.box(121.40, 31.23, 121.46, 31.27)], crs=4326)
    zone.to_file(data_dir / "clutter.geojson")
    clutter = load_clutter(project.config, read_street_table(project.config), path=data_dir / "clutter.geojson")
    result = coverage_analysis(project, clutter=clutter)
    assert result.clutter_source == "file" and result.clutter_counts["dense_urban"] > 0
    assert result.by_street.pipe(total_row)["covered_km2"] == pytest.approx(covered["dense_urban"], abs=0.01)


def test_h3_grid_tiles_the_district() -> None:
    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    cells = make_grid(project.streets, "h3:9")
    assert "h3" in cells.columns and cells["h3"].is_unique
    assert cells["area_m2"].sum() / 1e6 == pytest.approx(55.5, rel=0.05)
    assert set(cells["street_code"]) == set(project.streets["street_code"])


def test_gaps_compounds_and_households(data_dir: Path) -> None:
    write_text(
        data_dir / "sites" / "macro_stations.csv", "站址编码,经度,纬度,状态,开通日期,频段\nS1,121.4290,31.2462,已开通,2024-01-10,n78\n"
    )
    write_text(
        data_dir / "sites" / "garage_compounds.csv",
        "小区编码,小区名称,经度,纬度,状态,户数\nNEAR,近,121.4295,31.2465,未启动,800\nFAR,远,121.3775,31.2829,未启动,1200\n",
    )
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    result = coverage_analysis(project)
    compounds = result.compounds.set_index("compound_id")
    assert compounds.loc["NEAR", "outdoor_covered"] and not compounds.loc["FAR", "outdoor_covered"]
    total = result.by_street.pipe(total_row)
    assert (total["households"], total["households_covered"]) == (2000, 800)
    assert total["households_covered_pct"] == 40.0
    assert len(result.gaps) >= 1 and (result.gaps["area_m2"] >= 20_000).all()
    assert result.gaps["street_code"].notna().all()
    biggest = result.gaps.iloc[0]
    assert biggest["area_m2"] == result.gaps["area_m2"].max()


def _small_problem() -> MCLP:
    # Demand 0..4, weights 1, 1, 1, 1, 0.5. A covers {0,1}, B covers {2,3}, C covers {1,2,4}.
    rows = [[0, 1], [2, 3], [1, 2, 4]]
    matrix = sparse.lil_matrix((3, 5))
    for j, row in enumerate(rows):
        matrix[j, row] = 1
    return MCLP(matrix.tocsr(), np.array([1, 1, 1, 1, 0.5]), np.full(3, -1), np.array([], dtype=int), [], 2)


def test_hand_checked_mclp_optimum_and_greedy() -> None:
    problem = _small_problem()
    chosen, value = exact_mclp(problem)
    assert sorted(chosen) == [0, 1] and value == pytest.approx(4.0)
    greedy, marginals = greedy_mclp(problem)
    assert greedy[0] == 2 and greedy[1] in (0, 1) and marginals == [2.5, 1.0]  # C first (2.5), then A or B (1 each)
    assert sum(marginals) / value == pytest.approx(0.875)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_never_below_the_bound(seed: int) -> None:
    problem = random_instance(40, 300, seed=seed, reach=0.2, limit=4)
    _, marginals = greedy_mclp(problem)
    _, optimum = exact_mclp(problem)
    assert sum(marginals) >= LOWER_BOUND * optimum - 1e-9
    assert sum(marginals) <= optimum + 1e-9


def test_cli_coverage(sample_data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "coverage"
    result = runner.invoke(
        cli, ["--data", str(sample_data_dir), "coverage", "--as-of", "2024-06-30", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "compounds.csv",
        "coverage.gpkg",
        "coverage.html",
        "coverage_by_street.csv",
        "gaps.geojson",
    ]
    table = pd.read_csv(out / "coverage_by_street.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert len(table) == 11 and total_row(table)["street_code"] == "310107"
    assert f"{total_row(table)['area_covered_pct']}%" in result.output
    assert "地物类型：按街道默认（streets.csv 的 clutter 列）" in result.output
    page = (out / "coverage.html").read_text(encoding="utf-8")
    assert "coverage-gap" in page and "coverage-area" in page
    compounds = pd.read_csv(out / "compounds.csv", encoding="utf-8-sig")
    assert set(compounds["clutter"]) <= {"dense_urban", "urban", "suburban", "open"}
    again = tmp_path / "again"
    runner.invoke(cli, ["--data", str(sample_data_dir), "coverage", "--as-of", "2024-06-30", "--out", str(again)], catch_exceptions=False)
    for path in sorted(out.iterdir()):  # same input, same bytes (GeoJSON named its layer after the temporary file)
        assert path.read_bytes() == (again / path.name).read_bytes(), path.name
    assert '"name": "gaps"' in (out / "gaps.geojson").read_text(encoding="utf-8")


def test_existing_network_counts_from_the_start(data_dir: Path, tmp_path: Path) -> None:
    write_text(data_dir / "sites" / "macro_stations.csv", "站址编码,经度,纬度,状态,开通日期\nS1,121.4290,31.2462,已开通,2024-01-10\n")
    existing = write_text(
        tmp_path / "existing.csv", "站址编码,经度,纬度,状态,频段\nE1,121.3775,31.2829,已开通,n41\nE2,121.3673,31.2399,在建,n41\n"
    )
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    from rollout.network import read_existing

    alone = coverage_analysis(project)
    with_existing = coverage_analysis(project, existing=read_existing(existing, project.streets))
    assert sorted(with_existing.stations["site_id"]) == ["E1", "S1"]  # E2 is not on air
    assert with_existing.by_street.pipe(total_row)["covered_km2"] > alone.by_street.pipe(total_row)["covered_km2"]
    taopu = with_existing.by_street.set_index("street_code").loc["310107103000"]
    assert taopu["covered_km2"] > 0 and alone.by_street.set_index("street_code").loc["310107103000", "covered_km2"] == 0
    result = CliRunner().invoke(
        cli,
        ["--data", str(data_dir), "coverage", "--as-of", "2024-06-30", "--existing", str(existing), "--out", str(tmp_path / "c")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert "existing.csv（现网站点）：2 行，载入 1，拒收 0，不计入 1" in result.output
    assert "2 个站点（现网 1 个）" in result.output
    assert "没有区界外的站点" in result.output  # the warning: coverage near the edge is understated
    rejects = pd.read_csv(tmp_path / "c" / "rejects.csv", encoding="utf-8-sig")
    columns = [labels.column(c, "zh", family="problem_column") for c in ("row", "reason_code", "severity")]
    assert rejects[columns].values.tolist() == [[3, "not_on_air", "不计入"]]


def test_stations_outside_the_district_cover_its_edge(shared_data: Path) -> None:
    from rollout.network import read_existing

    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    path = shared_data / "shanghai_telecom_base_stations_shanghai.csv"
    inside_only = read_existing(shared_data / "shanghai_telecom_base_stations_putuo.csv", project.streets)
    with_margin = read_existing(path, project.streets)
    a = coverage_analysis(project, existing=inside_only).by_street.pipe(total_row)["covered_km2"]
    b = coverage_analysis(project, existing=with_margin).by_street.pipe(total_row)["covered_km2"]
    assert b > a  # the 471 stations within 3 km outside serve the district's edge


def test_weekly_and_map_take_the_existing_network(sample_data_dir: Path, shared_data: Path, tmp_path: Path) -> None:
    existing = shared_data / "shanghai_telecom_base_stations_shanghai.csv"
    runner = CliRunner()
    base = ["--data", str(sample_data_dir)]
    plain = runner.invoke(cli, [*base, "map", "--as-of", "2024-06-30", "--out", str(tmp_path / "plain.html")], catch_exceptions=False)
    with_network = runner.invoke(
        cli,
        [*base, "map", "--as-of", "2024-06-30", "--existing", str(existing), "--out", str(tmp_path / "map.html")],
        catch_exceptions=False,
    )
    assert plain.exit_code == 0 and with_network.exit_code == 0, with_network.output
    assert "现网：区内 159 个站点，区界外 3 km 内 471 个站点计入" in with_network.output
    plain_page = (tmp_path / "plain.html").read_text(encoding="utf-8")
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "coverage-gap" in plain_page and "existing-station" not in plain_page
    assert "existing-station" in page and len(re.findall(r'"site_id": "[^"]*"', page)) == 159 + 471
    # Fewer or smaller gaps once the existing network is counted.
    project = load_project(sample_data_dir, as_of=dt.date(2024, 6, 30))
    from rollout.network import read_existing

    gaps_alone = coverage_analysis(project).gaps["area_m2"].sum()
    gaps_with = coverage_analysis(project, existing=read_existing(existing, project.streets)).gaps["area_m2"].sum()
    assert gaps_with < gaps_alone
    # rollout.toml can name the file, so weekly needs no option.
    toml = sample_data_dir / "rollout.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('existing = ""', f'existing = "{existing.as_posix()}"'), encoding="utf-8")
    weekly = runner.invoke(cli, [*base, "weekly", "--week", "2024-W26", "--out", str(tmp_path / "maps")], catch_exceptions=False)
    assert weekly.exit_code == 0, weekly.output
    assert "区界外 3 km 内 471 个站点计入" in weekly.output
    weekly_page = (tmp_path / "maps" / "2024-W26" / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r'"site_id": "[^"]*"', weekly_page)) == 630
