"""The platform end to end in Chromium (Playwright, Debian's chromium), offline: a street coordinator
updates a garage and sees it on the dashboard and is refused another street's record; an operator sees
no other operator's contacts; no page breaks its Content-Security-Policy or runs injected script.
Screenshots of every page at 1366x768 in both languages go to ``$ROLLOUT_SCREENSHOTS`` when set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_maps import EVIL
from web_helpers import CHANGSHOU_GARAGE, PASSWORD, TODAY, sample_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with sample_site(tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture(autouse=True)
def _today(monkeypatch) -> None:
    monkeypatch.setenv("ROLLOUT_TODAY", TODAY)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_as(browser, site):
    """A page logged in as a user, with only 127.0.0.1 reachable; CSP reports and script errors collected."""
    contexts = []

    def opener(name: str):
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.on("console", lambda m: page.problems.append(m.text) if "Content Security Policy" in m.text else None)
        context.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
        page.goto(site.url + "/login")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(site.url + "/")
        return page

    yield opener
    for context in contexts:
        context.close()


def _wait_for_image(page, selector: str) -> None:
    """Wait until an image has loaded (polled: the page's CSP allows no evaluated strings)."""
    for _ in range(600):
        if page.locator(selector).evaluate("img => img.naturalWidth") > 500:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} did not load")


def _shot(page, name: str) -> None:
    folder = os.environ.get("ROLLOUT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def test_street_coordinator_updates_a_garage_and_sees_it_on_the_dashboard(open_as, site) -> None:
    page = open_as("zhang")
    page.click("text=我的待办记录")
    page.wait_for_selector("table.records")
    _shot(page, "records_zh")
    page.click(f"a:text-is('{CHANGSHOU_GARAGE}')")
    page.wait_for_selector("form.edit")
    page.select_option("select[name=status]", "covered")
    page.fill("input[name=covered_date]", "2024-07-02")
    page.fill("input[name=blocker]", EVIL)
    page.fill("input[name=change_note]", "现场核实：地库信号已覆盖")
    page.click("form.edit button[type=submit]")
    page.wait_for_selector("p.notice")
    assert "已保存" in page.inner_text("p.notice")
    assert page.evaluate("window.__xss") is None
    page.wait_for_selector("table.history")
    assert "web:zhang" in page.inner_text("table.history") and "现场核实：地库信号已覆盖" in page.inner_text("table.history")
    page.frame_locator("iframe.worksheet").locator("h1").wait_for()
    _shot(page, "record_zh")
    page.click("text=总览")
    page.wait_for_selector("table.progress")
    changes = page.inner_text("main")
    assert CHANGSHOU_GARAGE in changes and "已覆盖" in changes
    row = page.locator("table.progress tr", has_text="长寿路街道")
    assert re.search(r"\d+ / \d+", row.inner_text())
    page.frame_locator("iframe.map").locator(".leaflet-container").wait_for()
    page.frame_locator("iframe.map").locator(".leaflet-interactive").first.wait_for()
    _wait_for_image(page, "img.burnup")
    _shot(page, "dashboard_zh")
    # Another street's record: refused.
    table = site.platform.records().table
    other = table[table["kind"].eq("garage") & table["street_code"].eq("310107021000")]["record_id"].iloc[0]
    answer = page.goto(f"{site.url}/records/garage/{other}")
    assert answer.status == 403 and "不在你的范围内" in page.inner_text("main")
    assert page.evaluate("window.__xss") is None and page.problems == []


def test_operator_sees_no_other_operators_contacts(open_as, site) -> None:
    table = site.platform.records().table
    garages = table[table["kind"].eq("garage") & table["operators"].str.contains("cmcc")]
    other = garages[garages["lead_unit"].ne("中国移动")].iloc[0]
    page = open_as("li")
    page.goto(f"{site.url}/records/garage/{other['record_id']}")
    page.frame_locator("iframe.worksheet").locator("h1").wait_for()
    text = page.inner_text("body") + page.frame_locator("iframe.worksheet").locator("body").inner_text()
    assert str(other["phone"]) not in text and str(other["contact"]) not in text and "仅牵头单位、街道和区级可见" in text
    page.goto(f"{site.url}/records?show=all")
    assert str(other["phone"]) not in page.content()
    assert page.problems == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_within_its_policy(open_as, site, lang: str) -> None:
    page = open_as("boss")
    pages = {
        "dashboard": "/",
        "records": "/records",
        "record_macro": "/records/macro/PT-5G-0039",
        "upload": "/upload",
        "conflicts": "/conflicts",
        "packs": "/packs",
        "users": "/users",
        "audit": "/audit",
        "password": "/password",
    }
    for name, path in pages.items():
        answer = page.goto(f"{site.url}{path}?lang={lang}")
        assert answer.status == 200, path
        page.wait_for_load_state("networkidle")
        if name == "dashboard":
            page.frame_locator("iframe.map").locator(".leaflet-interactive").first.wait_for()
            _wait_for_image(page, "img.burnup")
        _shot(page, f"{name}_{lang}")
    assert page.problems == [], page.problems
    login = page.context.browser.new_page(viewport={"width": 1366, "height": 768})
    login.goto(f"{site.url}/login?lang={lang}")
    _shot(login, f"login_{lang}")
    login.close()
