"""The blank fill-in workbook: headers, drop-downs, the 说明 sheet, and that a filled one loads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import INSIDE

import rollout
from rollout import labels
from rollout.cli import cli
from rollout.schema import GARAGE, KINDS, MACRO
from rollout.template import build_template, column_choices


def _validations(sheet) -> dict[str, list]:
    """Column letter -> data validations that cover it."""
    out: dict[str, list] = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            out.setdefault(cell_range.coord.split(":")[0].rstrip("0123456789"), []).append(validation)
    return out


@pytest.mark.parametrize("kind", KINDS.values(), ids=lambda k: k.name)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headers_dropdowns_and_help_sheet(tmp_path: Path, kind, lang: str) -> None:
    path = tmp_path / "t.xlsx"
    build_template(kind, lang=lang).save(path)
    book = openpyxl.load_workbook(path)
    data, help_sheet = book.worksheets
    headers = [c.value for c in data[1]]
    assert headers == [f.zh if lang == "zh" else f.name for f in kind.fields]
    assert help_sheet.title == ("说明" if lang == "zh" else "Instructions")
    assert data.max_row == 1  # no pre-made empty rows: they would be read as blank rows
    by_column = _validations(data)
    for position, field in enumerate(kind.fields, start=1):
        letter = openpyxl.utils.get_column_letter(position)
        assert data[f"{letter}1"].comment is not None
        choices = column_choices(field, kind, lang=lang)
        if choices:
            (validation,) = by_column[letter]
            assert validation.type == "list"
            assert validation.formula1.strip('"').split(",") == choices
            assert len(validation.formula1) <= 255  # Excel's limit for an inline list
        elif field.type == "date":
            assert by_column[letter][0].type == "date"
            assert data.column_dimensions[letter].number_format == "yyyy-mm-dd"
    status_column = openpyxl.utils.get_column_letter(kind.field_names.index("status") + 1)
    statuses = by_column[status_column][0].formula1
    assert all(labels.status(kind.name, s, lang) in statuses for s in kind.statuses)
    explained = {row[0].value for row in help_sheet.iter_rows(min_row=1)}
    for field in kind.fields:
        name = field.zh if lang == "zh" else field.name
        assert (name + " *" if field.required else name) in explained


def _fill(path: Path, kind, rows: list[dict[str, object]], lang: str = "zh") -> Path:
    build_template(kind, lang=lang).save(path)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    names = list(kind.field_names)
    for row in rows:
        sheet.append([row.get(name) for name in names])
    book.save(path)
    return path


def test_a_filled_template_loads_with_no_warning(data_dir: Path) -> None:
    macro = _fill(
        data_dir / "sites" / "macro_stations.xlsx",
        MACRO,
        [
            {
                "site_id": "PT-5G-9001",
                "name": "长寿路测试站",
                "operator": "电信/联通",
                "lon": INSIDE["changshou"][0],
                "lat": INSIDE["changshou"][1],
                "crs": "WGS84",
                "band": "n78",
                "antenna_height_m": 30,
                "status": "已开通",
                "site_secured_date": dt.datetime(2024, 3, 1),
                "construction_start_date": dt.datetime(2024, 4, 1),
                "on_air_date": dt.datetime(2024, 5, 20),
                "counts_toward_target": "是",
            },
            {
                "site_id": "PT-5G-9002",
                "operator": "移动",
                "lon": INSIDE["taopu"][0],
                "lat": INSIDE["taopu"][1],
                "crs": "GCJ02",
                "status": "受阻",
                "status_date": dt.datetime(2024, 6, 1),
                "blocker": "业主不同意",
            },
        ],
    )
    garage = _fill(
        data_dir / "sites" / "garage_compounds.xlsx",
        GARAGE,
        [
            {
                "compound_id": "PT-GA-901",
                "name": "石泉一村",
                "lon": INSIDE["shiquan"][0],
                "lat": INSIDE["shiquan"][1],
                "crs": "BD09",
                "households": 800,
                "parking_spaces": 300,
                "solution": "皮站",
                "operators": "移动/电信/联通/广电",
                "status": "已覆盖",
                "survey_date": dt.datetime(2024, 2, 1),
                "plan_agreed_date": dt.datetime(2024, 3, 1),
                "construction_start_date": dt.datetime(2024, 4, 1),
                "covered_date": dt.datetime(2024, 6, 1),
                "charging_piles_ok": "是",
                "barrier_gates_ok": "否",
            }
        ],
    )
    project = rollout.load_project(data_dir, macro=[macro], garage=[garage], as_of=dt.date(2024, 6, 30))
    assert project.problems.empty, project.problems[["row", "column", "value", "reason_code"]].to_string()
    assert len(project.macro.records) == 2 and len(project.garage.records) == 1
    assert project.macro.records.sort_values("site_id")["operator"].tolist() == ["ctc;cucc", "cmcc"]
    assert project.garage.records["solution"].tolist() == ["pico"]


def test_values_typed_over_the_dropdowns_are_reported(tmp_path: Path) -> None:
    path = _fill(
        tmp_path / "macro.xlsx",
        MACRO,
        [{"site_id": "X1", "lon": 121.43, "lat": 31.25, "status": "快好了", "operator": "某某通信", "band": "n99"}],
    )
    load = rollout.read_sites(path, kind="macro")
    problems = load.problems.set_index("reason_code")
    assert problems.loc["status_unknown", "row"] == 2 and problems.loc["status_unknown", "column"] == "状态"
    assert problems.loc["status_unknown", "severity"] == "rejected"
    assert set(load.problems["reason_code"]) == {"status_unknown", "vocab_unknown"}
    assert set(load.problems.loc[load.problems["reason_code"] == "vocab_unknown", "column"]) == {"运营商", "频段"}


def test_template_command(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "车库模板.xlsx"
    result = CliRunner().invoke(cli, ["--data", str(data_dir), "template", "--kind", "garage", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"已写入 {out}（住宅小区地下车库，{len(GARAGE.fields)} 列）" in result.output
    assert openpyxl.load_workbook(out).sheetnames == ["住宅小区地下车库", "说明"]
    bad = CliRunner().invoke(cli, ["template", "--kind", "garage", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "x.csv" in bad.output
