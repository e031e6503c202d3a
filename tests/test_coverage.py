"""Propagation reference values, coverage on a grid, gaps, and recommended sites (MCLP)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import REPO, write_text
from scipy import sparse

from rollout.cli import cli
from rollout.coverage import coverage_analysis, load_coverage_settings, make_grid
from rollout.crs import METRIC_CRS
from rollout.pipeline import load_project
from rollout.propagation import BANDS, LinkBudget, cell_range_m, cost231_hata, path_loss, uma_38901
from rollout.siting import LOWER_BOUND, MCLP, exact_mclp, greedy_mclp, plan_sites, random_instance


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
    budget = LinkBudget()
    bands = list(BANDS.values())
    mapl = np.array([budget.max_path_loss(b) for b in bands])
    ranges = cell_range_m("uma_nlos", [b.f_mhz for b in bands], [25, 30, 35, 40], mapl)
    assert path_loss("uma_nlos", [b.f_mhz for b in bands], ranges, [25, 30, 35, 40]) == pytest.approx(mapl, abs=0.01)
    assert ranges[0] > ranges[2] > ranges[3]  # lower bands reach farther
    indoor = budget.max_path_loss(BANDS["n78"], indoor=True)
    assert cell_range_m("uma_nlos", 3500, 30, indoor) < cell_range_m("uma_nlos", 3500, 30, mapl[2])


def test_one_station_covers_its_disc_clipped_to_the_district(data_dir: Path) -> None:
    write_text(
        data_dir / "sites" / "macro_stations.csv",
        "站址编码,经度,纬度,状态,开通日期,频段,挂高\nS1,121.3650,31.2420,已开通,2024-01-10,n78,30\n",
    )
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    settings = load_coverage_settings(project.config)
    result = coverage_analysis(project, grid="25m")
    budget, band = settings.budget, settings.bands["n78"]
    radius = float(cell_range_m(budget.model, band.f_mhz, 30, budget.max_path_loss(band)))
    centre = gpd.GeoSeries.from_xy([121.365], [31.242], crs=4326).to_crs(METRIC_CRS).iloc[0]
    district = project.streets.to_crs(METRIC_CRS).union_all()
    expected_km2 = centre.buffer(radius, 256).intersection(district).area / 1e6
    total = result.by_street.iloc[-1]
    assert 0 < expected_km2 < total["area_km2"]  # the disc is clipped by the district edge
    cell_tolerance = 2 * math.pi * radius * 25 / 1e6  # one cell along the circle
    assert total["covered_km2"] == pytest.approx(expected_km2, abs=cell_tolerance)
    assert total["area_km2"] == pytest.approx(district.area / 1e6, rel=0.01)


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
    total = result.by_street.iloc[-1]
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


def test_quotas_spacing_and_exclusions_are_respected(data_dir: Path) -> None:
    write_text(data_dir / "sites" / "macro_stations.csv", "站址编码,经度,纬度,状态,开通日期\nS1,121.4290,31.2462,已开通,2024-01-10\n")
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    zone = gpd.GeoDataFrame(geometry=[shapely.box(121.30, 31.20, 121.39, 31.32)], crs=4326)  # the west of the district
    result = plan_sites(
        project,
        streets=["310107015000", "310107103000"],
        exclude=zone,
        min_spacing_m=400,
        candidate_spacing_m=200,
        service="indoor",
        exact=False,
    )
    sites = result.sites
    quotas = project.progress().set_index("street_code")["macro_remaining"]
    counts = sites["street_code"].value_counts()
    assert set(counts.index) <= {"310107015000", "310107103000"}
    assert all(counts[c] <= quotas[c] for c in counts.index)
    assert (sites["lon"] > 121.39).all()  # nothing in the exclusion zone
    metric = sites.to_crs(METRIC_CRS)
    xy = np.column_stack([metric.geometry.x, metric.geometry.y])
    distances = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert distances[np.triu_indices(len(xy), 1)].min() >= 400 - 1e-6
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    assert (np.diff(sites["marginal_demand"]) <= 1e-9).all()  # greedy gains shrink
    assert sites["cumulative_coverage_pct"].is_monotonic_increasing


def test_plan_sites_reports_the_gap_to_the_optimum(data_dir: Path) -> None:
    write_text(data_dir / "sites" / "macro_stations.csv", "站址编码,经度,纬度,状态,开通日期\nS1,121.4290,31.2462,已开通,2024-01-10\n")
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    result = plan_sites(project, streets=["310107016000"], candidate_spacing_m=250, service="indoor", exact=True)
    assert result.optimum is not None and result.greedy_value <= result.optimum + 1e-6
    assert 0 <= result.gap_to_optimum_pct <= (1 - LOWER_BOUND) * 100


def test_cli_coverage_and_plan_sites(sample_data_dir: Path, tmp_path: Path) -> None:
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
    assert len(table) == 11 and table["street_code"].iloc[-1] == "310107"
    assert f"{table['area_covered_pct'].iloc[-1]}%" in result.output
    page = (out / "coverage.html").read_text(encoding="utf-8")
    assert "coverage-gap" in page and "coverage-area" in page
    sites = tmp_path / "sites.csv"
    result = runner.invoke(
        cli,
        [
            "--data",
            str(sample_data_dir),
            "plan-sites",
            "--as-of",
            "2024-06-30",
            "--street",
            "310107016000",
            "--service",
            "indoor",
            "--exact",
            "--out",
            str(sites),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(sites, encoding="utf-8-sig", dtype={"street_code": str})
    assert len(ranked) > 0 and (ranked["street_code"] == "310107016000").all() and "最优解差" in result.output
    assert "recommended-site" in (tmp_path / "sites.html").read_text(encoding="utf-8")


def test_existing_network_counts_from_the_start(data_dir: Path, tmp_path: Path) -> None:
    write_text(data_dir / "sites" / "macro_stations.csv", "站址编码,经度,纬度,状态,开通日期\nS1,121.4290,31.2462,已开通,2024-01-10\n")
    existing = write_text(
        tmp_path / "existing.csv", "站址编码,经度,纬度,状态,频段\nE1,121.3775,31.2829,已开通,n41\nE2,121.3673,31.2399,在建,n41\n"
    )
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    from rollout.records import read_sites

    alone = coverage_analysis(project)
    with_existing = coverage_analysis(project, existing=read_sites(existing, kind="macro").records)
    assert sorted(with_existing.stations["site_id"]) == ["E1", "S1"]  # E2 is not on air
    assert with_existing.by_street.iloc[-1]["covered_km2"] > alone.by_street.iloc[-1]["covered_km2"]
    taopu = with_existing.by_street.set_index("street_code").loc["310107103000"]
    assert taopu["covered_km2"] > 0 and alone.by_street.set_index("street_code").loc["310107103000", "covered_km2"] == 0
    result = CliRunner().invoke(
        cli,
        ["--data", str(data_dir), "coverage", "--as-of", "2024-06-30", "--existing", str(existing), "--out", str(tmp_path / "c")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0 and result.stdout.startswith("2 个站点")  # the source line goes to standard error


def test_candidates_outside_every_street_are_a_clear_error(data_dir: Path) -> None:
    from rollout.errors import ConfigError

    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    far = gpd.GeoDataFrame(geometry=gpd.points_from_xy([116.4, 116.5], [39.9, 39.9]), crs=4326)  # Beijing
    with pytest.raises(ConfigError, match="none of the 2 candidate points lies in a street"):
        plan_sites(project, candidates=far, exact=False)
