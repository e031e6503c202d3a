"""The permission matrix: every role on every route of the platform (pages and API), against the one
table of rollout.web.permissions; and what each role sees and may change of a record."""

from __future__ import annotations

import pandas as pd
import pytest
from web_helpers import CHANGSHOU_GARAGE, TODAY, USERS, sample_register, serve

from rollout.i18n import t
from rollout.web.accounts import User
from rollout.web.permissions import (
    ALLOWED,
    PLATFORM_FIELDS,
    contacts_mask,
    editable_fields,
    may_view,
    sees_contacts,
    upload_sources,
    visible_mask,
)

ROLES = ("admin", "district", "street", "operator", "tower", "viewer")
#: Sample values for each route's path parameters.
PARAMS = {"kind": "garage", "record_id": CHANGSHOU_GARAGE, "key": "no-such-upload", "action": "revoke", "week": "2024-W26"}
#: Routes open without a login.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/api/openapi.json")}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROLLOUT_TODAY", TODAY)
        root = tmp_path_factory.mktemp("matrix")
        platform = sample_register(root)
        from rollout.web.accounts import add_user

        add_user(platform.register, platform.config, "dummy", "viewer", password="dummy-password")
        (root / "maps" / "2024-W26").mkdir(parents=True)
        (root / "maps" / "2024-W26" / "summary.md").write_text("# 2024-W26\n", encoding="utf-8")
        with serve(platform) as server:
            yield server
        platform.register.close()


def _routes(app):
    """(method, path template, action or None) of every route the application answers."""
    from fastapi.routing import APIRoute

    for entry in app.routes:
        if isinstance(entry, APIRoute):
            routes = [entry]
        elif hasattr(entry, "effective_route_contexts"):  # FastAPI's included routers
            routes = list(entry.effective_route_contexts())
        else:
            continue  # the static files and the OpenAPI description
        for route in routes:
            actions = [getattr(d.call, "action", None) for d in route.dependant.dependencies]
            action = next((a for a in actions if a), None)
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path, action


def _concrete(path: str) -> str:
    if path.startswith("/packs/{week}/"):
        return "/packs/2024-W26/summary.md"
    if path.startswith("/users/"):
        path = path.replace("{name}", "dummy")
    for name, value in PARAMS.items():
        path = path.replace("{" + name + "}", value)
    return path


def test_every_route_is_in_the_matrix(site) -> None:
    from rollout.web.app import create_app

    routes = list(_routes(create_app(site.platform)))
    assert len(routes) >= 30
    for method, path, action in routes:
        if (method, path) in PUBLIC:
            assert action is None, path
        else:
            assert action in ALLOWED, f"{method} {path} names no action of the permission table"


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(site, role: str) -> None:
    from rollout.web.accounts import find_user, issue_token
    from rollout.web.app import create_app
    from rollout.web.logins import open_session

    platform = site.platform
    name = "boss" if role == "admin" else next(n for n, (r, _, _) in USERS.items() if r == role)
    user = find_user(platform.register, name)
    token, _ = issue_token(platform.register, name, days=1)
    refusal = t("web.error.role", "zh")
    checked = 0
    for method, path, action in _routes(create_app(platform)):
        if (method, path) in PUBLIC:
            continue
        url = _concrete(path)
        if path.startswith("/api/"):
            client = site.client(headers={"Authorization": f"Bearer {token}"})
            anonymous = site.client().request(method, url, json={} if method == "PATCH" else None)
            assert anonymous.status_code == 401, (method, url)
            answer = client.request(method, url, json={} if method == "PATCH" else None)
            refused = answer.status_code == 403 and answer.json()["error"]["message"] == refusal
        else:
            secret, session = open_session(platform.register, platform.settings, user, ip="127.0.0.1")
            client = site.client(cookies={"rollout_session": secret})
            data = {"csrf_token": session.csrf_token} if method == "POST" else None
            anonymous = site.client().request(method, url, data=data)
            assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login"), (method, url)
            answer = client.request(method, url, data=data)
            refused = answer.status_code == 403 and refusal in answer.text
        expected = role in ALLOWED[action]
        assert refused != expected, f"{role} {method} {url}: {answer.status_code} {answer.text[:300]}"
        assert answer.status_code < 500, f"{role} {method} {url}: {answer.text[:500]}"
        checked += 1
    assert checked >= 28


def _user(role: str, street: str = "", operator: str = "") -> User:
    return User(1, role, role, street, operator)


RECORDS = pd.DataFrame(
    {
        "kind": ["macro", "macro", "garage", "garage", "garage"],
        "record_id": ["M1", "M2", "G1", "G2", "G3"],
        "street_code": ["S1", "S2", "S1", "S2", "S2"],
        "operator": ["cmcc", "ctc;cucc", None, None, None],
        "operators": [None, None, "cmcc;ctc", "ctc", "cucc"],
        "lead_unit": [None, None, "中国移动", "中国铁塔", "联通"],
    }
)


@pytest.mark.parametrize(
    ("user", "seen", "contacts"),
    [
        (_user("admin"), ["M1", "M2", "G1", "G2", "G3"], ["G1", "G2", "G3"]),
        (_user("district"), ["M1", "M2", "G1", "G2", "G3"], ["G1", "G2", "G3"]),
        (_user("street", street="S1"), ["M1", "G1"], ["G1"]),
        (_user("operator", operator="cmcc"), ["M1", "G1"], ["G1"]),
        (_user("operator", operator="ctc"), ["M2", "G1", "G2"], []),
        (_user("operator", operator="cucc"), ["M2", "G3"], ["G3"]),
        (_user("tower"), ["M1", "M2", "G2"], ["G2"]),
        (_user("viewer"), [], []),
    ],
    ids=["admin", "district", "street", "cmcc", "ctc", "cucc", "tower", "viewer"],
)
def test_what_each_role_sees(user: User, seen: list[str], contacts: list[str]) -> None:
    assert RECORDS["record_id"][visible_mask(user, RECORDS)].tolist() == seen
    rows = RECORDS.to_dict("records")
    assert [r["record_id"] for r in rows if may_view(user, r)] == seen  # one record at a time: the same answer
    assert RECORDS["record_id"][contacts_mask(user, RECORDS)].tolist() == contacts
    assert [r["record_id"] for r in rows if sees_contacts(user, r)] == contacts


def test_what_each_role_may_change() -> None:
    macro, garage = RECORDS.iloc[0].to_dict(), RECORDS.iloc[2].to_dict()
    assert editable_fields(_user("district"), macro) == PLATFORM_FIELDS["macro"]
    assert editable_fields(_user("street", street="S1"), macro) == ("blocker",)
    assert editable_fields(_user("street", street="S1"), garage) == PLATFORM_FIELDS["garage"]
    assert editable_fields(_user("street", street="S2"), garage) == ()
    assert editable_fields(_user("operator", operator="cmcc"), macro) == PLATFORM_FIELDS["macro"]
    assert editable_fields(_user("operator", operator="cucc"), macro) == ()
    assert editable_fields(_user("tower"), macro) == PLATFORM_FIELDS["macro"]
    assert editable_fields(_user("viewer"), macro) == ()
    assert "callable_pct_cmcc" in PLATFORM_FIELDS["garage"] and "name" not in PLATFORM_FIELDS["garage"]


def test_who_may_upload_for_whom(data_dir) -> None:
    from rollout.config import load_config
    from rollout.register.config import load_register_config

    sources = load_register_config(load_config(data_dir)).sources
    assert len(upload_sources(_user("district"), sources)) == len(sources) == 15
    assert upload_sources(_user("street", street="310107015000"), sources) == ["长寿路街道"]
    assert upload_sources(_user("operator", operator="cmcc"), sources) == ["移动"]
    assert upload_sources(_user("tower"), sources) == ["铁塔"]
    assert upload_sources(_user("viewer"), sources) == []
