"""The leaders' brief: one A4 page, Word and PDF, numbers equal to progress, lights by pace."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import REPO
from pypdf import PdfReader

from rollout.brief import brief_files, leaders_brief, street_lights
from rollout.cli import cli
from rollout.pipeline import load_project
from rollout.progress import street_rows, total_row

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def brief():
    return leaders_brief(load_project(REPO / "data", as_of=AS_OF))


@pytest.fixture(scope="module")
def files(brief):
    return brief_files(brief)


def _flat(text: str) -> str:
    return text.replace("\n", "").replace(" ", "")


def test_docx_table_of_ten_streets_equals_progress(brief, files) -> None:
    from docx import Document

    document = Document(io.BytesIO(files["brief.docx"]))
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    streets = document.tables[0]
    rows = [[c.text for c in row.cells] for row in streets.rows[2:]]
    assert len(rows) == 10
    progress = street_rows(load_project(REPO / "data", as_of=AS_OF).progress()).set_index("street_name")
    for row in rows:
        street = progress.loc[row[0]]
        assert (
            row[2] == f"{street['macro_done']}/{street['macro_target']}" and row[6] == f"{street['garage_done']}/{street['garage_target']}"
        )
        assert row[3] == f"{street['macro_pct']:.1f}%"
    assert [int(r[9]) for r in rows] == list(range(1, 11)) and {r[10] for r in rows} <= {"红", "黄", "绿"}
    text = "\n".join(p.text for p in document.paragraphs)
    assert "普陀区5G网络建设及车库覆盖工作周报" in text and "2024年6月30日" in text and "81/200" in text
    with zipfile.ZipFile(io.BytesIO(files["brief.docx"])) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert 'w:eastAsia="黑体"' in xml and 'w:eastAsia="宋体"' in xml
    assert len(document.inline_shapes) == 1  # the chart


def test_pdf_is_one_a4_page_with_the_numbers(brief, files) -> None:
    reader = PdfReader(io.BytesIO(files["brief.pdf"]))
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) == pytest.approx(595.28, abs=0.5)
    text = _flat(reader.pages[0].extract_text())
    total = total_row(brief.progress)
    assert f"{total['macro_done']}/200" in text and f"{total['garage_done']}/50" in text
    for name in street_rows(brief.progress)["street_name"]:
        assert name in text
    top = brief.blocked.iloc[0]
    assert top["record_id"] in text and str(int(top["days_blocked"])) in text
    # The chart is drawn on the page, as text and vectors: its legend, and each street's
    # done/target once in the table and once beside its bar.
    assert "已完成" in text
    for _, street in street_rows(brief.progress).iterrows():
        assert text.count(f"{street['macro_done']}/{street['macro_target']}") >= 2


def test_same_content_same_bytes(brief, files) -> None:
    again = brief_files(brief)
    assert again["brief.docx"] == files["brief.docx"]
    assert _flat(PdfReader(io.BytesIO(again["brief.pdf"])).pages[0].extract_text()) == _flat(
        PdfReader(io.BytesIO(files["brief.pdf"])).pages[0].extract_text()
    )


def test_lights_follow_the_pace_and_the_threshold(brief) -> None:
    for _, row in brief.streets.iterrows():
        behind = [row[f"{k}_pace"] == "behind" for k in ("macro", "garage")]
        assert (row["light"] == "green") == (not any(behind))
    frame = pd.DataFrame(
        {
            "macro_pace": ["behind"],
            "macro_done": [8],
            "macro_expected": [10.0],
            "garage_pace": ["ahead"],
            "garage_done": [1],
            "garage_expected": [0.5],
        }
    )
    assert street_lights(frame, red_below_pct=80)["light"].tolist() == ["yellow"]
    assert street_lights(frame, red_below_pct=90)["light"].tolist() == ["red"]


def test_weekly_change_counts_new_done(brief) -> None:
    project = load_project(REPO / "data", as_of=AS_OF)
    week_ago = load_project(REPO / "data", as_of=AS_OF - dt.timedelta(days=7))
    now, before = total_row(project.progress()), total_row(week_ago.progress())
    assert brief.totals["macro_new"] == now["macro_done"] - before["macro_done"]
    assert brief.totals["garage_new"] == now["garage_done"] - before["garage_done"]
    due = pd.to_datetime(brief.due["planned_date"])
    assert ((due > pd.Timestamp(AS_OF)) & (due <= pd.Timestamp(AS_OF + dt.timedelta(days=7)))).all() and len(due) > 0


def test_cli_writes_both_and_refuses_unknown_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--data", str(REPO / "data"), "brief", "--week", "2024-W26", "--out", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.docx", "brief.pdf"]
    bad = runner.invoke(cli, ["--data", str(REPO / "data"), "brief", "--format", "pptx", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "pptx" in bad.output
    english = runner.invoke(
        cli,
        ["--data", str(REPO / "data"), "--lang", "en", "brief", "--as-of", "2024-06-30", "--format", "pdf", "--out", str(tmp_path / "en")],
    )
    assert english.exit_code == 0
    assert "weeklybrief" in _flat(PdfReader(tmp_path / "en" / "brief.pdf").pages[0].extract_text())


def test_pdf_lists_as_many_milestones_as_fit(brief) -> None:
    from rollout.brief import brief_view
    from rollout.brief_pdf import DUE_LIMIT, brief_layout, brief_pdf

    view = brief_view(brief, lang="zh")
    view["due"] = view["due"] * 3  # more than fit on the page
    view["due"] = [[*row[:2], f"{row[2]}（{row[2]}；{row[2]}）", *row[3:]] for row in view["due"]]  # on two lines each
    pdf, shown = brief_pdf(view)
    assert 1 < shown < DUE_LIMIT
    text = _flat(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1 and f"共{len(view['due'])}项，列出最早的{shown}项" in text
    assert brief_layout(view, shown + 1)[1] == 2  # the most that fit
