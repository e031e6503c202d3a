"""The map's HTML, tested on its rendered content: offline assets, layers, data, escaping."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import write_text

from rollout.crs import wgs84_to_gcj02
from rollout.maps import build_map, save_map
from rollout.pipeline import load_project

EVIL = '<img src=x onerror="window.__xss=1">'


def site_data(page: str) -> dict:
    """The JSON block the page's script draws the markers from."""
    return json.loads(re.search(r'<script type="application/json" id="rollout-data">(.*?)</script>', page, re.S).group(1))


def render(project, **options) -> str:
    progress = project.progress()
    fmap = build_map(
        project.streets, progress, project.macro.records, project.garage.records,
        as_of=project.as_of, title="T", subtitle="S", approximate=project.approximate, **options,
    )  # fmt: skip
    return fmap.get_root().render()


@pytest.fixture(scope="module")
def sample_project():
    from conftest import REPO

    return load_project(REPO / "data", as_of=dt.date(2024, 6, 30))


def test_no_cdn_every_asset_inline(sample_project) -> None:
    page = render(sample_project)
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+stylesheet", page)
    assert "cdn.jsdelivr" not in page and "code.jquery" not in page
    assert "Leaflet 1.9.3" in page or '"1.9.3"' in page
    assert "MarkerClusterGroup" in page
    assert "url(images/" not in page  # Leaflet's CSS images are data URIs


def test_layers_streets_and_sites(sample_project) -> None:
    page = render(sample_project)
    data = site_data(page)
    assert len(data["macro"]["rows"]) == len(sample_project.macro.records) == 230
    assert len(data["garage"]["rows"]) == 60
    assert len(re.findall(r'"street_code": "310107\d{6}"', page)) == 20  # two choropleth layers of 10 streets
    assert '"className": "street-zone"' in page
    for label in ("宏站完成率（街道）", "车库完成率（街道）", "街道名称", "5G宏站", "车库覆盖小区", "OpenStreetMap"):
        assert label in page or json.dumps(label)[1:-1] in page  # the layer control escapes to ASCII
    assert data["approximate"] == "街道边界为近似示意"
    assert "L.control.layers" in page and "L.control.scale" in page
    assert [section["heading"] for section in data["legend"]] == ["5G宏站", "车库小区", "标记", "街道完成率"]
    statuses = {row[4] for row in data["macro"]["rows"]}
    assert statuses <= {"planned", "site_secured", "under_construction", "on_air", "blocked", "cancelled"}
    assert sum(row[4] == "on_air" for row in data["macro"]["rows"]) == 82  # 81 counted toward the target + 1 that is not


def test_tooltips_carry_the_street_numbers(sample_project) -> None:
    page = render(sample_project)
    progress = sample_project.progress().set_index("street_code")
    changshou = progress.loc["310107015000"]
    feature = re.search(
        r'"done": (\d+), "expected": "([^"]+)", "fill": "[^"]+", "name": "[^"]+", "pace": "[^"]+", '
        r'"pct": "([^"]+)", "remaining": (\d+), "street_code": "310107015000", "target": (\d+)',
        page,
    )
    assert feature.groups() == (
        str(changshou["macro_done"]),
        f"{changshou['macro_expected']:.1f}",
        f"{changshou['macro_pct']:.1f}%",
        str(changshou["macro_remaining"]),
        str(changshou["macro_target"]),
    )
    assert "GeoJsonTooltip" in page or "bindTooltip" in page


def test_changed_records_stand_out(sample_project) -> None:
    data = site_data(render(sample_project, changed={"macro": {"PT-5G-0115"}}))
    flagged = [row[2] for row in data["macro"]["rows"] if row[5]]
    assert flagged == ["PT-5G-0115"]


def test_no_contact_or_phone_on_the_map(sample_project) -> None:
    page = render(sample_project)
    garage = sample_project.garage.records
    for phone in garage["phone"]:
        assert phone not in page
    for contact in garage["contact"].unique():
        assert contact not in page
    assert "联系电话" not in page


def test_untrusted_text_never_raw(data_dir: Path) -> None:
    quoted = '"' + EVIL.replace('"', '""') + '"'
    write_text(data_dir / "sites" / "macro_stations.csv", f"站址编码,站名,经度,纬度,状态\nX1,{quoted},121.429,31.2462,在建\n")
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    page = render(project)
    assert EVIL not in page and "<img src=x" not in page
    assert site_data(page)["macro"]["rows"][0][3] == EVIL  # kept as text, shown with textContent


def test_gaode_basemap_shifts_vectors_to_gcj02(sample_project) -> None:
    plain = site_data(render(sample_project, basemap="none"))
    gaode_page = render(sample_project, basemap="gaode")
    gaode = site_data(gaode_page)
    lat, lon = plain["macro"]["rows"][0][:2]
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert gaode["macro"]["rows"][0][:2] == [round(float(glat), 6), round(float(glon), 6)]
    assert "autonavi.com" in gaode_page and "openstreetmap.org" not in gaode_page
    assert "tile.openstreetmap" not in render(sample_project, basemap="none")


def test_english_labels(sample_project) -> None:
    page = render(sample_project, lang="en")
    data = site_data(page)
    assert "Macro % done (streets)" in page and "Caoyang Xincun Subdistrict" in page
    assert data["approximate"] == "approximate street zones"
    assert data["macro"]["statusLabels"]["on_air"] == "on air"
    assert data["legend"][0]["heading"] == "5G macro stations"


def test_saved_page_is_reproducible(sample_project, tmp_path: Path) -> None:
    def once(name: str) -> bytes:
        fmap = build_map(
            sample_project.streets,
            sample_project.progress(),
            sample_project.macro.records,
            sample_project.garage.records,
            as_of=sample_project.as_of,
            title="T",
            subtitle="S",
        )
        return save_map(fmap, tmp_path / name).read_bytes()

    assert once("a.html") == once("b.html")
