"""A project refreshed with a few changed records equals the project read again whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from register_helpers import garage_file, macro_file, macro_row

from rollout.boundaries import read_street_table, read_streets
from rollout.config import load_config
from rollout.open_records import open_records
from rollout.pipeline import load_project
from rollout.register.edits import apply_edit
from rollout.register.importer import import_files
from rollout.register.loads import site_loads_from
from rollout.register.queries import records_changed_after
from rollout.register.refresh import refreshed
from rollout.register.store import open_register
from rollout.web.accounts import User

D2 = dt.date(2024, 6, 30)
GARAGE = "G1,幸福小区,121.4290,31.2462,长寿路街道,移动,800,张三,13800000000,施工中,2024-03-01,"


def _revision(register) -> int:
    import sqlalchemy as sa

    with register.read() as conn:
        return int(conn.execute(sa.select(sa.func.max(register.tables["submissions"].c.id))).scalar())


def _same(refreshed_project, whole) -> None:
    for kind in ("macro", "garage"):
        got, want = refreshed_project._gathered(kind), whole._gathered(kind)
        pd.testing.assert_frame_equal(pd.DataFrame(got.records), pd.DataFrame(want.records), check_dtype=False)
        pd.testing.assert_frame_equal(got.problems.reset_index(drop=True), want.problems.reset_index(drop=True), check_dtype=False)
        pd.testing.assert_frame_equal(got.files, want.files, check_dtype=False)
    pd.testing.assert_frame_equal(refreshed_project.register.conflicts, whole.register.conflicts, check_dtype=False)
    pd.testing.assert_frame_equal(refreshed_project.progress(), whole.progress())


def test_refreshed_equals_read_again(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    config = load_config(data_dir)
    streets = read_streets(config)
    rows = [macro_row(f"S{i}", status) for i, status in enumerate(["在建", "已落点", "受阻", "规划", "在建"])]
    import_files([macro_file(tmp_path, "tower.csv", rows)], config, streets, source="铁塔", as_of=D2, db=register_db)
    import_files([garage_file(tmp_path, "g.csv", [GARAGE])], config, streets, source="移动", as_of=D2, db=register_db)
    before = load_project(data_dir, db=register_db, as_of=D2)
    open_before = open_records(before)  # kept with the project, refreshed with it
    with open_register(config, register_db) as register:
        then = _revision(register)
        # An edit that puts a station on air, one that moves a station to another street, and a new
        # file from an operator that reports one station differently (a conflict) and a new station.
        apply_edit(
            register, config, streets, "macro", "S0", {"status": "已开通", "开通日期": "2024-06-28"}, author="web:zhang", reported_on=D2
        )
        apply_edit(register, config, streets, "macro", "S1", {"lon": 121.3775, "lat": 31.2829}, author="web:zhang", reported_on=D2)
        operator_rows = [macro_row("S2", "已开通", on_air="2024-06-20"), macro_row("S9", "在建", at="shiquan")]
        import_files([macro_file(tmp_path, "cmcc.csv", operator_rows)], config, streets, source="移动", as_of=D2, db=register_db)
        changed = records_changed_after(register, then, limit=200)
        assert changed is not None and set(changed) >= {("macro", "S0"), ("macro", "S1"), ("macro", "S2"), ("macro", "S9")}
        ids = sorted({record_id for _, record_id in changed})
        loads, snapshot = site_loads_from(register, config, streets, as_of=D2, record_ids=ids, street_table=read_street_table(config))
    assert set(loads) == {"macro"}  # only the kinds the records are of are read
    result = refreshed(before, changed, loads, snapshot)
    whole = load_project(data_dir, db=register_db, as_of=D2)
    assert len(whole.register.conflicts) == 1 and whole.macro.records["street_code"].nunique() >= 2  # the case is not trivial
    _same(result, whole)
    assert "open_rows" in result._cache  # carried over, not made afresh
    pd.testing.assert_frame_equal(open_records(result), open_records(whole))
    assert not open_records(result).equals(open_before)  # the edits changed the list
    assert (
        result.progress()["macro_done"].iloc[-1] == whole.progress()["macro_done"].iloc[-1] == 2
    )  # S0 (the edit) and S2 (as the operator reports it)


def test_refresh_needs_a_register_project(data_dir: Path) -> None:
    (data_dir / "sites" / "macro_stations.csv").write_text(
        "站址编码,站名,运营商,经度,纬度,状态\nS1,a,移动,121.4290,31.2462,在建\n", encoding="utf-8"
    )
    project = load_project(data_dir, garage=[], as_of=D2)
    with pytest.raises(ValueError, match="register"):
        refreshed(project, [("macro", "S1")], {}, None)  # type: ignore[arg-type]


def test_platform_views_after_edits_equal_reading_again(data_dir: Path, tmp_path: Path, register_db: str, monkeypatch) -> None:
    """The platform's records view and project, brought up to date after edits (only the changed
    records read again), equal those of a platform opened afresh."""
    from rollout.web import open_platform

    monkeypatch.setenv("ROLLOUT_TODAY", D2.isoformat())
    config = load_config(data_dir)
    streets = read_streets(config)
    rows = [macro_row(f"S{i}", status) for i, status in enumerate(["在建", "已落点", "受阻", "规划"])]
    import_files([macro_file(tmp_path, "tower.csv", rows)], config, streets, source="铁塔", as_of=D2, db=register_db)
    import_files([garage_file(tmp_path, "g.csv", [GARAGE])], config, streets, source="移动", as_of=D2, db=register_db)
    platform, _ = open_platform(config, register_db)
    first_view, first_project = platform.records(), platform.project()
    users = [User(1, "a", "street", street_code=first_view.table["street_code"].iloc[0]), User(2, "b", "operator", operator="cmcc")]
    users.append(User(3, "c", "tower"))
    before = [first_view.scope(user) for user in users]  # made before the edits: carried to the updated view
    apply_edit(
        platform.register,
        config,
        streets,
        "macro",
        "S3",
        {"status": "受阻", "受阻原因": "=物业不同意", "运营商": "电信"},
        author="web:a",
        reported_on=D2,
    )
    apply_edit(
        platform.register, config, streets, "garage", "G1", {"status": "已覆盖", "覆盖日期": "2024-06-29"}, author="web:a", reported_on=D2
    )
    platform.wrote(1)
    import rollout.pipeline

    read_whole = []
    monkeypatch.setattr(rollout.pipeline, "load_project", lambda *a, **k: read_whole.append(1))
    view, project = platform.records(reader=1), platform.project(reader=1)
    assert read_whole == []  # the project too was brought up to date, not read again
    monkeypatch.undo()
    monkeypatch.setenv("ROLLOUT_TODAY", D2.isoformat())
    assert view is not first_view and project is not first_project
    assert view.read == first_view.read  # brought up to date, not read again
    fresh, _ = open_platform(config, register_db)
    whole_view, whole_project = fresh.records(), fresh.project()
    pd.testing.assert_frame_equal(view.table, whole_view.table)
    assert view.json_full.tolist() == whole_view.json_full.tolist() and view.json_public.tolist() == whole_view.json_public.tolist()
    _same(project, whole_project)
    for user in users:
        assert view._carried and view.scope(user).rows.tolist() == whole_view.scope(user).rows.tolist()
        assert view.scope(user).contacts.tolist() == whole_view.scope(user).contacts.tolist()
    assert len(view.scope(users[1]).rows) == len(before[1].rows) - 1  # S3 is 电信's now: the 移动 user no longer sees it
    assert view.table.set_index("record_id").loc["S3", "blocker"] == "=物业不同意"
    assert whole_project.progress()["garage_done"].iloc[-1] == 1
    platform.register.close()
    fresh.register.close()
