"""The register, on SQLite and PostgreSQL: every change class, dry run, idempotence, rollback,
replay as known on a day, migration, conflicts, platform edits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from register_helpers import garage_file, macro_file, macro_row

from rollout.boundaries import read_streets
from rollout.config import load_config
from rollout.pipeline import load_project
from rollout.progress import total_row
from rollout.register.edits import apply_edit, resolve_conflict
from rollout.register.errors import EditRejected, RegisterError, StaleVersionError
from rollout.register.importer import import_files
from rollout.register.queries import changes_between, record_history
from rollout.register.store import open_register
from rollout.register.views import read_record, visible_records

D1, D2, D3 = dt.date(2024, 6, 23), dt.date(2024, 6, 30), dt.date(2024, 7, 7)


def _import(data_dir: Path, db: str, path: Path, source: str, day: dt.date, **options):
    config = load_config(data_dir)
    return import_files([path], config, read_streets(config), source=source, as_of=day, db=db, **options)[0]


def _counts(data_dir: Path, db: str) -> dict[str, int]:
    import sqlalchemy as sa

    with open_register(load_config(data_dir), db) as register, register.read() as conn:
        return {
            name: conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar()
            for name in ("submissions", "records", "record_versions", "changes")
        }


def _classes(result) -> dict[str, list[str]]:
    changes = result.comparison.changes
    return {c: sorted(changes.loc[changes["change"] == c, "record_id"].unique()) for c in changes["change"].unique()}


def test_every_change_class(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    week1 = macro_file(tmp_path, "w1.csv", [
        macro_row("S1", "在建"),
        macro_row("S2", "已开通", on_air="2024-05-01"),
        macro_row("S3", "在建", at="shiquan"),
        macro_row("S4", "在建", name="桃浦老站", at="taopu"),
        macro_row("S5", "规划"),
        macro_row("S6", "已开通", on_air="2024-05-02"),
    ])  # fmt: skip
    first = _import(data_dir, register_db, week1, "铁塔", D1)
    assert first.outcome == "applied" and _classes(first) == {"new": ["S1", "S2", "S3", "S4", "S5", "S6"]}
    week2 = macro_file(tmp_path, "w2.csv", [
        macro_row("S1", "已开通", on_air="2024-06-25"),  # status up
        macro_row("S2", "在建"),  # status down, on-air date withdrawn
        macro_row("S3", "在建", at="shiquan", dx=0.0007),  # about 66 m
        macro_row("S5", "规划", blocker="物业不同意", planned="2025-03-31"),  # other fields
        macro_row("S6", "已开通", on_air="2024-05-02"),
        macro_row("S7", "在建", name="桃浦老站", at="taopu", dx=0.00005),  # S4 under a new code, 5 m away
    ])  # fmt: skip
    second = _import(data_dir, register_db, week2, "tower", D2)
    classes = _classes(second)
    assert classes == {
        "status": ["S1"],
        "regressed": ["S2"],
        "moved": ["S3"],
        "changed": ["S1", "S5"],
        "missing": ["S4"],
        "new": ["S7"],
        "rename": ["S7"],
    }
    changes = second.comparison.changes.set_index(["record_id", "change", "field"])
    assert (
        changes.loc[("S2", "regressed", "status"), "old"] == "on_air"
        and changes.loc[("S2", "regressed", "status"), "new"] == "under_construction"
    )
    assert changes.loc[("S2", "regressed", "on_air_date"), "old"] == "2024-05-01"
    assert changes.loc[("S5", "changed", "blocker"), "new"] == "物业不同意"
    assert changes.loc[("S5", "changed", "planned_on_air_date"), ["old", "new"]].tolist() == ["2024-12-31", "2025-03-31"]
    assert changes.loc[("S7", "rename", "record_id"), ["old", "new"]].tolist() == ["S4", "S7"]
    # Another sender disagrees on S6's status and on S1's position.
    other = macro_file(
        tmp_path, "cmcc.csv", [macro_row("S6", "受阻", blocker="停电"), macro_row("S1", "已开通", on_air="2024-06-25", dx=0.002)]
    )
    third = _import(data_dir, register_db, other, "中国移动", D2)
    conflicts = third.comparison.changes[third.comparison.changes["change"] == "conflict"]
    assert sorted(zip(conflicts["record_id"], conflicts["field"], strict=True)) == [("S1", "position"), ("S6", "status")]
    assert set(conflicts["old"]) == {
        "铁塔:on_air",
        "铁塔:" + conflicts.loc[conflicts["field"] == "position", "old"].iloc[0].split(":", 1)[1],
    }
    # The missing record is kept and flagged, never deleted.
    project = load_project(data_dir, db=register_db, as_of=D2)
    records = project.macro.records.set_index("site_id")
    assert "S4" in records.index and "unreported" in records.loc["S4", "flags"]
    assert records["register_source"].to_dict()["S6"] == "移动"  # the station's operator wins over 铁塔
    with open_register(load_config(data_dir), register_db) as register:
        stored = changes_between(register, D2, D2)
        if register.target.is_postgres:  # the PostGIS point follows lon/lat
            import sqlalchemy as sa

            with register.read() as conn:
                offsets = conn.execute(
                    sa.text("SELECT MAX(ABS(ST_X(geom) - lon) + ABS(ST_Y(geom) - lat)), COUNT(geom) FROM record_versions")
                ).one()
            assert offsets[0] < 1e-9 and offsets[1] == 14  # 6 + 6 (week 2) + 2 (移动)
    assert set(stored["change"]) == {"status", "regressed", "moved", "changed", "missing", "new", "rename", "conflict"}


def test_dry_run_and_idempotence(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    path = macro_file(tmp_path, "w1.csv", [macro_row("S1"), macro_row("S2", "规划")])
    dry = _import(data_dir, register_db, path, "铁塔", D1, dry_run=True)
    assert dry.outcome == "dry_run" and len(dry.comparison.new_ids) == 2
    assert not Path(register_db).exists() or _counts(data_dir, register_db)["submissions"] == 0
    assert _import(data_dir, register_db, path, "铁塔", D1).outcome == "applied"
    before = _counts(data_dir, register_db)
    assert before == {"submissions": 1, "records": 2, "record_versions": 2, "changes": 2}
    again = _import(data_dir, register_db, path, "铁塔", D2)
    assert again.outcome == "same_file" and again.previous_id == 1
    copy = macro_file(tmp_path, "copy.csv", [macro_row("S2", "规划"), macro_row("S1")])  # other bytes, same content
    assert _import(data_dir, register_db, copy, "铁塔", D2).outcome == "unchanged"
    changed = macro_file(tmp_path, "w2.csv", [macro_row("S1", "已开通", on_air="2024-06-28"), macro_row("S2", "规划")])
    assert _import(data_dir, register_db, changed, "铁塔", D2, dry_run=True).outcome == "dry_run"
    assert _counts(data_dir, register_db) == before


def test_failure_midway_leaves_the_register_unchanged(data_dir: Path, tmp_path: Path, register_db: str, monkeypatch) -> None:
    _import(data_dir, register_db, macro_file(tmp_path, "w1.csv", [macro_row("S1"), macro_row("S2")]), "铁塔", D1)
    before = _counts(data_dir, register_db)
    import rollout.register.importer as importer

    def fail(frame):  # called after the submission and the new records rows were written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importer, "_db_records", fail)
    week2 = macro_file(tmp_path, "w2.csv", [macro_row("S1", "已开通", on_air="2024-06-28"), macro_row("S3")])
    with pytest.raises(OSError, match="No space"):
        _import(data_dir, register_db, week2, "铁塔", D2)
    assert _counts(data_dir, register_db) == before
    monkeypatch.undo()
    assert _import(data_dir, register_db, week2, "铁塔", D2).outcome == "applied"


def test_replay_as_known_on_a_day(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    _import(data_dir, register_db, macro_file(tmp_path, "w1.csv", [macro_row("S1", "在建"), macro_row("S2", "在建")]), "铁塔", D1)
    week2 = macro_file(tmp_path, "w2.csv", [macro_row("S1", "已开通", on_air="2024-06-20"), macro_row("S2", "在建")])
    _import(data_dir, register_db, week2, "铁塔", D2)

    def on_air(day: dt.date) -> int:
        project = load_project(data_dir, db=register_db, as_of=day)
        return int(project.progress().pipe(total_row)["macro_done"])

    # Known on 2024-06-25: the first week's list only, though the on-air date (06-20) is earlier.
    assert on_air(dt.date(2024, 6, 22)) == 0  # nothing reported yet
    assert on_air(dt.date(2024, 6, 25)) == 0
    assert on_air(D2) == 1
    project = load_project(data_dir, db=register_db, as_of=dt.date(2024, 6, 25))
    assert project.register is not None and len(project.macro.records) == 2


def test_migration_from_the_first_schema(data_dir: Path, register_db: str) -> None:
    import sqlalchemy as sa

    from rollout.register.db import connect, resolve_target
    from rollout.register.schema import SCHEMA_VERSION, column_names, create_schema

    target = resolve_target(data_dir, register_db)
    engine = connect(target, write=True, timeout_s=5)
    with engine.begin() as conn:
        create_schema(conn, version=1, postgres=target.is_postgres)
        conn.execute(
            sa.text(
                "INSERT INTO submissions (id, source, kind, channel, file_name, sha256, content_sha256, rows, loaded, rejected, imported_at, reported_on, os_user, note) "
                "VALUES (1, '铁塔', 'macro', 'file', 'old.csv', 'x', 'y', 1, 1, 0, '2024-06-23 02:00:00', '2024-06-23', 'wang', '')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO records (id, kind, record_id, source, version, state, first_submission, last_submission) VALUES (1, 'macro', 'OLD-1', '铁塔', 1, 'reported', 1, 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO record_versions (record, version, valid_from, state, changes, status, lon, lat, name, counts_toward_target) "
                "VALUES (1, 1, 1, 'reported', 'new', 'on_air', 121.429, 31.2462, '老站', TRUE)"
            )
        )
        columns = column_names(conn, "record_versions")
    engine.dispose()
    assert "author" not in columns
    with open_register(load_config(data_dir), register_db) as register, register.read() as conn:
        assert conn.execute(sa.text("SELECT MAX(version) FROM schema_version")).scalar() == SCHEMA_VERSION == 3
        assert conn.execute(sa.text("SELECT author, name FROM record_versions")).one() == ("wang", "老站")
        assert "conflict_resolutions" in sa.inspect(conn).get_table_names()
        history = record_history(register, "OLD-1")
    assert history["author"].tolist() == ["wang"]
    project = load_project(data_dir, db=register_db, as_of=dt.date(2024, 7, 1))
    assert project.macro.records["site_id"].tolist() == ["OLD-1"]


def test_newer_schema_and_not_a_register_are_refused(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    import sqlalchemy as sa

    _import(data_dir, register_db, macro_file(tmp_path, "w1.csv", [macro_row("S1")]), "铁塔", D1)
    with open_register(load_config(data_dir), register_db) as register, register.write() as conn:
        conn.execute(sa.text("INSERT INTO schema_version (version, applied_at) VALUES (4, '2030-01-01 00:00:00')"))
    with pytest.raises(RegisterError, match=r"newer rollout \(schema version 4"):
        open_register(load_config(data_dir), register_db)


def test_conflicts_resolution_and_winner(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    config = load_config(data_dir)
    _import(
        data_dir, register_db, macro_file(tmp_path, "t.csv", [macro_row("S1", "已开通", on_air="2024-06-01", operator="联通")]), "铁塔", D1
    )
    _import(data_dir, register_db, macro_file(tmp_path, "u.csv", [macro_row("S1", "受阻", operator="联通", blocker="停电")]), "联通", D1)
    project = load_project(data_dir, db=register_db, as_of=D2)
    assert project.register.conflicts[["record_id", "counted_source", "other_source"]].values.tolist() == [["S1", "联通", "铁塔"]]
    assert project.macro.records["status"].tolist() == ["blocked"]
    with open_register(config, register_db) as register:
        resolve_conflict(register, "macro", "S1", "铁塔", author="li", note="现场核实")
    project = load_project(data_dir, db=register_db, as_of=D2)
    assert project.register.conflicts.empty and project.macro.records["status"].tolist() == ["on_air"]
    # A new, still different report opens it again (the kept sender still counts) ...
    _import(
        data_dir, register_db, macro_file(tmp_path, "u2.csv", [macro_row("S1", "受阻", operator="联通", blocker="停电两周")]), "联通", D2
    )
    project = load_project(data_dir, db=register_db, as_of=D2)
    assert project.register.conflicts.empty  # ... once both have reported that week: 铁塔's list is a week old
    rows = [macro_row("S1", "已开通", on_air="2024-06-01", operator="联通"), macro_row("S9")]
    _import(data_dir, register_db, macro_file(tmp_path, "t2.csv", rows), "铁塔", D2)
    project = load_project(data_dir, db=register_db, as_of=D2)
    assert project.register.conflicts["record_id"].tolist() == ["S1"] and project.macro.records["status"].tolist()[0] == "on_air"


def test_platform_edits(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    config = load_config(data_dir)
    streets = read_streets(config)
    _import(
        data_dir, register_db, macro_file(tmp_path, "w1.csv", [macro_row("S1", "在建"), macro_row("S2", "规划", at="taopu")]), "铁塔", D1
    )
    with open_register(config, register_db) as register:
        record = read_record(register, "macro", "S1")
        assert record["version"] == 1 and record["source"] == "铁塔" and record["fields"]["status"] == "under_construction"
        assert record["fields"]["construction_start_date"] == "2024-04-01" and record["fields"]["on_air_date"] is None
        result = apply_edit(
            register,
            config,
            streets,
            "macro",
            "S1",
            {"status": "已开通", "开通日期": "2024/6/28"},
            author="web:zhang",
            note="现场确认",
            reported_on=D2,
            expected_version=1,
        )
        assert result.version == 2 and result.source == "铁塔"
        assert set(result.changes["change"]) == {"status", "changed"}
        with pytest.raises(StaleVersionError) as stale:
            apply_edit(register, config, streets, "macro", "S1", {"blocker": "x"}, author="web:li", reported_on=D2, expected_version=1)
        assert stale.value.current_version == 2
        with pytest.raises(EditRejected) as rejected:
            apply_edit(register, config, streets, "macro", "S1", {"on_air_date": "2024-13-45"}, author="web:li", reported_on=D2)
        assert rejected.value.problems["reason_code"].tolist() == ["date_unreadable"]
        assert "开通日期 = '2024-13-45'：无法识别的日期" in rejected.value.message("zh")
        with pytest.raises(EditRejected) as unknown:
            apply_edit(register, config, streets, "macro", "S1", {"no_such_field": "1"}, author="web:li", reported_on=D2)
        assert unknown.value.problems[["column", "reason_code"]].values.tolist() == [["no_such_field", "edit_unknown_field"]]
        assert "not a field that can be edited" in str(unknown.value)
        history = record_history(register, "S1", lang="en")
        visible = visible_records(register, config, streets, kind="macro", street="桃浦", as_of=D2)
        on_air = visible_records(register, config, streets, status="on_air", operator="cmcc", as_of=D2)
    assert history["author"].tolist() == [history["author"].iloc[0], "web:zhang"] and history["channel"].tolist() == ["file", "platform"]
    assert visible["record_id"].tolist() == ["S2"]
    assert on_air["record_id"].tolist() == ["S1"] and on_air["register_version"].tolist() == [2]
    assert load_project(data_dir, db=register_db, as_of=D2).progress().pipe(total_row)["macro_done"] == 1


def test_garage_lead_unit_wins(data_dir: Path, tmp_path: Path, register_db: str) -> None:
    lon, lat = 121.4290, 31.2462
    row = "G1,幸福小区,{lon},{lat},长寿路街道,移动,800,张三,13800000000,{status},2024-03-01,{covered}"
    _import(data_dir, register_db, garage_file(tmp_path, "m.csv", [row.format(lon=lon, lat=lat, status="施工中", covered="")]), "移动", D1)
    _import(
        data_dir,
        register_db,
        garage_file(tmp_path, "s.csv", [row.format(lon=lon, lat=lat, status="已覆盖", covered="2024-06-01")]),
        "长寿路",
        D1,
    )
    project = load_project(data_dir, db=register_db, as_of=D2)
    assert project.garage.records["register_source"].tolist() == ["长寿路街道"]
    assert total_row(project.progress())["garage_done"] == 1


def test_edits_merge_into_the_snapshot_until_it_is_rewritten(data_dir: Path, tmp_path: Path, register_db: str, monkeypatch) -> None:
    """A platform edit does not rewrite the snapshot: reading merges the versions written since;
    past DELTA_KEPT of them an edit rewrites it. Either way the same records as the history."""
    import sqlalchemy as sa

    import rollout.register.loads as loads
    import rollout.register.snapshot as snapshot

    config = load_config(data_dir)
    streets = read_streets(config)
    rows = [macro_row("S1", "在建"), macro_row("S2", "规划", at="taopu"), macro_row("S3", at="shiquan")]
    _import(data_dir, register_db, macro_file(tmp_path, "w1.csv", rows), "铁塔", D1)
    _import(data_dir, register_db, macro_file(tmp_path, "m.csv", [macro_row("S2", "受阻", blocker="停电")]), "移动", D1)

    def snapshot_revision() -> int:
        with open_register(config, register_db) as register, register.read() as conn:
            return int(conn.execute(sa.select(sa.func.max(register.tables["snapshots"].c.revision))).scalar())

    def both() -> tuple[pd.DataFrame, pd.DataFrame]:
        with open_register(config, register_db) as register:
            fast = visible_records(register, config, streets, as_of=D2)
            monkeypatch.setattr(loads, "read_snapshot", lambda *a: None)
            slow = visible_records(register, config, streets, as_of=D2)
            monkeypatch.undo()
        return fast, slow

    imported = snapshot_revision()
    with open_register(config, register_db) as register:
        apply_edit(register, config, streets, "macro", "S1", {"status": "已开通", "开通日期": "2024/6/28"}, author="web:a", reported_on=D2)
        apply_edit(register, config, streets, "macro", "S2", {"blocker": "物业不同意"}, author="web:b", reported_on=D2, source="移动")
    assert snapshot_revision() == imported  # two edits: merged when read, the snapshot stays
    with open_register(config, register_db) as register, register.read() as conn:
        merged = snapshot.read_snapshot(conn, register.tables, D2)
    assert len(merged) == 4 and merged.loc[merged["record_id"].eq("S1"), "status"].tolist() == ["on_air"]
    fast, slow = both()
    assert fast.astype(str).equals(slow.astype(str))
    assert fast.set_index("record_id").loc["S1", "status_as_of"] == "on_air"
    assert fast.set_index("record_id").loc["S2", "blocker"] == "物业不同意"
    monkeypatch.setattr(snapshot, "DELTA_KEPT", 1)
    with open_register(config, register_db) as register:
        apply_edit(register, config, streets, "macro", "S3", {"blocker": "停电"}, author="web:a", reported_on=D2)
    monkeypatch.undo()
    assert snapshot_revision() > imported  # three versions since: rewritten
    fast, slow = both()
    assert fast.astype(str).equals(slow.astype(str)) and fast.set_index("record_id").loc["S3", "blocker"] == "停电"


def test_snapshot_reads_the_same_records_as_the_history(data_dir: Path, tmp_path: Path, register_db: str, monkeypatch) -> None:
    import rollout.register.loads as loads

    _import(data_dir, register_db, macro_file(tmp_path, "w1.csv", [macro_row("S1"), macro_row("S2", "规划", at="taopu")]), "铁塔", D1)
    rows = [macro_row("S1", "已开通", on_air="2024-06-28"), macro_row("S3", at="shiquan")]
    _import(data_dir, register_db, macro_file(tmp_path, "w2.csv", rows), "铁塔", D2)
    _import(data_dir, register_db, macro_file(tmp_path, "m.csv", [macro_row("S1", "受阻", blocker="停电")]), "移动", D2)
    used = []
    original = loads.read_snapshot
    monkeypatch.setattr(loads, "read_snapshot", lambda *a: used.append(original(*a)) or used[-1])
    fast = load_project(data_dir, db=register_db, as_of=D3)
    assert used[-1] is not None  # on or after the newest reported day: the snapshot
    monkeypatch.setattr(loads, "read_snapshot", lambda *a: None)
    slow = load_project(data_dir, db=register_db, as_of=D3)
    for kind in ("macro", "garage"):
        a, b = getattr(fast, kind).records, getattr(slow, kind).records
        assert a.astype(str).equals(b.astype(str)), kind
    pd.testing.assert_frame_equal(fast.register.conflicts, slow.register.conflicts, check_dtype=False)
    monkeypatch.setattr(loads, "read_snapshot", lambda *a: used.append(original(*a)) or used[-1])
    load_project(data_dir, db=register_db, as_of=D1)
    assert used[-1] is None  # an earlier day: the history


def test_few_rows_are_written_with_the_same_values(data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """A platform edit's row, converted value by value, is what the column-wise conversion gives."""
    import rollout.register.importer as importer
    from rollout.register.replay import read_versions

    rows = [macro_row("S1", "在建"), macro_row("S2", "受阻", blocker="停电", at="taopu"), macro_row("S3", "已开通", on_air="2024-06-28")]
    _import(data_dir, None, macro_file(tmp_path, "w1.csv", rows), "铁塔", D1)
    with open_register(load_config(data_dir), None) as register, register.read() as conn:
        frame = read_versions(conn, register.tables, kind="macro", columns=[*importer.field_columns(), "source_row", "flags", "extra"])
    frame = frame[["record", "version", "state", "valid_from", "author", *importer.field_columns(), "source_row", "flags", "extra"]]
    fast = importer._db_records(frame)
    monkeypatch.setattr(importer, "_ROW_BY_ROW", 0)
    slow = importer._db_records(frame)
    assert len(fast) == 3 and fast[0]["record"] is not None and fast[2]["on_air_date"] == dt.date(2024, 6, 28)
    for a, b in zip(fast, slow, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == b[key] and type(a[key]) is type(b[key]), (key, a[key], b[key])
