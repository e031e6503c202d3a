"""The map's HTML, tested on its rendered content: offline assets, layers, data, escaping."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import write_text

from rollout.crs import wgs84_to_gcj02
from rollout.maps import build_map, render_map, save_map
from rollout.pipeline import load_project

EVIL = '<img src=x onerror="window.__xss=1">'


def site_data(page: str) -> dict:
    """The JSON block the page's script draws the markers from."""
    return json.loads(re.search(r'<script type="application/json" id="rollout-data">(.*?)</script>', page, re.S).group(1))


def headings(data: dict) -> list[str]:
    """The legend's section headings in page order (sections side by side included)."""
    flat = [inner for section in data["legend"] for inner in section.get("row", [section])]
    return [section["heading"] for section in flat]


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
    assert "L.control.layers" in page
    assert headings(data) == ["5G宏站", "车库小区", "标记", "街道宏站完成率（占目标 %）", "街道车库完成率（占目标 %）"]
    # Each section follows its layer: the page shows the rate of the choropleth that is on.
    assert [s.get("layer") for s in data["legend"][1:]] == [None, "macro_pct", "garage_pct"]
    assert [s["layer"] for s in data["legend"][0]["row"]] == ["macro", "garage"]
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


def test_site_text_is_never_read_as_template_code(data_dir: Path) -> None:
    """Names that look like Jinja show as written (a page rendered twice would print 49, or fail)."""
    names = ["站{{ 7*7 }}点", "{% if x %}未闭合"]
    rows = "".join(f"X{i},{name},121.429,31.2462,在建\n" for i, name in enumerate(names))
    write_text(data_dir / "sites" / "macro_stations.csv", "站址编码,站名,经度,纬度,状态\n" + rows)
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    fmap = build_map(
        project.streets, project.progress(), project.macro.records, project.garage.records, as_of=project.as_of, title="T", subtitle="S"
    )
    page = render_map(fmap)
    assert sorted(row[3] for row in site_data(page)["macro"]["rows"]) == sorted(names)
    assert "站49点" not in page


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
    assert headings(data)[0] == "5G macro stations"
    assert "Streets: garage % of target done" in headings(data)


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


def test_street_labels_carry_the_rate_of_each_measure(sample_project) -> None:
    data = site_data(render(sample_project))
    progress = sample_project.progress().set_index("street_code")
    labels = {row[2]: row[3] for row in data["streetLabels"]}
    assert len(labels) == 10
    caoyang = progress.loc[progress["street_name"] == "曹杨新村街道"].iloc[0]
    assert labels["曹杨新村街道"] == {"macro_pct": f"宏站 {caoyang['macro_pct']:.1f}%", "garage_pct": f"车库 {caoyang['garage_pct']:.1f}%"}


def test_tianditu_basemap_needs_a_key_and_moves_nothing(sample_project) -> None:
    from rollout.errors import ConfigError

    with pytest.raises(ConfigError, match=r"tianditu_key"):
        render(sample_project, basemap="tianditu")
    with pytest.raises(ConfigError, match=r"not a Tianditu key"):
        render(sample_project, basemap="tianditu", tianditu_key="abc&x=<script>")
    key = "0123456789abcdef0123456789abcdef"
    page = render(sample_project, basemap="tianditu", tianditu_key=key)
    assert "vec_w/wmts?SERVICE=WMTS" in page and f"tk={key}" in page and "cva_w" in page  # Chinese place names
    assert "eva_w" in render(sample_project, basemap="tianditu", tianditu_key=key, lang="en")
    assert "openstreetmap.org" not in page and "autonavi" not in page
    # CGCS2000 is WGS-84 to within centimetres: the vectors stay where they are.
    assert site_data(page)["macro"]["rows"][0][:2] == site_data(render(sample_project, basemap="none"))["macro"]["rows"][0][:2]


def test_unknown_basemap_is_refused(sample_project) -> None:
    from rollout.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match="osm, gaode, tianditu, none"):
        render(sample_project, basemap="google")


def test_coverage_map_opens_on_the_rsrp_scale(sample_project) -> None:
    from rollout.coverage import coverage_analysis
    from rollout.map_data import RSRP_COLORS

    coverage = coverage_analysis(sample_project)
    page = render(sample_project, coverage=coverage, show_coverage=True)
    data = site_data(page)
    rsrp = next(s for s in data["legend"] if s.get("layer") == "rsrp")
    assert rsrp["heading"] == "模型 SS-RSRP（dBm），覆盖门限 -105"
    assert [item["label"] for item in rsrp["items"]] == ["≥ -85", "-95 ~ -85", "-105 ~ -95", "-115 ~ -105", "< -115 或无信号"]
    assert [item["color"] for item in rsrp["items"]] == list(reversed(RSRP_COLORS))
    # The classes drawn are the cells' RSRP classes: every colour drawn is on the scale.
    drawn = set(re.findall(r'"fill": "(#[0-9a-f]{6})", "rsrp_class"', page))
    assert drawn and drawn <= set(RSRP_COLORS)
    assert '"className": "rsrp-class"' in page and '"className": "coverage-gap"' in page


def test_basemap_and_tianditu_key_from_rollout_toml(sample_data_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from rollout.cli import cli

    toml = sample_data_dir / "rollout.toml"
    shipped = toml.read_text(encoding="utf-8")
    key = "fedcba9876543210fedcba9876543210"
    toml.write_text(shipped.replace("[map]\n", f'[map]\nbasemap = "tianditu"\ntianditu_key = "{key}"\n'), encoding="utf-8")
    out = tmp_path / "putuo.html"
    result = CliRunner().invoke(cli, ["--data", str(sample_data_dir), "map", "--as-of", "2024-06-30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert f"tk={key}" in page and "tianditu.gov.cn" in page and "openstreetmap" not in page
    # --basemap still wins over the file.
    result = CliRunner().invoke(cli, ["--data", str(sample_data_dir), "map", "--out", str(out), "--basemap", "none"])
    assert result.exit_code == 0 and "tianditu.gov.cn" not in out.read_text(encoding="utf-8")
    # No key: one line saying where to put it, before any work is done.
    toml.write_text(shipped.replace("[map]\n", '[map]\nbasemap = "tianditu"\n'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--data", str(sample_data_dir), "weekly", "--week", "2024-W26", "--out", str(tmp_path / "maps")])
    assert result.exit_code == 2 and "[map] tianditu_key" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "maps").exists()
    toml.write_text(shipped.replace("[map]\n", '[map]\nbasemap = "google"\n'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--data", str(sample_data_dir), "map", "--out", str(out)])
    assert result.exit_code == 2 and "rollout.toml" in result.output and "'google'" in result.output
