"""The worksheet as a real 一小区一方案: one A4 page, point maps and their problems, typed XLSX,
the 台账, and a filled-in worksheet read back as a garage record."""

from __future__ import annotations

import datetime as dt
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import REPO
from pypdf import PdfReader

from rollout.cli import cli
from rollout.pipeline import load_project
from rollout.worksheet_xlsx import read_worksheet
from rollout.worksheets import write_worksheets

AS_OF = dt.date(2024, 10, 31)


@pytest.fixture
def sample_copy(sample_data_dir: Path) -> Path:
    return sample_data_dir


@pytest.fixture(scope="module")
def sample_project():
    """The bundled sample, loaded once for the tests that only read it."""
    return load_project(REPO / "data", as_of=AS_OF)


def _flat(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages).replace("\n", "").replace(" ", "")


def test_every_sample_worksheet_is_one_page_with_the_plan(sample_project, tmp_path: Path) -> None:
    project = sample_project
    folder, sheets = write_worksheets(project, tmp_path / "ws", formats=("pdf",))
    assert len(sheets) == 60
    longest = max(sheets, key=lambda s: len(s.name))
    for sheet in sheets:
        assert len(PdfReader(folder / f"{sheet.file_stem}.pdf").pages) == 1, sheet.compound_id
    text = _flat(folder / f"{longest.file_stem}.pdf")
    assert longest.name in text
    first = _flat(folder / f"{sheets[0].file_stem}.pdf")
    for words in ("信源", "设备清单", "建设方式", "供电方式", "传输路由", "测试方法", "业主委员会", "居民委员会", "中国铁塔", "（盖章）"):
        assert words in first, words
    assert (folder / "一小区一方案台账.xlsx").is_file()


def test_long_names_and_addresses_still_fit_one_page(sample_copy: Path, tmp_path: Path) -> None:
    path = sample_copy / "sites" / "garage_compounds.csv"
    text = path.read_text(encoding="utf-8-sig")
    long_name = "普陀区某某街道某某路一千二百三十四弄某某花园小区二期东区及配套地下停车库（含人防工程）"
    long_address = "上海市普陀区" + "某某路一千二百三十四弄" * 8
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[1], cells[2] = long_name, long_address
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    project = load_project(sample_copy, as_of=AS_OF)
    folder, sheets = write_worksheets(project, tmp_path / "ws", formats=("pdf",), compound_ids=[cells[0]])
    pdf = folder / f"{sheets[0].file_stem}.pdf"
    assert len(PdfReader(pdf).pages) == 1 and unicodedata.normalize("NFKC", long_name) in _flat(pdf)


def test_point_map_attachments_and_their_problems(sample_copy: Path, tmp_path: Path) -> None:
    from PIL import Image

    attachments = sample_copy / "attachments"
    (attachments / "PT-GA-001").mkdir(parents=True)
    Image.new("RGB", (400, 300), (200, 220, 255)).save(attachments / "PT-GA-001" / "plan.png")
    (attachments / "PT-GA-002").mkdir()
    (attachments / "PT-GA-002" / "plan.png").write_bytes(b"not a png at all")
    (attachments / "PT-GA-003").mkdir()
    (attachments / "PT-GA-003" / "plan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)  # a broken PNG
    (attachments / "PT-GA-004").mkdir()
    with (attachments / "PT-GA-004" / "plan.pdf").open("wb") as big:
        big.write(b"%PDF-1.4\n")
        big.truncate(21 * 1024 * 1024)
    project = load_project(sample_copy, as_of=AS_OF)
    ids = ["PT-GA-001", "PT-GA-002", "PT-GA-003", "PT-GA-004", "PT-GA-005"]
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(sample_copy),
            "worksheets",
            "--as-of",
            "2024-10-31",
            *[a for i in ids for a in ("--compound", i)],
            "--out",
            str(tmp_path / "ws"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "不是 PNG、JPG 或 PDF" in result.output and "无法读取" in result.output and "超过 20 MB" in result.output
    folder, sheets = write_worksheets(project, tmp_path / "ws2", formats=("html", "pdf"), compound_ids=ids)
    by_id = {s.compound_id: s for s in sheets}
    assert by_id["PT-GA-001"].plan_image and not by_id["PT-GA-001"].attachment_problem
    assert "data:image/png;base64" in (folder / f"{by_id['PT-GA-001'].file_stem}.html").read_text(encoding="utf-8")
    for compound, words in (("PT-GA-002", "不是 PNG"), ("PT-GA-003", "无法读取"), ("PT-GA-004", "超过 20 MB")):
        assert words in by_id[compound].attachment_problem
        assert words.replace(" ", "") in _flat(folder / f"{by_id[compound].file_stem}.pdf")  # named on the page
        assert len(PdfReader(folder / f"{by_id[compound].file_stem}.pdf").pages) == 1
    assert "<svg" in (folder / f"{by_id['PT-GA-005'].file_stem}.html").read_text(encoding="utf-8")  # the location map


def test_xlsx_numbers_dates_no_formulas_and_read_back(sample_copy: Path, tmp_path: Path) -> None:
    project = load_project(sample_copy, as_of=AS_OF)
    folder, sheets = write_worksheets(project, tmp_path / "ws", formats=("xlsx",), compound_ids=["PT-GA-001"])
    path = folder / f"{sheets[0].file_stem}.xlsx"
    book = openpyxl.load_workbook(path)
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    pairs = {row[0].value: row[1].value for row in book.active.iter_rows() if row[0].value}
    assert isinstance(pairs["户数"], int) and isinstance(pairs["车位数"], int)
    assert isinstance(pairs["计划勘察日期"], dt.datetime)
    # The engineer fills in the acceptance test and sends the file back.
    sheet = book.active
    for row in sheet.iter_rows():
        if row[0].value == "测试人":
            row[1].value = "张工"
        if row[0].value == "测试点数":
            row[1].value = 120
    book.save(path)
    update = read_worksheet(path)
    assert update.loc[0, "小区编码"] == "PT-GA-001" and update.loc[0, "测试人"] == "张工" and update.loc[0, "测试点数"] == 120
    out = tmp_path / "update.csv"
    result = CliRunner().invoke(cli, ["--data", str(sample_copy), "worksheets", "--read", str(path), "--update", str(out)])
    assert result.exit_code == 0, result.output
    check = CliRunner().invoke(cli, ["--data", str(sample_copy), "validate", str(out), "--kind", "garage", "--as-of", "2024-10-31"])
    assert check.exit_code == 0, check.output
    assert "载入 1，拒收 0" in check.output


def test_ledger_one_row_per_compound(sample_project, tmp_path: Path) -> None:
    project = sample_project
    folder, sheets = write_worksheets(project, tmp_path / "ws", formats=("html",))
    ledger = openpyxl.load_workbook(folder / "一小区一方案台账.xlsx").active
    header = [c.value for c in ledger[2]]
    assert header[:2] == ["小区编码", "小区名称"] and "建设方式" in header and "逾期节点数" in header
    ids = [row[0].value for row in ledger.iter_rows(min_row=3) if row[0].value]
    assert ids == [s.compound_id for s in sheets] and len(ids) == 60
    covered = header.index("覆盖日期")
    assert any(isinstance(row[covered].value, dt.datetime) for row in ledger.iter_rows(min_row=3))


def test_the_folder_is_replaced_as_a_whole(sample_project, tmp_path: Path) -> None:
    project = sample_project
    out = tmp_path / "ws"
    out.mkdir()
    (out / "stale.html").write_text("old", encoding="utf-8")
    write_worksheets(project, out, formats=("html",), compound_ids=["PT-GA-001"])
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    shutil.rmtree(out)
