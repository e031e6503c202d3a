"""Replaying a past week shows only what was known then: no actual date after the day anywhere.

Every file of the weekly pack (HTML, CSV, XLSX, Markdown, GeoPackage, and Word and PDF documents
when a pack has them), the coordinators' gap lists and the compound worksheets are read back as a
person or a program would read them, and every date in them is collected. None may be an actual
milestone date (落点, 开工, 开通, 勘察, 覆盖, 验收, status and update dates) after the day
replayed, unless the same day is also a planned date or a forecast, which may be shown.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner
from conftest import REPO

from rollout.cli import cli
from rollout.gaps import street_gaps
from rollout.pipeline import load_project
from rollout.status import actual_date_fields

_DATE = re.compile(r"(?<!\d)(20\d\d)[-/年.](\d{1,2})[-/月.](\d{1,2})(?!\d)")
DAY = dt.date(2024, 6, 30)


def dates_in(folder: Path) -> dict[str, set[str]]:
    """Every calendar date written in the files under ``folder``: ISO day -> file names."""
    found: dict[str, set[str]] = {}
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    assert files, folder
    for path in files:
        for text in _texts(path):
            for year, month, day in _DATE.findall(text):
                try:
                    found.setdefault(dt.date(int(year), int(month), int(day)).isoformat(), set()).add(path.name)
                except ValueError:
                    continue
    return found


def _texts(path: Path) -> Iterator[str]:
    suffix = path.suffix.lower()
    if suffix in (".html", ".csv", ".md", ".json", ".geojson", ".txt", ".kml"):
        yield path.read_text(encoding="utf-8-sig")
    elif suffix == ".xlsx":
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, dt.date | dt.datetime):
                        yield value.strftime("%Y-%m-%d")
                    elif value is not None:
                        yield str(value)
    elif suffix == ".gpkg":
        for layer, _ in pyogrio.list_layers(path):
            frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
            for column in frame.columns:
                for value in frame[column].dropna():
                    yield value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)
    elif suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        yield from (p.text for p in document.paragraphs)
        yield from (cell.text for table in document.tables for row in table.rows for cell in row.cells)
    elif suffix == ".pdf":  # poppler-utils, as for the PDF render tests
        yield subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    elif suffix != ".png":  # charts carry no text to read back
        raise AssertionError(f"{path.name}: a pack file the test cannot read; teach _texts its format")


def later_actual_dates(data: Path, day: dt.date, **load) -> set[str]:
    """Actual milestone dates after ``day`` in the records as known now, less any day that is
    also a planned date (which the outputs may show, labelled as planned)."""
    project = load_project(data, **load)
    later: set[str] = set()
    planned: set[str] = set()
    for site_load in (project.macro, project.garage):
        records = site_load.records
        for name in actual_date_fields(site_load.kind):
            if name in records.columns:
                later |= {d.date().isoformat() for d in records[name].dropna() if d.date() > day}
        for name in (c for c in records.columns if c.startswith("planned_")):
            planned |= {d.date().isoformat() for d in records[name].dropna()}
    return later - planned - {project.config.deadline.isoformat()}


def forecasts(data: Path, day: dt.date, **load) -> set[str]:
    """The completion dates the gap lists forecast for ``day``: computed, not reported."""
    summary = street_gaps(load_project(data, as_of=day, **load)).summary
    return {v for kind in ("macro", "garage") for v in summary[f"{kind}_forecast"] if v}


def test_replaying_a_week_shows_no_later_actual_date(sample_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    later = later_actual_dates(sample_data_dir, DAY)
    assert len(later) > 20  # the sample goes on to 2025: plenty that must not show
    runner = CliRunner()
    data = ["--data", str(sample_data_dir)]
    for args in (
        ["weekly", "--week", "2024-W26", "--out", str(out / "maps")],
        ["gaps", "--as-of", DAY.isoformat(), "--out", str(out / "gaps" / "gaps.xlsx")],
        ["gaps", "--as-of", DAY.isoformat(), "--out", str(out / "gaps" / "gaps.html")],
        ["worksheets", "--as-of", DAY.isoformat(), "--format", "html,xlsx", "--out", str(out / "worksheets")],
        ["progress", "--as-of", DAY.isoformat(), "--format", "xlsx", "--out", str(out / "tables" / "progress.xlsx")],
    ):
        result = runner.invoke(cli, data + args, catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output  # 1: the sample's two rejected rows
    found = dates_in(out)
    shown_later = later - forecasts(sample_data_dir, DAY)
    leaked = {day: sorted(files) for day, files in found.items() if day in shown_later}
    assert not leaked
    # The pack does show dates: the check reads what it should.
    assert DAY.isoformat() in found and "2024-06-24" in found
    shown = {day for day in found if day > DAY.isoformat()}
    assert shown, "no planned date shown at all: is the reader broken?"


def test_a_week_replayed_from_the_register_shows_nothing_reported_later(data_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(REPO / "data" / "sites" / "submissions", data_dir / "sites" / "submissions")
    submissions = data_dir / "sites" / "submissions"
    runner = CliRunner()
    data = ["--data", str(data_dir)]
    for path, source, day in (
        (submissions / "2024-W25" / "铁塔_宏站_0623.csv", "铁塔", "2024-06-23"),
        (submissions / "2024-W25" / "长寿路街道_车库_0623.csv", "长寿路", "2024-06-23"),
        (submissions / "2024-W26" / "铁塔_宏站_0630.csv", "铁塔", "2024-06-30"),
        (submissions / "2024-W26" / "真如镇街道_车库_0630.csv", "真如镇", "2024-06-30"),
    ):
        result = runner.invoke(cli, [*data, "import", str(path), "--source", source, "--as-of", day], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
    replayed = dt.date(2024, 6, 23)
    later = later_actual_dates(data_dir, replayed)
    if not later:
        pytest.fail("the week-26 submissions report no actual date after 2024-06-23: nothing to check")
    for args in (
        ["weekly", "--week", "2024-W25", "--out", str(tmp_path / "out" / "maps")],
        ["export", "--as-of", replayed.isoformat(), "--out", str(tmp_path / "out" / "records.xlsx")],
        ["export", "--as-of", replayed.isoformat(), "--format", "kml", "--out", str(tmp_path / "out" / "records.kml")],
    ):
        result = runner.invoke(cli, [*data, *args], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
        assert args[0] != "weekly" or "登记册" in result.output  # read from the register, as known that day
    found = dates_in(tmp_path / "out")
    shown_later = later - forecasts(data_dir, replayed)
    leaked = {day: sorted(files) for day, files in found.items() if day in shown_later}
    assert not leaked
