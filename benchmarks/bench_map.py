"""Benchmark: the weekly pack on the sample, and the map's size and Chromium load time at scale.

Run ``python benchmarks/bench_map.py`` (``--sizes 250 10000`` for a quick run). For each size, synthetic
macro stations are placed in Putuo (70 % on air), the map is built and saved, and headless Chromium
(Debian's, through Playwright) loads it from file:// with the network blocked; the time is measured until
every marker has been added to its layer (clusters are built in chunks).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))


def _sites(n: int) -> pd.DataFrame:
    import geopandas as gpd
    from bench_join import _putuo_points

    rng = np.random.default_rng(n)
    lon, lat = _putuo_points(rng, n, outside_share=0.0)
    status = rng.choice(["on_air", "under_construction", "planned", "blocked"], n, p=[0.7, 0.15, 0.1, 0.05])
    on_air = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 170, n), unit="D")
    frame = pd.DataFrame(
        {
            "site_id": [f"S{i:06d}" for i in range(n)],
            "name": [f"普陀{i}号5G宏站" for i in range(n)],
            "status": status,
            "operator": rng.choice(["cmcc", "ctc;cucc", "cmcc;cbn"], n),
            "band": rng.choice(["n41", "n78", "n28"], n),
            "antenna_height_m": rng.integers(18, 45, n).astype(float),
            "site_secured_date": on_air - pd.Timedelta(days=60),
            "construction_start_date": on_air - pd.Timedelta(days=30),
            "on_air_date": on_air.where(status == "on_air"),
            "planned_on_air_date": pd.NaT,
            "status_date": pd.NaT,
            "blocker": np.where(status == "blocked", "业主不同意进场", ""),
            "lon": lon,
            "lat": lat,
            "counts_toward_target": True,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def _weekly_sample_seconds() -> float:
    """``rollout weekly`` on the sample, in a fresh process; the command's own time after imports."""
    code = (
        "import time, datetime as dt; from rollout.pipeline import load_project; from rollout.weekly import build_weekly_pack;"
        "import tempfile; t=time.perf_counter();"
        f"p=load_project({str(REPO / 'data')!r}, as_of=dt.date(2024, 6, 30)); build_weekly_pack(p, tempfile.mkdtemp());"
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[250, 10_000, 100_000])
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from rollout.join import assign_streets
    from rollout.maps import build_map, save_map
    from rollout.pipeline import load_project

    print(f"rollout weekly on the sample (after imports): {_weekly_sample_seconds():.2f} s")
    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    progress = project.progress()
    garage = project.garage.records.iloc[:0]
    print(f"{'sites':>8} {'build s':>8} {'HTML MB':>8} {'load s':>7} {'rendering':>10}")
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        for n in args.sizes:
            sites = _sites(n)
            placed = assign_streets(sites, project.streets)
            names = project.streets.set_index("street_code")["name"]
            sites = sites.assign(street_code=placed["street_code"], street_name=placed["street_code"].map(names))
            start = time.perf_counter()
            fmap = build_map(project.streets, progress, sites, garage, as_of=project.as_of, title="bench", subtitle=str(n))
            path = save_map(fmap, Path(folder) / f"map_{n}.html")
            built = time.perf_counter() - start
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            start = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_function(f"window.__rollout && window.__rollout.siteCount('macro') === {n}", timeout=120_000, polling=50)
            loaded = time.perf_counter() - start
            clustered = page.evaluate(
                "window.__rollout.sites.macro.aggregated ? 'grid cells' : String(window.__rollout.sites.macro.clustered)"
            )
            page.close()
            print(
                f"{n:>8,} {built:>8.2f} {path.stat().st_size / 1e6:>8.2f} {loaded:>7.2f} {('clustered' if clustered == 'true' else 'markers' if clustered == 'false' else clustered):>10}"
            )
        browser.close()


if __name__ == "__main__":
    main()
