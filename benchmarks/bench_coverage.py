"""Benchmark: modelled coverage grids and the site-planning solvers.

Run ``python benchmarks/bench_coverage.py`` (``--quick`` skips the largest cases). Each case runs
in its own process so that its peak memory (max RSS) is its own.

- coverage: best-server RSRP on an H3 resolution-10 grid (hexagons of about 76 m edge and
  0.015 km²) for 250, 2,000 and 10,000 on-air stations, over Putuo (55 km², the real street
  zones) and over a Shanghai-sized square (6,300 km²);
- MCLP: lazy greedy for 10,000 candidates x 50,000 demand points, and greedy against the exact
  optimum (HiGHS) on small instances.
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


def _stations(n: int, bounds: tuple[float, float, float, float], seed: int):
    import pandas as pd

    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = bounds
    return pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(n)],
            "x": rng.uniform(xmin, xmax, n),
            "y": rng.uniform(ymin, ymax, n),
            "band": "n78",
            "f_mhz": 3500.0,
            "eirp_dbm_per_re": 41.8,
            "penetration_loss_db": 18.0,
            "height_m": rng.uniform(20, 45, n),
        }
    )


def _coverage_case(area: str, n: int) -> dict:
    import geopandas as gpd
    import shapely

    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.coverage import best_server, make_grid
    from rollout.crs import METRIC_CRS
    from rollout.propagation import LinkBudget

    if area == "putuo":
        streets = read_streets(load_config(REPO / "data"))
    else:  # a square of 6,300 km² centred on Shanghai
        side = 6_300_000_000**0.5
        centre = gpd.GeoSeries.from_xy([121.47], [31.23], crs=4326).to_crs(METRIC_CRS).iloc[0]
        square = shapely.box(centre.x - side / 2, centre.y - side / 2, centre.x + side / 2, centre.y + side / 2)
        streets = gpd.GeoDataFrame({"street_code": ["000000000000"], "name": ["shanghai"]}, geometry=[square], crs=METRIC_CRS).to_crs(4326)
    start = time.perf_counter()
    cells = make_grid(streets, "h3:10")
    gridded = time.perf_counter()
    bounds = tuple(streets.to_crs(METRIC_CRS).total_bounds)
    stations = _stations(n, bounds, seed=n)
    rsrp, _ = best_server(stations, cells["x"].to_numpy(), cells["y"].to_numpy(), LinkBudget())
    done = time.perf_counter()
    return {
        "case": f"coverage {area}",
        "size": f"{n:,} stations x {len(cells):,} cells",
        "grid_s": gridded - start,
        "model_s": done - gridded,
        "total_s": done - start,
        "covered_pct": float((rsrp >= -105).mean() * 100),
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
        result = _coverage_case(rest[0], int(rest[1])) if kind == "coverage" else _mclp_case(int(rest[0]), int(rest[1]), rest[2] == "1")
        print(json.dumps(result))
        return
    cases = [f"coverage:putuo:{n}" for n in (250, 2000, 10000)]
    if not args.quick:
        cases += [f"coverage:shanghai:{n}" for n in (250, 2000, 10000)]
        cases += ["mclp:10000:50000:0"]
    cases += ["mclp:200:2000:1", "mclp:400:4000:1"]
    print(f"{'case':<24} {'size':<38} {'time s':>8} {'detail':<40} {'peak MB':>8}")
    for case in cases:
        out = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if r["case"].startswith("coverage"):
            detail = f"grid {r['grid_s']:.2f} s + model {r['model_s']:.2f} s, {r['covered_pct']:.1f}% covered"
        elif "exact_s" in r:
            detail = f"exact {r['exact_s']:.2f} s, greedy {r['gap_pct']:.2f}% below optimum"
        else:
            detail = f"covered weight {r['greedy']:.0f}"
        print(f"{r['case']:<24} {r['size']:<38} {r['total_s']:>8.2f} {detail:<40} {r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
