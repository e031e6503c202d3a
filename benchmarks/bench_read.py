"""Benchmark: reading large GB18030 site files as the user does, against a naive pandas script.

Whole processes, imports included, as the user runs them, side by side in the same run:

- ``rollout progress`` on a data folder whose macro file is a sample-like GB18030 CSV of 300,000
  and 1,000,000 rows (the bundled sample's 232 rows repeated with new ids and positions moved
  by about a metre: its Chinese headers, GCJ-02/BD-09 coordinates, mixed date formats, blockers
  and its one impossible date per copy);
- the naive script a user would write instead: ``pd.read_csv(encoding="gb18030")``,
  ``points_from_xy`` and ``geopandas.sjoin`` with the streets, on-air stations counted per street
  (no checks, no coordinate conversion, no rejects);
- ``rollout validate`` on a 200 MB UTF-8 file (about 1.1 million rows): the file is streamed
  in chunks, so the peak stays under 1 GB.

Each command runs ``--runs`` times (best wall time shown), after one untimed run on the bundled
sample that writes Python's bytecode (kept in a temporary ``PYTHONPYCACHEPREFIX``, as an installed
package has it compiled); the peak memory is the process's maximum resident set size (``wait4``). Aims (issue 14): ``rollout progress`` within 1.5 times
the naive script at 300k and 1M rows, peak under 1 GB at 1M rows; the 200 MB file checked under
1 GB. Files are cached in ``benchmarks/.data``.

Run: ``python benchmarks/bench_read.py [--runs 3] [--sizes 300000 1000000] [--stream-mb 200]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".data"

NAIVE = """
import sys
import geopandas as gpd, pandas as pd
from rollout.boundaries import read_streets
from rollout.config import load_config
data = sys.argv[1]
streets = read_streets(load_config(data))
sites = pd.read_csv(f"{data}/sites/macro_stations.csv", encoding="gb18030")
points = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(pd.to_numeric(sites["经度"], errors="coerce"),
                          pd.to_numeric(sites["纬度"], errors="coerce")), crs=4326)
joined = gpd.sjoin(points, streets, predicate="within")
print(joined[joined["状态"] == "已开通"].groupby("street_code").size())
"""


def sample_like(n: int, *, encoding: str = "gb18030") -> Path:
    """A CSV of ``n`` rows made of the bundled sample's rows, new ids, positions moved by about a metre."""
    import pandas as pd

    path = CACHE / f"macro_{n}_{encoding}.csv"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    base = pd.read_csv(REPO / "data" / "sites" / "macro_stations.csv", encoding="gb18030", dtype=str, keep_default_na=False)
    frame = pd.concat([base] * -(-n // len(base)), ignore_index=True).iloc[:n].copy()
    rng = np.random.default_rng(n)
    frame["站址编码"] = [f"PT-5G-{i:07d}" for i in range(n)]
    for column in ("经度", "纬度"):
        values = pd.to_numeric(frame[column], errors="coerce")
        moved = (values + rng.normal(0, 0.00001, n)).round(6).astype(str)
        frame[column] = np.where(values.notna(), moved, frame[column])
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False, encoding=encoding)
    tmp.replace(path)
    return path


def data_folder(root: Path, macro: Path) -> Path:
    """A data folder with the project's configuration and ``macro`` as its macro file."""
    folder = root / macro.stem
    (folder / "sites").mkdir(parents=True, exist_ok=True)
    (folder / "boundaries").mkdir(exist_ok=True)
    for name in ("rollout.toml", "targets.csv"):
        shutil.copy(REPO / "data" / name, folder / name)
    shutil.copy(REPO / "data" / "boundaries" / "streets.csv", folder / "boundaries" / "streets.csv")
    shutil.copy(REPO / "data" / "sites" / "garage_compounds.csv", folder / "sites" / "garage_compounds.csv")
    target = folder / "sites" / "macro_stations.csv"
    if not target.exists():
        os.symlink(macro, target)
    return folder


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one run of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # validate exits 1 when rows were rejected
        msg = f"{' '.join(command)} exited {code}"
        raise RuntimeError(msg)
    return elapsed, usage.ru_maxrss / 1024


def best(command: list[str], env: dict[str, str], runs: int, *, warm: list[str] | None = None) -> tuple[float, float]:
    """Best wall time and largest peak of ``runs`` runs, after one untimed run of ``warm`` (the same
    code on the small sample: it writes the bytecode)."""
    run(warm or command, env)
    results = [run(command, env) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[300_000, 1_000_000])
    parser.add_argument("--stream-mb", type=int, default=200, help="size of the streamed UTF-8 file (0: skip)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-read-"))
    # Python's compiled bytecode kept, as an installed package has it (see bench_startup.py): a
    # sandbox with PYTHONDONTWRITEBYTECODE=1 would otherwise compile rollout on every run.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(REPO), "ROLLOUT_TODAY": "2026-11-26", "PYTHONPYCACHEPREFIX": str(root / "pycache")}
    python = sys.executable
    rows = []
    try:
        for n in args.sizes:
            folder = data_folder(root, sample_like(n))
            mb = (folder / "sites" / "macro_stations.csv").stat().st_size / 1e6
            progress = [python, "-m", "rollout", "--data", "{data}", "progress", "--as-of", "2024-06-30"]
            warm = [part.format(data=REPO / "data") for part in progress]
            ours = best([part.format(data=folder) for part in progress], env, args.runs, warm=warm)
            naive = best([python, "-c", NAIVE, str(folder)], env, args.runs, warm=[python, "-c", NAIVE, str(REPO / "data")])
            rows.append((f"{n:,} rows GB18030 ({mb:.0f} MB)", ours, naive))
        stream = None
        if args.stream_mb:
            n = int(args.stream_mb * 1e6 / 182)  # about 182 bytes a row in UTF-8
            path = sample_like(n, encoding="utf-8")
            mb = path.stat().st_size / 1e6
            command = [python, "-m", "rollout", "--data", str(REPO / "data"), "validate", "{path}", "--kind", "macro"]
            warm = [part.format(path=REPO / "data" / "sites" / "macro_stations.csv") for part in command]
            stream = (f"{n:,} rows UTF-8 ({mb:.0f} MB)", best([part.format(path=path) for part in command], env, 1, warm=warm))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"whole-process wall times (best of {args.runs}) and peak memory, Python {sys.version.split()[0]}")
    print(f"{'file':32} {'rollout progress s':>19} {'peak MB':>8} {'naive script s':>15} {'peak MB':>8} {'ratio':>6} {'aim':>6}")
    for label, (t_ours, m_ours), (t_naive, m_naive) in rows:
        print(f"{label:32} {t_ours:19.2f} {m_ours:8.0f} {t_naive:15.2f} {m_naive:8.0f} {t_ours / t_naive:6.2f} {'<= 1.5':>6}")
    if stream:
        label, (seconds, peak) = stream
        print()
        print(f"{'streamed file':32} {'rollout validate s':>19} {'peak MB':>8} {'aim':>10}")
        print(f"{label:32} {seconds:19.2f} {peak:8.0f} {'< 1000 MB':>10}")


if __name__ == "__main__":
    main()
