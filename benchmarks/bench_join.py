"""Benchmark: read + convert + join + progress, and the join alone against the usual ways.

Run ``python benchmarks/bench_join.py`` (``--sizes 1000 10000`` for a quick run). Each pipeline
size runs in its own process so that its peak memory (max RSS) is its own. Synthetic sites lie
inside Putuo but for 1 % just outside it (as in real lists; most of those are rejected), 20 % given in GCJ-02
and 10 % in BD-09; files are cached in ``benchmarks/.data``.

The join is compared with what users write today, ``geopandas.sjoin(predicate="within")``, and
with ``shapely.contains_xy`` over prepared polygons (near the floor for few polygons), on the
10 streets and on 5,000 Voronoi polygons over the same area.
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
CACHE = HERE / ".data"
SIZES = (1_000, 10_000, 100_000, 1_000_000)


def _sites_file(n: int) -> Path:
    """Write (once) a CSV of ``n`` synthetic macro stations over Putuo's bounding box."""
    import pandas as pd

    from rollout import crs as _crs

    path = CACHE / f"sites_{n}.csv"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    rng = np.random.default_rng(n)
    lon, lat = _putuo_points(rng, n)
    systems = rng.choice(["wgs84", "gcj02", "bd09"], n, p=[0.7, 0.2, 0.1])
    for name in ("gcj02", "bd09"):
        mask = systems == name
        lon[mask], lat[mask] = _crs.from_wgs84(lon[mask], lat[mask], name)
    on_air = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 360, n), unit="D")
    status = rng.choice(["已开通", "在建", "规划"], n, p=[0.6, 0.3, 0.1])
    frame = pd.DataFrame(
        {
            "站址编码": [f"S{i:07d}" for i in range(n)],
            "经度": lon.round(6),
            "纬度": lat.round(6),
            "坐标系": systems,
            "状态": status,
            "开工日期": (on_air - pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
            "开通日期": np.where(status == "已开通", on_air.strftime("%Y-%m-%d"), ""),
        }
    )
    frame.to_csv(path, index=False)
    return path


def _putuo_points(rng: np.random.Generator, n: int, outside_share: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Points as in real site lists: inside the district, but for a small share just outside."""
    import shapely

    from rollout.boundaries import district_outline

    outline = district_outline("310107")
    shapely.prepare(outline)
    xmin, ymin, xmax, ymax = outline.bounds
    lon = rng.uniform(xmin, xmax, 3 * n)
    lat = rng.uniform(ymin, ymax, 3 * n)
    inside = shapely.contains_xy(outline, lon, lat)
    n_out = int(n * outside_share)
    keep = np.concatenate([np.flatnonzero(inside)[: n - n_out], np.flatnonzero(~inside)[:n_out]])
    rng.shuffle(keep)
    return lon[keep], lat[keep]


def _one_pipeline(n: int) -> dict:
    """Time each stage for ``n`` sites in this process; report peak RSS."""
    import datetime as dt

    from rollout.boundaries import read_street_table, read_streets
    from rollout.config import load_config, read_targets
    from rollout.join import place_sites
    from rollout.pipeline import empty_load
    from rollout.progress import street_progress
    from rollout.records import read_sites
    from rollout.schema import GARAGE

    path = _sites_file(n)
    config = load_config(REPO / "data")
    streets = read_streets(config)
    table = read_street_table(config)
    targets = read_targets(config, table)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    load = read_sites(path, kind="macro")
    t1 = time.perf_counter()
    placed = place_sites(load, streets, config)
    t2 = time.perf_counter()
    street_progress(placed.records, empty_load(GARAGE).records, table, targets, config, as_of=dt.date(2024, 6, 30))
    t3 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n": n,
        "read_s": t1 - t0,
        "join_s": t2 - t1,
        "progress_s": t3 - t2,
        "total_s": t3 - t0,
        "loaded": len(placed.records),
        "peak_mb": peak,
        "baseline_mb": baseline,
    }


def _time(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _join_comparison(n: int) -> list[dict]:
    """Join only: rollout.assign_streets vs geopandas.sjoin vs shapely.contains_xy."""
    import geopandas as gpd
    import shapely

    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.join import assign_streets

    streets = read_streets(load_config(REPO / "data"))
    rng = np.random.default_rng(0)
    x, y = _putuo_points(rng, n)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    outline = streets.union_all()
    seeds = shapely.MultiPoint(np.column_stack([rng.uniform(121.345, 121.450, 5000), rng.uniform(31.225, 31.300, 5000)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline.envelope))
    many = gpd.GeoDataFrame(
        {"street_code": [f"{i:05d}" for i in range(len(cells))]}, geometry=shapely.intersection(cells, outline.envelope), crs=4326
    )
    rows = []
    for label, polygons in (("10 streets", streets), (f"{len(many):,} polygons", many)):
        ours = _time(lambda polygons=polygons: assign_streets(points, polygons, tolerance_m=0))
        sjoin = _time(lambda polygons=polygons: gpd.sjoin(points, polygons[["street_code", "geometry"]], predicate="within", how="left"))

        def floor(polygons=polygons) -> None:
            for polygon in polygons.geometry.to_numpy():
                shapely.prepare(polygon)
                shapely.contains_xy(polygon, x, y)

        contains = _time(floor) if len(polygons) <= 64 else float("nan")
        rows.append({"polygons": label, "n": n, "ours_s": ours, "sjoin_s": sjoin, "contains_xy_s": contains})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--join-n", type=int, default=1_000_000, help="points for the join-only comparison")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one_pipeline(args.one)))
        return
    print("read + convert + join + progress (one process per size)")
    print(f"{'sites':>10} {'read s':>8} {'join s':>8} {'progress s':>10} {'total s':>8} {'sites/s':>10} {'peak MB':>8} {'+ over base':>11}")
    for n in args.sizes:
        _sites_file(n)
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['n']:>10,} {r['read_s']:>8.2f} {r['join_s']:>8.3f} {r['progress_s']:>10.3f} {r['total_s']:>8.2f} "
            f"{r['n'] / r['total_s']:>10,.0f} {r['peak_mb']:>8.0f} {r['peak_mb'] - r['baseline_mb']:>11.0f}"
        )
    print()
    print(f"join only, {args.join_n:,} points (best of 3)")
    print(f"{'polygons':>16} {'ours s':>8} {'sites/s':>12} {'sjoin s':>8} {'vs sjoin':>9} {'contains_xy s':>14} {'vs floor':>9}")
    for r in _join_comparison(args.join_n):
        print(
            f"{r['polygons']:>16} {r['ours_s']:>8.3f} {r['n'] / r['ours_s']:>12,.0f} {r['sjoin_s']:>8.3f} "
            f"{r['sjoin_s'] / r['ours_s']:>8.1f}x {r['contains_xy_s']:>14.3f} {r['contains_xy_s'] / r['ours_s']:>8.2f}x"
        )


if __name__ == "__main__":
    main()
