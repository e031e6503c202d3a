"""Benchmark: modelled coverage grids and the site-planning solvers.

Run ``python benchmarks/bench_coverage.py`` (``--quick`` skips the largest cases). Each case runs
in its own process so that its peak memory (max RSS) is its own.

- coverage: best-server RSRP on an H3 resolution-10 grid (hexagons of about 76 m edge and
  0.015 km²) for 250, 2,000 and 10,000 on-air stations, over Putuo (55 km², the real street
  zones) and over a Shanghai-sized square (6,300 km²);
- MCLP: lazy greedy for 10,000 candidates x 50,000 demand points, and greedy against the exact
  optimum (HiGHS) on small instances;
- plan-sites on the sample (119 remaining stations) with a synthetic MR grid of 20,000 cells, as
  the user runs it (whole process, imports included), next to a plain pandas + geopandas.sjoin
  script that ranks the weakest cells per street; and the greedy's gap to the exact optimum on
  the same data with candidates 400 m apart (an exact-solvable size).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _stations(n: int, streets, seed: int):
    import geopandas as gpd
    import pandas as pd

    from rollout.config import load_config
    from rollout.coverage import district_crs, load_coverage_settings
    from rollout.servers import station_table

    rng = np.random.default_rng(seed)
    west, south, east, north = streets.total_bounds
    records = pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "lon": rng.uniform(west, east, n),
            "lat": rng.uniform(south, north, n),
            "band": "n78",
            "antenna_height_m": rng.uniform(20, 45, n),
        }
    )
    settings = load_coverage_settings(load_config(REPO / "data"))
    crs = district_crs(gpd.GeoDataFrame(geometry=streets.geometry, crs=4326))
    return station_table(records, settings, crs), settings


def _coverage_case(area: str, n: int) -> dict:
    import geopandas as gpd
    import shapely

    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.crs import metric_crs
    from rollout.servers import clutter_index, serve

    if area == "putuo":
        streets = read_streets(load_config(REPO / "data"))
    else:  # a square of 6,300 km² centred on Shanghai
        side = 6_300_000_000**0.5
        metric = metric_crs((121.47, 31.23, 121.47, 31.23))
        centre = gpd.GeoSeries.from_xy([121.47], [31.23], crs=4326).to_crs(metric).iloc[0]
        square = shapely.box(centre.x - side / 2, centre.y - side / 2, centre.x + side / 2, centre.y + side / 2)
        streets = gpd.GeoDataFrame({"street_code": ["000000000000"], "name": ["shanghai"]}, geometry=[square], crs=metric).to_crs(4326)
    from rollout.coverage import make_grid

    start = time.perf_counter()
    cells = make_grid(streets, "h3:10")
    gridded = time.perf_counter()
    stations, settings = _stations(n, streets, seed=n)
    clutter = clutter_index(np.full(len(cells), "urban", dtype=object))
    served = serve(stations, cells["x"].to_numpy(), cells["y"].to_numpy(), clutter, settings)
    done = time.perf_counter()
    return {
        "case": f"coverage {area}",
        "size": f"{n:,} stations x {len(cells):,} cells",
        "grid_s": gridded - start,
        "model_s": done - gridded,
        "total_s": done - start,
        "covered_pct": float(served.covered.mean() * 100),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def write_mr_grid(path: Path, n: int = 20_000, seed: int = 7) -> Path:
    """A synthetic MR grid over Putuo as operators export it: GB18030, Chinese headers, BD-09,
    mean RSRP falling with distance from the sample's stations on air, weak clusters, samples."""
    import datetime as dt

    import geopandas as gpd
    import pandas as pd
    import shapely

    from rollout.crs import wgs84_to_bd09
    from rollout.pipeline import load_project

    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    rng = np.random.default_rng(seed)
    outline = project.streets.union_all()
    west, south, east, north = outline.bounds
    lon, lat = [], []
    while len(lon) < n:
        x, y = rng.uniform(west, east, 4 * n), rng.uniform(south, north, 4 * n)
        keep = shapely.contains_xy(outline, x, y)
        lon.extend(x[keep])
        lat.extend(y[keep])
    lon, lat = np.array(lon[:n]), np.array(lat[:n])
    stations = project.macro.records
    crs = project.streets.estimate_utm_crs()
    p = gpd.GeoSeries.from_xy(lon, lat, crs=4326).to_crs(crs)
    s = gpd.GeoSeries.from_xy(stations["lon"], stations["lat"], crs=4326).to_crs(crs)
    from scipy.spatial import cKDTree

    distance, _ = cKDTree(np.column_stack([s.x, s.y])).query(np.column_stack([p.x, p.y]))
    rsrp = np.clip(-68 - 30 * np.log10(np.maximum(distance, 30) / 30) + rng.normal(0, 6, n), -140, -44)
    blon, blat = wgs84_to_bd09(lon, lat)
    frame = pd.DataFrame(
        {
            "栅格编号": [f"MR{i:05d}" for i in range(n)],
            "栅格中心经度": np.round(blon, 6),
            "栅格中心纬度": np.round(blat, 6),
            "坐标系": "百度",
            "平均RSRP(dBm)": np.round(rsrp, 1),
            "采样点数": rng.integers(20, 2000, n),
        }
    )
    frame.to_csv(path, index=False, encoding="gb18030")
    return path


def _plan_case(kind: str) -> dict:
    """plan-sites on the sample with a 20,000-cell MR grid, as the user runs it (whole process),
    against a plain pandas + geopandas.sjoin script that ranks the weakest cells per street."""
    import tempfile

    folder = Path(tempfile.mkdtemp())
    mr = write_mr_grid(folder / "mr_grid.csv")
    if kind == "cli":
        start = time.perf_counter()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "rollout",
                "--data",
                str(REPO / "data"),
                "plan-sites",
                "--as-of",
                "2024-06-30",
                "--mr",
                str(mr),
                "--out",
                str(folder / "sites.csv"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
        import pandas as pd

        sites = pd.read_csv(folder / "sites.csv", encoding="utf-8-sig")
        line = next(line for line in out.stdout.splitlines() if "MR弱覆盖采样点：" in line)
        return {
            "case": "plan-sites (rollout)",
            "size": "119 remaining, 20,000 MR cells",
            "total_s": elapsed,
            "sites": len(sites),
            "detail": line.strip(),
        }
    script = f"""
import pandas as pd, geopandas as gpd, numpy as np
from rollout.crs import bd09_to_wgs84
mr = pd.read_csv({str(mr)!r}, encoding="gb18030")
lon, lat = bd09_to_wgs84(mr["栅格中心经度"].to_numpy(), mr["栅格中心纬度"].to_numpy())
points = gpd.GeoDataFrame(mr, geometry=gpd.points_from_xy(lon, lat), crs=4326)
streets = gpd.read_file({str(folder / "streets.geojson")!r})
joined = gpd.sjoin(points, streets, predicate="within")
weak = joined[joined["平均RSRP(dBm)"] < -110]
sites = weak.sort_values("采样点数", ascending=False).groupby("street_code").head(12)
print(len(sites))
"""
    from rollout.boundaries import read_streets
    from rollout.config import load_config

    streets_file = folder / "streets.geojson"
    read_streets(load_config(REPO / "data"))[["street_code", "geometry"]].to_file(streets_file)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return {
        "case": "pandas + sjoin script",
        "size": "weakest cells per street",
        "total_s": elapsed,
        "sites": int(out.stdout.split()[-1]),
        "detail": "no link budget, quotas, spacing or existing network",
    }


def _plan_gap_case(spacing: int) -> dict:
    """The greedy's gap to the exact optimum on the sample with the MR grid, at a candidate
    spacing that keeps the instance exact-solvable."""
    import datetime as dt
    import tempfile

    from rollout.measurements import read_mr
    from rollout.pipeline import load_project
    from rollout.siting import plan_sites

    folder = Path(tempfile.mkdtemp())
    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    mr = read_mr(write_mr_grid(folder / "mr_grid.csv"), project.streets)
    start = time.perf_counter()
    plan_sites(project, mr=mr, candidate_spacing_m=spacing, exact=False)
    greedy_s = time.perf_counter() - start
    start = time.perf_counter()
    exact = plan_sites(project, mr=mr, candidate_spacing_m=spacing, exact=True)
    exact_s = time.perf_counter() - start - greedy_s
    return {
        "case": "plan-sites greedy vs exact",
        "size": f"{exact.candidates:,} candidates, 20,000 MR cells",
        "total_s": greedy_s,
        "exact_s": exact_s,
        "gap_pct": exact.gap_to_optimum_pct,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _mclp_case(n_candidates: int, n_demand: int, exact: bool) -> dict:
    from rollout.siting import exact_mclp, greedy_mclp, random_instance

    reach = 0.02 if n_candidates >= 1000 else 0.15
    problem = random_instance(n_candidates, n_demand, seed=1, reach=reach, limit=min(200, n_candidates // 5))
    start = time.perf_counter()
    _, marginals = greedy_mclp(problem)
    greedy_s = time.perf_counter() - start
    result = {
        "case": "MCLP greedy" + (" vs exact" if exact else ""),
        "size": f"{n_candidates:,} candidates x {n_demand:,} demand",
        "total_s": greedy_s,
        "greedy": sum(marginals),
    }
    if exact:
        start = time.perf_counter()
        _, optimum = exact_mclp(problem)
        result["exact_s"] = time.perf_counter() - start
        result["gap_pct"] = (optimum - sum(marginals)) / optimum * 100
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the Shanghai-sized and 10k x 50k cases")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, *rest = args.case.split(":")
        if kind == "coverage":
            result = _coverage_case(rest[0], int(rest[1]))
        elif kind == "plan":
            result = _plan_case(rest[0])
        elif kind == "plangap":
            result = _plan_gap_case(int(rest[0]))
        else:
            result = _mclp_case(int(rest[0]), int(rest[1]), rest[2] == "1")
        print(json.dumps(result))
        return
    cases = [f"coverage:putuo:{n}" for n in (250, 2000, 10000)]
    if not args.quick:
        cases += [f"coverage:shanghai:{n}" for n in (250, 2000, 10000)]
        cases += ["mclp:10000:50000:0"]
    cases += ["mclp:200:2000:1", "mclp:400:4000:1", "plan:cli", "plan:script", "plangap:400"]
    print(f"{'case':<28} {'size':<38} {'time s':>8} {'detail':<48} {'peak MB':>8}")
    for case in cases:
        out = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True, check=True, cwd=REPO)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if r["case"].startswith("coverage"):
            detail = f"grid {r['grid_s']:.2f} s + model {r['model_s']:.2f} s, {r['covered_pct']:.1f}% covered"
        elif "gap_pct" in r:
            detail = f"exact {r['exact_s']:.2f} s, greedy {r['gap_pct']:.2f}% below optimum"
        elif "sites" in r:
            detail = f"{r['sites']} sites; {r['detail']}"
        else:
            detail = f"covered weight {r['greedy']:.0f}"
        peak = f"{r['peak_mb']:>8.0f}" if "peak_mb" in r else f"{'':>8}"
        print(f"{r['case']:<28} {r['size']:<38} {r['total_s']:>8.2f} {detail:<48} {peak}")


if __name__ == "__main__":
    main()
