"""Reading site files: encodings, layouts, and every row loaded or rejected with its reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import INSIDE, MACRO_HEADER, write_text

from rollout.errors import InputFileError
from rollout.problems import with_reasons
from rollout.records import read_sites

CS = "{},{}".format(*INSIDE["changshou"])


def _macro(tmp_path: Path, *rows: str, encoding: str = "utf-8", header: str = MACRO_HEADER, name: str = "macro_stations.csv") -> Path:
    return write_text(tmp_path / name, "\n".join([header, *rows]) + "\n", encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_are_detected_without_mojibake(tmp_path: Path, encoding: str) -> None:
    path = _macro(tmp_path, f"PT1,曹杨路宏站,移动,{CS},,长寿路街道,n41,30,已开通,,2024-01-05,2024-02-01,2024-03-05", encoding=encoding)
    load = read_sites(path)
    assert len(load.records) == 1
    assert load.records.loc[0, "name"] == "曹杨路宏站"
    assert load.records.loc[0, "status"] == "on_air"


def test_utf8_with_a_broken_byte_is_refused_not_misread_as_gbk(tmp_path: Path) -> None:
    good = (MACRO_HEADER + "\n" + f"PT1,曹杨路宏站,移动,{CS},,,n41,30,已开通,,,,\n") * 3
    data = good.encode("utf-8")
    broken = data[:-20] + b"\xff" + data[-20:]
    path = tmp_path / "macro_stations.csv"
    path.write_bytes(broken)
    with pytest.raises(InputFileError, match=r"UTF-8 but has invalid bytes on line 6"):
        read_sites(path)


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_tab_and_semicolon_delimiters(tmp_path: Path, delimiter: str) -> None:
    rows = [MACRO_HEADER, f"PT1,甲站,移动,{CS},,,n41,30,已开通,,,,2024-03-05"]
    path = write_text(tmp_path / "macro_stations.csv", "\n".join(r.replace(",", delimiter) for r in rows) + "\n")
    assert len(read_sites(path).records) == 1


def test_title_row_above_header_and_english_headers_keep_excel_row_numbers(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "普陀区5G宏站清单（2024年6月）",
            "Site ID,Site Name,Operator,Longitude,Latitude,CRS,Street,Band,Height,Status,Blocker,,,",
            f"PT1,A,CMCC,{CS},WGS84,,n78,30,on air,,,,",
            "",
            f"PT1,B,CMCC,{CS},WGS84,,n78,30,planned,,,,",
        ]
    )
    load = read_sites(write_text(tmp_path / "macro_stations.csv", text + "\n"))
    problems = with_reasons(load.problems, "zh")
    rejected = problems[problems.severity == "rejected"]
    assert rejected[["row", "column", "value"]].values.tolist() == [[5, "Site ID", "PT1"]]
    assert "第 3 行" in rejected["reason"].iloc[0]
    summary = load.summary().iloc[0]
    assert (summary["rows"], summary["loaded"], summary["rejected"], summary["blank_rows"]) == (2, 1, 1, 1)


def test_every_kind_of_bad_row_is_rejected_with_row_column_value_reason(tmp_path: Path) -> None:
    rows = [
        f"PT1,ok,移动/电信,{CS},,长寿路街道,n78,30,已开通,,2024-01-05,2024-02-01,2024-03-05",  # row 2 fine
        f"PT1,copy,移动,{CS},,,n78,30,已开通,,,,2024-03-05",  # 3 duplicate of row 2
        f",no id,移动,{CS},,,n78,30,在建,,,,",  # 4 missing id
        "PT4,no coords,移动,,,,,n78,30,在建,,,,",  # 5 missing coordinates
        "PT5,text coords,移动,东经121度,31.25,,,n78,30,在建,,,,",  # 6 non-numeric
        "PT6,paris,移动,2.35,48.85,,,n78,30,在建,,,,",  # 7 outside China
        f"PT7,odd status,移动,{CS},,,n78,30,快好了,,,,",  # 8 unknown status
        f"PT8,bad date,移动,{CS},,,n78,30,在建,,2024-02-30,,",  # 9 impossible date
        f"PT9,order,移动,{CS},,,n78,30,已开通,,,2024-05-01,2024-04-01",  # 10 on air before construction
        f"PT10,future,移动,{CS},,,n78,30,已开通,,,2026-01-01,2027-01-01",  # 11 done in the future
        f"PT11,bad crs,移动,{CS},谷歌,,n78,30,在建,,,,",  # 12 unknown crs
    ]
    load = read_sites(_macro(tmp_path, *rows))
    rejected = load.problems[load.problems.severity == "rejected"]
    by_row = rejected.groupby("row")["reason_code"].apply(list).to_dict()
    assert by_row == {
        3: ["id_duplicate"],
        4: ["id_missing"],
        5: ["coord_missing", "coord_missing"],
        6: ["coord_not_number"],
        7: ["coord_outside_china"],
        8: ["status_unknown"],
        9: ["date_unreadable"],
        10: ["date_order"],
        11: ["done_in_future"],
        12: ["crs_unknown"],
    }
    assert load.records["site_id"].tolist() == ["PT1"]
    assert len(load.records) + len(load.rejected_rows) == len(rows)
    order = with_reasons(rejected[rejected.row == 10], "zh").iloc[0]
    assert (order["column"], order["value"]) == ("开通日期", "2024-04-01")
    assert "开工日期" in order["reason"] and "2024-05-01" in order["reason"]


def test_warnings_keep_the_row(tmp_path: Path) -> None:
    lon, lat = INSIDE["changshou"]
    rows = [
        f"PT1,swapped,移动,{lat},{lon},,,n78,30,在建,,,,",
        f"PT2,no date,小灵通,{CS},,,n99,三十,已开通,,,,",
        f"PT3,blocked,移动,{CS},,,n78,30,受阻,,,,",
    ]
    load = read_sites(_macro(tmp_path, *rows))
    assert len(load.records) == 3
    codes = load.problems.groupby("row")["reason_code"].apply(sorted).to_dict()
    assert codes == {
        2: ["coords_swapped"],
        3: ["done_without_date", "number_unreadable", "vocab_unknown", "vocab_unknown"],
        4: ["blocked_without_reason"],
    }
    swapped = load.records.iloc[0]
    assert (swapped["lon"], swapped["lat"]) == (lon, lat)
    assert "swapped_lon_lat" in swapped["flags"]
    assert load.records.iloc[1]["operator"] == "小灵通"  # kept as written, not dropped


def test_gcj02_and_bd09_rows_and_file_default(tmp_path: Path) -> None:
    rows = [
        "PT1,a,移动,121.433562,31.244291,GCJ-02,,n78,30,在建,,,,",
        "PT2,b,移动,121.440119,31.250088,百度,,n78,30,在建,,,,",
        "PT3,c,移动,121.433562,31.244291,,,n78,30,在建,,,,",
    ]
    load = read_sites(_macro(tmp_path, *rows))
    records = load.records.set_index("site_id")
    assert records.loc["PT1", "lon"] == pytest.approx(121.4290, abs=2e-4)
    assert records.loc["PT2", "lon"] == pytest.approx(121.4290, abs=3e-4)
    assert records.loc["PT3", "lon"] == 121.433562  # WGS-84 by default
    assert records.loc["PT1", "flags"] == "from_gcj02"
    as_gcj = read_sites(_macro(tmp_path, *rows), crs="高德").records.set_index("site_id")
    assert as_gcj.loc["PT3", "lon"] == pytest.approx(records.loc["PT1", "lon"])


def test_xlsx_first_or_named_sheet_with_date_cells_and_serials(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为示例"])
    sheet = book.create_sheet("宏站")
    sheet.append(MACRO_HEADER.split(","))
    lon, lat = INSIDE["shiquan"]
    sheet.append(["PT1", "甲", "移动", lon, lat, None, None, "n41", 30, "已开通", None, dt.datetime(2024, 1, 5), 45323, "2024年3月5日"])
    path = tmp_path / "macro_stations.xlsx"
    book.save(path)
    assert read_sites(path).summary().iloc[0]["sheet"] == "宏站"  # the 说明 cover sheet is passed over
    load = read_sites(path, sheet="宏站")
    record = load.records.iloc[0]
    assert record["site_secured_date"] == pd.Timestamp("2024-01-05")
    assert record["construction_start_date"] == pd.Timestamp("2024-02-01")
    assert record["on_air_date"] == pd.Timestamp("2024-03-05")
    assert load.summary().iloc[0]["sheet"] == "宏站"
    with pytest.raises(InputFileError, match="no sheet named 'nope'; the sheets are 说明, 宏站"):
        read_sites(path, sheet="nope")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("序号,金额\n1,2\n", "no recognisable columns"),
        ("站址编码,站名,状态\nPT1,a,在建\n", r"no column for 经度/lon, 纬度/lat"),
        ("站址编码:站名:经度:纬度:状态\n", "unusual delimiter"),
    ],
)
def test_file_level_problems_are_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = write_text(tmp_path / "macro_stations.csv", content)
    with pytest.raises(InputFileError, match=message) as info:
        read_sites(path)
    assert "\n" not in str(info.value)


def test_header_only_loads_nothing(tmp_path: Path) -> None:
    load = read_sites(_macro(tmp_path))
    assert len(load.records) == 0
    assert load.summary().iloc[0]["rows"] == 0


def test_row_with_too_many_cells_is_rejected_not_truncated(tmp_path: Path) -> None:
    rows = [f"PT1,a,移动,{CS},,,n78,30,在建,,,,", f"PT2,b,移动,{CS},,,n78,30,在建,,,,,extra"]
    load = read_sites(_macro(tmp_path, *rows))
    assert load.records["site_id"].tolist() == ["PT1"]
    assert load.problems.iloc[0][["row", "reason_code"]].tolist() == [3, "too_many_cells"]


def test_garage_kind_guessed_from_headers_and_english_messages(tmp_path: Path) -> None:
    text = (
        "小区编码,小区名称,经度,纬度,户数,状态,覆盖日期\nGA1,甲小区,{},{},800,已覆盖,\nGA2,乙小区,{},{},八百,covered,2024-05-01\n".format(
            *INSIDE["taopu"], *INSIDE["taopu"]
        )
    )
    load = read_sites(write_text(tmp_path / "list.csv", text))
    assert load.kind.name == "garage"
    assert load.records["households"].tolist()[0] == 800
    reasons = with_reasons(load.problems, "en").set_index("row")["reason"].to_dict()
    assert reasons == {2: "marked covered without 覆盖日期", 3: "not a number; the value is ignored"}


def test_mixing_kinds_is_refused(tmp_path: Path) -> None:
    macro = _macro(tmp_path, f"PT1,a,移动,{CS},,,n78,30,在建,,,,")
    garage = write_text(tmp_path / "garage_compounds.csv", "小区编码,经度,纬度,状态\nGA1,{},{},已覆盖\n".format(*INSIDE["taopu"]))
    with pytest.raises(InputFileError, match="mix macro stations and garage compounds"):
        read_sites([macro, garage])


def test_duplicates_across_files_name_the_first_file(tmp_path: Path) -> None:
    first = _macro(tmp_path, f"PT1,a,移动,{CS},,,n78,30,在建,,,,", name="macro_a.csv")
    second = _macro(tmp_path, f"PT1,a,移动,{CS},,,n78,30,在建,,,,", name="macro_b.csv")
    load = read_sites([first, second])
    problem = with_reasons(load.problems, "zh").iloc[0]
    assert problem["file"].endswith("macro_b.csv")
    assert "macro_a.csv 第 2 行" in problem["reason"]


def test_xlsx_row_numbers_count_title_and_blank_rows(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "普陀区宏站清单"
    sheet.append([])
    sheet.append(["站址编码", "经度", "纬度", "状态"])
    lon, lat = INSIDE["changshou"]
    sheet.append(["A", lon, lat, "在建"])
    sheet.append([None, None, None, None])
    sheet.append(["A", lon, lat, "在建"])
    path = tmp_path / "macro.xlsx"
    book.save(path)
    load = read_sites(path)
    assert load.problems[["row", "reason_code"]].values.tolist() == [[6, "id_duplicate"]]
    assert "macro.xlsx 第 4 行" in with_reasons(load.problems, "zh").iloc[0]["reason"]
    assert load.summary().iloc[0][["rows", "loaded", "rejected", "blank_rows"]].tolist() == [2, 1, 1, 1]


def test_chunked_checking_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import REPO

    from rollout import records

    path = REPO / "data" / "sites" / "macro_stations.csv"
    whole = read_sites(path)
    monkeypatch.setattr(records, "CHECK_CHUNK_ROWS", 7)  # the sample's duplicate is 220 rows after its first
    chunked = read_sites(path)
    pd.testing.assert_frame_equal(chunked.records, whole.records)
    pd.testing.assert_frame_equal(chunked.problems, whole.problems)
    pd.testing.assert_frame_equal(chunked.summary(), whole.summary())
