"""The map in a real browser: Debian's Chromium through Playwright, offline, from file://."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import REPO
from test_maps import EVIL

from rollout.boundaries import district_outline
from rollout.maps import build_map, save_map
from rollout.pipeline import load_project
from rollout.weekly import build_weekly_pack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _points_in_putuo(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random points inside the district outline."""
    outline = district_outline("310107")
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = outline.bounds
    x, y = rng.uniform(xmin, xmax, 5 * n), rng.uniform(ymin, ymax, 5 * n)
    inside = shapely.contains_xy(outline, x, y)
    return x[inside][:n], y[inside][:n]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """Open a local HTML file with every non-file request blocked; collect script errors."""
    pages = []

    def opener(path: Path, *, width: int = 1300, height: int = 900):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.errors = []
        page.blocked = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))

        def route(route):
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                page.blocked.append(route.request.url)
                route.abort()

        page.route("**/*", route)
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.__rollout !== undefined && window.__rollout.fitted()", timeout=20_000)
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()


@pytest.fixture(scope="module")
def sample_pack(tmp_path_factory) -> Path:
    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    return build_weekly_pack(project, tmp_path_factory.mktemp("maps")).folder / "index.html"


def test_sample_map_renders_offline(open_page, sample_pack: Path) -> None:
    page = open_page(sample_pack)
    assert page.locator(".leaflet-container").count() == 1
    assert page.locator("path.street-zone").count() == 10  # the macro choropleth; the garage one starts hidden
    assert page.locator(".site-marker").count() == 230 + 60
    assert page.locator(".site-marker.macro").count() == 230
    assert page.locator(".street-label").count() == 10
    assert "街道边界为近似示意" in page.locator(".rollout-title").inner_text()
    assert page.locator(".rollout-legend").is_visible()
    assert all(not url.startswith(("http://", "https://")) or "tile" in url for url in page.blocked)  # only tiles asked for
    assert page.errors == []


def test_clicking_a_marker_opens_its_popup(open_page, sample_pack: Path) -> None:
    page = open_page(sample_pack)
    page.locator('.site-marker[title="PT-5G-0005"]').click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "PT-5G-0005" in popup.inner_text()
    assert "联系" not in popup.inner_text()


def test_search_finds_and_opens_a_site(open_page, sample_pack: Path) -> None:
    page = open_page(sample_pack)
    page.fill(".rollout-search input", "PT-5G-0042")
    page.locator(".rollout-search-results li").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "PT-5G-0042" in popup.inner_text()


def test_markup_in_a_site_name_shows_as_text(open_page, data_dir: Path, tmp_path: Path) -> None:
    quoted = '"' + EVIL.replace('"', '""') + '"'
    (data_dir / "sites" / "macro_stations.csv").write_text(
        f"站址编码,站名,经度,纬度,状态\nX1,{quoted},121.429,31.2462,在建\n", encoding="utf-8"
    )
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    fmap = build_map(
        project.streets, project.progress(), project.macro.records, project.garage.records, as_of=project.as_of, title=EVIL, subtitle="s"
    )
    page = open_page(save_map(fmap, tmp_path / "evil.html"))
    page.locator('.site-marker[title="X1"]').click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert EVIL in popup.inner_text()
    assert page.locator(".leaflet-popup-content img").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.errors == []


def _generated_map(open_page, data_dir: Path, path: Path, n: int, *, seed: int, prefix: str, **cells: str):
    """Open the map of ``n`` random macro stations in Putuo, all with the given ``cells``."""
    x, y = _points_in_putuo(n, seed=seed)
    frame = pd.DataFrame({"站址编码": [f"{prefix}{i:04d}" for i in range(n)], "经度": x.round(6), "纬度": y.round(6)} | cells)
    frame.to_csv(data_dir / "sites" / "macro_stations.csv", index=False)
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    fmap = build_map(
        project.streets, project.progress(), project.macro.records, project.garage.records, as_of=project.as_of, title="t", subtitle="s"
    )
    return open_page(save_map(fmap, path))


def test_many_markers_are_clustered_and_all_counted(open_page, data_dir: Path, tmp_path: Path) -> None:
    page = _generated_map(open_page, data_dir, tmp_path / "many.html", 800, seed=7, prefix="C", 状态="已开通", 开通日期="2024-03-01")
    count = """() => {
        const clusters = [...document.querySelectorAll('.marker-cluster span')].reduce((n, s) => n + Number(s.textContent), 0);
        return clusters + document.querySelectorAll('.site-marker').length;
    }"""
    page.wait_for_function(f"({count})() === 800", timeout=20_000)
    assert page.locator(".marker-cluster").count() > 0
    assert page.evaluate("window.__rollout.sites.macro.markers.length") == 800


def test_very_many_sites_are_shown_as_counted_grid_cells(
    open_page, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rollout import maps

    monkeypatch.setattr(maps, "AGGREGATE_THRESHOLD", 500)
    page = _generated_map(open_page, data_dir, tmp_path / "grid.html", 900, seed=8, prefix="G", 状态="在建", 开工日期="2024-05-01")
    assert page.evaluate("window.__rollout.siteCount('macro')") == 900
    assert page.evaluate("window.__rollout.sites.macro.aggregated") is True
    assert "已按 250 米网格汇总显示" in page.locator(".rollout-title").inner_text()
    assert page.locator(".site-marker").count() == 0
    page.fill(".rollout-search input", "G0123")
    page.locator(".rollout-search-results li").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "G0123" in popup.inner_text() and "在建" in popup.inner_text()
    assert page.errors == []


def _overlap(a: dict, b: dict) -> bool:
    """Whether two bounding boxes share any area."""
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def _inside(box: dict, width: int, height: int) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def _controls_apart(page, width: int, height: int) -> None:
    page.wait_for_function("window.__rollout.fitted()")  # the legend is fitted once a frame
    legend = page.locator(".rollout-legend").bounding_box()
    layers = page.locator(".leaflet-control-layers").bounding_box()
    title = page.locator(".rollout-title").bounding_box()
    attribution = page.locator(".leaflet-control-attribution").bounding_box()
    boxes = {"legend": legend, "layers": layers, "title": title, "attribution": attribution}
    for name, box in boxes.items():
        assert box is not None and box["height"] > 0, name
        assert _inside(box, width, height), (name, box)
    names = list(boxes)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert not _overlap(boxes[first], boxes[second]), (first, second, boxes[first], boxes[second])


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1600, 1000)])
def test_controls_labels_scale_and_attribution(open_page, sample_pack: Path, width: int, height: int) -> None:
    page = open_page(sample_pack, width=width, height=height)
    _controls_apart(page, width, height)
    # Street labels: all ten on screen, with the macro rate, in a pane above the markers.
    labels = page.locator(".street-label")
    assert labels.count() == 10
    for i in range(10):
        label = labels.nth(i)
        assert label.is_visible()
        assert _inside(label.bounding_box(), width, height)
        assert re.search(r"宏站 \d+\.\d%", label.inner_text())
    panes = page.evaluate(
        """() => {
            const z = (node) => Number(getComputedStyle(node).zIndex);
            const label = document.querySelector('.street-label').closest('.leaflet-pane');
            const marker = document.querySelector('.site-marker').closest('.leaflet-pane');
            return [z(label), z(marker), label === marker];
        }"""
    )
    assert panes[0] > panes[1] and not panes[2]
    # A label drawn over a marker hides the marker, not the other way round.
    covered = page.evaluate(
        """() => {
            const boxes = [...document.querySelectorAll('.street-label')].map((n) => n.getBoundingClientRect());
            return [...document.querySelectorAll('.site-marker')].filter((m) => {
                const r = m.getBoundingClientRect();
                return boxes.some((b) => r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom);
            }).length;
        }"""
    )
    assert covered > 0  # the sample has markers under labels, so the pane order matters
    # Metric scale only, and Leaflet's prefix without its flag.
    assert page.locator(".leaflet-control-scale-line").count() == 1
    assert re.fullmatch(r"\d+ k?m", page.locator(".leaflet-control-scale-line").inner_text())
    attribution = page.locator(".leaflet-control-attribution")
    assert "Leaflet" in attribution.inner_text()
    assert attribution.locator("svg").count() == 0 and page.locator(".leaflet-attribution-flag").count() == 0
    # No network: the tiles fail, the page says so, and the district outline is drawn.
    page.locator(".rollout-offline").wait_for(state="visible", timeout=10_000)
    assert "底图瓦片无法加载" in page.locator(".rollout-title").inner_text()
    assert page.locator("path.district-outline").count() == 1
    _controls_apart(page, width, height)  # the note made the title taller: still apart


@pytest.mark.parametrize(("width", "height"), [(1280, 720)])
def test_switching_the_choropleth_switches_legend_and_labels(open_page, sample_pack: Path, width: int, height: int) -> None:
    page = open_page(sample_pack, width=width, height=height)
    legend = page.locator(".rollout-legend")
    assert "街道宏站完成率" in legend.inner_text() and "街道车库完成率" not in legend.inner_text()
    page.get_by_label("车库完成率（街道）").check()
    page.get_by_label("宏站完成率（街道）").uncheck()
    assert "街道车库完成率" in legend.inner_text() and "街道宏站完成率" not in legend.inner_text()
    label = page.locator(".street-label").first.inner_text()
    assert re.search(r"车库 (\d+\.\d%|—)", label) and "宏站" not in label
    _controls_apart(page, width, height)
    page.get_by_label("5G宏站").uncheck()  # a legend section follows its layer
    assert "规划" not in legend.inner_text() and "未启动" in legend.inner_text()
    assert page.errors == []


def test_coverage_map_opens_on_coverage_with_its_scale(open_page, tmp_path: Path) -> None:
    from rollout.coverage import coverage_analysis
    from rollout.maps import build_project_map

    project = load_project(REPO / "data", as_of=dt.date(2024, 6, 30))
    fmap = build_project_map(project, title="覆盖", coverage=coverage_analysis(project), show_coverage=True)
    page = open_page(save_map(fmap, tmp_path / "coverage.html"), width=1280, height=720)
    assert page.locator("path.rsrp-class").count() >= 4
    assert page.locator("path.coverage-gap").count() > 0
    assert page.locator("path.street-zone").count() == 0  # the choropleths start off
    legend = page.locator(".rollout-legend").inner_text()
    assert "模型 SS-RSRP（dBm），覆盖门限 -105" in legend and "≥ -85" in legend and "覆盖缺口" in legend
    assert "完成率" not in legend
    _controls_apart(page, 1280, 720)
    assert page.errors == []
