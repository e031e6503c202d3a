"""Whole-process times of `rollout worksheets` and `rollout brief` on the sample, next to
`rollout progress` (the issue's yardstick: worksheets within 4x of it) and what a user would do
instead (a plain pandas + geopandas.sjoin script counting per street).

Wall time is what the user waits (best of the runs); CPU time (user + system, the command and
the worker processes it forks) shows the work done, and what the wall time would be on one
core. On a machine shared with other jobs the wall times move; the CPU times much less.

    python benchmarks/bench_deliverables.py [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLAIN = """
import geopandas as gpd, pandas as pd
sites = pd.read_csv("data/sites/garage_compounds.csv", encoding="utf-8-sig")
points = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["经度"], sites["纬度"]), crs=4326)
zones = gpd.GeoDataFrame(geometry=gpd.points_from_xy([121.40], [31.25]).buffer(0.1), crs=4326)
print(gpd.sjoin(points, zones).groupby("index_right").size())
"""


def _time(args: list[str], runs: int) -> tuple[float, float]:
    """Best wall time and the CPU time of that run (this process's children: the command and its workers)."""
    best = (float("inf"), 0.0)
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, cwd=REPO, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best = min(best, (wall, cpu))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    out = Path(tempfile.mkdtemp())
    rollout = [sys.executable, "-m", "rollout"]
    rows = [
        ("rollout progress --as-of 2024-10-31", _time([*rollout, "progress", "--as-of", "2024-10-31"], runs)),
        ("plain pandas + geopandas.sjoin script", _time([sys.executable, "-c", PLAIN], runs)),
        ("rollout brief --as-of 2024-10-31 (docx+pdf)", _time([*rollout, "brief", "--as-of", "2024-10-31", "--out", str(out / "b")], runs)),
        (
            "rollout worksheets --as-of 2024-10-31 (60 x html,pdf,xlsx)",
            _time([*rollout, "worksheets", "--as-of", "2024-10-31", "--out", str(out / "w")], runs),
        ),
        (
            "rollout worksheets --format pdf",
            _time([*rollout, "worksheets", "--as-of", "2024-10-31", "--format", "pdf", "--out", str(out / "p")], runs),
        ),
        (
            "rollout worksheets --format html,xlsx",
            _time([*rollout, "worksheets", "--as-of", "2024-10-31", "--format", "html,xlsx", "--out", str(out / "x")], runs),
        ),
    ]
    base = rows[0][1][0]
    print(f"{'command (whole process, best of ' + str(runs) + ')':<62} {'wall s':>7} {'x progress':>11} {'CPU s':>6}")
    for name, (wall, cpu) in rows:
        print(f"{name:<62} {wall:>7.2f} {wall / base:>11.1f} {cpu:>6.2f}")


if __name__ == "__main__":
    main()
