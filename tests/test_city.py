"""A city configuration with several districts: progress rolls up street -> district -> city."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import REPO

from rollout.boundaries import district_outline, read_streets
from rollout.cli import cli
from rollout.config import load_config
from rollout.errors import ConfigError
from rollout.gaps import street_gaps
from rollout.pipeline import load_project
from rollout.weekly import build_weekly_pack

JINGAN = "310106"


@pytest.fixture
def city_dir(tmp_path: Path) -> Path:
    data = tmp_path / "city"
    (data / "boundaries").mkdir(parents=True)
    (data / "sites").mkdir()
    (data / "rollout.toml").write_text(
        """
[city]
code = "310100"
name = "上海市"
name_en = "Shanghai"
macro_target = 210

[[districts]]
code = "310107"
name = "普陀区"
name_en = "Putuo District"
macro_target = 200
garage_target = 50

[[districts]]
code = "310106"
name = "静安区"
name_en = "Jing'an District"
macro_target = 10
garage_target = 4

[plan]
year = 2024
start = 2024-01-01
deadline = 2024-12-31
""",
        encoding="utf-8",
    )
    streets = pd.read_csv(REPO / "data" / "boundaries" / "streets.csv", dtype=str, keep_default_na=False)
    streets["district_code"] = "310107"
    outline = district_outline(JINGAN)
    xmin, ymin, xmax, ymax = outline.bounds
    middle = (ymin + ymax) / 2
    north = outline.intersection(shapely.box(xmin, middle, xmax, ymax)).representative_point()
    south = outline.intersection(shapely.box(xmin, ymin, xmax, middle)).representative_point()
    jingan = pd.DataFrame(
        {
            "street_code": ["310106901000", "310106902000"],
            "name": ["静安北片", "静安南片"],
            "name_en": ["Jing'an North", "Jing'an South"],
            "kind": "subdistrict",
            "seed_lon": [str(north.x), str(south.x)],
            "seed_lat": [str(north.y), str(south.y)],
            "district_code": JINGAN,
        }
    )
    pd.concat([streets, jingan], ignore_index=True).fillna("").to_csv(data / "boundaries" / "streets.csv", index=False)
    targets = pd.read_csv(REPO / "data" / "targets.csv", dtype={"street_code": str})
    extra = pd.DataFrame(
        {
            "street_code": ["310106901000", "310106902000"],
            "street_name": ["静安北片", "静安南片"],
            "macro_target": [6, 4],
            "garage_target": [2, 2],
        }
    )
    pd.concat([targets, extra], ignore_index=True).to_csv(data / "targets.csv", index=False)
    shutil.copy(REPO / "data" / "sites" / "garage_compounds.csv", data / "sites" / "garage_compounds.csv")
    macro = pd.read_csv(REPO / "data" / "sites" / "macro_stations.csv", encoding="gb18030", dtype=str, keep_default_na=False)
    added = pd.DataFrame(
        {
            "站址编码": ["JA-1", "JA-2"],
            "经度": [str(north.x), str(south.x)],
            "纬度": [str(north.y), str(south.y)],
            "状态": "已开通",
            "开通日期": "2024-05-01",
            "计入目标": "是",
        }
    )
    pd.concat([macro, added], ignore_index=True).fillna("").to_csv(data / "sites" / "macro_stations.csv", index=False)
    return data


def test_progress_rolls_up_streets_to_districts_to_the_city(city_dir: Path) -> None:
    config = load_config(city_dir)
    assert config.is_city and config.district_code == "310100" and config.macro_target == 210
    streets = read_streets(config)
    assert len(streets) == 12 and streets.geometry.is_valid.all()
    project = load_project(city_dir, as_of=dt.date(2024, 6, 30))
    jingan_sites = project.macro.records[project.macro.records["site_id"].str.startswith("JA")]
    assert sorted(jingan_sites["street_code"]) == ["310106901000", "310106902000"]
    table = project.progress()
    assert table["level"].tolist() == ["street"] * 12 + ["district", "district", "city"]
    rows = table.set_index("street_code")
    putuo, jingan, city = rows.loc["310107"], rows.loc[JINGAN], rows.loc["310100"]
    streets_only = table[table["level"] == "street"]
    assert putuo["macro_target"] == 200 and jingan["macro_target"] == 10 and city["macro_target"] == 210
    assert jingan["macro_done"] == 2 == streets_only[streets_only["district_code"] == JINGAN]["macro_done"].sum()
    assert putuo["macro_done"] == 81  # as in the district configuration
    assert city["macro_done"] == putuo["macro_done"] + jingan["macro_done"]
    assert city["macro_pct"] == round(city["macro_done"] / 210 * 100, 1)


def test_district_targets_are_checked(city_dir: Path) -> None:
    targets = pd.read_csv(city_dir / "targets.csv", dtype={"street_code": str})
    targets.loc[targets["street_code"] == "310106901000", "macro_target"] = 7
    targets.to_csv(city_dir / "targets.csv", index=False)
    with pytest.raises(ConfigError, match="静安区's target"):
        load_project(city_dir, as_of=dt.date(2024, 6, 30)).progress()
    config = city_dir / "rollout.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("macro_target = 210", "macro_target = 999"), encoding="utf-8")
    with pytest.raises(ConfigError, match="districts' targets sum to 210"):
        load_config(city_dir)


def test_gaps_and_weekly_pack_in_a_city(city_dir: Path, tmp_path: Path) -> None:
    project = load_project(city_dir, as_of=dt.date(2024, 6, 30))
    report = street_gaps(project)
    ranked = report.summary[report.summary["level"] == "street"]
    assert ranked["attention_rank"].tolist() == list(range(1, 13))
    assert report.summary["street_code"].iloc[-1] == "310100"
    pack = build_weekly_pack(project, tmp_path / "maps")
    assert (pack.folder / "index.html").exists()
    assert "上海市" in (pack.folder / "summary.md").read_text(encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--data", str(city_dir), "progress", "--as-of", "2024-06-30", "--format", "csv"], catch_exceptions=False
    )
    assert result.exit_code == 0 and result.output.count(",district,") == 2
