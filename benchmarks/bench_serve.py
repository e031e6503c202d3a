"""Benchmark: ``rollout serve`` under load, on a register of 10,000 records.

Run ``python benchmarks/bench_serve.py`` (``--requests 1000`` for a quick run; ``--postgres URL`` runs
the same against a PostgreSQL register as well). A register of 9,000 macro stations and 1,000 garage
compounds (sent by 铁塔) is built, users of three roles are added, and ``rollout serve`` is started as
a whole process on 127.0.0.1, as a district would run it. 50 concurrent clients then send 5,000
requests of the common routes: the dashboard, "my open records", a record's page (street
coordinators, logged in), the records list, one record and the progress (operators' systems, Bearer
tokens), and 0.5 % changes (PATCH, `--writes`). The table gives throughput, p50/p95/max latency and errors per
route and for all reads; the first request of each route (the register's views being built) and the median of 20 requests sent alone (the server's own time per
request, whatever else the machine is doing) are reported apart, and the processor time the server used per request
(which, unlike latency, does not depend on what else the machine is doing), next to ``rollout progress`` run as a process on the same register, which is what a
person would otherwise wait for.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
PASSWORD = "bench-password-1"
STREET = "长寿路"
MACRO_STATUSES = np.array(["规划", "已落点", "在建", "已开通", "受阻"])
GARAGE_STATUSES = np.array(["未启动", "已勘察", "方案确定", "施工中", "已覆盖"])
OPERATORS = np.array(["移动", "电信/联通", "电信", "联通", "移动/广电"])


def build_register(folder: Path, db: str | None, records: int) -> dict:
    """The data folder, a register of ``records`` records, users and tokens; returns what the clients need."""
    from bench_join import _putuo_points

    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.register.importer import import_files
    from rollout.web import open_platform
    from rollout.web.accounts import add_user, issue_token

    data = folder / "data"
    data.mkdir(parents=True)
    for name in ("rollout.toml", "targets.csv"):
        shutil.copy(REPO / "data" / name, data / name)
    shutil.copytree(REPO / "data" / "boundaries", data / "boundaries")
    rng = np.random.default_rng(10_000)
    n_garage = records // 10
    n_macro = records - n_garage
    lon, lat = _putuo_points(rng, records, outside_share=0.0)
    stage = rng.integers(0, 5, records)
    macro = pd.DataFrame(
        {
            "站址编码": [f"M{i:06d}" for i in range(n_macro)],
            "站名": [f"普陀{i}号5G宏站" for i in range(n_macro)],
            "运营商": OPERATORS[rng.integers(0, 5, n_macro)],
            "经度": lon[:n_macro].round(6),
            "纬度": lat[:n_macro].round(6),
            "状态": MACRO_STATUSES[stage[:n_macro]],
            "状态日期": np.where(stage[:n_macro] == 4, "2024-05-20", ""),
            "受阻原因": np.where(stage[:n_macro] == 4, "物业不同意", ""),
            "落点日期": np.where(stage[:n_macro] >= 1, "2024-02-01", ""),
            "开工日期": np.where((stage[:n_macro] >= 2) & (stage[:n_macro] < 4), "2024-03-01", ""),
            "开通日期": np.where(stage[:n_macro] == 3, "2024-04-01", ""),
            "计划开通日期": "2024-12-31",
        }
    )
    g = stage[n_macro:]
    garage = pd.DataFrame(
        {
            "小区编码": [f"G{i:05d}" for i in range(n_garage)],
            "小区名称": [f"普陀{i}号小区" for i in range(n_garage)],
            "经度": lon[n_macro:].round(6),
            "纬度": lat[n_macro:].round(6),
            "牵头单位": np.array(["中国移动", "中国电信", "中国联通", "中国铁塔"])[rng.integers(0, 4, n_garage)],
            "覆盖运营商": "移动/电信/联通",
            "联系人": "王经理",
            "联系电话": [f"139{i:08d}" for i in range(n_garage)],
            "状态": GARAGE_STATUSES[g],
            "勘察日期": np.where(g >= 1, "2024-02-01", ""),
            "方案确定日期": np.where(g >= 2, "2024-03-01", ""),
            "开工日期": np.where(g >= 3, "2024-04-01", ""),
            "覆盖日期": np.where(g >= 4, "2024-05-01", ""),
            "计划覆盖日期": "2024-12-31",
        }
    )
    macro.to_csv(folder / "macro.csv", index=False)
    garage.to_csv(folder / "garage.csv", index=False)
    config = load_config(data)
    streets = read_streets(config)
    day = dt.date(2024, 6, 30)
    import_files([folder / "macro.csv"], config, streets, source="铁塔", kind="macro", as_of=day, db=db)
    import_files([folder / "garage.csv"], config, streets, source="铁塔", kind="garage", as_of=day, db=db)
    platform, _ = open_platform(config, db)
    register = platform.register
    users = {"wang": ("district", "", ""), "zhang": ("street", STREET, ""), "li": ("operator", "", "移动")}
    tokens = {}
    for name, (role, street, operator) in users.items():
        add_user(register, config, name, role, street=street, operator=operator, password=PASSWORD)
        tokens[name] = issue_token(register, name, days=1)[0]
    table = platform.records().table
    code = platform.street_table.loc[platform.street_table["name"].eq("长寿路街道"), "street_code"].iloc[0]
    mine = table[table["street_code"].eq(code)]
    operated = table[table["kind"].eq("macro") & table["operator"].astype(str).str.contains("cmcc")]
    register.close()
    return {
        "data": data,
        "tokens": tokens,
        "street_records": list(zip(mine["kind"], mine["record_id"], strict=True)),
        "operator_records": list(operated["record_id"]),
        "counts": (n_macro, n_garage),
    }


def start_server(data: Path, db: str | None, port: int, workers: int | None = None) -> subprocess.Popen:
    """``rollout serve`` as a whole process, as a district would run it."""
    env = dict(os.environ, ROLLOUT_TODAY="2024-07-03", PYTHONPATH=str(REPO))
    args = [sys.executable, "-m", "rollout", "--data", str(data), "serve", "--port", str(port)]
    if workers:
        args += ["--workers", str(workers)]
    if db:
        args[3:3] = ["--db", db]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def load(
    base: str,
    setup: dict,
    *,
    requests: int,
    concurrency: int,
    writes: float = 0.02,
    seed: int = 1,
    server_pid: int = 0,
    client: str = "light",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Send the mix of requests; returns every timed request and the first (cold) one of each route."""
    import httpx

    host, port = base.removeprefix("http://").split(":")
    rng = random.Random(seed)
    routes = [
        ("page: dashboard", 0.10),
        ("page: my open records", 0.15),
        ("page: record", 0.10),
        ("api: records list", 0.15),
        ("api: one record", 0.28),
        ("api: progress", 0.22 - writes),
        ("api: change (PATCH)", writes),
    ]
    names, weights = zip(*routes, strict=True)
    plan = rng.choices(names, weights=weights, k=requests)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    pages = httpx.AsyncClient(base_url=base, limits=limits, timeout=120)
    login = await pages.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', login.text).group(1)
    answer = await pages.post("/login", data={"name": "zhang", "password": PASSWORD, "login_token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    api = httpx.AsyncClient(base_url=base, limits=limits, timeout=120, headers={"Authorization": f"Bearer {setup['tokens']['li']}"})
    street, operated = setup["street_records"], setup["operator_records"]

    def request(name: str, r: random.Random):
        if name == "page: dashboard":
            return pages.get("/")
        if name == "page: my open records":
            return pages.get("/records")
        if name == "page: record":
            kind, rid = r.choice(street)
            return pages.get(f"/records/{kind}/{rid}")
        if name == "api: records list":
            return api.get("/api/records", params={"kind": "macro", "limit": 200, "offset": r.randrange(0, 1000, 200)})
        if name == "api: one record":
            return api.get(f"/api/records/macro/{r.choice(operated)}")
        if name == "api: progress":
            return api.get("/api/progress")
        return api.patch(f"/api/records/macro/{r.choice(operated)}", json={"blocker": f"测试{r.randrange(10**6)}", "note": "bench"})

    cold = []
    for name in names:  # the first request of each route (views built), then 20 alone (one client: the server's own time)
        start = time.perf_counter()
        answer = await request(name, rng)
        first = time.perf_counter() - start
        alone = []
        for _ in range(20 if "PATCH" not in name else 3):
            start = time.perf_counter()
            await request(name, rng)
            alone.append(time.perf_counter() - start)
        cold.append({"route": name, "seconds": first, "alone": float(np.median(alone)), "status": answer.status_code})
    queue: asyncio.Queue = asyncio.Queue()
    for name in plan:
        queue.put_nowait(name)
    rows: list[dict] = []
    session = "; ".join(f"{k}={v}" for k, v in pages.cookies.items())
    bearer = f"Bearer {setup['tokens']['li']}"

    def raw_request(name: str, r: random.Random) -> tuple[str, str, bytes, dict[str, str]]:
        """The same request as ``request`` as (method, target, body, headers) for the light client."""
        if name == "page: dashboard":
            return "GET", "/", b"", {"Cookie": session}
        if name == "page: my open records":
            return "GET", "/records", b"", {"Cookie": session}
        if name == "page: record":
            kind, rid = r.choice(street)
            return "GET", f"/records/{kind}/{quote(rid)}", b"", {"Cookie": session}
        if name == "api: records list":
            return "GET", f"/api/records?kind=macro&limit=200&offset={r.randrange(0, 1000, 200)}", b"", {"Authorization": bearer}
        if name == "api: one record":
            return "GET", f"/api/records/macro/{quote(r.choice(operated))}", b"", {"Authorization": bearer}
        if name == "api: progress":
            return "GET", "/api/progress", b"", {"Authorization": bearer}
        body = json.dumps({"blocker": f"测试{r.randrange(10**6)}", "note": "bench"}).encode()
        headers = {"Authorization": bearer, "Content-Type": "application/json"}
        return "PATCH", f"/api/records/macro/{quote(r.choice(operated))}", body, headers

    async def worker(n: int) -> None:
        r = random.Random(seed * 1000 + n)
        connection = None
        while not queue.empty():
            name = queue.get_nowait()
            start = time.perf_counter()
            if client == "httpx":
                try:
                    answer = await request(name, r)
                    status = answer.status_code
                except httpx.HTTPError as e:
                    status = 0
                    print(f"{name}: {type(e).__name__}: {e}", file=sys.stderr)
            else:
                try:
                    connection = connection or await asyncio.open_connection(host, port)
                    status = await _exchange(*connection, host, *raw_request(name, r))
                except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                    status, connection = 0, None
                    print(f"{name}: {type(e).__name__}: {e}", file=sys.stderr)
            rows.append({"route": name, "seconds": time.perf_counter() - start, "status": status, "done": time.perf_counter()})
        if connection is not None:
            connection[1].close()

    began = time.perf_counter()
    cpu, own = _cpu_seconds(server_pid), time.process_time()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    frame = pd.DataFrame(rows)
    frame["done"] -= began
    frame.attrs["server_cpu"] = _cpu_seconds(server_pid) - cpu
    frame.attrs["client_cpu"] = time.process_time() - own
    await pages.aclose()
    await api.aclose()
    return frame, pd.DataFrame(cold)


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, method: str, target: str, body: bytes, headers: dict[str, str]
) -> int:
    """One HTTP/1.1 request on a kept-alive connection; returns the status once the whole answer is read."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
    if fields.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    else:
        await reader.readexactly(int(fields.get("content-length", 0)))
    if fields.get("connection", "").lower() == "close":
        raise ValueError("the server closed the connection")
    return status


def table(frame: pd.DataFrame, cold: pd.DataFrame) -> str:
    """Per route and for all reads: requests, throughput, p50, p95, max (ms), errors; the cold request."""
    wall = frame["done"].max()
    head = f"{'route':<24}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'errors':>8}{'first ms':>10}{'alone ms':>10}"
    lines = [head]
    cold_ms = {r.route: (r.seconds * 1000, r.alone * 1000) for r in cold.itertuples()}

    def line(name: str, part: pd.DataFrame, first: tuple[float, float] | None) -> str:
        ms = part["seconds"] * 1000
        errors = int((~part["status"].between(200, 399)).sum())
        shown = f"{first[0]:10.0f}{first[1]:10.1f}" if first is not None else ""
        return f"{name:<24}{len(part):>9,}{len(part) / wall:>8.0f}{ms.quantile(0.5):>8.0f}{ms.quantile(0.95):>8.0f}{ms.max():>8.0f}{errors:>8}{shown}"

    for name, part in frame.groupby("route", sort=False):
        lines.append(line(str(name), part, cold_ms.get(str(name))))
    reads = frame[~frame["route"].str.contains("PATCH")]
    lines.append(line("all reads", reads, None))
    lines.append(line("all requests", frame, None))
    return "\n".join(lines)


def run(
    db: str | None,
    label: str,
    records: int,
    requests: int,
    concurrency: int,
    writes: float,
    workers: int | None = None,
    client: str = "light",
) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        start = time.perf_counter()
        setup = build_register(Path(folder), db, records)
        built = time.perf_counter() - start
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        began = time.perf_counter()
        server = start_server(setup["data"], db, port, workers)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            while True:
                try:
                    if httpx.get(base + "/login", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    raise SystemExit(server.stderr.read().decode())
                time.sleep(0.1)
            ready = time.perf_counter() - began
            load_average = os.getloadavg()[0]
            frame, cold = asyncio.run(
                load(base, setup, requests=requests, concurrency=concurrency, writes=writes, server_pid=server.pid, client=client)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        progress = _progress_process(setup["data"], db)
    macro, garage = setup["counts"]
    print(
        f"\n{label}, {workers or 'default'} worker(s): register of {macro + garage:,} records ({macro:,} macro, {garage:,} garage), built in {built:.0f} s; "
        f"rollout serve ready in {ready:.1f} s; {concurrency} concurrent clients ({client}), {len(frame):,} requests in {frame['done'].max():.1f} s"
    )
    wall = frame["done"].max()
    server_cpu = frame.attrs["server_cpu"]
    print(
        f"server process: {server_cpu:.1f} s of processor in {wall:.1f} s ({server_cpu / len(frame) * 1000:.1f} ms per request, "
        f"{server_cpu / wall:.0%} of one core); the clients {frame.attrs['client_cpu'] / len(frame) * 1000:.1f} ms per request; machine load average before the run {load_average:.1f} on {os.cpu_count()} cores"
    )
    print(table(frame, cold))
    failed = frame[~frame["status"].between(200, 399)]
    if len(failed):
        counts = failed.groupby(["route", "status"]).size()
        print("errors: " + ", ".join(f"{route} HTTP {status} x{n}" for (route, status), n in counts.items()))
    print(f"rollout progress as a whole process on the same register: {progress:.2f} s (GET /api/progress above answers the same)")


def _cpu_seconds(pid: int) -> float:
    """Processor time (user + system) a process and its worker processes have used so far (Linux
    /proc; 0 elsewhere)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # the server, or one of its workers
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _progress_process(data: Path, db: str | None) -> float:
    env = dict(os.environ, ROLLOUT_TODAY="2024-07-03", PYTHONPATH=str(REPO))
    args = [sys.executable, "-m", "rollout", "--data", str(data), *(["--db", db] if db else []), "progress", "--format", "csv"]
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--writes", type=float, default=0.005, help="share of the requests that change a record")
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[1, 2], help="server processes, one run each (0: rollout serve's default)"
    )
    parser.add_argument(
        "--client",
        choices=["light", "httpx"],
        default="light",
        help="light: a few lines of asyncio HTTP/1.1 (leaves the cores to the server); httpx: a full client (about a core of its own)",
    )
    parser.add_argument("--postgres", default=None, help="also run against this PostgreSQL server (a fresh database is made)")
    args = parser.parse_args()
    for workers in args.workers:
        run(None, "sqlite", args.records, args.requests, args.concurrency, args.writes, workers or None, args.client)
    if args.postgres:
        import uuid

        import sqlalchemy as sa

        name = f"bench_serve_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            run(
                f"{args.postgres.rsplit('/', 1)[0]}/{name}",
                "postgresql",
                args.records,
                args.requests,
                args.concurrency,
                args.writes,
                client=args.client,
            )
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
