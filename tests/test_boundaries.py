"""Street polygons: the offline approximation, importing the team's file, fetching from OSM."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely

from rollout import crs as _crs
from rollout.boundaries import district_outline, fetch_streets, import_streets, read_streets, write_streets
from rollout.config import load_config
from rollout.errors import BoundaryError


@pytest.fixture
def config(data_dir: Path):
    return load_config(data_dir)


def test_approximate_zones_partition_the_district(config, shared_data: Path) -> None:
    streets = read_streets(config)
    assert streets["street_code"].tolist() == sorted(streets["street_code"])
    assert len(streets) == 10 and (streets["source"] == "approximate").all()
    metric = streets.to_crs(_crs.METRIC_CRS)
    assert metric.area.sum() / 1e6 == pytest.approx(55.5, abs=0.3)  # published: 55.47-55.53 km²
    # No overlaps, and each seed point lies in its own zone.
    assert shapely.union_all(metric.geometry.to_numpy()).area == pytest.approx(metric.area.sum(), rel=1e-6)
    table = pd.read_csv(config.streets_table, dtype=str)
    seeds = gpd.GeoSeries.from_xy(table["seed_lon"].astype(float), table["seed_lat"].astype(float), crs=4326)
    assert streets.geometry.contains(seeds).all()
    # The outline agrees with the shared reference outline to within a metre or so.
    reference = gpd.read_file(shared_data / "putuo_district_boundary_wgs84.geojson").to_crs(_crs.METRIC_CRS).union_all()
    outline = gpd.GeoSeries([district_outline("310107")], crs=4326).to_crs(_crs.METRIC_CRS).iloc[0]
    assert outline.hausdorff_distance(reference) < 2.0


def _save_gcj(streets: gpd.GeoDataFrame, path: Path, names: list[str]) -> Path:
    moved = shapely.transform(streets.geometry.to_numpy(), lambda xy: np.column_stack(_crs.wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    gpd.GeoDataFrame({"街道名称": names}, geometry=moved, crs=4326).to_file(path, driver="GeoJSON")
    return path


def test_import_gcj02_file_matched_by_alias(config, tmp_path: Path) -> None:
    streets = read_streets(config)
    names = ["曹杨", "长风新村", "长寿路街道", "甘泉", "石泉路", "宜川", "真如镇", "万里", "长征", "桃浦镇"]
    path = _save_gcj(streets, tmp_path / "mine.geojson", names)
    imported = import_streets(path, config, crs="gcj02")
    assert imported["street_code"].tolist() == streets["street_code"].tolist()
    assert (imported["source"] == "file").all()
    error = imported.to_crs(32651).geometry.hausdorff_distance(streets.to_crs(32651).geometry)
    assert error.max() < 0.5
    write_streets(imported, config.boundaries_file)
    assert (read_streets(config)["source"] == "file").all()


def test_import_any_crs_shapefile(config, tmp_path: Path) -> None:
    streets = read_streets(config)
    path = tmp_path / "streets.shp"
    streets.assign(code=streets["street_code"])[["code", "geometry"]].to_crs(32651).to_file(path)
    imported = import_streets(path, config, code_field="code")
    assert imported.to_crs(32651).area.sum() == pytest.approx(streets.to_crs(32651).area.sum(), rel=1e-6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda names: names[:-1], "missing 310107103000 桃浦镇"),
        (lambda names: [*names[:-1], "外滩街道"], "match no street: '外滩街道'"),
        (lambda names: [*names[:-1], "长征"], "repeated 310107102000"),
    ],
)
def test_import_errors_name_the_units(config, tmp_path: Path, change, message: str) -> None:
    streets = read_streets(config)
    names = change(list(streets["name"]))
    subset = streets.iloc[: len(names)]
    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"name": names}, geometry=subset.geometry.to_numpy(), crs=4326).to_file(path)
    with pytest.raises(BoundaryError, match=message):
        import_streets(path, config, name_field="name")


def test_import_refuses_overlapping_polygons(config, tmp_path: Path) -> None:
    streets = read_streets(config)
    grown = streets.to_crs(32651).buffer(200).to_crs(4326)
    path = tmp_path / "fat.geojson"
    gpd.GeoDataFrame({"name": streets["name"]}, geometry=grown.to_numpy(), crs=4326).to_file(path)
    with pytest.raises(BoundaryError, match="overlap by"):
        import_streets(path, config)


class _FakeOSM(BaseHTTPRequestHandler):
    """Answers Nominatim's lookup endpoint and Overpass's status, like the real servers."""

    features: ClassVar[dict[str, dict]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        type(self).requests.append(url.path)
        if url.path.endswith("/status"):
            self._reply(200, "text/plain", b"Connected as: 1\nCurrent time: 2026-11-26T00:00:00Z\nRate limit: 2\n2 slots available now.\n")
            return
        if url.path.endswith("/lookup"):
            ids = parse_qs(url.query)["osm_ids"][0].split(",")
            body = json.dumps([self.features[i] for i in ids if i in self.features]).encode()
            self._reply(200, "application/json", body)
            return
        self._reply(404, "text/plain", b"not found")

    def _reply(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_osm(config, monkeypatch: pytest.MonkeyPatch):
    streets = read_streets(config)
    table = pd.read_csv(config.streets_table, dtype=str)
    features = {}
    for (_, street), relation in zip(streets.iterrows(), table.sort_values("street_code")["osm_relation_id"], strict=True):
        west, south, east, north = street.geometry.bounds
        centre = street.geometry.representative_point()
        features[f"R{relation}"] = {
            "place_id": int(relation),
            "osm_type": "relation",
            "osm_id": int(relation),
            "boundingbox": [str(south), str(north), str(west), str(east)],
            "lat": str(centre.y),
            "lon": str(centre.x),
            "display_name": f"{street['name']}, 普陀区, 上海市, 中国",
            "class": "boundary",
            "type": "administrative",
            "importance": 0.5,
            "geojson": shapely.geometry.mapping(street.geometry),
        }
    _FakeOSM.features = features
    _FakeOSM.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOSM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(ox.settings, "nominatim_url", base)
    monkeypatch.setattr(ox.settings, "overpass_url", base + "/api")
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    monkeypatch.setattr(ox.settings, "requests_timeout", 10)
    # Nominatim's usage policy makes osmnx pause a second per request; not needed here.
    monkeypatch.setattr(ox._nominatim, "time", SimpleNamespace(sleep=lambda seconds: None))
    yield streets
    server.shutdown()


def test_fetch_from_a_nominatim_server(config, fake_osm) -> None:
    fetched = fetch_streets(config)
    assert fetched["street_code"].tolist() == fake_osm["street_code"].tolist()
    assert (fetched["source"] == "osm").all()
    assert fetched.geometry.geom_equals_exact(fake_osm.geometry, tolerance=1e-9).all()
    assert _FakeOSM.requests.count("/lookup") == 10
    path = write_streets(fetched, config.boundaries_file)
    assert path.name == "putuo_streets.geojson"
    assert (read_streets(config)["source"] == "osm").all()


def test_fetch_with_a_missing_relation_fails_clearly(config, fake_osm) -> None:
    _FakeOSM.features.pop(next(iter(_FakeOSM.features)))
    with pytest.raises(BoundaryError, match="returned 0 results"):
        fetch_streets(config)


def test_fetch_with_no_server_fails_clearly(config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ox.settings, "nominatim_url", "http://127.0.0.1:9")
    monkeypatch.setattr(ox.settings, "use_cache", False)
    monkeypatch.setattr(ox._nominatim, "time", SimpleNamespace(sleep=lambda seconds: None))
    with pytest.raises(BoundaryError, match=r"could not fetch street boundaries from http://127\.0\.0\.1:9"):
        fetch_streets(config)


def test_import_refuses_files_without_geometry_and_unknown_crs(config, tmp_path: Path) -> None:
    with pytest.raises(BoundaryError, match="no geometries"):
        import_streets(config.streets_table, config)
    path = tmp_path / "streets.geojson"
    read_streets(config).to_file(path)
    with pytest.raises(BoundaryError, match=r"--crs 'foo' is not a coordinate system"):
        import_streets(path, config, crs="foo")
