"""Every open record a coordinator must chase: who must act, what is next, how late, in what order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import REPO, write_text

from rollout.cli import cli
from rollout.gaps import SCORE_PARTS, street_gaps
from rollout.open_records import OPEN_COLUMNS, open_records
from rollout.pipeline import load_project
from rollout.progress import street_rows
from rollout.schema import GARAGE, MACRO
from rollout.status import status_as_of

CS = "121.4290,31.2462"  # 长寿路街道
AS_OF = dt.date(2024, 6, 30)


@pytest.fixture
def chase_data(data_dir: Path) -> Path:
    macro = [
        "站址编码,站名,运营商,经度,纬度,状态,状态日期,受阻原因,落点日期,开工日期,开通日期,计划开通日期",
        f"M1,开通站,移动,{CS},已开通,,,2024-03-01,2024-04-01,2024-06-05,2024-06-01",
        f"M2,在建站,电信/联通,{CS},在建,,,2024-03-01,2024-04-01,,2024-06-20",
        f"M3,落点站,移动,{CS},已落点,,,2024-06-20,,,2024-09-30",
        f"M4,居民站,联通,{CS},受阻,2024-05-31,居民担忧辐射投诉,2024-04-01,,,2024-08-01",
        f"M5,电力站,移动,{CS},受阻,2024-06-20,电力引入困难,2024-04-01,2024-05-01,,2024-08-01",
        f"M6,规划站,铁塔,{CS},规划,,,,,,",
        f"M7,取消站,移动,{CS},取消,2024-05-01,站址调整合并,,,,",
    ]
    garage = [
        "小区编码,小区名称,经度,纬度,牵头单位,物业,状态,状态日期,受阻原因,勘察日期,方案确定日期,覆盖日期,验收日期,计划覆盖日期,计划验收日期",
        f"G1,一号,{CS},中国铁塔,一号物业,已覆盖,,,2024-03-01,2024-04-01,2024-06-01,,2024-06-01,2024-06-25",
        f"G2,二号,{CS},中国移动,二号物业,受阻,2024-06-10,业委会未同意,2024-05-01,,,,2024-10-01,",
        f"G3,三号,{CS},某某通信公司,,未启动,,,,,,,2024-07-05,",
        f"G4,四号,{CS},,,已验收,,,2024-03-01,2024-04-01,2024-05-01,2024-05-20,2024-05-01,2024-05-20",
    ]
    write_text(data_dir / "sites" / "macro_stations.csv", "\n".join(macro) + "\n")
    write_text(data_dir / "sites" / "garage_compounds.csv", "\n".join(garage) + "\n")
    return data_dir


def test_who_must_act_next_milestone_and_lateness(chase_data: Path) -> None:
    raw = open_records(load_project(chase_data, as_of=AS_OF))
    assert list(raw.columns) == OPEN_COLUMNS
    table = raw.set_index("record_id")
    assert sorted(table.index) == ["G1", "G2", "G3", "M2", "M3", "M4", "M5", "M6"]  # M1 on air, M7 cancelled, G4 accepted
    # Macro: China Tower builds, the operators put it on air; blockers decide for blocked ones.
    assert table.loc["M2", ["responsible", "next_milestone", "planned_date", "days_overdue"]].tolist() == [
        "ctc;cucc",
        "on_air",
        "2024-06-20",
        10,
    ]
    assert table.loc["M3", ["responsible", "next_milestone", "planned_milestone"]].tolist() == ["tower", "under_construction", "on_air"]
    assert table.loc["M4", ["responsible", "days_blocked", "blocker"]].tolist() == ["street", 30, "居民担忧辐射投诉"]
    assert table.loc["M5", ["responsible", "days_blocked"]].tolist() == ["tower", 10]
    assert table.loc["M6", "responsible"] == "tower" and table.loc["M6", "planned_date"] == ""
    # Garage: the lead unit; the property side when 物业/业委会 blocks; a covered garage waits for acceptance.
    assert table.loc["G1", ["responsible", "next_milestone", "planned_date", "days_overdue"]].tolist() == [
        "tower",
        "accepted",
        "2024-06-25",
        5,
    ]
    assert table.loc["G2", ["responsible", "responsible_name"]].tolist() == ["property", "二号物业"]
    assert table.loc["G3", ["responsible", "responsible_name", "urgency"]].tolist() == ["lead_unit", "某某通信公司", "due_soon"]
    assert table.loc["M3", "days_since_update"] == 10 and pd.isna(table.loc["M6", "days_since_update"])


def test_most_urgent_first(chase_data: Path) -> None:
    table = open_records(load_project(chase_data, as_of=AS_OF))
    # Blocked longest first, then overdue most days late first, then due soon, then the rest.
    assert table["record_id"].tolist()[:6] == ["M4", "G2", "M5", "M2", "G1", "G3"]
    assert table["urgency"].tolist()[:6] == ["blocked", "blocked", "blocked", "overdue", "overdue", "due_soon"]
    assert table["urgency_rank"].tolist() == list(range(1, len(table) + 1))


def test_the_to_do_list_is_every_open_record_of_the_sample(tmp_path: Path) -> None:
    project = load_project(REPO / "data", as_of=AS_OF)
    expected = set()
    for kind, load, finished in ((MACRO, project.macro, {"on_air", "cancelled"}), (GARAGE, project.garage, {"accepted", "cancelled"})):
        records = load.records
        states = status_as_of(records, kind, AS_OF)
        mine = records[~states.isin(finished).to_numpy() & records["street_code"].eq("310107015000").to_numpy()]
        expected |= set(mine[kind.id_field].astype(str))
    out = tmp_path / "cs.xlsx"
    result = CliRunner().invoke(
        cli,
        ["--data", str(REPO / "data"), "gaps", "--as-of", "2024-06-30", "--street", "长寿路", "--out", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["长寿路街道"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[:2] == ["序号", "紧急程度"])
    listed = set()
    for row in rows[header + 1 :]:
        if row[0] is None:
            break
        listed.add(row[3])
    assert listed == expected and len(listed) == 15
    printed = CliRunner().invoke(cli, ["--data", str(REPO / "data"), "gaps", "--as-of", "2024-06-30", "--street", "长寿路"])
    assert printed.exit_code == 0 and "长寿路街道：未完成 15 条" in printed.output
    assert all(record_id in printed.output for record_id in expected)


def test_at_risk_agrees_with_the_pace_and_the_score_adds_up() -> None:
    for day in (dt.date(2024, 3, 31), dt.date(2024, 6, 30), dt.date(2024, 10, 31)):
        report = street_gaps(load_project(REPO / "data", as_of=day))
        streets = street_rows(report.summary)
        for kind in ("macro", "garage"):
            at_risk = streets[streets[f"{kind}_at_risk"].astype(bool)]
            assert (at_risk[f"{kind}_pace"] == "behind").all(), day
            assert (streets[f"{kind}_open"] + streets[f"{kind}_unrecorded"] >= streets[f"{kind}_remaining"]).all()
        parts = streets[[name for name, _, _ in SCORE_PARTS]].sum(axis=1)
        assert (parts - streets["attention_score"]).abs().max() < 0.02


def test_printed_page_per_street_is_a4_portrait(chase_data: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    report = street_gaps(load_project(chase_data, as_of=AS_OF))
    from rollout.reports import write_gap_report

    write_gap_report(report, tmp_path / "gaps.pdf")
    reader = PdfReader(tmp_path / "gaps.pdf")
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(595.28, abs=0.5) and float(box.height) == pytest.approx(841.89, abs=0.5)
    assert len(reader.pages) == 11  # the summary, then a page per street
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")
    assert "居民担忧辐射投诉" in text and "二号物业" in text


def test_unknown_street_is_one_line(chase_data: Path) -> None:
    from rollout.errors import InvalidValueError

    with pytest.raises(InvalidValueError, match="外滩"):
        open_records(load_project(chase_data, as_of=AS_OF), street="外滩")
    assert len(open_records(load_project(chase_data, as_of=AS_OF), street="长寿路")) == 8
