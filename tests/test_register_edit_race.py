"""An edit is checked outside the write transaction: a change made meanwhile is never lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from register_helpers import macro_file, macro_row

import rollout.register.edits as edits
from rollout.boundaries import read_streets
from rollout.config import load_config
from rollout.register.edits import apply_edit
from rollout.register.errors import StaleVersionError
from rollout.register.importer import import_files
from rollout.register.store import open_register
from rollout.register.views import read_record

D2 = dt.date(2024, 6, 30)


@pytest.fixture
def register(data_dir: Path, tmp_path: Path):
    config = load_config(data_dir)
    streets = read_streets(config)
    path = macro_file(tmp_path, "tower.csv", [macro_row("S1", "在建"), macro_row("S2", "已落点")])
    import_files([path], config, streets, source="铁塔", as_of=D2, db=str(tmp_path / "register.sqlite"))
    with open_register(config, str(tmp_path / "register.sqlite")) as opened:
        yield opened, config, streets


def _meanwhile(monkeypatch, change) -> list[int]:
    """Make ``change`` (another person's edit) happen once, after the edit was checked and before it is written."""
    calls = []
    checked_row = edits._checked_row

    def checked_then_someone_else(*args, **kwargs):
        load = checked_row(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            change()
        return load

    monkeypatch.setattr(edits, "_checked_row", checked_then_someone_else)
    return calls


def test_a_change_made_meanwhile_is_kept(register, monkeypatch) -> None:
    opened, config, streets = register

    def other() -> None:
        apply_edit(opened, config, streets, "macro", "S1", {"受阻原因": "物业不同意"}, author="web:li", reported_on=D2)

    calls = _meanwhile(monkeypatch, other)
    result = apply_edit(
        opened, config, streets, "macro", "S1", {"状态": "已开通", "开通日期": "2024-06-29"}, author="web:wang", reported_on=D2
    )
    record = read_record(opened, "macro", "S1")
    assert len(calls) == 3  # the edit, the other edit, the edit planned again on top of it
    assert result.version == 3 and record["version"] == 3
    assert record["fields"]["blocker"] == "物业不同意" and record["fields"]["status"] == "on_air"


def test_a_stale_version_is_refused_when_someone_was_first(register, monkeypatch) -> None:
    opened, config, streets = register

    def other() -> None:
        apply_edit(opened, config, streets, "macro", "S2", {"受阻原因": "无电"}, author="web:li", reported_on=D2, expected_version=1)

    _meanwhile(monkeypatch, other)
    with pytest.raises(StaleVersionError) as stale:
        apply_edit(opened, config, streets, "macro", "S2", {"受阻原因": "物业"}, author="web:wang", reported_on=D2, expected_version=1)
    assert stale.value.current_version == 2
    assert read_record(opened, "macro", "S2")["fields"]["blocker"] == "无电"


def test_the_last_try_is_planned_inside_the_transaction(register, monkeypatch) -> None:
    """Someone changing the record before every optimistic try cannot keep the edit from landing."""
    opened, config, streets = register
    checked_row, tries = edits._checked_row, []

    def always_someone_else(*args, **kwargs):
        load = checked_row(*args, **kwargs)
        tries.append(1)
        if len(tries) <= edits._OPTIMISTIC_TRIES:  # before each optimistic try's write; the last runs in the transaction
            monkeypatch.setattr(edits, "_checked_row", checked_row)
            apply_edit(opened, config, streets, "macro", "S1", {"受阻原因": f"第{len(tries)}次"}, author="web:li", reported_on=D2)
            monkeypatch.setattr(edits, "_checked_row", always_someone_else)
        return load

    monkeypatch.setattr(edits, "_checked_row", always_someone_else)
    result = apply_edit(opened, config, streets, "macro", "S1", {"计划开通日期": "2024-09-30"}, author="web:wang", reported_on=D2)
    record = read_record(opened, "macro", "S1")
    assert len(tries) == edits._OPTIMISTIC_TRIES + 1 and result.version == record["version"] == 2 + edits._OPTIMISTIC_TRIES
    assert (
        record["fields"]["blocker"] == f"第{edits._OPTIMISTIC_TRIES}次"
        and str(record["fields"]["planned_on_air_date"])[:10] == "2024-09-30"
    )
