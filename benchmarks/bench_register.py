"""Benchmark: importing a weekly submission into a large register, and reading sites from it.

Run ``python benchmarks/bench_register.py`` (``--records 20000 --weeks 3`` for a quick run;
``--postgres URL`` also measures a PostgreSQL register). A register of 100,000 macro records is
built from 10 weekly submissions of two senders (铁塔 90,000 ids, 移动 10,000 ids, about 5 % of the
records changing each week), then 移动's 11th submission of 10,000 rows (10 % status changes,
1 % moved, 1 % left out, 1 % new) is imported. The table gives: reading and checking the file
(as ``validate`` does), comparing and applying it (one transaction), the register's size, and
``rollout progress`` as a whole process (imports included) from the register and from the same
records as a CSV file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
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
HEADER = ["站址编码", "站名", "运营商", "经度", "纬度", "状态", "落点日期", "开工日期", "开通日期"]
STATUSES = np.array(["规划", "已落点", "在建", "已开通"])


def _base(n: int, seed: int) -> pd.DataFrame:
    from bench_join import _putuo_points

    rng = np.random.default_rng(seed)
    lon, lat = _putuo_points(rng, n, outside_share=0.0)
    return pd.DataFrame(
        {
            "id": [f"B{i:06d}" for i in range(n)],
            "name": [f"普陀{i}号5G宏站" for i in range(n)],
            "operator": np.where(np.arange(n) < n // 10, "移动", "电信/联通"),
            "lon": lon,
            "lat": lat,
            "stage": rng.integers(0, 4, n),
        }
    )


def _write(frame: pd.DataFrame, path: Path) -> Path:
    stage = frame["stage"].to_numpy()
    table = pd.DataFrame(
        {
            "站址编码": frame["id"],
            "站名": frame["name"],
            "运营商": frame["operator"],
            "经度": frame["lon"].round(6),
            "纬度": frame["lat"].round(6),
            "状态": STATUSES[stage],
            "落点日期": np.where(stage >= 1, "2024-02-01", ""),
            "开工日期": np.where(stage >= 2, "2024-03-01", ""),
            "开通日期": np.where(stage >= 3, "2024-04-01", ""),
        }
    )
    table.to_csv(path, index=False)
    return path


def _advance(frame: pd.DataFrame, rng: np.random.Generator, share: float) -> pd.DataFrame:
    out = frame.copy()
    pick = rng.random(len(out)) < share
    out.loc[pick, "stage"] = np.minimum(out.loc[pick, "stage"] + 1, 3)
    return out


def build(folder: Path, db: str, records: int, weeks: int) -> tuple[pd.DataFrame, float]:
    """The register: ``weeks`` weekly submissions of 铁塔 and 移动. Returns 移动's records and the time."""
    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.register.importer import import_files

    config = load_config(folder / "data")
    streets = read_streets(config)
    base = _base(records, seed=records)
    cmcc, tower = base.iloc[: records // 10].copy(), base.iloc[records // 10 :].copy()
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    day = dt.date(2024, 4, 7)
    for week in range(weeks):
        for frame, source in ((tower, "铁塔"), (cmcc, "移动")):
            path = _write(frame, folder / f"{source}_{week}.csv")
            import_files([path], config, streets, source=source, kind="macro", as_of=day, db=db)
        tower, cmcc = _advance(tower, rng, 0.05), _advance(cmcc, rng, 0.05)
        day += dt.timedelta(days=7)
        print(f"  week {week + 1}/{weeks} built ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return cmcc, time.perf_counter() - start


def measure_import(folder: Path, db: str, cmcc: pd.DataFrame, weeks: int) -> dict:
    """Read and check the 10,000-row submission, then compare and apply it."""
    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.join import place_sites
    from rollout.records import read_sites
    from rollout.register.config import load_register_config
    from rollout.register.importer import _apply
    from rollout.register.store import open_register, sqlite_size

    rng = np.random.default_rng(2)
    frame = cmcc.copy()
    n = len(frame)
    changed = rng.random(n) < 0.10
    frame.loc[changed, "stage"] = np.minimum(frame.loc[changed, "stage"] + 1, 3)
    moved = rng.random(n) < 0.01
    frame.loc[moved, "lon"] += 0.001
    frame = frame[rng.random(n) >= 0.01]
    new = _base(n // 100, seed=7).assign(id=lambda f: "N" + f["id"].str[1:], operator="移动")
    path = _write(pd.concat([frame, new], ignore_index=True), folder / "移动_latest.csv")
    config = load_config(folder / "data")
    streets = read_streets(config)
    start = time.perf_counter()
    load = place_sites(read_sites(path, kind="macro", as_of=dt.date(2024, 12, 31)), streets, config)
    checked = time.perf_counter() - start
    sender = load_register_config(config).resolve("移动")
    start = time.perf_counter()
    with open_register(config, db, create=True) as register:
        result = _apply(register, load, sender, [path], dt.date(2024, 4, 7) + dt.timedelta(days=7 * weeks), dry_run=False)
        target = register.target
    applied = time.perf_counter() - start
    counts = result.comparison.changes.drop_duplicates(["record_id", "change"])["change"].value_counts().to_dict()
    return {"rows": len(load.records), "check_s": checked, "apply_s": applied, "size_mb": sqlite_size(target) / 1e6, "changes": counts}


def measure_progress(folder: Path, db: str | None) -> float:
    """``rollout progress`` as a person runs it: a whole process, imports included (best of 3)."""
    args = (
        [sys.executable, "-m", "rollout", "--data", str(folder / "data")]
        + (["--db", db] if db else [])
        + ["progress", "--as-of", "2024-12-31"]
    )
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        times.append(time.perf_counter() - start)
    return min(times)


def as_csv(folder: Path, db: str) -> Path:
    """The register's records now, as the macro site file of a second data folder."""
    other = folder / "csv"
    shutil.copytree(folder / "data", other / "data", ignore=shutil.ignore_patterns("*.sqlite*", "sites"))
    (other / "data" / "sites").mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rollout",
            "--data",
            str(folder / "data"),
            "--db",
            db,
            "export",
            "--format",
            "csv",
            "--out",
            str(other / "all.csv"),
        ],
        check=True,
        capture_output=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    shutil.move(other / "all_macro.csv", other / "data" / "sites" / "macro_stations.csv")
    return other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--postgres", default=None, help="Also measure a PostgreSQL register at this (empty) database URL.")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for backend in ["sqlite"] + (["postgresql"] if options.postgres else []):
            folder = Path(scratch) / backend
            (folder / "data").mkdir(parents=True)
            for name in ("rollout.toml", "targets.csv"):
                shutil.copy(REPO / "data" / name, folder / "data" / name)
            shutil.copytree(REPO / "data" / "boundaries", folder / "data" / "boundaries")
            db = str(folder / "data" / "register.sqlite") if backend == "sqlite" else options.postgres
            cmcc, built = build(folder, db, options.records, options.weeks)
            result = measure_import(folder, db, cmcc, options.weeks)
            from_register = measure_progress(folder, db)
            from_csv = measure_progress(as_csv(folder, db), None) if backend == "sqlite" else float("nan")
            rows.append((backend, built, result, from_register, from_csv))
    print(
        f"register: {options.records:,} records, {options.weeks} weeks of history (2 senders); import of a {rows[0][2]['rows']:,}-row submission"
    )
    print(
        f"{'backend':<11}{'build s':>9}{'check s':>9}{'compare+apply s':>17}{'size MB':>9}{'progress (register) s':>23}{'progress (CSV) s':>18}"
    )
    for backend, built, result, from_register, from_csv in rows:
        size = f"{result['size_mb']:.1f}" if result["size_mb"] else "-"
        print(
            f"{backend:<11}{built:>9.1f}{result['check_s']:>9.2f}{result['apply_s']:>17.2f}{size:>9}{from_register:>23.2f}{from_csv:>18.2f}"
        )
    print("changes found:", ", ".join(f"{k} {v}" for k, v in sorted(rows[0][2]["changes"].items())))


if __name__ == "__main__":
    main()
