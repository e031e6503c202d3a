"""The register's commands as people use them: concurrency, bad input, outputs, the weekly pack."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import REPO
from register_helpers import garage_file, macro_file, macro_row

from rollout.cli import cli


def run(data_dir: Path, db: str | None, *args: str, lang: str = "zh"):
    options = ["--data", str(data_dir), "--lang", lang] + (["--db", db] if db else [])
    return CliRunner().invoke(cli, [*options, *args])


def _submission_counts(db: str) -> int:
    import sqlalchemy as sa

    url = db if "://" in db else f"sqlite:///{db}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM submissions")).scalar()
    engine.dispose()
    return int(count)


def _big_file(folder: Path, name: str, n: int, status: str) -> Path:
    rows = [macro_row(f"B{i:05d}", status, at=("changshou", "shiquan", "taopu")[i % 3], dx=(i % 50) * 0.00002) for i in range(n)]
    return macro_file(folder, name, rows)


def test_two_processes_importing_at_once_both_land(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    first, second = _big_file(tmp_path, "tower.csv", 3000, "已落点"), _big_file(tmp_path, "cmcc.csv", 3000, "已落点")
    assert run(data_dir, register_db, "import", str(first), "--source", "铁塔", "--as-of", "2024-06-23").exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    base = [sys.executable, "-m", "rollout", "--data", str(data_dir), "--db", register_db, "import"]
    again = _big_file(tmp_path, "tower2.csv", 3000, "在建")
    processes = [
        subprocess.Popen(
            [*base, str(again), "--source", "铁塔", "--as-of", "2024-06-30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        ),
        subprocess.Popen(
            [*base, str(second), "--source", "移动", "--as-of", "2024-06-30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        ),
    ]
    outputs = [p.communicate(timeout=300)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert _submission_counts(register_db) == 3
    changes = run(data_dir, register_db, "changes", "--since", "2024-06-30", "--format", "csv")
    table = pd.read_csv(pd.io.common.StringIO(changes.stdout), dtype=str)
    counts = table.groupby(["source", "change"]).size()
    assert counts.drop("conflict", level="change").to_dict() == {("移动", "new"): 3000, ("铁塔", "status"): 3000, ("铁塔", "changed"): 3000}
    # The second to commit saw the first one's records (serialised, not interleaved): 3000 conflicts.
    assert counts.xs("conflict", level="change").sum() == 3000


def test_locked_register_is_a_one_line_error(data_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "reg.sqlite")
    path = macro_file(tmp_path, "w1.csv", [macro_row("S1")])
    assert run(data_dir, db, "import", str(path), "--source", "铁塔", "--as-of", "2024-06-23").exit_code == 0
    with (data_dir / "rollout.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[register]\nbusy_timeout_s = 0.3\n")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run(
            data_dir, db, "import", str(macro_file(tmp_path, "w2.csv", [macro_row("S2")])), "--source", "铁塔", "--as-of", "2024-06-30"
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 2 and "正被另一个导入占用" in result.output and result.output.count("\n") == 1
    assert _submission_counts(db) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("unknown_sender", "未知的报送单位"),
        ("kind_unknown", "无法判断是宏站还是车库小区"),
        ("text_file", "不是 rollout 登记册"),
        ("other_sqlite", "不是 rollout 登记册"),
        ("newer_schema", "较新版本 rollout"),
        ("read_only", "只读"),
        ("unreachable", "无法连接 PostgreSQL"),
        ("older_as_of", "请按日期顺序导入"),
    ],
)
def test_bad_input_is_one_line_exit_two_register_unchanged(data_dir: Path, tmp_path: Path, monkeypatch, setup: str, message: str) -> None:
    db = str(tmp_path / "reg.sqlite")
    good = macro_file(tmp_path, "w1.csv", [macro_row("S1")])
    assert run(data_dir, db, "import", str(good), "--source", "铁塔", "--as-of", "2024-06-23").exit_code == 0
    path, source = macro_file(tmp_path, "w2.csv", [macro_row("S2")]), "铁塔"
    if setup == "unknown_sender":
        source = "某某公司"
    elif setup == "kind_unknown":
        path = tmp_path / "list.csv"
        path.write_text("序号,经度,纬度,状态\n1,121.43,31.25,在建\n", encoding="utf-8")
    elif setup == "text_file":
        db = str(tmp_path / "notes.txt")
        Path(db).write_text("这不是数据库\n" * 200, encoding="utf-8")
    elif setup == "other_sqlite":
        db = str(tmp_path / "other.gpkg")
        with sqlite3.connect(db) as other:
            other.execute("CREATE TABLE gpkg_contents (table_name TEXT)")
    elif setup == "newer_schema":
        with sqlite3.connect(db) as conn:
            conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (9, '2030-01-01 00:00:00')")
    elif setup == "read_only":
        import types

        import rollout.register.db as register_db_module

        monkeypatch.setattr(register_db_module, "os", types.SimpleNamespace(access=lambda path, mode: False, W_OK=os.W_OK))
    elif setup == "unreachable":
        db = "postgresql://rollout@127.0.0.1:1/nowhere"
    day = "2024-06-16" if setup == "older_as_of" else "2024-06-30"
    before = Path(db).read_bytes() if Path(db).is_file() else None
    result = run(data_dir, db, "import", str(path), "--source", source, "--as-of", day)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0, result.output
    if before is not None:
        assert Path(db).read_bytes() == before
    if setup in ("newer_schema", "text_file"):
        assert run(data_dir, db, "progress").exit_code == 2


def test_site_reading_commands_say_their_source(sample_data_dir: Path, tmp_path: Path) -> None:
    files = run(sample_data_dir, None, "progress", "--as-of", "2024-06-30", "--format", "csv")
    assert files.output.splitlines()[0] == f"数据来源：{sample_data_dir / 'sites'} 中的站点文件"
    assert files.stdout.startswith("street_code,")  # the CSV itself stays clean
    sites = sample_data_dir / "sites"
    for path, source, code in ((sites / "macro_stations.csv", "铁塔", 1), (sites / "garage_compounds.csv", "长寿路", 0)):
        assert (
            run(sample_data_dir, None, "import", str(path), "--source", source, "--as-of", "2024-12-27").exit_code == code
        )  # 1: rows rejected
    assert (sample_data_dir / "register.sqlite").is_file()
    register = run(sample_data_dir, None, "progress", "--as-of", "2026-11-26", "--format", "csv")
    assert register.output.splitlines()[0] == f"数据来源：登记册 {sample_data_dir / 'register.sqlite'}（截至 2026-11-26 所知）"
    on_dask = run(sample_data_dir, None, "progress", "--as-of", "2026-11-26", "--format", "csv", "--engine", "dask")
    assert on_dask.exit_code == 0 and on_dask.output.splitlines()[0] == register.output.splitlines()[0]
    assert on_dask.stdout == register.stdout  # the register's records placed and counted on the cluster
    from_files = run(sample_data_dir, None, "validate")  # validate always checks the files
    assert "数据来源" not in from_files.output and "232 行" in from_files.output
    as_files = pd.read_csv(pd.io.common.StringIO(run(sample_data_dir, None, "progress", "--as-of", "2026-11-26", "--format", "csv").stdout))
    (sample_data_dir / "register.sqlite").rename(tmp_path / "moved.sqlite")
    for suffix in ("-wal", "-shm"):
        Path(f"{sample_data_dir / 'register.sqlite'}{suffix}").unlink(missing_ok=True)
    plain = pd.read_csv(pd.io.common.StringIO(run(sample_data_dir, None, "progress", "--as-of", "2026-11-26", "--format", "csv").stdout))
    assert as_files[["street_code", "macro_done", "garage_done"]].equals(plain[["street_code", "macro_done", "garage_done"]])
    moved = tmp_path / "moved.sqlite"
    after = CliRunner().invoke(
        cli, ["--data", str(sample_data_dir), "progress", "--as-of", "2026-11-26", "--format", "csv", "--db", str(moved)]
    )
    assert after.output.splitlines()[0] == f"数据来源：登记册 {moved}（截至 2026-11-26 所知）"  # --db after the command too
    english = run(sample_data_dir, str(tmp_path / "moved.sqlite"), "map", "--out", str(tmp_path / "m.html"), lang="en")
    assert english.exit_code == 0 and english.output.startswith("Records from the register")


def test_changes_history_submissions_outputs(data_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "reg.sqlite")
    run(
        data_dir,
        db,
        "import",
        str(macro_file(tmp_path, "t1.csv", [macro_row("S1"), macro_row("S2", name="=HYPERLINK(1)")])),
        "--source",
        "铁塔",
        "--as-of",
        "2024-06-09",
    )
    run(
        data_dir,
        db,
        "import",
        str(macro_file(tmp_path, "u1.csv", [macro_row("S3", operator="联通")])),
        "--source",
        "联通",
        "--as-of",
        "2024-06-09",
    )
    week = macro_file(tmp_path, "t2.csv", [macro_row("S1", "规划"), macro_row("S2", name="=HYPERLINK(1)")])
    run(data_dir, db, "import", str(week), "--source", "铁塔", "--as-of", "2024-06-26")
    csv = run(data_dir, db, "changes", "--week", "2024-W26", "--format", "csv")
    table = pd.read_csv(pd.io.common.StringIO(csv.stdout), dtype=str, keep_default_na=False)
    assert table.columns.tolist() == ["record_id", "kind", "source", "change", "field", "old", "new", "submission", "reported_on"]
    assert table[["record_id", "change", "field", "old", "new"]].values.tolist() == [
        ["S1", "regressed", "status", "under_construction", "planned"],
        ["S1", "changed", "construction_start_date", "2024-04-01", ""],
        ["S1", "changed", "site_secured_date", "2024-03-01", ""],
    ]
    run(data_dir, db, "changes", "--since", "2024-06-01", "--out", str(tmp_path / "c.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "c.xlsx").active
    assert [c.value for c in sheet[1]][:4] == ["编码", "类型", "报送单位", "变更类别"]
    assert {sheet.cell(row=r, column=4).value for r in range(2, sheet.max_row + 1)} == {"新增", "倒退", "其他变更"}
    history = run(data_dir, db, "history", "S1")
    assert history.exit_code == 0 and "倒退 状态：在建 → 规划" in history.output and "t2.csv" in history.output
    assert run(data_dir, db, "history", "NOPE").exit_code == 1
    submissions = run(data_dir, db, "submissions", "--week", "2024-W26")
    assert "t2.csv" in submissions.output and "逾期未报送（超过两周没有报送）：1 个" in submissions.output
    assert "联通" in submissions.output.split("逾期未报送")[1]


def test_exports(data_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "reg.sqlite")
    rows = [
        macro_row("S1", "已开通", name="<b>塔</b>", on_air="2024-05-01", blocker="<i>曾受阻</i>"),
        macro_row("S2", "受阻", at="taopu", blocker="=cmd|' /C calc'!A0"),
    ]
    run(data_dir, db, "import", str(macro_file(tmp_path, "t.csv", rows)), "--source", "铁塔", "--as-of", "2024-06-23")
    garage = garage_file(tmp_path, "g.csv", ["G1,幸福小区,121.4290,31.2462,长寿路街道,移动,800,张三,13800000000,施工中,2024-03-01,"])
    run(data_dir, db, "import", str(garage), "--source", "长寿路", "--as-of", "2024-06-23")
    for name in ("r.kml", "r.kmz", "r.gpkg", "r.xlsx", "r.csv", "r.geojson"):
        assert run(data_dir, db, "export", "--out", str(tmp_path / name)).exit_code == 0, name
    kml = (tmp_path / "r.kml").read_text(encoding="utf-8")
    assert "13800000000" not in kml and "张三" not in kml
    assert kml.count("<Folder>") == 2 and "<name>长寿路街道</name>" in kml and "<name>桃浦镇</name>" in kml
    assert (
        '<Style id="macro-on_air">' in kml
        and "<styleUrl>#macro-blocked</styleUrl>" in kml
        and "<styleUrl>#garage-under_construction</styleUrl>" in kml
    )
    assert "<name>S1 &lt;b&gt;塔&lt;/b&gt;</name>" in kml and "&amp;lt;i&amp;gt;曾受阻" in kml  # escaped inside the popup HTML
    with zipfile.ZipFile(tmp_path / "r.kmz") as archive:
        assert archive.namelist() == ["doc.kml"] and archive.read("doc.kml").decode("utf-8") == kml
    layers = gpd.list_layers(tmp_path / "r.gpkg")
    assert sorted(layers["name"]) == ["garage_compounds", "macro_stations"]
    garages = gpd.read_file(tmp_path / "r.gpkg", layer="garage_compounds")
    assert "phone" not in garages.columns and garages["register_source"].tolist() == ["长寿路街道"]
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["宏站", "车库"] and book["宏站"].cell(row=1, column=1).value == "站址编码"
    csv = pd.read_csv(tmp_path / "r_macro.csv", encoding="utf-8-sig", dtype=str)
    assert csv.loc[csv["站址编码"] == "S2", "受阻原因"].iloc[0].startswith("'=")
    assert len(gpd.read_file(tmp_path / "r_macro.geojson")) == 2
    again = tmp_path / "again.kml"
    run(data_dir, db, "export", "--out", str(again))
    assert again.read_bytes() == (tmp_path / "r.kml").read_bytes()


def test_weekly_pack_reports_the_week_s_submissions(data_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "reg.sqlite")
    run(
        data_dir,
        db,
        "import",
        str(macro_file(tmp_path, "t1.csv", [macro_row("S1"), macro_row("S2", "已开通", on_air="2024-05-01")])),
        "--source",
        "铁塔",
        "--as-of",
        "2024-06-16",
    )
    run(data_dir, db, "import", str(macro_file(tmp_path, "t2.csv", [macro_row("S1", "规划")])), "--source", "铁塔", "--as-of", "2024-06-26")
    run(
        data_dir,
        db,
        "import",
        str(macro_file(tmp_path, "m.csv", [macro_row("S1", "已开通", on_air="2024-06-25", dx=0.002)])),
        "--source",
        "移动",
        "--as-of",
        "2024-06-27",
    )
    result = run(data_dir, db, "weekly", "--week", "2024-W26", "--out", str(tmp_path / "maps"))
    assert result.exit_code == 0, result.output
    summary = (tmp_path / "maps" / "2024-W26" / "summary.md").read_text(encoding="utf-8")
    section = summary.split("## 本周报送")[1]
    assert "本周收到报送 2 份" in section and "t2.csv" in section and "m.csv" in section
    assert "未解决的冲突 1 个" in section and "S1 S1站：移动 已开通 / 铁塔 规划" in section
    assert "本周倒退 1 条" in section and "S1（铁塔）状态：在建 → 规划" in section
    assert "未报送的记录 1 个" in section and "S2 S2站（铁塔，宏站）" in section
    page = (tmp_path / "maps" / "2024-W26" / "index.html").read_text(encoding="utf-8")
    assert page.count("register-conflict") == 1
    control = page.index("L.control.layers(")
    # The layer is defined before the layer control that lists it (else the control breaks).
    assert page.rindex("L.featureGroup(", 0, page.index('"register-conflict"')) < control
    assert "\\u62a5\\u9001\\u51b2\\u7a81" in page[:control]  # 报送冲突 among the control's overlays
