"""The command line: help everywhere, exit codes, messages, and outputs that agree."""

from __future__ import annotations

import json
from pathlib import Path

import click
import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import REPO, write_text

from rollout import __version__
from rollout.cli import cli
from rollout.cli.options import CliState
from rollout.i18n import t


def _commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    """Every command path, walking the lazy group as click does."""
    ctx = click.Context(group, obj=CliState())
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


_WORDS = {"zh": ("用法：", "选项", "示例："), "en": ("Usage:", "Options", "Example:")}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", list(_commands()), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...], lang: str) -> None:
    result = CliRunner().invoke(cli, ["--lang", lang, *path, "-h"])
    assert result.exit_code == 0, result.output
    for word in _WORDS[lang]:
        assert word in result.output
    key = "cli." + ".".join(p.replace("-", "_") for p in path) + ".help"
    first_line = t(key, lang).splitlines()[0]
    assert first_line[:30] in result.output.replace("\n  ", " ")
    assert t("cli.options.lang", lang)[:20] in result.output  # global options are accepted after the command too


@pytest.mark.parametrize("path", list(_commands()), ids=" ".join)
def test_every_option_has_help_in_the_catalogue(path: tuple[str, ...]) -> None:
    from rollout.i18n import has

    key = ".".join(p.replace("-", "_") for p in path)
    command = cli
    for name in path:
        command = command.get_command(click.Context(command, obj=CliState()), name)
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert has(f"cli.{key}.options.{param.name}") or has(f"cli.options.{param.name}"), f"{key} --{param.name}"


def test_version_and_top_level_help() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).output.strip() == f"rollout, version {__version__}"
    output = runner.invoke(cli, ["--help"]).output
    for word in ("--data", "--lang", "--verbose", "validate", "progress", "boundaries", "targets"):
        assert word in output


def run(data_dir: Path, *args: str, lang: str = "zh"):
    return CliRunner().invoke(cli, ["--data", str(data_dir), "--lang", lang, *args], catch_exceptions=False)


def test_validate_sample_reports_rejects_and_reconciles(sample_data_dir: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    clean = tmp_path / "clean.gpkg"
    result = run(sample_data_dir, "validate", "--rejects", str(rejects), "--clean", str(clean))
    assert result.exit_code == 1
    assert "macro_stations.csv（5G室外宏站，GB18030）：232 行，载入 230，拒收 2" in result.output
    assert "garage_compounds.csv（住宅小区地下车库，UTF-8-SIG）：60 行，载入 60，拒收 0" in result.output
    assert "拒收 第 232 行 站址编码 = 'PT-5G-0011'：编码重复，首次出现在 macro_stations.csv 第 12 行" in result.output
    assert "合计：载入 290，拒收 2" in result.output
    assert "街道边界为近似示意" in result.output
    assert rejects.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    table = pd.read_csv(rejects, encoding="utf-8-sig")
    assert table.columns.tolist()[:4] == ["文件", "行号", "列", "值"]
    assert table[table["级别"] == "拒收"]["行号"].tolist() == [232, 233]
    assert len(gpd.read_file(clean, layer="macro_stations")) == 230
    garage = gpd.read_file(clean, layer="garage_compounds")
    assert len(garage) == 60 and garage["street_code"].str.len().eq(12).all()


def test_validate_clean_files_exit_zero_and_write_normalised_csv(data_dir: Path, tmp_path: Path) -> None:
    path = write_text(
        tmp_path / "in.csv",
        '站址编码,站名,经度,纬度,坐标系,状态,开通日期\nPT1,=HYPERLINK("x"),121.433562,31.244291,高德,已开通,2024年3月5日\n',
        "gb18030",
    )
    clean = tmp_path / "clean.csv"
    result = run(data_dir, "validate", str(path), "--kind", "macro", "--clean", str(clean))
    assert result.exit_code == 0, result.output
    row = pd.read_csv(clean, encoding="utf-8-sig", dtype=str).iloc[0]
    assert row["on_air_date"] == "2024-03-05"
    assert row["street_name"] == "长寿路街道"
    assert row["name"] == '\'=HYPERLINK("x")'  # neutralised for spreadsheets
    assert float(row["lon"]) == pytest.approx(121.4290, abs=2e-4)
    assert row["crs_input"] == "gcj02"


def test_validate_clean_geojson_per_kind(sample_data_dir: Path, tmp_path: Path) -> None:
    result = run(sample_data_dir, "validate", "--clean", str(tmp_path / "clean.geojson"))
    assert result.exit_code == 1
    assert len(gpd.read_file(tmp_path / "clean_macro.geojson")) == 230
    assert len(gpd.read_file(tmp_path / "clean_garage.geojson")) == 60


@pytest.mark.parametrize(
    ("content", "message", "chinese"),
    [
        ("", "the file is empty", "文件为空"),
        ("序号,金额\n1,2\n", "no recognisable columns", "没有可识别的列"),
        (b"\xff\xfe\x00", "UTF-16", "文件声明为 UTF-16 编码"),
    ],
)
def test_file_problems_are_one_line_without_traceback(data_dir: Path, tmp_path: Path, content, message: str, chinese: str) -> None:
    path = tmp_path / "macro_stations.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = CliRunner().invoke(cli, ["--data", str(data_dir), "--lang", "en", "validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert message in result.output
    assert result.output.count("\n") == 1
    assert str(path) in result.output
    zh = CliRunner().invoke(cli, ["--data", str(data_dir), "validate", str(path)])
    assert zh.exit_code == 2 and zh.output.count("\n") == 1
    assert zh.output.startswith("错误：") and str(path) in zh.output and chinese in zh.output


def test_usage_errors_exit_two(data_dir: Path) -> None:
    assert CliRunner().invoke(cli, ["--data", str(data_dir), "validate", "no/such.csv"]).exit_code == 2
    assert CliRunner().invoke(cli, ["--data", str(data_dir), "progress", "--as-of", "someday"]).exit_code == 2
    assert CliRunner().invoke(cli, ["--data", str(data_dir), "validate", "--kind", "tower"]).exit_code == 2


def test_missing_config_is_a_clear_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data", str(tmp_path), "progress"])
    assert result.exit_code == 2
    assert "rollout.toml" in result.output and "Traceback" not in result.output and "没有配置文件" in result.output


def test_progress_formats_carry_the_same_numbers(sample_data_dir: Path, tmp_path: Path) -> None:
    as_of = ["--as-of", "2024/6/30"]
    assert run(sample_data_dir, "progress", *as_of, "--out", str(tmp_path / "p.csv")).exit_code == 0
    assert run(sample_data_dir, "progress", *as_of, "--out", str(tmp_path / "p.json")).exit_code == 0
    assert run(sample_data_dir, "progress", *as_of, "--out", str(tmp_path / "p.xlsx")).exit_code == 0
    table = run(sample_data_dir, "progress", *as_of)
    csv = pd.read_csv(tmp_path / "p.csv", dtype={"street_code": str}, encoding="utf-8-sig")
    payload = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    rows = pd.DataFrame(payload["rows"])
    assert payload["as_of"] == "2024-06-30" and payload["street_zones"] == "approximate"
    assert csv["street_code"].tolist()[-1] == "310107"
    for column in ("street_code", "street_name", "macro_target", "macro_done", "garage_target", "garage_done"):
        assert csv[column].tolist() == rows[column].tolist()
    book = openpyxl.load_workbook(tmp_path / "p.xlsx")
    sheet = book.active
    headers = [c.value for c in sheet[3]]
    assert headers[:2] == ["街道", "宏站目标"] and "宏站已开通" in headers and "车库完成率" in headers
    assert len(headers) == len(set(headers)) and sheet["A1"].value == "普陀区5G室外宏站及住宅小区地下车库覆盖进度表"
    assert sheet.freeze_panes == "B4" and sheet.print_title_rows == "$3:$3" and sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9 and sheet.sheet_properties.pageSetUpPr.fitToPage  # A4
    assert sheet.cell(row=14, column=headers.index("宏站进度") + 1).value == "落后"  # words, not codes
    assert len(sheet.conditional_formatting) >= 4 and sheet.cell(row=14, column=1).font.bold
    done = [sheet.cell(row=r, column=headers.index("宏站已开通") + 1).value for r in range(4, 15)]
    assert done == csv["macro_done"].tolist()
    assert [c.value for c in book.worksheets[1][1]] == list(csv.columns)  # the machine columns
    pct = sheet.cell(row=14, column=headers.index("宏站完成率") + 1)
    assert pct.number_format == "0.0%" and pct.value == pytest.approx(csv["macro_pct"].iloc[-1] / 100)
    total = csv.iloc[-1]
    assert "普陀区" in table.output and f"{total['macro_pct']:.1f}%" in table.output
    assert "注：街道边界为近似示意" in table.output
    english = run(sample_data_dir, "progress", *as_of, lang="en")
    assert "Putuo District" in english.output and "approximate street zones" in english.output


def test_targets_allocate_refuses_to_overwrite_then_forces(data_dir: Path) -> None:
    result = run(data_dir, "targets", "allocate", "--by", "population")
    assert result.exit_code == 2 and "--force" in result.output
    missing = run(data_dir, "targets", "allocate", "--by", "population", "--force")
    assert missing.exit_code == 2 and "宜川路街道" in missing.output  # no population figure
    assert run(data_dir, "targets", "allocate", "--by", "equal", "--force").exit_code == 0
    targets = pd.read_csv(data_dir / "targets.csv", encoding="utf-8-sig")
    assert targets["macro_target"].tolist() == [20] * 10
    assert targets["garage_target"].sum() == 50


def test_boundaries_show_lists_ten_streets(data_dir: Path) -> None:
    result = run(data_dir, "boundaries", "show", lang="en")
    assert result.exit_code == 0
    assert result.output.count("(approximate)") == 10
    assert "Note: approximate street zones" in result.output


def test_sample_generator_is_deterministic_and_matches_the_committed_files(data_dir: Path, tmp_path: Path) -> None:
    assert run(data_dir, "sample", "--out", str(tmp_path / "a")).exit_code == 0
    for name in ("macro_stations.csv", "garage_compounds.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (REPO / "data" / "sites" / name).read_bytes()
