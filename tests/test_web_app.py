"""The platform over HTTP on 127.0.0.1: login, CSRF, lockout, XSS, scopes, contacts, edits and their
conflicts (409), the API, uploads, packs, users and the language switch. One register of the sample
records for the module (SQLite); test_web_backends runs the core on both backends."""

from __future__ import annotations

import dataclasses
import io
import json
import re

import pytest
from conftest import REPO
from pypdf import PdfReader
from test_maps import EVIL
from web_helpers import CHANGSHOU_GARAGE, PASSWORD, TODAY, csrf, post_login, sample_site, version_of

from rollout.i18n import t


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with sample_site(tmp_path_factory.mktemp("platform")) as server:
        yield server


@pytest.fixture(autouse=True)
def _today(monkeypatch) -> None:
    monkeypatch.setenv("ROLLOUT_TODAY", TODAY)


def _garage_in(site, street_code: str, lead: str | None = None, *, other_than: str = "") -> str:
    table = site.platform.records().table
    rows = table[table["kind"].eq("garage") & table["street_code"].eq(street_code)]
    if lead is not None:
        rows = rows[rows["lead_unit"].eq(lead)]
    return str(rows[rows["record_id"].ne(other_than)]["record_id"].iloc[0])


def test_pages_need_a_login_and_carry_the_security_headers(site) -> None:
    client = site.client()
    answer = client.get("/records?show=all")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Frecords%3Fshow%3Dall"
    page = client.get("/login")
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", policy).group(1)
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0] and "frame-ancestors 'self'" in policy
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert page.headers["x-frame-options"] == "SAMEORIGIN" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store" and "strict-transport-security" not in page.headers
    assert client.get("/login").headers["content-security-policy"] != policy  # a new nonce every time
    answer = post_login(client, "zhang", PASSWORD)
    cookie = answer.headers["set-cookie"]
    assert "rollout_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client.get("/").status_code == 200
    # Behind an HTTPS reverse proxy on this machine: Secure cookies and HSTS.
    proxied = site.client()
    answer = post_login(proxied, "zhang", PASSWORD, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in answer.headers["set-cookie"] and "strict-transport-security" in answer.headers


def test_wrong_password_lockout_and_reset(site) -> None:
    from rollout.web.accounts import reset_password

    client = site.client()
    wrong = post_login(client, "zhou", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码不对" in wrong.text
    for _ in range(site.platform.settings.lockout_after - 1):
        post_login(client, "zhou", "not-the-password")
    locked = post_login(client, "zhou", PASSWORD)
    assert locked.status_code == 423 and "账号已锁定到" in locked.text
    assert client.get("/").status_code == 303  # no session was opened
    reset_password(site.platform.register, "zhou", password=PASSWORD)
    assert post_login(client, "zhou", PASSWORD).status_code == 303
    disabled_client = site.client()
    from rollout.web.accounts import set_disabled

    set_disabled(site.platform.register, "guest", True)
    try:
        refused = post_login(disabled_client, "guest", PASSWORD)
        assert refused.status_code == 403 and "已停用" in refused.text
    finally:
        set_disabled(site.platform.register, "guest", False)


def test_login_rate_limit_per_address(site) -> None:
    platform = site.platform
    before = platform.settings
    platform.settings = dataclasses.replace(before, ip_attempts=3)
    try:
        client = site.client()
        for n in range(3):
            post_login(client, f"nobody{n}", "not-the-password", headers={"X-Forwarded-For": "203.0.113.9"})
        limited = post_login(client, "wang", PASSWORD, headers={"X-Forwarded-For": "203.0.113.9"})
        assert limited.status_code == 429 and "此地址登录失败次数过多" in limited.text
        other = post_login(site.client(), "wang", PASSWORD, headers={"X-Forwarded-For": "203.0.113.10"})
        assert other.status_code == 303  # another address is not held up
    finally:
        platform.settings = before


def test_forms_without_the_csrf_token_are_refused(site) -> None:
    client = site.login("wang")
    version = version_of(client, "garage", CHANGSHOU_GARAGE)
    form = {"version": str(version), "blocker": "伪造", "change_day": TODAY, "change_note": "x"}
    for token in (None, "forged-token"):
        data = form | ({"csrf_token": token} if token else {})
        answer = client.post(f"/records/garage/{CHANGSHOU_GARAGE}", data=data)
        assert answer.status_code == 403 and "表单已过期或不是从本站提交的" in answer.text
    assert version_of(client, "garage", CHANGSHOU_GARAGE) == version
    # Another user's token does not work either, nor does a login form without its anti-forgery value.
    other = csrf(site.login("zhang"))
    assert client.post(f"/records/garage/{CHANGSHOU_GARAGE}", data=form | {"csrf_token": other}).status_code == 403
    answer = site.client().post("/login", data={"name": "wang", "password": PASSWORD, "login_token": "x"})
    assert answer.status_code == 403 and "rollout_session" not in answer.headers.get("set-cookie", "")
    assert client.post("/logout").status_code == 403


def test_user_text_is_escaped_everywhere(site) -> None:
    client = site.login("zhang")
    version = version_of(client, "garage", CHANGSHOU_GARAGE)
    form = {"csrf_token": csrf(client), "version": str(version), "blocker": EVIL, "change_day": TODAY, "change_note": EVIL}
    assert client.post(f"/records/garage/{CHANGSHOU_GARAGE}", data=form).status_code == 303
    for path in (f"/records/garage/{CHANGSHOU_GARAGE}", "/records?show=all", "/", "/records?q=" + EVIL):
        page = client.get(path)
        assert page.status_code == 200
        assert "<img src=x" not in page.text and "&lt;img src=x onerror=" in page.text, path
    record_map = client.get(f"/records/garage/{CHANGSHOU_GARAGE}/map").text
    assert "<img src=x" not in record_map
    audit = site.login("wang").get("/audit").text
    assert "<img src=x" not in audit


def test_street_coordinator_sees_and_changes_only_their_street(site) -> None:
    client = site.login("zhang")
    listing = client.get("/records?show=all").text
    table = site.platform.records().table
    mine = table[table["street_code"].eq("310107015000")]
    assert f"{len(mine)} 条" in listing
    assert all(rid in listing for rid in mine["record_id"].head(20))
    other = _garage_in(site, "310107021000")  # 真如镇
    assert other not in listing
    refused = client.get(f"/records/garage/{other}")
    assert refused.status_code == 403 and "不在你的范围内" in refused.text
    form = {"csrf_token": csrf(client), "version": "1", "blocker": "越权", "change_day": TODAY, "change_note": "x"}
    answer = client.post(f"/records/garage/{other}", data=form)
    assert answer.status_code == 403
    assert site.platform.record("garage", other)["blocker"] != "越权"
    assert client.get("/records/garage/NO-SUCH-ID").status_code == 404
    # Macro stations of the street: only the blocker may change.
    macro = str(mine[mine["kind"].eq("macro")]["record_id"].iloc[0])
    page = client.get(f"/records/macro/{macro}").text
    assert 'name="blocker"' in page and 'name="on_air_date"' not in page
    form = {
        "csrf_token": csrf(client),
        "version": str(version_of(client, "macro", macro)),
        "status": "cancelled",
        "change_day": TODAY,
        "change_note": "x",
    }
    assert client.post(f"/records/macro/{macro}", data=form).status_code == 403
    assert site.client().get("/users").status_code == 303 and client.get("/users").status_code == 403


def test_my_open_records_are_the_gaps_list_of_the_users_street(site) -> None:
    """A street coordinator's "my open records" is the street's open-records list of ``rollout gaps``
    (rollout.open_records), the same records in the same order; a district user sees every street's."""
    from rollout.open_records import open_records

    def listed(client) -> list[tuple[str, str]]:
        rows, number = [], 1
        while True:
            text = client.get(f"/records?page_number={number}").text
            rows += re.findall(r'<td><a href="/records/(macro|garage)/([^"]+)">', text)
            if f"page_number={number + 1}" not in text:
                return rows
            number += 1

    mine = listed(site.login("zhang"))
    chase = open_records(site.platform.project(), street="长寿路")
    assert len(chase) >= 3 and chase["urgency"].nunique() > 1  # a list worth ordering
    assert mine == list(zip(chase["kind"], chase["record_id"], strict=True))
    everyone = listed(site.login("wang"))
    assert everyone == list(zip(*open_records(site.platform.project())[["kind", "record_id"]].to_dict("list").values(), strict=True))
    page = site.login("zhang").get("/records").text
    blocked = chase[chase["urgency"].eq("blocked")]
    assert len(blocked) and f"受阻 {int(blocked['days_blocked'].iloc[0])} 天" in page
    assert t("gaps.urgency.on_schedule", "zh") in page and chase["urgency"].iloc[-1] == "on_schedule"


def test_operator_sees_no_other_operators_contacts(site) -> None:
    from rollout.web.accounts import issue_token

    table = site.platform.records().table
    garages = table[table["kind"].eq("garage") & table["operators"].str.contains("cmcc")]
    led = garages[garages["lead_unit"].eq("中国移动")].iloc[0]
    other = garages[garages["lead_unit"].eq("中国联通")].iloc[0]
    client = site.login("li")
    own = client.get(f"/records/garage/{led['record_id']}").text
    assert str(led["phone"]) in own and str(led["contact"]) in own
    page = client.get(f"/records/garage/{other['record_id']}").text
    assert str(other["phone"]) not in page and str(other["contact"]) not in page
    sheet = client.get(f"/records/garage/{other['record_id']}/worksheet").text
    assert str(other["phone"]) not in sheet and "仅牵头单位、街道和区级可见" in sheet
    # The same worksheet as a PDF to print (Typst, in the server's process): one page, no phone.
    pdf = client.get(f"/records/garage/{other['record_id']}/worksheet", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(pdf.content)).pages
    text = pages[0].extract_text().replace("\n", "").replace(" ", "")
    assert len(pages) == 1 and str(other["record_id"]) in text and "仅牵头单位、街道和区级可见" in text
    assert str(other["phone"]) not in text
    token, _ = issue_token(site.platform.register, "li", days=1)
    api = site.client(headers={"Authorization": f"Bearer {token}"})
    records = api.get("/api/records", params={"kind": "garage", "limit": 5000}).json()
    by_id = {r["id"]: r for r in records}
    assert by_id[led["record_id"]]["phone"] == str(led["phone"]) and "phone" not in by_id[other["record_id"]]
    assert all("phone" not in r for r in records if r["lead_unit"] != "中国移动")
    assert "phone" not in api.get(f"/api/records/garage/{other['record_id']}").json()
    # Never on a map, for anyone.
    district = site.login("wang")
    assert str(led["phone"]) not in district.get("/map").text
    assert str(led["phone"]) not in district.get(f"/records/garage/{led['record_id']}/map").text


def test_two_users_edit_the_same_record_the_second_gets_409_and_nothing_is_lost(site) -> None:
    from rollout.register import record_history

    garage = _garage_in(site, "310107015000", other_than=CHANGSHOU_GARAGE)
    first, second = site.login("zhang"), site.login("wang")
    version = version_of(first, "garage", garage)
    assert version_of(second, "garage", garage) == version
    mine = {"version": str(version), "blocker": "业委会未同意", "change_day": TODAY, "change_note": "街道协调中"}
    assert first.post(f"/records/garage/{garage}", data=mine | {"csrf_token": csrf(first)}).status_code == 303
    theirs = {"version": str(version), "blocker": "物业要求补充材料", "change_day": TODAY, "change_note": "区里核实"}
    stale = second.post(f"/records/garage/{garage}", data=theirs | {"csrf_token": csrf(second)})
    assert stale.status_code == 409
    assert "别人在你编辑期间修改了这条记录" in stale.text
    assert 'value="物业要求补充材料"' in stale.text and "当前：业委会未同意" in stale.text  # their text kept, the new value shown
    assert f'name="version" value="{version + 1}"' in stale.text
    again = theirs | {"version": str(version + 1), "csrf_token": csrf(second)}
    assert second.post(f"/records/garage/{garage}", data=again).status_code == 303
    history = record_history(site.platform.register, garage, kind="garage")
    platform_rows = history[history["channel"].eq("platform")]
    assert platform_rows["author"].tolist() == ["web:zhang", "web:wang"]
    assert platform_rows["note"].tolist() == ["街道协调中", "区里核实"]
    assert "业委会未同意" in " ".join(history["what"]) and site.platform.record("garage", garage)["blocker"] == "物业要求补充材料"


def test_edit_form_bad_input(site) -> None:
    client = site.login("wang")
    garage = _garage_in(site, "310107021000")
    version = version_of(client, "garage", garage)
    base = {"version": str(version), "change_note": "x", "change_day": TODAY}
    cases = [
        ({"status": "covered", "covered_date": "2099-01-01"}, 422, "晚于"),
        ({"status": "covered", "covered_date": "2024-13-45"}, 422, "无法识别的日期"),
        ({"blocker": "x", "change_day": "2030-01-01"}, 422, "在今天"),
        ({"blocker": "x", "change_day": "2024-01-01"}, 422, "早于这条记录最近一次报送"),
        ({"blocker": "x", "change_note": ""}, 422, "请填写变更说明"),
        ({"name": "改名"}, 422, "不能在平台上修改"),
    ]
    for fields, status, text in cases:
        answer = client.post(f"/records/garage/{garage}", data=base | fields | {"csrf_token": csrf(client)})
        assert answer.status_code == status and text in answer.text, (fields, answer.text[-600:])
    assert version_of(client, "garage", garage) == version
    unchanged = client.post(f"/records/garage/{garage}", data=base | {"csrf_token": csrf(client)})
    assert unchanged.status_code == 303 and "edit_unchanged" in unchanged.headers["location"]
    gone = client.post("/records/garage/GONE-1", data=base | {"blocker": "x", "csrf_token": csrf(client)})
    assert gone.status_code == 404


def test_api_tokens_records_and_changes(site) -> None:
    from rollout.register import record_history
    from rollout.web.accounts import issue_token, revoke_tokens, set_disabled

    register = site.platform.register
    token, _ = issue_token(register, "tie", days=1)
    api = site.client(headers={"Authorization": f"Bearer {token}"})
    assert site.client().get("/api/records").status_code == 401
    bad = site.client(headers={"Authorization": "Bearer rlt_nope"}).get("/api/records")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized" and bad.headers["www-authenticate"].startswith("Bearer")
    english = site.client(headers={"Authorization": "Bearer rlt_nope", "Accept-Language": "en-US,en;q=0.9"}).get("/api/records")
    assert english.json()["error"]["message"].startswith("the API token is not valid")
    listing = api.get("/api/records", params={"kind": "macro", "limit": 50, "offset": 0})
    total = int(listing.headers["x-total-count"])
    assert listing.status_code == 200 and len(listing.json()) == 50 and total > 100 and 'rel="next"' in listing.headers["link"]
    street = api.get("/api/records", params={"street": "长寿路", "limit": 5000}).json()
    assert street and {r["street_code"] for r in street} == {"310107015000"}
    assert api.get("/api/records", params={"kind": "tower"}).status_code == 422
    record = listing.json()[3]
    one = api.get(f"/api/records/macro/{record['id']}").json()
    assert one["version"] == record["version"] and one["status_as_of"] == record["status_as_of"]
    change = {
        "version": one["version"],
        "status": "已开通",
        "on_air_date": "2024-07-01",
        "construction_start_date": "2024-05-01",
        "site_secured_date": "2024-04-01",
        "note": "开通验收",
    }
    done = api.patch(f"/api/records/macro/{record['id']}", json=change)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["changed"] and body["version"] == one["version"] + 1 and body["status_as_of"] == "on_air"
    history = record_history(register, record["id"], kind="macro")
    assert history["author"].iloc[-1] == "web:tie" and history["channel"].iloc[-1] == "platform"
    stale = api.patch(f"/api/records/macro/{record['id']}", json=change | {"blocker": "x"})
    assert stale.status_code == 409 and stale.json()["error"]["current_version"] == one["version"] + 1
    for payload, field in [
        ({"status": "飞天"}, "status"),
        ({"on_air_date": "2024-02-30"}, "on_air_date"),
    ]:
        rejected = api.patch(f"/api/records/macro/{record['id']}", json=payload)
        assert rejected.status_code == 422 and rejected.json()["error"]["problems"][0]["column"] == field, rejected.text
    malformed = api.patch(f"/api/records/macro/{record['id']}", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422 and "不是有效的 JSON" in malformed.json()["error"]["message"]
    unknown = api.patch(f"/api/records/macro/{record['id']}", json={"colour": "red"})
    assert unknown.status_code == 422 and "未知字段 colour" in unknown.json()["error"]["message"]
    assert api.patch("/api/records/macro/NOPE", json={"blocker": "x"}).status_code == 404
    assert api.get("/api/progress", params={"as_of": "someday"}).status_code == 422
    progress = api.get("/api/progress", params={"as_of": "2024-06-30"}).json()
    district = next(s for s in progress["streets"] if s["level"] == "district")
    assert progress["as_of"] == "2024-06-30" and district["macro_target"] == 200
    set_disabled(register, "tie", True)
    try:
        assert api.get("/api/records").json()["error"]["message"].startswith("该令牌的用户已停用")
    finally:
        set_disabled(register, "tie", False)
    revoke_tokens(register, "tie")
    assert api.get("/api/records").status_code == 401
    schema = site.client().get("/api/openapi.json").json()
    assert {"/api/records", "/api/records/{kind}/{record_id}", "/api/progress"} <= set(schema["paths"])
    assert "patch" in schema["paths"]["/api/records/{kind}/{record_id}"] and "RecordChange" in json.dumps(schema)


def test_api_street_user_posting_another_streets_id(site) -> None:
    from rollout.web.accounts import issue_token

    token, _ = issue_token(site.platform.register, "zhou", days=1)
    api = site.client(headers={"Authorization": f"Bearer {token}"})
    version = site.platform.record("garage", CHANGSHOU_GARAGE)["register_version"]
    refused = api.patch(f"/api/records/garage/{CHANGSHOU_GARAGE}", json={"blocker": "越权", "version": int(version)})
    assert refused.status_code == 403 and "不在你的范围内" in refused.json()["error"]["message"]
    assert api.get(f"/api/records/garage/{CHANGSHOU_GARAGE}").status_code == 403
    assert site.platform.record("garage", CHANGSHOU_GARAGE)["register_version"] == version
    viewer, _ = issue_token(site.platform.register, "guest", days=1)
    guest = site.client(headers={"Authorization": f"Bearer {viewer}"})
    assert guest.get("/api/records").status_code == 403 and guest.get("/api/progress").status_code == 200


def test_upload_preview_confirm_and_refusals(site) -> None:
    from rollout.register import submissions_between

    client = site.login("zhang")
    page = client.get("/upload").text
    assert '<option value="长寿路街道">' in page and '<option value="铁塔">' not in page
    submission = REPO / "data" / "sites" / "submissions" / "2024-W25" / "长寿路街道_车库_0623.csv"
    data = submission.read_bytes()

    def send(who, content: bytes, name: str, source: str = "长寿路街道", **extra):
        form = {"csrf_token": csrf(who), "source": source, "kind": "", "as_of": "2024-07-01"} | extra
        return who.post("/upload", data=form, files={"file": (name, content, "text/csv")})

    preview = send(client, data, "../../长寿路街道_车库_0623.csv")
    assert preview.status_code == 200, preview.text[-800:]
    assert "导入预览" in preview.text and "确认前登记册不会改变" in preview.text
    before = len(submissions_between(site.platform.register, None, None))
    key = re.search(r'action="/upload/([^/"]+)/confirm"', preview.text).group(1)
    done = client.post(f"/upload/{key}/confirm", data={"csrf_token": csrf(client)})
    assert done.status_code == 303 and "upload_applied" in done.headers["location"]
    submitted = submissions_between(site.platform.register, None, None)
    assert len(submitted) == before + 1
    last = submitted.sort_values("submission").iloc[-1]
    assert last["source"] == "长寿路街道" and last["os_user"] == "web:zhang" and last["file_name"] == "长寿路街道_车库_0623.csv"
    assert client.post(f"/upload/{key}/confirm", data={"csrf_token": csrf(client)}).status_code == 404  # once only
    # Refused: not theirs to send, another street's rows, not a spreadsheet, too large.
    assert send(client, data, "x.csv", source="铁塔").status_code == 403
    other = site.login("zhou")
    outside = send(other, data, "x.csv", source="真如镇街道")
    assert outside.status_code == 403 and "不在你的范围内，不能导入" in outside.text and "/confirm" not in outside.text
    png = send(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "photo.csv")
    assert png.status_code == 415 and "不是 CSV 或 XLSX 文件" in png.text
    before_settings = site.platform.settings
    site.platform.settings = dataclasses.replace(before_settings, upload_max_mb=0.001)
    try:
        large = send(client, data * 3, "big.csv")
        assert large.status_code == 413 and "文件超过" in large.text
    finally:
        site.platform.settings = before_settings
    unknown_kind = send(client, b"a,b\n1,2\n", "x.csv")
    assert unknown_kind.status_code == 422
    assert send(site.login("guest"), data, "x.csv").status_code == 403


def test_packs_publish_download_and_no_traversal(site) -> None:
    district = site.login("wang")
    assert district.post("/packs/publish", data={"csrf_token": csrf(district), "week": "2099-W01"}).status_code == 422
    published = district.post("/packs/publish", data={"csrf_token": csrf(district), "week": "2024-W27"})
    assert published.status_code == 303, published.text[-500:]
    folder = site.platform.settings.packs / "2024-W27"
    assert (folder / "summary.md").is_file() and (folder / "index.html").is_file()
    viewer = site.login("guest")
    listing = viewer.get("/packs").text
    assert "2024-W27" in listing and "周报简报" in listing and "/packs/publish" not in listing
    summary = viewer.get("/packs/2024-W27/summary.md")
    assert summary.status_code == 200 and summary.text == (folder / "summary.md").read_text(encoding="utf-8")
    page = viewer.get("/packs/2024-W27/index.html")
    assert page.headers["content-security-policy"].startswith("sandbox allow-scripts")
    assert "attachment" in viewer.get("/packs/2024-W27/progress.xlsx").headers["content-disposition"]
    (site.platform.settings.packs.parent / "secret.txt").write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    for path in (
        "/packs/2024-W27/..%2F..%2Fsecret.txt",
        "/packs/..%2F/secret.txt",
        "/packs/2024-W27/%2Fetc%2Fpasswd",
        "/packs/2024-W27/.hidden",
    ):
        answer = viewer.get(path)
        assert answer.status_code == 404 and "TOP-SECRET-CONTENT" not in answer.text, path
    assert viewer.post("/packs/publish", data={"csrf_token": csrf(viewer), "week": "2024-W27"}).status_code == 403
    assert site.login("boss").get("/audit?action=publish").text.count("2024-W27") >= 1


def test_users_page_one_time_password_and_forced_change(site) -> None:
    district = site.login("wang")
    made = district.post("/users", data={"csrf_token": csrf(district), "name": "newbie", "role": "street", "street": "310107021000"})
    assert made.status_code == 200 and "newbie 的一次性密码" in made.text
    password = re.search(r"<code>([^<]+)</code>", made.text).group(1)
    assert district.post("/users", data={"csrf_token": csrf(district), "name": "root2", "role": "admin"}).status_code == 403
    newbie = site.client()
    first = post_login(newbie, "newbie", password)
    assert first.headers["location"] == "/password"
    assert newbie.get("/").headers["location"] == "/password"
    short = newbie.post("/password", data={"csrf_token": csrf(newbie, "/password"), "current": password, "new": "short", "repeat": "short"})
    assert short.status_code == 422 and "密码太短" in short.text
    good = {"csrf_token": csrf(newbie, "/password"), "current": password, "new": "a-better-password", "repeat": "a-better-password"}
    assert newbie.post("/password", data=good).status_code == 303
    assert newbie.get("/").status_code == 200
    token_page = district.post("/users/newbie/token", data={"csrf_token": csrf(district)})
    assert "newbie 的接口令牌" in token_page.text and re.search(r"<code>rlt_", token_page.text)
    assert district.post("/users/newbie/disable", data={"csrf_token": csrf(district)}).status_code == 303
    assert newbie.get("/").status_code == 303  # the session ended


def test_language_switch_and_english_pages(site) -> None:
    client = site.login("wang")
    english = client.get("/?lang=en")
    assert "Progress by street" in english.text and 'lang="en"' in english.text and "rollout_lang=en" in english.headers["set-cookie"]
    assert "Progress by street" in client.get("/").text  # the cookie keeps it
    assert "分街道进度" in client.get("/?lang=zh").text
    assert t("web.nav.records", "en") in client.get("/records?lang=en").text


def test_dashboard_shows_progress_map_burnup_and_changes(site) -> None:
    client = site.login("guest")
    page = client.get("/").text
    project = site.platform.project()
    total = project.progress().iloc[-1]
    assert f"{total['macro_done']} / {total['macro_target']}" in page and "长寿路街道" in page
    assert 'src="/map?lang=zh"' in page and 'src="/burnup.png?lang=zh"' in page
    assert client.get("/burnup.png").content.startswith(b"\x89PNG")
    the_map = client.get("/map")
    nonce = re.search(r"'nonce-([^']+)'", the_map.headers["content-security-policy"]).group(1)
    assert all(f'nonce="{nonce}"' in tag for tag in re.findall(r"<script[^>]*>", the_map.text))
    assert client.get("/records").status_code == 403 and client.get("/upload").status_code == 403
