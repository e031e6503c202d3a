"""Error answers and an empty register: every error page carries the security headers and a friendly
message in the reader's language, never a traceback; a register with nothing imported yet shows
"nothing imported yet" on every page instead of an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO
from web_helpers import PASSWORD, TODAY, serve

from rollout.i18n import t

SECRET = "secret-detail-of-the-failure"


@pytest.fixture
def empty(tmp_path: Path, monkeypatch):
    """A platform over a register with users but no records, and a route made to fail."""
    from rollout.config import load_config
    from rollout.web import open_platform
    from rollout.web.accounts import add_user
    from rollout.web.app import create_app

    monkeypatch.setenv("ROLLOUT_TODAY", TODAY)
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("submissions", "register.sqlite*", "sites"))
    config = load_config(data)
    platform, _ = open_platform(config, None, packs=tmp_path / "maps")
    for name, role, street in (("wang", "district", ""), ("zhang", "street", "长寿路"), ("guest", "viewer", "")):
        add_user(platform.register, config, name, role, street=street, password=PASSWORD)
    app = create_app(platform)

    @app.get("/boom")
    def boom():
        raise RuntimeError(SECRET)

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError(SECRET)

    with serve(platform, app) as server:
        yield server
    platform.register.close()


def _secured(answer) -> None:
    csp = answer.headers["content-security-policy"]
    assert "script-src 'nonce-" in csp and "object-src 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert answer.headers["cache-control"] == "no-store"
    assert "Traceback" not in answer.text and SECRET not in answer.text


def test_error_pages_are_friendly_localised_and_carry_the_security_headers(empty) -> None:
    client = empty.login("wang")
    answer = client.get("/boom")
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/html")
    _secured(answer)
    assert t("web.error.500", "zh") in answer.text and t("web.error.home", "zh") in answer.text
    english = client.get("/boom?lang=en")
    assert english.status_code == 500 and t("web.error.500", "en") in english.text
    _secured(english)
    api = empty.client().get("/api/boom", headers={"Accept-Language": "en"})
    assert api.status_code == 500 and api.json()["error"]["message"] == t("web.error.500", "en")
    _secured(api)
    missing = client.get("/no/such/page?lang=zh")
    assert missing.status_code == 404 and t("web.error.404", "zh") in missing.text
    _secured(missing)
    refused = empty.login("guest").get("/records")
    assert refused.status_code == 403 and t("web.error.role", "zh") in refused.text
    _secured(refused)
    unauthorised = empty.client().get("/api/records")
    assert unauthorised.status_code == 401 and unauthorised.json()["error"]["code"] == "unauthorized"
    _secured(unauthorised)


def test_an_empty_register_shows_nothing_imported_yet_on_every_page(empty) -> None:
    for name in ("wang", "zhang"):
        client = empty.login(name)
        for path in ("/", "/records", "/records?show=all", "/conflicts", "/packs"):
            answer = client.get(path)
            assert answer.status_code == 200, (name, path, answer.text[-500:])
            _secured(answer)
            assert t("web.empty.title", "zh") in answer.text, (name, path)
            assert "rollout import" in answer.text
        english = client.get("/?lang=en")
        assert english.status_code == 200 and t("web.empty.title", "en") in english.text
    district = empty.login("wang")
    for path in ("/map", "/burnup.png"):
        assert district.get(path).status_code == 200, path
    token = _token(empty, "wang")
    api = empty.client(headers={"Authorization": f"Bearer {token}"})
    records = api.get("/api/records")
    assert records.status_code == 200 and records.json() == [] and records.headers["x-total-count"] == "0"
    progress = api.get("/api/progress")
    assert progress.status_code == 200 and all(row["macro_done"] == 0 for row in progress.json()["streets"])
    assert api.get("/api/records/macro/M1").status_code == 404


def _token(server, name: str) -> str:
    from rollout.web.accounts import issue_token

    return issue_token(server.platform.register, name, days=1)[0]
