"""A catalogue of hostile inputs (issue 13): one test each, with the one-line message people see.

Each test feeds one bad input the way it arrives (a file as sent, a command as typed) and checks
the outcome: no traceback, nothing lost or silently changed (rows loaded + rejected = rows), and
the message in Chinese (the default) and in English where it matters.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import INSIDE, REPO

from rollout.boundaries import read_streets
from rollout.cli import cli
from rollout.config import load_config
from rollout.errors import BoundaryError, ConfigError, InputFileError
from rollout.problems import with_reasons
from rollout.records import read_sites

LON, LAT = INSIDE["changshou"]
HEADER = "站址编码,站名,经度,纬度,状态"


def _csv(tmp_path: Path, *lines: str, name: str = "macro_stations.csv", encoding: str = "utf-8", end: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(end.join(lines).encode(encoding) + end.encode(encoding))
    return path


def _row(site: str, name: str = "站", status: str = "在建") -> str:
    return f"{site},{name},{LON},{LAT},{status}"


def _reasons(load, lang: str = "zh") -> pd.DataFrame:
    return with_reasons(load.problems, lang)


def _counts(load) -> tuple[int, int, int]:
    summary = load.summary().iloc[0]
    return int(summary["rows"]), int(summary["loaded"]), int(summary["rejected"])


def _cli(data_dir: Path, *args: str, lang: str = "zh"):
    return CliRunner().invoke(cli, ["--data", str(data_dir), "--lang", lang, *args])


def _one_line_error(result) -> str:
    """The error line of a command that failed (exit 2): one line, after at most the line that says
    where the records come from, and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith(("错误：", "Error:"))]
    assert len(errors) == 1 and len(lines) <= 2 and lines[-1] == errors[0], result.output
    return errors[0]


# -- CSV structure ---------------------------------------------------------------------------


def test_stray_quote_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, _row("A"), f'B,"金沙雅苑,{LON},{LAT},在建', _row("C"), _row("D"), _row("E"))
    load = read_sites(path)
    assert load.records["site_id"].tolist() == ["A", "C", "D", "E"]
    assert _counts(load) == (5, 4, 1)
    problem = _reasons(load).iloc[0]
    assert (problem["row"], problem["reason_code"]) == (3, "quote_unbalanced")
    assert "文本第 3 行" in problem["reason"] and "引号" in problem["reason"]
    assert "text line 3" in _reasons(load, "en").iloc[0]["reason"]


def test_a_quote_left_open_after_a_quote_inside_a_cell_is_the_last_line(tmp_path: Path) -> None:
    """Found by the property test: ``a"b`` holds a quote as a character, and a later quote runs to the
    end of the file; counting quotes took the line for closed and reported a line break in a cell."""
    path = _csv(tmp_path, HEADER, _row("A"), '"",a"b,"","",","",""')
    load = read_sites(path)
    assert load.records["site_id"].tolist() == ["A"]
    reasons = _reasons(load, "en")
    problem = reasons[reasons["reason_code"] == "quote_unbalanced"].iloc[0]
    assert problem["row"] == 3 and "text line 3" in problem["reason"] and "line 4" not in problem["reason"]
    assert "line_breaks_in_cells" not in set(reasons["reason_code"])
    assert _counts(load) == (2, 1, 1)


def test_rows_with_more_or_fewer_cells_are_reported_with_their_lines(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER + ",备注", _row("A") + ",", _row("B") + ",,extra", _row("C"), _row("D") + ",")
    load = read_sites(path)
    problems = _reasons(load, "en").set_index("row")
    assert problems.loc[3, "reason_code"] == "too_many_cells" and problems.loc[3, "severity"] == "rejected"
    assert problems.loc[4, "reason_code"] == "too_few_cells" and problems.loc[4, "severity"] == "warning"
    assert "text line 3" in problems.loc[3, "reason"] and "text line 4" in problems.loc[4, "reason"]
    assert _counts(load) == (4, 3, 1)


def test_line_breaks_in_cells_are_one_row_and_the_count_says_why(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, f'A,"曹杨路\n1号",{LON},{LAT},在建', _row("B"))
    load = read_sites(path)
    assert load.records["name"].tolist() == ["曹杨路\n1号", "站"]
    assert _counts(load) == (2, 2, 0)
    note = _reasons(load).iloc[0]
    assert note["reason_code"] == "line_breaks_in_cells" and "多 1 行" in note["reason"]


def test_one_megabyte_cell_in_a_ragged_file(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, _row("A", name="长" * 1_000_000), _row("B") + ",x,y", _row("C"))
    load = read_sites(path)
    assert _counts(load) == (3, 2, 1)
    assert load.records.loc[0, "name"] == "长" * 1_000_000


def test_cr_only_line_endings_with_a_ragged_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, _row("A"), _row("B") + ",extra", _row("C"), end="\r")
    load = read_sites(path)
    assert load.records["site_id"].tolist() == ["A", "C"]
    assert load.problems[["row", "reason_code"]].values.tolist() == [[3, "too_many_cells"]]


def test_mixed_encodings_are_named_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "macro_stations.csv"
    utf8 = "\n".join([HEADER, _row("A", "曹杨路宏站"), _row("B", "真北路宏站")]) + "\n"
    path.write_bytes(utf8.encode("utf-8") + (_row("C", "金沙江路宏站") + "\n").encode("gbk"))
    with pytest.raises(InputFileError) as info:
        read_sites(path)
    assert info.value.key == "errors.encoding_mixed"
    assert "3 line(s) are UTF-8 (e.g. line 1)" in str(info.value) and "1 GBK/GB18030 (e.g. line 4)" in str(info.value)
    assert "混用了两种编码" in info.value.message("zh")


def test_gb18030_behind_an_ascii_head_is_read_as_gb18030(tmp_path: Path) -> None:
    rows = [_row(f"S{i:05d}", "site") for i in range(4000)]  # more than the 64 KB head
    path = _csv(tmp_path, HEADER, *rows, _row("Z", "真北路宏站"), encoding="gb18030")
    load = read_sites(path)
    assert load.records["name"].iloc[-1] == "真北路宏站"
    assert _counts(load) == (4001, 4001, 0)


# -- XLSX ------------------------------------------------------------------------------------


def _book(*sheets: tuple[str, list[list[object]], str]) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        sheet.sheet_state = state
        for row in rows:
            sheet.append(row)
    return book


DATA = [["站址编码", "经度", "纬度", "状态"], ["A", LON, LAT, "在建"], ["B", LON, LAT, "已开通"]]


def test_hidden_first_sheet_is_passed_over_and_named(tmp_path: Path) -> None:
    path = tmp_path / "macro.xlsx"
    old = [["站址编码", "经度", "纬度", "状态"], ["OLD", LON, LAT, "规划"]]
    _book(("旧数据", old, "hidden"), ("宏站", DATA, "visible")).save(path)
    load = read_sites(path)
    assert load.records["site_id"].tolist() == ["A", "B"]
    assert load.summary().iloc[0]["sheet"] == "宏站"
    warning = _reasons(load).iloc[0]
    assert warning["reason_code"] == "sheet_hidden_data" and "--sheet 旧数据" in warning["reason"]


def test_no_recognised_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = tmp_path / "macro.xlsx"
    _book(("说明", [["本表为示例"]], "visible"), ("数据", DATA, "hidden")).save(path)
    with pytest.raises(InputFileError, match=r"no visible sheet has a recognisable header \(sheets: 说明, 数据 \(hidden\)\)"):
        read_sites(path)


def test_formula_cells_without_stored_values_are_rejects(tmp_path: Path) -> None:
    path = tmp_path / "macro.xlsx"
    _book(("宏站", [*DATA, ["C", "=121.4+0.03", LAT, "在建"]], "visible")).save(path)  # openpyxl stores no cached value
    load = read_sites(path)
    problem = _reasons(load).set_index("reason_code").loc["formula_without_value"]
    assert (problem["row"], problem["column"], problem["value"]) == (4, "经度", "=121.4+0.03")
    assert "请在 Excel/WPS 中打开并保存" in problem["reason"]
    assert _counts(load) == (3, 2, 1)


def test_encrypted_workbook_is_named_as_such(tmp_path: Path, data_dir: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain, path = tmp_path / "plain.xlsx", tmp_path / "macro.xlsx"
    _book(("宏站", DATA, "visible")).save(plain)
    with plain.open("rb") as source, path.open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)
    output = _one_line_error(_cli(data_dir, "validate", str(path)))
    assert "工作簿已加密" in output and "not a zip file" not in output


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u2060"])
def test_ids_differing_by_an_invisible_character_are_one_site(tmp_path: Path, invisible: str) -> None:
    path = _csv(tmp_path, HEADER, _row("PT-1"), _row(f"PT-{invisible}1"))
    load = read_sites(path)
    codes = load.problems.groupby("row")["reason_code"].apply(sorted).to_dict()
    assert codes == {3: ["id_duplicate", "id_invisible"]}
    warning = _reasons(load, "en").set_index("reason_code").loc["id_invisible"]
    assert f"U+{ord(invisible):04X}" in warning["reason"] and "'PT-1'" in warning["reason"]


@pytest.mark.parametrize(("households", "parking"), [("-5", "-1"), ("1e20", "3e9")])
def test_counts_outside_plausible_limits_are_warned_and_not_used(tmp_path: Path, households: str, parking: str) -> None:
    path = _csv(
        tmp_path,
        "小区编码,经度,纬度,户数,车位数,状态",
        f"GA1,{LON},{LAT},{households},{parking},未启动",
        f"GA2,{LON},{LAT},800,300,未启动",
        name="garage_compounds.csv",
    )
    load = read_sites(path)
    assert load.records["households"].tolist()[1] == 800 and pd.isna(load.records["households"].iloc[0])
    assert pd.isna(load.records["parking_spaces"].iloc[0])
    reasons = _reasons(load).set_index("column")["reason"]
    assert "超出合理范围 0～20000" in reasons["户数"] and "[limits]" in reasons["户数"]


def test_limits_are_configurable(data_dir: Path, tmp_path: Path) -> None:
    config = data_dir / "rollout.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[limits]\nhouseholds = 50000\n", encoding="utf-8")
    assert load_config(data_dir).limit_map["households"] == (0.0, 50000.0)
    config.write_text(config.read_text(encoding="utf-8").replace("households = 50000", "tenants = 5"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[limits\]: tenants is not a column with limits"):
        load_config(data_dir)


def test_dms_coordinates_are_converted_or_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER, "A,站,121°25′44″E,31°14′46″N,在建", "B,站,121°75′,31.25,在建")
    load = read_sites(path)
    assert load.records.loc[0, "lon"] == pytest.approx(121.4289, abs=1e-4)
    problem = _reasons(load, "en").iloc[0]
    assert (problem["row"], problem["reason_code"]) == (3, "coord_dms_unreadable")
    assert "write decimal degrees" in problem["reason"]


# -- coordinate systems named in headers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lon_header", "lat_header", "crs"),
    [
        ("经度(百度)", "纬度(百度)", "bd09"),
        ("百度经度", "百度纬度", "bd09"),
        ("bd_lon", "bd_lat", "bd09"),
        ("高德经度", "高德纬度", "gcj02"),
        ("lng_gcj", "lat_gcj", "gcj02"),
        ("经度(GCJ02)", "纬度(GCJ02)", "gcj02"),
        ("经度(WGS84)", "纬度", "wgs84"),
    ],
)
def test_header_names_the_coordinate_system(tmp_path: Path, lon_header: str, lat_header: str, crs: str) -> None:
    from rollout.crs import from_wgs84

    lon, lat = (float(v[0]) for v in from_wgs84([LON], [LAT], crs))
    path = _csv(tmp_path, f"站址编码,{lon_header},{lat_header},状态", f"A,{lon:.6f},{lat:.6f},在建")
    record = read_sites(path).records.iloc[0]
    assert (record["lon"], record["lat"]) == (pytest.approx(LON, abs=2e-5), pytest.approx(LAT, abs=2e-5))
    assert record["crs_input"] == crs


def test_coordinate_system_cell_that_contradicts_the_header_is_a_reject(tmp_path: Path) -> None:
    path = _csv(tmp_path, "站址编码,经度(百度),纬度(百度),坐标系,状态", f"A,{LON},{LAT},WGS84,在建", f"B,{LON},{LAT},百度,在建")
    load = read_sites(path)
    assert load.records["site_id"].tolist() == ["B"]
    zh = _reasons(load).iloc[0]["reason"]
    assert "坐标系列为 WGS84" in zh and "经度(百度)" in zh and "BD09（百度）" in zh
    assert "the coordinate-system cell says WGS84 but the header 经度(百度) says BD09 (Baidu)" in _reasons(load, "en").iloc[0]["reason"]


@pytest.mark.parametrize(
    ("headers", "zh", "en"),
    [
        ("经度(北京54),纬度(北京54)", "注明的坐标系“北京54”无法识别", "names a coordinate system, '北京54', that is not known"),
        ("经度(百度/高德),纬度", "同时注明了几个坐标系（BD09, GCJ02）", "names several coordinate systems (BD09, GCJ02)"),
        ("lon(baidu),lat_gcj", "“lon(baidu)”注明 BD09，“lat_gcj”却注明 GCJ02", "'lon(baidu)' says BD09 but 'lat_gcj' says GCJ02"),
    ],
)
def test_unknown_or_mixed_header_hints_are_clear_in_both_languages(data_dir: Path, tmp_path: Path, headers: str, zh: str, en: str) -> None:
    path = _csv(tmp_path, f"站址编码,{headers},状态", f"A,{LON},{LAT},在建")
    assert zh in _one_line_error(_cli(data_dir, "validate", str(path)))
    assert en in _one_line_error(_cli(data_dir, "validate", str(path), lang="en"))


# -- configuration and boundaries ------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02garbage\xff", b'street_code,macro_target\n"unclosed\n'])
def test_empty_or_garbage_targets_csv(sample_data_dir: Path, content: bytes) -> None:
    (sample_data_dir / "targets.csv").write_bytes(content)
    output = _one_line_error(_cli(sample_data_dir, "progress", "--as-of", "2024-06-30", lang="en"))
    assert "targets.csv" in output and ("rollout targets allocate" in output or "missing column" in output)


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage"])
def test_empty_or_garbage_streets_csv(sample_data_dir: Path, content: bytes) -> None:
    (sample_data_dir / "boundaries" / "streets.csv").write_bytes(content)
    output = _one_line_error(_cli(sample_data_dir, "progress", "--as-of", "2024-06-30"))
    assert "streets.csv" in output and "无法读取街道表" in output


def test_garbage_rollout_toml(sample_data_dir: Path) -> None:
    (sample_data_dir / "rollout.toml").write_bytes(b"[district\x00\xff")
    output = _one_line_error(_cli(sample_data_dir, "progress", lang="en"))
    assert "rollout.toml: cannot read it as TOML" in output


def _metres_geojson(path: Path, config) -> Path:
    streets = read_streets(config).to_crs(32651)
    features = [
        {"type": "Feature", "properties": {"name": n}, "geometry": json.loads(gpd.GeoSeries([g]).to_json())["features"][0]["geometry"]}
        for n, g in zip(streets["name"], streets.geometry, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    return path


def test_geojson_in_metres_without_crs_is_refused_and_the_good_file_kept(data_dir: Path, tmp_path: Path) -> None:
    config = load_config(data_dir)
    good = tmp_path / "good.geojson"
    read_streets(config)[["name", "geometry"]].to_file(good)
    assert _cli(data_dir, "boundaries", "import", str(good)).exit_code == 0
    before = config.boundaries_file.read_bytes()
    output = _one_line_error(_cli(data_dir, "boundaries", "import", str(_metres_geojson(tmp_path / "metres.geojson", config)), lang="en"))
    assert "cannot be degrees" in output and "--crs" in output
    assert config.boundaries_file.read_bytes() == before
    assert _cli(data_dir, "boundaries", "show").exit_code == 0


def test_import_keeps_the_previous_file_as_bak(data_dir: Path, tmp_path: Path) -> None:
    config = load_config(data_dir)
    good = tmp_path / "good.geojson"
    read_streets(config)[["name", "geometry"]].to_file(good)
    _cli(data_dir, "boundaries", "import", str(good))
    first = config.boundaries_file.read_bytes()
    result = _cli(data_dir, "boundaries", "import", str(good))
    assert "putuo_streets.geojson.bak" in result.output
    assert Path(str(config.boundaries_file) + ".bak").read_bytes() == first


def test_boundaries_far_from_the_district_are_refused(data_dir: Path, tmp_path: Path) -> None:
    config = load_config(data_dir)
    moved = read_streets(config).assign(geometry=lambda f: f.translate(xoff=0.5))[["name", "geometry"]]
    path = tmp_path / "elsewhere.geojson"
    moved.to_file(path)
    with pytest.raises(BoundaryError, match=r"lie more than 5 km from 普陀区"):
        from rollout.boundaries import import_streets

        import_streets(path, config)


@pytest.mark.parametrize("damage", ["truncated", "metres"])
def test_broken_boundary_file_in_the_data_folder_is_one_line_with_the_fix(sample_data_dir: Path, tmp_path: Path, damage: str) -> None:
    config = load_config(sample_data_dir)
    good = tmp_path / "good.geojson"
    read_streets(config)[["name", "geometry"]].to_file(good)
    _cli(sample_data_dir, "boundaries", "import", str(good))
    _cli(sample_data_dir, "boundaries", "import", str(good))  # keeps a .bak
    target = config.boundaries_file
    if damage == "truncated":
        target.write_bytes(target.read_bytes()[:500])
    else:
        _metres_geojson(target, config)
        text = json.loads(target.read_text(encoding="utf-8"))
        for feature, code in zip(text["features"], read_streets(load_config(REPO / "data"))["street_code"], strict=True):
            feature["properties"]["street_code"] = code
        target.write_text(json.dumps(text, ensure_ascii=False), encoding="utf-8")
    output = _one_line_error(_cli(sample_data_dir, "progress", "--as-of", "2024-06-30"))
    assert "边界文件无法使用" in output and ".bak" in output


# -- outputs -------------------------------------------------------------------------------------


def test_formula_texts_are_inert_in_every_spreadsheet_output(sample_data_dir: Path, tmp_path: Path) -> None:
    sites = sample_data_dir / "sites" / "macro_stations.csv"
    frame = pd.read_csv(sites, encoding="gb18030", dtype=str, keep_default_na=False)
    frame["=cmd|' /C calc'!A0"] = "@SUM(1+1)"
    frame.loc[0, "站名"] = '=HYPERLINK("http://x","y")'
    frame.to_csv(sites, index=False, encoding="gb18030")
    clean, rejects = tmp_path / "clean.csv", tmp_path / "rejects.xlsx"
    result = _cli(sample_data_dir, "validate", "--clean", str(clean), "--rejects", str(rejects))
    assert result.exit_code == 1, result.output
    shown = pd.read_csv(tmp_path / "clean_macro.csv", dtype=str, keep_default_na=False)
    assert "'=cmd|' /C calc'!A0" in shown.columns
    assert shown["'=cmd|' /C calc'!A0"].eq("'@SUM(1+1)").all()
    assert shown.loc[shown["site_id"] == "PT-5G-0001", "name"].iloc[0].startswith("'=")
    book = openpyxl.load_workbook(rejects)
    assert not [c.coordinate for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # the map's labels have no emoji font
@pytest.mark.filterwarnings("ignore:Tight layout not applied")  # nor room for a 300-character title
def test_worksheets_for_a_very_long_emoji_compound_name(sample_data_dir: Path, tmp_path: Path) -> None:
    sites = sample_data_dir / "sites" / "garage_compounds.csv"
    frame = pd.read_csv(sites, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.loc[0, "小区名称"] = "🏠" * 300
    frame.loc[1, "小区名称"] = "=1+1"
    frame.to_csv(sites, index=False, encoding="utf-8-sig")
    out = tmp_path / "sheets"
    result = CliRunner().invoke(
        cli, ["--data", str(sample_data_dir), "worksheets", "--format", "html,xlsx", "--out", str(out), "--as-of", "2024-06-30"]
    )
    assert result.exit_code == 0, result.output
    names = [p.name for p in out.iterdir()]
    assert len(names) == 2 * 60 + 2 and max(len(n.encode()) for n in names) <= 255  # and the index, the 台账
    titled = next(p for p in out.iterdir() if p.name.startswith("PT-GA-002") and p.suffix == ".xlsx")
    title = openpyxl.load_workbook(titled).active["A1"]
    assert title.data_type == "s" and "=1+1" in str(title.value) and not str(title.value).startswith("=")


def test_rerunning_worksheets_replaces_the_folder_as_a_whole(sample_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sheets"
    args = ["--data", str(sample_data_dir), "worksheets", "--format", "html", "--as-of", "2024-06-30", "--out", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    (out / "PT-GA-999_stale.html").write_text("from an earlier run", encoding="utf-8")
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert not (out / "PT-GA-999_stale.html").exists() and len(list(out.iterdir())) == 60 + 2  # and the index, the 台账
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sheets.")]


def test_worksheets_into_the_current_folder_leave_its_other_files(
    sample_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_notes.txt").write_text("mine", encoding="utf-8")
    args = [
        "--data",
        str(sample_data_dir),
        "worksheets",
        "--format",
        "html",
        "--as-of",
        "2024-06-30",
        "--compound",
        "PT-GA-001",
        "--out",
        ".",
    ]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert (tmp_path / "my_notes.txt").read_text(encoding="utf-8") == "mine" and (tmp_path / "index.html").is_file()
    assert sample_data_dir.is_dir() and not [p for p in tmp_path.iterdir() if ".staging-" in p.name]


def test_sample_still_validates_as_before(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("submissions", "register.sqlite"))
    result = _cli(data, "validate")
    assert "拒收 第 232 行 站址编码 = 'PT-5G-0011'：编码重复，首次出现在 macro_stations.csv 第 12 行" in result.output
    assert "拒收 第 233 行 开通日期 = '2024-13-45'：无法识别的日期：请写成 2024-03-05" in result.output
    assert result.exit_code == 1
