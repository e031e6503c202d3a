"""One compound, one plan: PDF, XLSX and HTML worksheets, safe names, operator bundles."""

from __future__ import annotations

import datetime as dt
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import REPO, write_text
from pypdf import PdfReader

from rollout.cli import cli
from rollout.pipeline import load_project
from rollout.worksheets import safe_filename, write_worksheets

AS_OF = dt.date(2024, 10, 31)


@pytest.fixture(scope="module")
def sample_project():
    return load_project(REPO / "data", as_of=AS_OF)


def _pdf_text(path: Path) -> str:
    """Text of a PDF: poppler's pdftotext when installed (best with CJK), else pypdf."""
    try:
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_pdf_has_the_compound_street_and_milestones(sample_project, tmp_path: Path) -> None:
    folder, sheets = write_worksheets(sample_project, tmp_path, formats=("pdf",), compound_ids=["PT-GA-001"])
    sheet = sheets[0]
    pdf = folder / f"{sheet.file_stem}.pdf"
    reader = PdfReader(pdf)
    assert 1 <= len(reader.pages) <= 3
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    text = _pdf_text(pdf)
    record = sample_project.garage.records.set_index("compound_id").loc["PT-GA-001"]
    assert record["name"] in text and record["street_name"] in text
    for column in ("survey_date", "plan_agreed_date", "covered_date", "accepted_date"):
        assert record[column].strftime("%Y-%m-%d") in text
    assert "一小区一方案" in text and "会签" in text
    assert record["phone"] in text  # worksheets are where phone numbers belong
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and " yes yes " in fonts  # CJK font embedded (subset)


def test_accepted_without_evidence_is_flagged(sample_project, tmp_path: Path) -> None:
    folder, sheets = write_worksheets(sample_project, tmp_path, formats=("html",), compound_ids=["PT-GA-001", "PT-GA-013"])
    flagged = {s.compound_id: s.accepted_without_evidence for s in sheets}
    assert flagged == {"PT-GA-001": True, "PT-GA-013": False}
    html = (folder / f"{sheets[0].file_stem}.html").read_text(encoding="utf-8")
    assert "已标为验收，但验收证据不达标" in html and "联通可通话率 82.5% &lt; 90%" in html
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index.count("<tr>") == 3 and "已验收但证据不达标" in index


def test_xlsx_reads_back(sample_project, tmp_path: Path) -> None:
    folder, sheets = write_worksheets(sample_project, tmp_path, formats=("xlsx",), compound_ids=["PT-GA-013"])
    book = openpyxl.load_workbook(folder / f"{sheets[0].file_stem}.xlsx")
    values = [str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None]
    record = sample_project.garage.records.set_index("compound_id").loc["PT-GA-013"]
    assert record["name"] in " ".join(values) and record["phone"] in values
    assert "进度计划（计划与实际）" in values and "会签" in values and "设备清单" in values


def test_nearby_stations_are_on_air_and_sorted(sample_project) -> None:
    from rollout.worksheets import build_worksheets

    sheet = build_worksheets(sample_project, compound_ids=["PT-GA-013"])[0]
    distances = [n["distance_m"] for n in sheet.nearby]
    assert distances == sorted(distances) and all(d <= 800 for d in distances)
    on_air = set(sample_project.macro.records.loc[sample_project.macro.records["on_air_date"] <= "2024-10-31", "site_id"])
    assert {n["site_id"] for n in sheet.nearby} <= on_air


def test_hostile_names_stay_inside_the_folder_and_render_as_text(data_dir: Path, tmp_path: Path) -> None:
    write_text(
        data_dir / "sites" / "garage_compounds.csv",
        "小区编码,小区名称,经度,纬度,状态,联系电话\n"
        "G1,../../x,121.429,31.2462,未启动,13900000001\n"
        "G2,<script>alert(1)</script>,121.4291,31.2463,未启动,13900000002\n"
        "../G3,=cmd|' /C calc'!A0,121.4292,31.2464,未启动,13900000003\n",
    )
    project = load_project(data_dir, as_of=AS_OF)
    out = tmp_path / "out"
    folder, sheets = write_worksheets(project, out, formats=("html", "xlsx"))
    written = sorted(p.name for p in folder.iterdir())
    assert all((folder / name).resolve().parent == out.resolve() for name in written)
    assert not (tmp_path / "x.html").exists() and not list(tmp_path.glob("*.html"))
    assert sorted(s.file_stem for s in sheets) == sorted(safe_filename(s.compound_id, s.name) for s in sheets)
    by_id = {s.compound_id: s for s in sheets}
    html = (folder / f"{by_id['G2'].file_stem}.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    book = openpyxl.load_workbook(folder / f"{by_id['../G3'].file_stem}.xlsx")
    values = [c.value for row in book.active.iter_rows() for c in row if c.value]
    assert "'=cmd|' /C calc'!A0" in values  # neutralised for spreadsheets


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("A1", "金沙雅苑·滨湖世家"), "A1_金沙雅苑·滨湖世家"),
        (("A1", "a/b\\c:d"), "A1_a_b_c_d"),
        (("..", ".."), "worksheet"),
        (("CON",), "_CON"),
        (("",), "worksheet"),
    ],
)
def test_safe_filename(parts, expected: str) -> None:
    name = safe_filename(*parts)
    assert name == expected
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_operator_bundle_folder_and_zip(sample_project, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(REPO / "data"),
            "worksheets",
            "--operator",
            "广电",
            "--format",
            "html",
            "--as-of",
            "2024-10-31",
            "--out",
            str(tmp_path),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "operator-广电"
    records = sample_project.garage.records
    expected = records[records["operators"].str.contains("cbn")]["compound_id"].tolist()
    assert len(expected) > 0
    pages = sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")
    assert [p.split("_")[0] for p in pages] == sorted(expected)
    with zipfile.ZipFile(tmp_path / "operator-广电.zip") as bundle:
        assert sorted(bundle.namelist()) == sorted(f"operator-广电/{p.name}" for p in folder.iterdir())
    bad = CliRunner().invoke(
        cli, ["--data", str(REPO / "data"), "--lang", "en", "worksheets", "--operator", "小灵通", "--out", str(tmp_path)]
    )
    assert bad.exit_code == 2 and "移动, 电信, 联通, 广电 or 铁塔" in bad.output
    chinese = CliRunner().invoke(cli, ["--data", str(REPO / "data"), "worksheets", "--operator", "小灵通", "--out", str(tmp_path)])
    assert chinese.exit_code == 2 and "请用 移动、电信、联通、广电 或 铁塔" in chinese.output


def test_unknown_compound_and_format_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(cli, ["--data", str(REPO / "data"), "worksheets", "--compound", "NOPE", "--out", str(tmp_path), "--lang", "en"])
    assert unknown.exit_code == 2 and "no garage compound with id NOPE" in unknown.output
    bad = runner.invoke(cli, ["--data", str(REPO / "data"), "worksheets", "--format", "docx", "--out", str(tmp_path)])
    assert bad.exit_code == 2
