"""The weekly pack: files, numbers that agree with `rollout progress`, determinism, atomicity."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_text

from rollout.charts import cjk_font
from rollout.cli import cli
from rollout.pipeline import load_project
from rollout.schema import MACRO
from rollout.weekly import PACK_FILES, build_weekly_pack, iso_week, status_changes, week_end, weekly_pack
from rollout.writers import files


def test_iso_weeks() -> None:
    assert week_end("2024-W26") == dt.date(2024, 6, 30)
    assert week_end("2024w01") == dt.date(2024, 1, 7)
    assert iso_week(dt.date(2024, 12, 30)) == "2025-W01"
    with pytest.raises(ValueError, match="2024-W26"):
        week_end("June")
    with pytest.raises(ValueError):
        week_end("2024-W54")


def test_status_changes_between_two_days() -> None:
    records = pd.DataFrame(
        {
            "site_id": ["A", "B", "C"],
            "name": ["a", "b", "c"],
            "street_code": ["1", "1", "2"],
            "street_name": ["x", "x", "y"],
            "status": ["on_air", "under_construction", "blocked"],
            "site_secured_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01"]),
            "construction_start_date": pd.to_datetime(["2024-02-01", "2024-06-26", None]),
            "on_air_date": pd.to_datetime(["2024-06-28", None, None]),
            "status_date": pd.to_datetime([None, None, "2024-06-10"]),
        }
    )
    changes = status_changes(records, MACRO, dt.date(2024, 6, 23), dt.date(2024, 6, 30))
    assert changes[["record_id", "from", "to", "date"]].values.tolist() == [
        ["A", "under_construction", "on_air", "2024-06-28"],
        ["B", "site_secured", "under_construction", "2024-06-26"],
    ]


@pytest.fixture
def pack(sample_data_dir: Path, tmp_path: Path):
    result = CliRunner().invoke(
        cli, ["--data", str(sample_data_dir), "weekly", "--week", "2024-W26", "--out", str(tmp_path / "maps")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "注意：2 行被拒收" in result.output  # the sample's two rejected rows (rollout validate lists them)
    return tmp_path / "maps" / "2024-W26"


def test_pack_has_every_file_and_says_so(pack: Path) -> None:
    assert sorted(p.name for p in pack.iterdir()) == sorted(PACK_FILES)
    listing = (pack.parent / "index.html").read_text(encoding="utf-8")
    assert '<a href="2024-W26/index.html">交互地图</a>' in listing
    assert "2024-W26（2024-06-24 至 2024-06-30）" in listing
    assert "宏站 81/200" in listing


def test_pack_numbers_match_rollout_progress(pack: Path, sample_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "progress.csv"
    CliRunner().invoke(
        cli, ["--data", str(sample_data_dir), "progress", "--as-of", "2024-06-30", "--out", str(out)], catch_exceptions=False
    )
    expected = pd.read_csv(out, encoding="utf-8-sig", dtype={"street_code": str})
    got = pd.read_csv(pack / "progress.csv", encoding="utf-8-sig", dtype={"street_code": str})
    pd.testing.assert_frame_equal(got, expected)
    book = openpyxl.load_workbook(pack / "progress.xlsx")
    headers = [c.value for c in book.active[3]]
    assert len(headers) == len(set(headers)) and all(h.isascii() is False for h in headers)  # Chinese headers, none twice
    column = headers.index("宏站已开通") + 1
    assert [book.active.cell(row=r, column=column).value for r in range(4, 15)] == expected["macro_done"].tolist()
    assert book.active.cell(row=14, column=1).font.bold and book.active.freeze_panes == "B4"
    machine = book.worksheets[1]
    assert [c.value for c in machine[1]] == list(expected.columns)
    summary = (pack / "summary.md").read_text(encoding="utf-8")
    total = expected.iloc[-1]
    assert f"完成 {total['macro_done']}/200（{total['macro_pct']:.1f}%）" in summary
    assert "街道边界为近似示意" in summary


def test_changes_and_counts_per_street(pack: Path, sample_data_dir: Path) -> None:
    changes = pd.read_csv(pack / "changes.csv", encoding="utf-8-sig", dtype=str)
    project = load_project(sample_data_dir, as_of=dt.date(2024, 6, 30))
    expected = status_changes(project.macro.records, MACRO, dt.date(2024, 6, 23), dt.date(2024, 6, 30))
    macro = changes[changes["类型"] == "宏站"]
    assert macro["编码"].tolist() == expected["record_id"].tolist()
    assert len(changes) > 0 and set(changes.columns) >= {"编码", "原状态", "新状态", "日期"}
    per_street = pd.read_csv(pack / "changes_by_street.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert per_street["street_code"].iloc[-1] == "310107"
    assert per_street["macro_changes"].iloc[-1] == len(macro) == per_street["macro_changes"].iloc[:-1].sum()


def test_geopackage_layers_for_qgis(pack: Path) -> None:
    streets = gpd.read_file(pack / "sites.gpkg", layer="streets")
    macro = gpd.read_file(pack / "sites.gpkg", layer="macro_stations")
    garage = gpd.read_file(pack / "sites.gpkg", layer="garage_compounds")
    assert len(streets) == 10 and "macro_pct" in streets.columns
    assert len(macro) == 230
    assert (macro["status_as_of"].eq("on_air") & macro["counts_toward_target"].astype(bool)).sum() == 81
    assert len(garage) == 60 and "phone" not in garage.columns and "contact" not in garage.columns
    assert streets.crs.to_epsg() == 4326


def test_burnup_chart_draws_every_panel_with_chinese_text(pack: Path) -> None:
    import numpy as np
    from PIL import Image

    assert cjk_font() is not None, "install fonts-noto-cjk"  # for the notebook's matplotlib charts
    data = (pack / "burnup.png").read_bytes()
    assert data.startswith(b"\x89PNG")
    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    height, width, _ = image.shape
    assert 1400 <= width <= 1800 and 700 <= height <= 950  # 11 panels, four a row, at 100 ppi
    # Each kind's line is drawn in its colour, the plan's dashes in grey and the day in red.
    for colour in ((0x21, 0x66, 0xAC), (0xE0, 0x82, 0x14), (0xCC, 0x00, 0x00)):
        assert (np.abs(image - colour).sum(axis=2) < 30).sum() > 500, colour
    # The title's Chinese text is rendered in glyphs, not boxes: dark pixels across its line.
    title = image[: height // 20]
    assert (title.sum(axis=2) < 200).sum() > 2000


def test_the_pack_is_deterministic(sample_data_dir: Path, tmp_path: Path) -> None:
    project = load_project(sample_data_dir, as_of=dt.date(2024, 6, 30))
    first = build_weekly_pack(project, tmp_path / "a").folder
    second = build_weekly_pack(project, tmp_path / "b").folder
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    assert {"index.html", "progress.csv", "burnup.png", "sites.gpkg", "progress.xlsx", "brief.pdf"} <= set(names)
    for name in names:  # same input, same bytes: every file
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    for name in ("streets", "macro_stations", "garage_compounds"):
        pd.testing.assert_frame_equal(gpd.read_file(first / "sites.gpkg", layer=name), gpd.read_file(second / "sites.gpkg", layer=name))
    for sheet in (0, 1):
        pd.testing.assert_frame_equal(pd.read_excel(first / "progress.xlsx", sheet), pd.read_excel(second / "progress.xlsx", sheet))


def test_the_command_makes_the_same_pack_with_its_helper_process(sample_data_dir: Path, tmp_path: Path) -> None:
    """``rollout weekly`` draws the chart, the brief and the workbook in a helper process started
    before it reads the files: the files are those made in one process, byte for byte."""
    import os
    import subprocess
    import sys

    from rollout.executors import Helper

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), ROLLOUT_LANG="")
    command = [
        sys.executable,
        "-m",
        "rollout",
        "--data",
        str(sample_data_dir),
        "weekly",
        "--week",
        "2024-W26",
        "--out",
        str(tmp_path / "cli"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr
    with Helper(fork=False) as here:
        alone = build_weekly_pack(load_project(sample_data_dir, as_of=dt.date(2024, 6, 30)), tmp_path / "alone", helper=here).folder
    for name in PACK_FILES:
        assert (tmp_path / "cli" / "2024-W26" / name).read_bytes() == (alone / name).read_bytes(), name


def test_a_failure_leaves_the_previous_pack_intact(sample_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(sample_data_dir, as_of=dt.date(2024, 6, 30))
    out = tmp_path / "maps"
    folder = build_weekly_pack(project, out).folder
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    # The GeoPackage is written after the map and the tables: they are on disk by then.
    monkeypatch.setattr(files, "write_geo", broken)
    with pytest.raises(OSError, match="disk full"):
        build_weekly_pack(project, out)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == ["2024-W26", "index.html"]


def test_index_lists_packs_newest_first(sample_data_dir: Path, tmp_path: Path) -> None:
    for day in (dt.date(2024, 6, 16), dt.date(2024, 6, 30), dt.date(2024, 6, 23)):
        build_weekly_pack(load_project(sample_data_dir, as_of=day), tmp_path)
    listing = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<section class="pack" id="(2024-W\d\d)">', listing) == ["2024-W26", "2024-W25", "2024-W24"]


def test_weekly_options_are_checked(sample_data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["--data", str(sample_data_dir), "weekly", "--week", "2024-26", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "2024-W26" in bad.output
    clash = runner.invoke(
        cli, ["--data", str(sample_data_dir), "weekly", "--week", "2024-W26", "--as-of", "2024-07-03", "--out", str(tmp_path)]
    )
    assert clash.exit_code == 2 and "--as-of 2024-07-03 不在 2024-W26 内" in clash.output
    english = runner.invoke(
        cli,
        ["--data", str(sample_data_dir), "weekly", "--week", "2024-W26", "--as-of", "2024-07-03", "--out", str(tmp_path), "--lang", "en"],
    )
    assert english.exit_code == 2 and "not in 2024-W26" in english.output


def test_english_pack(sample_data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--data", str(sample_data_dir), "--lang", "en", "weekly", "--as-of", "2024-06-30", "--out", str(tmp_path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert "2024-W26 (as of 2024-06-30): macro 81/200" in result.output
    summary = (tmp_path / "2024-W26" / "summary.md").read_text(encoding="utf-8")
    assert "approximate street zones" in summary and "81/200 done (40.5%)" in summary
    data = re.search(r'id="rollout-data">(.*?)</script>', (tmp_path / "2024-W26" / "index.html").read_text(encoding="utf-8")).group(1)
    assert json.loads(data)["labels"]["status"] == "Status"


def test_summary_escapes_site_text(data_dir: Path, tmp_path: Path) -> None:
    write_text(
        data_dir / "sites" / "macro_stations.csv",
        "站址编码,站名,经度,纬度,状态,状态日期,受阻原因\nA1,[click](http://evil) <b>x</b>,121.429,31.2462,受阻,2024-06-01,*urgent* <script>\n",
    )
    build_weekly_pack(load_project(data_dir, as_of=dt.date(2024, 6, 30)), tmp_path)
    summary = (tmp_path / "2024-W26" / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in summary and "<b>" not in summary and "](http" not in summary
    assert "\\*urgent\\*" in summary


def test_the_list_of_packs_links_every_file(sample_data_dir: Path, tmp_path: Path) -> None:
    from html.parser import HTMLParser
    from urllib.parse import unquote

    for day in (dt.date(2024, 6, 23), dt.date(2024, 6, 30)):
        build_weekly_pack(load_project(sample_data_dir, as_of=day), tmp_path)
    # A file another step adds to a pack (a brief, a folder of worksheets) is listed too.
    (tmp_path / "2024-W26" / "简报 W26.docx").write_bytes(b"PK")
    (tmp_path / "2024-W26" / "worksheets").mkdir()
    (tmp_path / "2024-W26" / "worksheets" / "index.html").write_text("<html></html>", encoding="utf-8")
    from rollout.pack_index import pack_index

    listing = pack_index(tmp_path)

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.hrefs.append(dict(attrs)["href"])

    parser = Links()
    parser.feed(listing)
    linked = {unquote(href) for href in parser.hrefs}
    expected = {f"{week}/{name}" for week in ("2024-W25", "2024-W26") for name in PACK_FILES}
    expected |= {"2024-W26/简报 W26.docx", "2024-W26/worksheets/index.html"}
    assert linked == expected
    assert all((tmp_path / href).is_file() for href in linked)
    assert "%20W26.docx" in listing and "Word 文档" in listing and "累计完成图" in listing
    english = pack_index(tmp_path, lang="en")
    assert "Burn-up chart" in english and "Word document" in english


def test_burnup_axis_fits_values_above_100(sample_data_dir: Path) -> None:
    from rollout.charts import burnup_layout
    from rollout.weekly import _burnup_data

    project = load_project(sample_data_dir, as_of=dt.date(2024, 12, 31))
    progress = project.progress()
    caoyang = progress.set_index("street_name").loc["曹杨新村街道"]
    assert caoyang["garage_pct"] == pytest.approx(166.7)  # 5 garages done of a target of 3
    chart = _burnup_data(project, progress, lang="zh")
    layout = burnup_layout(chart, title="t", lang="zh")
    assert len(layout["panels"]) == 11  # the district and its 10 streets
    panel = next(p for p in layout["panels"] if p["name"] == "曹杨新村街道")
    highest = max(y for line in panel["lines"] for _, y in line["points"])
    assert highest * chart.top == pytest.approx(500 / 3, abs=0.01)
    assert chart.top >= 500 / 3 + 5 and [t["label"] for t in layout["y_ticks"]] == ["0", "50", "100", "150"]
    # Every panel shares the axis (fractions of it), and every line fits in it.
    assert all(0 <= y <= 1 for p in layout["panels"] for line in p["lines"] for _, y in line["points"])
    assert layout["hundred"] == pytest.approx(100 / chart.top, abs=1e-5)
    # An ordinary week keeps the usual 0-110 % axis.
    early = load_project(sample_data_dir, as_of=dt.date(2024, 6, 30))
    chart = _burnup_data(early, early.progress(), lang="zh")
    layout = burnup_layout(chart, title="t", lang="zh")
    assert chart.top == 110 and [t["label"] for t in layout["y_ticks"]] == ["0", "20", "40", "60", "80", "100"]
    assert [t["label"] for t in layout["x_ticks"]] == ["2024-01", "2024-04", "2024-07", "2024-10", "2025-01"]
    assert [e["label"] for e in layout["legend"]] == ["线性计划", "宏站", "车库"]


@pytest.mark.parametrize("day", [dt.date(2025, 3, 31), dt.date(2023, 11, 30)], ids=["after the deadline", "before the start"])
def test_burnup_axis_reaches_a_day_outside_the_plan(sample_data_dir: Path, day: dt.date) -> None:
    """The plan ended 2024-12-31 (or has not begun): the weeks up to the day and its red line stay on the chart."""
    from rollout.charts import burnup_layout
    from rollout.weekly import _burnup_data

    project = load_project(sample_data_dir, as_of=day)
    chart = _burnup_data(project, project.progress(), lang="zh")
    layout = burnup_layout(chart, title="t", lang="zh")
    assert 0 < layout["day"] < 1
    drawn = [x for p in layout["panels"] for line in p["lines"] for x, _ in line["points"]]
    assert drawn and min(drawn) > 0 and max(drawn) < 1
    assert max(drawn) == pytest.approx(layout["day"], abs=1e-5)  # the last week drawn ends on the day
    assert all(0 < x < 1 for x, _ in layout["plan"])
    assert max(max(line.days) for _, lines in chart.panels for line in lines) == day


def test_a_year_end_week_says_which_days_it_covers(sample_data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--data", str(sample_data_dir), "weekly", "--as-of", "2024-12-31", "--out", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    note = "2024-12-31 属于 2025 年第 1 周（2025-W01）"
    assert note in result.output
    pack = tmp_path / "2025-W01"
    summary = (pack / "summary.md").read_text(encoding="utf-8")
    assert "2025-W01（2024-12-30 至 2025-01-05）· 截至 2024-12-31" in summary and note in summary
    data = json.loads(re.search(r'id="rollout-data">(.*?)</script>', (pack / "index.html").read_text(encoding="utf-8")).group(1))
    assert data["subtitle"] == "2025-W01（2024-12-30 至 2025-01-05）· 截至 2024-12-31"
    assert any(note in line for line in data["notes"])
    listing = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "2025-W01（2024-12-30 至 2025-01-05）" in listing and note in listing
    # A week inside one year says its days, with no note.
    ordinary = CliRunner().invoke(
        cli,
        ["--data", str(sample_data_dir), "--lang", "en", "weekly", "--week", "2024-W26", "--out", str(tmp_path)],
        catch_exceptions=False,
    )
    assert "ISO weeks" not in ordinary.output
    summary = (tmp_path / "2024-W26" / "summary.md").read_text(encoding="utf-8")
    assert "2024-W26 (2024-06-24 to 2024-06-30) · as of 2024-06-30" in summary and "ISO weeks" not in summary


def test_a_weekly_pack_after_a_pdf_in_the_same_process(sample_data_dir: Path, tmp_path: Path) -> None:
    """Once Typst has laid out a page in a process (a brief, a worksheet on the platform), a weekly
    pack in that process makes its brief there, not in a forked process (where Typst would wait
    for ever for its threads)."""
    import os
    import subprocess
    import sys

    script = (
        "import datetime as dt, sys; from rollout.pipeline import load_project;"
        "from rollout.brief import brief_files, leaders_brief; from rollout.weekly import build_weekly_pack;"
        "p = load_project(sys.argv[1], as_of=dt.date(2024, 6, 30)); brief_files(leaders_brief(p));"
        "print(sorted(f.name for f in build_weekly_pack(p, sys.argv[2]).folder.iterdir()))"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run(
        [sys.executable, "-c", script, str(sample_data_dir), str(tmp_path)], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "'brief.pdf'" in done.stdout and "'index.html'" in done.stdout


def test_the_helper_makes_its_files_without_pandas(sample_data_dir: Path, tmp_path: Path) -> None:
    """The chart, the brief and the workbook come from plain values: the helper process that makes
    them (while the main one reads the site files) never imports pandas, and makes the same bytes."""
    import pickle
    import subprocess
    import sys

    from rollout.brief import brief_view, leaders_brief
    from rollout.progress_xlsx import progress_sheet
    from rollout.weekly import _burnup_data
    from rollout.weekly_helper import helper_files

    project = load_project(sample_data_dir, as_of=dt.date(2024, 6, 30))
    progress = project.progress()
    parts = {
        "chart": _burnup_data(project, progress, lang="zh"),
        "chart_title": "普陀区",
        "brief": brief_view(leaders_brief(project), lang="zh"),
        "progress": progress_sheet(progress, lang="zh"),
        "lang": "zh",
    }
    (tmp_path / "parts.pickle").write_bytes(pickle.dumps(parts))
    script = (
        "import pickle, sys; from rollout.weekly_helper import helper_files;"
        "files = helper_files(**pickle.loads(open(sys.argv[1], 'rb').read()));"
        "assert 'pandas' not in sys.modules, 'pandas imported';"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported';"
        "open(sys.argv[2], 'wb').write(pickle.dumps(files))"
    )
    command = [sys.executable, "-c", script, tmp_path / "parts.pickle", tmp_path / "files.pickle"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    files = pickle.loads((tmp_path / "files.pickle").read_bytes())
    assert sorted(files) == ["brief.docx", "brief.pdf", "burnup.png", "progress.xlsx"]
    assert files == helper_files(**parts)  # the same bytes as made here


def test_the_map_helper_draws_the_same_page_and_this_process_never_imports_folium(sample_data_dir: Path, tmp_path: Path) -> None:
    """``rollout weekly`` models the coverage and draws the map in a second process, forked before
    the site files are read: the pack is the same, byte for byte, as one made in one process, and
    the first process never imports folium. A project too large to send is mapped here."""
    import subprocess
    import sys

    script = (
        "import datetime as dt, json, sys\n"
        "from rollout.weekly_map import map_helper\n"
        "import rollout.weekly_map as weekly_map\n"
        "mapper = map_helper()\n"
        "from rollout.pipeline import load_project\n"
        "from rollout.weekly import weekly_pack\n"
        "project = load_project(sys.argv[1], as_of=dt.date(2024, 6, 30))\n"
        "with mapper:\n"
        "    forked = mapper.forked\n"
        "    page = weekly_pack(project, mapper=mapper).files['index.html']\n"
        "folium = 'folium' in sys.modules\n"
        "weekly_map.MAP_HELPER_RECORDS = 10  # too large to send: drawn here\n"
        "with map_helper() as mapper:\n"
        "    here = weekly_pack(project, mapper=mapper).files['index.html']\n"
        "open(sys.argv[2], 'w').write(json.dumps({'forked': forked, 'folium': folium, 'page': page, 'here': here}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = tmp_path / "seen.json"
    done = subprocess.run(
        [sys.executable, "-c", script, str(sample_data_dir), str(out)], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text(encoding="utf-8"))
    if not seen["forked"]:
        pytest.skip("no second CPU or no fork on this machine")
    assert seen["folium"] is False
    alone = weekly_pack(load_project(sample_data_dir, as_of=dt.date(2024, 6, 30))).files["index.html"]
    assert seen["page"] == alone == seen["here"]
    assert "rolloutSites(" in alone and "曹杨新村街道" in alone
