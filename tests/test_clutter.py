"""Clutter classes: names, polygon files, OpenStreetMap building density (against a local fake Overpass)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import osmnx as ox
import pytest
import shapely
from click.testing import CliRunner
from conftest import write_text

from rollout.boundaries import read_street_table
from rollout.cli import cli
from rollout.clutter import clutter_code, fetch_building_clutter, load_clutter, read_clutter
from rollout.config import load_config
from rollout.coverage import district_crs
from rollout.errors import ConfigError, InputFileError
from rollout.pipeline import load_project

#: A block of 600 m x 600 m fully built over in 长寿路街道 (WGS-84 centre).
BLOCK = (121.4290, 31.2462)


def test_class_names_in_chinese_and_english() -> None:
    assert [clutter_code(v) for v in ("密集市区", "一般市区", "郊区", "开阔地", "Dense Urban", "suburban", "农村")] == [
        "dense_urban",
        "urban",
        "suburban",
        "open",
        "dense_urban",
        "suburban",
        "open",
    ]
    assert clutter_code("森林") is None


def test_streets_csv_gives_a_class_per_street(data_dir: Path) -> None:
    config = load_config(data_dir)
    clutter = load_clutter(config, read_street_table(config))
    assert clutter.by_street["310107015000"] == "dense_urban" and clutter.by_street["310107103000"] == "suburban"
    streets = data_dir / "boundaries" / "streets.csv"
    streets.write_text(streets.read_text(encoding="utf-8").replace(",suburban\n", ",森林\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"street 310107103000 has clutter '森林'"):
        load_clutter(config, read_street_table(config))


def test_polygon_file_with_a_bad_class_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clutter.geojson"
    gpd.GeoDataFrame({"场景": ["郊区", "湿地"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4326).to_file(path)
    with pytest.raises(InputFileError, match=r"feature 2, 场景 = '湿地': not a clutter class"):
        read_clutter(path)
    no_column = tmp_path / "plain.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(no_column)
    with pytest.raises(InputFileError, match="no clutter class column"):
        read_clutter(no_column)


class _FakeOverpass(BaseHTTPRequestHandler):
    """Answers Overpass's interpreter with building ways, like the real server."""

    elements: ClassVar[list[dict]] = []
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        type(self).requests.append(self.path)
        if not self.path.endswith("/interpreter") or "building" not in body:
            self._reply(404, b"not found")
            return
        self._reply(200, json.dumps({"version": 0.6, "elements": self.elements}).encode())

    do_GET = do_POST

    def _reply(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _buildings(streets: gpd.GeoDataFrame) -> list[dict]:
    crs = district_crs(streets)
    centre = gpd.GeoSeries.from_xy([BLOCK[0]], [BLOCK[1]], crs=4326).to_crs(crs).iloc[0]
    elements, node = [], 1
    for dx in (-300, 0):  # two 300 m x 600 m buildings side by side
        box = shapely.box(centre.x + dx, centre.y - 300, centre.x + dx + 300, centre.y + 300)
        ring = gpd.GeoSeries([box], crs=crs).to_crs(4326).iloc[0].exterior.coords
        ids = []
        for lon, lat in list(ring)[:-1]:
            elements.append({"type": "node", "id": node, "lat": lat, "lon": lon})
            ids.append(node)
            node += 1
        elements.append({"type": "way", "id": 1000 + node, "nodes": [*ids, ids[0]], "tags": {"building": "apartments"}})
    return elements


@pytest.fixture
def fake_overpass(monkeypatch: pytest.MonkeyPatch, data_dir: Path):
    streets = load_project(data_dir, macro=[], garage=[_garage(data_dir)]).streets
    _FakeOverpass.elements = _buildings(streets)
    _FakeOverpass.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOverpass)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{server.server_address[1]}/api")
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    monkeypatch.setattr(ox.settings, "requests_timeout", 10)
    yield streets
    server.shutdown()


def _garage(data_dir: Path) -> Path:
    return write_text(data_dir / "sites" / "garage_compounds.csv", "小区编码,经度,纬度,状态,户数\nG1,121.4290,31.2462,未启动,500\n")


def test_building_density_from_openstreetmap(fake_overpass) -> None:
    clutter = fetch_building_clutter(fake_overpass)
    assert _FakeOverpass.requests and all(r.endswith("/interpreter") for r in _FakeOverpass.requests)
    dense = clutter[clutter["clutter"] == "dense_urban"]
    # The 600 m block holds at least the 250 m squares wholly inside it (4), at most those it touches (16).
    assert 4 <= len(dense) <= 16
    assert (dense["building_share"] >= 0.30).all()
    assert dense.union_all().contains(shapely.Point(BLOCK))
    assert set(clutter["clutter"]) <= {"dense_urban", "urban", "suburban", "open"} and (clutter["clutter"] == "open").sum() > 500


def test_coverage_with_osm_clutter_and_offline(fake_overpass, data_dir: Path, tmp_path: Path) -> None:
    write_text(data_dir / "sites" / "macro_stations.csv", "站址编码,经度,纬度,状态,开通日期\nS1,121.4290,31.2462,已开通,2024-01-10\n")
    runner = CliRunner()
    args = ["--data", str(data_dir), "coverage", "--as-of", "2024-06-30", "--clutter", "osm", "--out", str(tmp_path / "c")]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    kept = data_dir / "boundaries" / "clutter_osm.geojson"
    assert kept.is_file() and f"保存为 {kept}" in result.output
    assert "地物类型：来自 OpenStreetMap 建筑密度" in result.output and "密集市区" in result.output
    # Offline: the streets' defaults are used and the output says so.
    ox.settings.overpass_url = "http://127.0.0.1:9/api"
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "无法从 OpenStreetMap 获取建筑物" in result.output and "改用各街道默认地物类型" in result.output
    assert "地物类型：按街道默认（streets.csv 的 clutter 列）" in result.output
    # The kept file can be named later, with no network.
    again = runner.invoke(cli, [*args[:-4], "--clutter", str(kept), "--out", str(tmp_path / "d")], catch_exceptions=False)
    assert again.exit_code == 0 and "地物类型：来自多边形文件" in again.output
