"""The worksheet PDF (Typst) against the one description of the page: every text the page has
is in both the PDF and the HTML; the same bytes from the same input, whether laid out in forked
workers or in this process; one page whatever the length; a clear error without Chinese fonts."""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import REPO
from pypdf import PdfReader

from rollout import typst_pdf
from rollout.errors import InputFileError
from rollout.pipeline import load_project
from rollout.worksheet_page import page_texts
from rollout.worksheets import _content, build_worksheets, render_pdf, write_worksheets

AS_OF = dt.date(2024, 10, 31)


@pytest.fixture(scope="module")
def sample_project():
    return load_project(REPO / "data", as_of=AS_OF)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _pdf_text(path: Path) -> str:
    """The PDF's text in content order (poppler), without spaces and line breaks."""
    return _norm(subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout)


def test_pdf_and_html_show_every_text_of_the_page(sample_project, tmp_path: Path) -> None:
    # The worksheets that show the most: blocked ones, accepted without evidence, the longest name.
    sheets = build_worksheets(sample_project)
    chosen = [s for s in sheets if s.blockers][:2] + [s for s in sheets if s.accepted_without_evidence][:1]
    chosen.append(max(sheets, key=lambda s: len(s.name)))
    ids = sorted({s.compound_id for s in chosen})
    folder, written = write_worksheets(sample_project, tmp_path / "ws", formats=("html", "pdf"), compound_ids=ids)
    assert len(written) == len(ids) >= 3
    for sheet in written:
        texts = page_texts(_content(sheet, sample_project, "zh"))
        assert len(texts) > 80  # titles, headings, labels, values, flags, sign-off units
        pdf = _pdf_text(folder / f"{sheet.file_stem}.pdf")
        page = _norm(html.unescape(re.sub(r"<[^>]+>", "", (folder / f"{sheet.file_stem}.html").read_text(encoding="utf-8"))))
        assert [x for x in texts if _norm(x) not in pdf] == [], sheet.compound_id
        assert [x for x in texts if _norm(x) not in page] == [], sheet.compound_id
    blocked = next(s for s in written if s.blockers)
    assert "受阻原因" in _pdf_text(folder / f"{blocked.file_stem}.pdf")


def test_same_bytes_from_forked_workers_and_from_this_process(sample_project, tmp_path: Path) -> None:
    ids = ["PT-GA-001", "PT-GA-002", "PT-GA-003", "PT-GA-004", "PT-GA-005"]
    args = [sys.executable, "-m", "rollout", "worksheets", "--as-of", AS_OF.isoformat(), "--format", "pdf"]
    args += [a for i in ids for a in ("--compound", i)]
    # A fresh process lays five out in forked workers (one per core); this one lays them out here.
    subprocess.run([*args, "--out", str(tmp_path / "ws")], cwd=REPO, check=True, capture_output=True)
    for sheet in build_worksheets(sample_project, compound_ids=ids):
        forked = (tmp_path / "ws" / f"{sheet.file_stem}.pdf").read_bytes()
        assert forked == render_pdf(sheet, sample_project) == render_pdf(sheet, sample_project)
        assert b"/CreationDate" not in forked


def test_a_very_long_name_and_address_are_scaled_to_one_page(sample_data_dir: Path, tmp_path: Path) -> None:
    path = sample_data_dir / "sites" / "garage_compounds.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    name = "普陀区某某街道某某花园小区" * 8
    cells[1], cells[2] = name, "上海市普陀区" + "某某路一千二百三十四弄" * 45
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    project = load_project(sample_data_dir, as_of=AS_OF)
    folder, sheets = write_worksheets(project, tmp_path / "ws", formats=("pdf",), compound_ids=[cells[0]])
    pdf = folder / f"{sheets[0].file_stem}.pdf"
    assert len(PdfReader(pdf).pages) == 1
    text = _pdf_text(pdf)
    assert _norm(name) in text and _norm("中国铁塔（盖章）签字") in text  # nothing cut off at the foot


def test_no_chinese_font_is_one_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typst_pdf, "CJK_FONTS", ("No Such Font SC",))
    typst_pdf._compiler.cache_clear()
    try:
        with pytest.raises(InputFileError) as caught:
            typst_pdf.typst_pdf("worksheet.typ", page="{}")
    finally:
        typst_pdf._compiler.cache_clear()
    assert "fonts-noto-cjk" in str(caught.value) and "找不到中文字体" in caught.value.message("zh")


def test_english_labels_with_underscores_read_back_whole_from_the_pdf(sample_project, tmp_path: Path) -> None:
    # English labels are the garage file's machine names (garage_area_m2): wider than their cell,
    # they break after an underscore (no invisible character in the text copied from the PDF).
    sheet = build_worksheets(sample_project, compound_ids=["PT-GA-013"], lang="en")[0]
    pdf = tmp_path / "en.pdf"
    pdf.write_bytes(render_pdf(sheet, sample_project, lang="en"))
    assert len(PdfReader(pdf).pages) == 1
    text = _pdf_text(pdf)
    assert "\u200b" not in text
    for label in ("compound_id", "garage_area_m2", "parking_spaces", "property_manager", "Sign-off"):
        assert label in text, label
