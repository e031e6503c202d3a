"""The platform on both register backends (SQLite and PostgreSQL/PostGIS): log in, change a record
from a page and from the API, the second of two concurrent editors gets 409, the history names them."""

from __future__ import annotations

import re

import pytest
from web_helpers import CHANGSHOU_GARAGE, TODAY, csrf, sample_register, serve, version_of


@pytest.fixture
def site(tmp_path, register_db, monkeypatch):
    monkeypatch.setenv("ROLLOUT_TODAY", TODAY)
    platform = sample_register(tmp_path, register_db)
    with serve(platform) as server:
        yield server
    platform.register.close()


def test_edits_conflicts_and_history(site) -> None:
    from rollout.register import record_history
    from rollout.web.accounts import issue_token
    from rollout.web.audit import audit_entries

    register = site.platform.register
    coordinator, district = site.login("zhang"), site.login("wang")
    version = version_of(coordinator, "garage", CHANGSHOU_GARAGE)
    assert version_of(district, "garage", CHANGSHOU_GARAGE) == version
    form = {"version": str(version), "status": "covered", "covered_date": "2024-07-02", "change_day": TODAY, "change_note": "已覆盖"}
    saved = coordinator.post(f"/records/garage/{CHANGSHOU_GARAGE}", data=form | {"csrf_token": csrf(coordinator)})
    assert saved.status_code == 303
    other = {"version": str(version), "blocker": "另一处修改", "change_day": TODAY, "change_note": "x"}
    stale = district.post(f"/records/garage/{CHANGSHOU_GARAGE}", data=other | {"csrf_token": csrf(district)})
    assert stale.status_code == 409 and 'value="另一处修改"' in stale.text
    # The coordinator sees the change on the dashboard at once: the street's garages covered.
    page = coordinator.get("/").text
    assert CHANGSHOU_GARAGE in page and "已覆盖" in page
    token, _ = issue_token(register, "wang", days=1)
    api = site.client(headers={"Authorization": f"Bearer {token}"})
    record = api.get(f"/api/records/garage/{CHANGSHOU_GARAGE}").json()
    assert record["version"] == version + 1 and record["status_as_of"] == "covered"
    patched = api.patch(f"/api/records/garage/{CHANGSHOU_GARAGE}", json={"version": version + 1, "callable_pct_cmcc": 96.5, "note": "测试"})
    assert patched.status_code == 200 and patched.json()["version"] == version + 2
    assert api.patch(f"/api/records/garage/{CHANGSHOU_GARAGE}", json={"version": version, "blocker": "x"}).status_code == 409
    history = record_history(register, CHANGSHOU_GARAGE, kind="garage")
    assert history["author"].tolist()[-2:] == ["web:zhang", "web:wang"] and history["channel"].tolist()[-2:] == ["platform", "platform"]
    actions = audit_entries(register)["action"].tolist()
    assert actions.count("edit") == 2 and "edit_refused" in actions and actions.count("login") == 2
    assert re.search(r"covered|已覆盖", history["what"].iloc[-2])
