"""Whole-process times as the user feels them: start-up, `rollout progress` and the weekly pack.

Each command runs as its own process (imports included), several times, the commands in turn
(round after round, so that a slower minute of a shared machine slows them all); the table shows the
best and the median wall time next to the references measured in the same run: a click
hello-world import, a geopandas import, and what a user would write instead (a plain pandas +
geopandas.sjoin script counting on-air stations per street on the sample). The aims:

- ``rollout --help`` within 4 x ``python -c "import click"``;
- ``rollout progress`` on the sample within 1.5 x ``python -c "import geopandas"``;
- ``rollout weekly`` on the sample within 2 x ``rollout progress``.

Python's compiled bytecode is kept (in a temporary ``PYTHONPYCACHEPREFIX``, written by one
untimed run of each command) as an installed package has it: pip compiles it on install, and
a checkout writes ``__pycache__`` on its first run. An environment with
``PYTHONDONTWRITEBYTECODE=1`` and no cache would otherwise compile every rollout module on
every run while the libraries it is compared with come compiled; that case is shown on its
own line (``no bytecode cache``).

Run: ``python benchmarks/bench_startup.py [--runs 7]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

NAIVE = """
import geopandas as gpd, pandas as pd
from rollout.boundaries import read_streets
from rollout.config import load_config
streets = read_streets(load_config("{data}"))
sites = pd.read_csv("{data}/sites/macro_stations.csv", encoding="gb18030")
points = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(pd.to_numeric(sites["经度"], errors="coerce"),
                          pd.to_numeric(sites["纬度"], errors="coerce")), crs=4326)
joined = gpd.sjoin(points, streets, predicate="within")
print(joined[joined["状态"] == "已开通"].groupby("street_code").size())
"""


def _run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _time_interleaved(cases: list[tuple[str, list[str], dict[str, str]]], runs: int) -> dict[str, list[float]]:
    """Each command once untimed (it writes the bytecode), then ``runs`` rounds of every command in
    turn: a machine that slows down for a while slows every command alike, and the ratios hold."""
    for _, command, env in cases:
        _run(command, env)
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(runs):
        for name, command, env in cases:
            times[name].append(_run(command, env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (best and median are shown)")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(REPO), "ROLLOUT_TODAY": "2026-11-26", "PYTHONPYCACHEPREFIX": str(out / "pycache")}
    # The libraries' bytecode as installed (in their __pycache__), rollout's compiled on every run.
    uncompiled = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"} | {"PYTHONDONTWRITEBYTECODE": "1"}
    python = sys.executable
    rollout = [python, "-m", "rollout"]
    data = REPO / "data"
    progress = [*rollout, "--data", str(data), "progress", "--as-of", "2024-06-30"]
    cases = [
        ("python -c 'import click'", [python, "-c", "import click"], env),
        ("rollout --help", [*rollout, "--help"], env),
        ("python -c 'import geopandas'", [python, "-c", "import geopandas"], env),
        ("naive pandas + sjoin script", [python, "-c", NAIVE.format(data=data)], env),
        ("rollout progress (sample)", progress, env),
        ("  the same, no bytecode cache", progress, uncompiled),
        ("rollout weekly (sample)", [*rollout, "--data", str(data), "weekly", "--week", "2024-W26", "--out", str(out / "weekly")], env),
    ]
    try:
        results = _time_interleaved(cases, args.runs)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    best = {name: min(times) for name, times in results.items()}
    print(f"whole-process wall times, {args.runs} runs each (best and median), Python {sys.version.split()[0]}")
    print(f"{'command':32} {'best s':>7} {'median s':>9}")
    for name, times in results.items():
        print(f"{name:32} {best[name]:7.2f} {statistics.median(times):9.2f}")
    print()
    aims = [
        ("rollout --help / import click", best["rollout --help"] / best["python -c 'import click'"], 4.0),
        ("rollout progress / import geopandas", best["rollout progress (sample)"] / best["python -c 'import geopandas'"], 1.5),
        ("rollout weekly / rollout progress", best["rollout weekly (sample)"] / best["rollout progress (sample)"], 2.0),
        ("  no bytecode cache / import geopandas", best["  the same, no bytecode cache"] / best["python -c 'import geopandas'"], None),
        ("rollout progress / naive script", best["rollout progress (sample)"] / best["naive pandas + sjoin script"], None),
    ]
    print(f"{'ratio (best times)':40} {'value':>6} {'aim':>6}")
    for name, value, aim in aims:
        print(f"{name:40} {value:6.2f} {('<= ' + format(aim, 'g')) if aim else '':>6}")


if __name__ == "__main__":
    main()
