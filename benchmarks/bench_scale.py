"""Benchmark: scale. Shanghai-sized (100k sites x 215 street units) and national-sized (up to 5 M sites
x 39,000 township units) synthetic sets, in memory and on dask with 2 local workers.

Run ``python benchmarks/bench_scale.py`` (``--max 1000000`` to stop earlier). Units are a Voronoi partition
of seed points drawn with a realistic density (most in the east of China, or in central Shanghai), and
sites are drawn with the same density. Each case runs the real pipeline (read Parquet, check every row,
place in units, count per unit and status, progress table) in its own process; the table gives time and
peak memory (max RSS) of the process, and for dask of the busiest worker. Data are cached in
``benchmarks/.data``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".data"
AS_OF = dt.date(2024, 6, 30)
SCALES = {
    # name: (units, bbox, dense box, dense share)
    "china": (39_000, (73.5, 18.2, 134.8, 53.5), (105.0, 22.0, 122.0, 40.0), 0.75),
    "shanghai": (215, (120.86, 30.68, 122.0, 31.87), (121.3, 31.1, 121.6, 31.35), 0.6),
}


def _draw(rng: np.random.Generator, n: int, scale: str) -> tuple[np.ndarray, np.ndarray]:
    _, (x0, y0, x1, y1), (dx0, dy0, dx1, dy1), dense = SCALES[scale]
    k = int(n * dense)
    x = np.concatenate([rng.uniform(dx0, dx1, k), rng.uniform(x0, x1, n - k)])
    y = np.concatenate([rng.uniform(dy0, dy1, k), rng.uniform(y0, y1, n - k)])
    order = rng.permutation(n)
    return x[order], y[order]


def _data_dir(scale: str) -> Path:
    """A data folder: config, unit table, unit polygons and targets for the synthetic units."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    folder = CACHE / f"{scale}_data"
    if (folder / "targets.csv").exists():
        return folder
    (folder / "boundaries").mkdir(parents=True, exist_ok=True)
    units, (x0, y0, x1, y1), _, _ = SCALES[scale]
    rng = np.random.default_rng(len(scale))
    x, y = _draw(rng, units, scale)
    frame = shapely.box(x0, y0, x1, y1)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(np.column_stack([x, y])), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    codes = [f"9{i:011d}" for i in range(len(cells))]
    table = pd.DataFrame(
        {
            "street_code": codes,
            "name": [f"单元{i}" for i in range(len(cells))],
            "name_en": [f"unit {i}" for i in range(len(cells))],
            "kind": "unit",
        }
    )
    table.to_csv(folder / "boundaries" / "streets.csv", index=False)
    gpd.GeoDataFrame({"street_code": codes}, geometry=cells, crs=4326).to_file(
        folder / "boundaries" / "bench_streets.geojson", driver="GeoJSON"
    )
    pd.DataFrame({"street_code": codes, "macro_target": 100, "garage_target": 0}).to_csv(folder / "targets.csv", index=False)
    (folder / "rollout.toml").write_text(
        f'[district]\ncode = "900000"\nname = "{scale}"\nname_en = "Bench {scale}"\n\n'
        f"[plan]\nyear = 2024\nstart = 2024-01-01\ndeadline = 2024-12-31\nmacro_target = {100 * len(codes)}\ngarage_target = 0\n",
        encoding="utf-8",
    )
    return folder


def _sites(scale: str, n: int) -> Path:
    import pandas as pd

    path = CACHE / f"{scale}_sites_{n}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(n)
    x, y = _draw(rng, n, scale)
    on_air = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 360, n), unit="D")
    status = rng.choice(["已开通", "在建", "规划"], n, p=[0.6, 0.3, 0.1])
    frame = pd.DataFrame(
        {
            "site_id": np.char.add("S", np.arange(n).astype(str)),
            "lon": x.round(6),
            "lat": y.round(6),
            "status": status,
            "construction_start_date": (on_air - pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
            "on_air_date": np.where(status == "已开通", on_air.strftime("%Y-%m-%d"), ""),
        }
    )
    frame.to_parquet(path, row_group_size=100_000)
    return path


def _run(scale: str, n: int, engine: str) -> dict:
    data, sites = _data_dir(scale), _sites(scale, n)
    start = time.perf_counter()
    if engine == "memory":
        from rollout.pipeline import load_project

        project = load_project(data, macro=[sites], garage=[], as_of=AS_OF)
        table = project.progress()
        worker_mb = 0.0
    else:
        from rollout.engine import cluster, load_project_distributed

        with cluster() as client:
            start = time.perf_counter()  # the cluster's start-up is not the work
            project = load_project_distributed(client, data, macro=[sites], garage=[], as_of=AS_OF)
            table = project.progress()
            worker_mb = max(client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024).values())
    seconds = time.perf_counter() - start
    done = int(table["macro_done"].iloc[-1])
    return {
        "scale": scale,
        "n": n,
        "engine": engine,
        "seconds": seconds,
        "done": done,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mb": worker_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=5_000_000, help="largest national size")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        scale, n, engine = args.case.split(":")
        print(json.dumps(_run(scale, int(n), engine)))
        return
    cases = [("shanghai", 100_000)] + [("china", n) for n in (10_000, 100_000, 1_000_000, 5_000_000) if n <= args.max]
    print(f"{'set':<9} {'sites':>10} {'units':>7} {'engine':<7} {'time s':>8} {'sites/s':>10} {'peak MB':>8} {'worker MB':>10}")
    for scale, n in cases:
        _data_dir(scale), _sites(scale, n)
        for engine in ("memory", "dask"):
            out = subprocess.run([sys.executable, __file__, "--case", f"{scale}:{n}:{engine}"], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            worker = f"{r['worker_mb']:.0f}" if engine == "dask" else ""
            print(
                f"{scale:<9} {n:>10,} {SCALES[scale][0]:>7,} {engine:<7} {r['seconds']:>8.2f} {n / r['seconds']:>10,.0f} {r['peak_mb']:>8.0f} {worker:>10}",
                flush=True,
            )


if __name__ == "__main__":
    main()
