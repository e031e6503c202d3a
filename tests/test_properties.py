"""Property-based tests (hypothesis): random messy CSV files never lose or invent a row.

The files mix encodings (UTF-8, UTF-8 with BOM, GB18030, UTF-16), delimiters, line endings
(LF, CRLF, CR), quotes (proper, stray, doubled), rows of the wrong length, blank and whitespace
lines, invisible and wide characters, a title row above the header, and cells that are valid
values. Whatever comes:

- reading raises nothing but a one-line :class:`InputFileError` about the file as a whole;
- every text line after the header is accounted for: a row (loaded or rejected), a blank row, or
  a line break inside a quoted cell (which the file's note counts), so the rows a person counts
  reconcile with the lines of the file;
- ``rollout validate`` exits 1 exactly when a row was rejected, 0 otherwise, 2 with one line for a
  file that cannot be read at all, and never shows a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import INSIDE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout.cli import cli
from rollout.errors import InputFileError
from rollout.problems import REJECTED
from rollout.records import read_sites

# The suite (and CI) draws the same examples on every run, so that a test that passed here passes there;
# HYPOTHESIS_PROFILE=explore draws new ones each run, to look for new failures.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

LON, LAT = (str(v) for v in INSIDE["shiquan"])
_VALUES = ["", " ", "PT-1", "PT-2", LON, LAT, "在建", "已开通", "planned", "2024-03-05", "2024/3/5", "百度", "WGS84", "曹杨", "n78"]
_JUNK = ['"', 'a"b', '""', "x,y", "x;y", "\u200b", "\ufeff", "🏠", "\u3000", "=1+1", "-2", "１２１.４", "121°24′07″E", "\t", "é"]
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), max_size=6)
_CELL = st.one_of(st.sampled_from(_VALUES), st.sampled_from(_JUNK), _TEXT)
_HEADER = ["站址编码", "经度", "纬度", "状态", "备注"]


@st.composite
def messy_csv(draw) -> tuple[bytes, str, str]:
    """(file bytes, encoding, line ending) of a messy site file."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    lines = []
    if draw(st.booleans()):
        lines.append("普陀区5G宏站清单")
    lines.append(delimiter.join(_HEADER))
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["good", "good", "cells", "blank", "space", "multiline"]))
        if kind == "good":
            cells = [draw(st.sampled_from(["PT-1", "PT-2", "PT-3", ""])), LON, LAT, draw(st.sampled_from(["在建", "已开通", "x"])), ""]
        elif kind == "blank":
            cells = []
        elif kind == "space":
            cells = [" \t "]
        else:
            cells = draw(st.lists(_CELL, min_size=1, max_size=len(_HEADER) + 2))
        if kind == "multiline":
            cells[-1] = '"' + cells[-1].replace('"', '""') + "\n" + draw(_TEXT).replace('"', '""') + '"'
        else:
            cells = [f'"{c.replace(chr(34), chr(34) * 2)}"' if draw(st.integers(0, 4)) == 0 else c for c in cells]
        lines.append(delimiter.join(cells))
    text = ending.join(lines) + (ending if draw(st.booleans()) else "")
    return text.encode(encoding), encoding, ending


def _text_lines_after_header(data: bytes, encoding: str, header_line: int) -> int:
    text = data.decode("utf-16" if encoding == "utf-16" else encoding).removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # the text ends with a line end
    return len(lines) - header_line


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(messy_csv())
def test_messy_files_conserve_every_line(tmp_path: Path, sample: tuple[bytes, str, str]) -> None:
    data, encoding, _ = sample
    path = tmp_path / "macro_stations.csv"
    path.write_bytes(data)
    try:
        load = read_sites(path, kind="macro")
    except InputFileError as e:
        assert "\n" not in str(e) and str(path) in str(e)
        return
    summary = load.summary().iloc[0]
    rows, loaded, rejected, blank = (int(summary[c]) for c in ("rows", "loaded", "rejected", "blank_rows"))
    assert loaded + rejected == rows
    assert len(load.records) == loaded and load.records["source_row"].is_unique
    note = load.problems[load.problems["reason_code"] == "line_breaks_in_cells"]
    extra = int(note["params"].iloc[0]["extra"]) if len(note) else 0
    header_line = 2 if data.decode("utf-16" if encoding == "utf-16" else encoding).lstrip("\ufeff").startswith("普陀区") else 1
    assert rows + blank + extra == _text_lines_after_header(data, encoding, header_line)
    rejected_rows = set(load.problems.loc[load.problems["severity"] == REJECTED, "row"])
    assert not rejected_rows & set(load.records["source_row"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(messy_csv())
def test_validate_exits_one_exactly_when_a_row_is_rejected(data_dir: Path, tmp_path: Path, sample: tuple[bytes, str, str]) -> None:
    data, _, _ = sample
    path = tmp_path / "macro_stations.csv"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["--data", str(data_dir), "--lang", "en", "validate", str(path), "--kind", "macro"])
    assert "Traceback" not in result.output and (result.exception is None or isinstance(result.exception, SystemExit))
    if result.exit_code == 2:
        assert result.output.count("\n") == 1 and result.output.startswith("Error:")
        return
    rejected = int(re.search(r"Total: \d+ loaded, (\d+) rejected", result.output).group(1))
    assert result.exit_code == (1 if rejected else 0), result.output


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_file_that_is_only_a_header_and_blank_lines(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "macro_stations.csv"
    path.write_bytes(",".join(_HEADER).encode(encoding) + b"\n\n  \n,,,,\n")
    summary = read_sites(path).summary().iloc[0]
    assert (summary["rows"], summary["blank_rows"]) == (0, 3)
