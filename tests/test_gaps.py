"""Gap tables: hand-computed rates, forecasts, blockers, staleness, priorities and evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_text

from rollout.cli import cli
from rollout.gaps import evidence_text, forecast_completion, reasons_text, street_gaps
from rollout.pipeline import load_project
from rollout.progress import total_row
from rollout.reports import write_gap_report

CS = "121.4290,31.2462"  # 长寿路街道
TP = "121.3775,31.2829"  # 桃浦镇
AS_OF = dt.date(2024, 6, 30)


@pytest.fixture
def gap_data(data_dir: Path) -> Path:
    macro = [
        "站址编码,站名,经度,纬度,状态,状态日期,受阻原因,开工日期,开通日期",
        f"M1,a,{CS},已开通,,,2024-05-01,2024-06-05",
        f"M2,b,{CS},已开通,,,2024-05-01,2024-06-12",
        f"M3,c,{CS},已开通,,,2024-05-01,2024-06-19",
        f"M4,d,{CS},已开通,,,2024-05-01,2024-06-26",
        f"M5,e,{CS},已开通,,,2024-04-01,2024-05-01",
        f"M6,f,{CS},受阻,2024-06-10,居民投诉,,",
        f"M7,g,{CS},在建,,,2024-04-01,",
        f"T1,h,{TP},已开通,,,2024-02-01,2024-03-01",
    ]
    garage = [
        "小区编码,小区名称,经度,纬度,状态,车位数,建成年份,12345投诉数,覆盖日期,验收日期,移动可通话率,电信可通话率,联通可通话率,联系电话",
        f"G1,一号,{CS},未启动,100,2000,0,,,,,,13900000001",
        f"G2,二号,{CS},未启动,300,1990,0,,,,,,13900000002",
        f"G3,三号,{CS},未启动,100,2000,5,,,,,,13900000003",
        f"G4,四号,{CS},已验收,200,2005,0,2024-05-01,2024-05-20,95,95,80,13900000004",
        f"G5,五号,{CS},已验收,200,2005,0,2024-05-01,2024-05-20,95,95,95,13900000005",
    ]
    write_text(data_dir / "sites" / "macro_stations.csv", "\n".join(macro) + "\n")
    write_text(data_dir / "sites" / "garage_compounds.csv", "\n".join(garage) + "\n")
    return data_dir


@pytest.fixture
def report(gap_data: Path):
    return street_gaps(load_project(gap_data, as_of=AS_OF))


def test_forecast_from_a_known_weekly_rate(report) -> None:
    changshou = report.summary.set_index("street_code").loc["310107015000"]
    # Done 5 on 06-30, 1 four weeks before: 1.0 a week; 16 - 5 = 11 remaining: 77 days later.
    assert changshou["macro_done"] == 5
    assert changshou["macro_weekly_rate"] == 1.0
    assert changshou["macro_forecast"] == "2024-09-15"
    assert not changshou["macro_at_risk"]
    assert forecast_completion(11, 1.0, AS_OF) == dt.date(2024, 9, 15)


def test_no_recent_progress_is_at_risk(report) -> None:
    taopu = report.summary.set_index("street_code").loc["310107103000"]
    assert taopu["macro_done"] == 1 and taopu["macro_weekly_rate"] == 0.0
    assert taopu["macro_forecast"] == "" and taopu["macro_at_risk"]
    assert "近期无进展" in reasons_text(taopu["reasons"], "zh")
    assert "macro: no recent progress" in reasons_text(taopu["reasons"], "en")


def test_numbers_agree_with_progress(gap_data: Path, report) -> None:
    progress = load_project(gap_data, as_of=AS_OF).progress().set_index("street_code")
    summary = report.summary.set_index("street_code")
    for column in ("macro_target", "macro_done", "macro_remaining", "macro_expected", "garage_done", "garage_remaining"):
        assert summary[column].reindex(progress.index).tolist() == progress[column].tolist()
    assert total_row(report.summary)["street_code"] == "310107"


def test_blocked_stale_priority_and_evidence(report) -> None:
    assert report.blocked[["record_id", "blocker", "blocked_since", "days_blocked"]].values.tolist() == [
        ["M6", "居民投诉", "2024-06-10", 20]
    ]
    stale = report.stale.set_index("record_id")
    assert stale.loc["M7", "last_update"] == "2024-04-01" and stale.loc["M7", "weeks_since_update"] == 12  # 90 days
    assert "M1" not in stale.index  # done records are never stale
    # Weights 0.5 parking, 0.3 age, 0.2 complaints, each scaled 0-1: G2 0.8, G3 0.2, G1 0.
    assert report.not_started[["priority", "compound_id", "score"]].values.tolist() == [[1, "G2", 0.8], [2, "G3", 0.2], [3, "G1", 0.0]]
    assert report.acceptance["compound_id"].tolist() == ["G4"]
    assert "联通可通话率 80% < 90%" in evidence_text(report.acceptance["problems"].iloc[0], "zh")
    assert "China Unicom callable 80% < 90%" in evidence_text(report.acceptance["problems"].iloc[0], "en")
    changshou = report.summary.set_index("street_code").loc["310107015000"]
    assert (changshou["not_started"], changshou["acceptance_flags"], changshou["stale"]) == (3, 1, 1)


def test_priority_weights_come_from_the_config(gap_data: Path) -> None:
    config = gap_data / "rollout.toml"
    text = config.read_text(encoding="utf-8").replace("complaints_12345 = 0.2", "complaints_12345 = 5.0")
    config.write_text(text, encoding="utf-8")
    report = street_gaps(load_project(gap_data, as_of=AS_OF))
    assert report.not_started["compound_id"].tolist() == ["G3", "G2", "G1"]


def test_ranking_puts_at_risk_streets_first(report) -> None:
    ranked = report.summary.iloc[:-1]
    assert ranked["attention_rank"].tolist() == list(range(1, 11))
    first = ranked.iloc[0]
    assert first["macro_at_risk"] or first["garage_at_risk"]
    assert (ranked["attention_score"].diff().dropna() <= 0).all()


def test_xlsx_html_csv_outputs(report, tmp_path: Path) -> None:
    write_gap_report(report, tmp_path / "gaps.xlsx")
    book = openpyxl.load_workbook(tmp_path / "gaps.xlsx")
    assert book.sheetnames[0] == "汇总" and "长寿路街道" in book.sheetnames and len(book.sheetnames) == 11
    summary = book["汇总"]
    headers = [c.value for c in summary[1]]
    assert headers[:3] == ["关注排序", "街道代码", "街道"] and "宏站预计完成日期" in headers
    assert summary.freeze_panes == "D2"
    assert len(summary.conditional_formatting) >= 4
    street = book["长寿路街道"]
    values = [c.value for row in street.iter_rows() for c in row if c.value is not None]
    assert "M6" in values and "G2" in values and "居民投诉" in values
    assert not any(str(v).startswith("1390000") for v in values)  # no phone numbers in gap tables
    write_gap_report(report, tmp_path / "gaps.html")
    html = (tmp_path / "gaps.html").read_text(encoding="utf-8")
    assert "page-break-before" in html and "长寿路街道" in html and ' at-risk"' in html and "size: A4 portrait" in html
    write_gap_report(report, tmp_path / "gaps.csv")
    csv = pd.read_csv(tmp_path / "gaps.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert len(csv) == 11 and csv["street_code"].iloc[-1] == "310107"


def test_html_escapes_untrusted_text(gap_data: Path, tmp_path: Path) -> None:
    path = gap_data / "sites" / "macro_stations.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("居民投诉", "<script>alert(1)</script>"), encoding="utf-8")
    report = street_gaps(load_project(gap_data, as_of=AS_OF))
    write_gap_report(report, tmp_path / "gaps.html")
    html = (tmp_path / "gaps.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_cli_street_filter_and_terminal_ranking(gap_data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--data", str(gap_data), "gaps", "--as-of", "2024-06-30"], catch_exceptions=False)
    assert result.exit_code == 0 and "长寿路街道" in result.output and "注：街道边界为近似示意" in result.output
    out = tmp_path / "one.csv"
    result = runner.invoke(
        cli, ["--data", str(gap_data), "gaps", "--as-of", "2024-06-30", "--street", "长寿", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0
    assert pd.read_csv(out, encoding="utf-8-sig", dtype={"street_code": str})["street_code"].tolist() == ["310107015000", "310107"]
    bad = runner.invoke(cli, ["--data", str(gap_data), "gaps", "--street", "外滩"])
    assert bad.exit_code == 2
