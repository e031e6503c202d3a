"""The command line in the reader's language: help, click's own words, errors, and where the
language comes from; global options after the command; Ctrl-C and -v."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import REPO

from rollout.cli import COMMANDS, cli
from rollout.cli.translations import MO_FILE, compile_catalogue
from rollout.i18n import catalogue


def test_top_level_help_lists_commands_without_importing_them() -> None:
    code = "import sys; from rollout.cli import main; main(['--help'])"
    result = subprocess.run([sys.executable, "-c", code + "\n"], cwd=REPO, capture_output=True, text=True, env=_env(), check=False)
    assert "用法：" in result.stdout and "命令" in result.stdout and "检查站点文件" in result.stdout
    probe = "import sys\nfrom rollout.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    probe += "print(sorted(m for m in sys.modules if m.startswith(('geopandas', 'pandas', 'folium', 'matplotlib', 'rollout.cli.'))))"
    modules = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, env=_env(), check=True).stdout
    assert "geopandas" not in modules and "pandas" not in modules and "folium" not in modules and "matplotlib" not in modules
    assert "rollout.cli.validate" not in modules and "rollout.cli.group" in modules
    assert list(cli.list_commands(click.Context(cli))) == list(COMMANDS)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", ["错误：", "没有此选项：'--nope'"]), ("en", ["Error:", "No such option '--nope'"])],
)
def test_click_errors_in_the_chosen_language(lang: str, expected: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--lang", lang, "progress", "--nope"])
    assert result.exit_code == 2
    for text in expected:
        assert text in result.output


def test_click_choice_and_missing_value_errors_in_chinese() -> None:
    choice = CliRunner().invoke(cli, ["progress", "--format", "pdf"])
    assert choice.exit_code == 2 and "不是" in choice.output and "'pdf'" in choice.output and "之一" in choice.output
    missing = CliRunner().invoke(cli, ["progress", "--as-of"])
    assert missing.exit_code == 2 and "选项 '--as-of' 需要 1 个值" in missing.output
    unknown = CliRunner().invoke(cli, ["weekley"])
    assert unknown.exit_code == 2 and "没有此命令" in unknown.output


def test_language_from_the_environment_and_rollout_toml(data_dir: Path) -> None:
    english = CliRunner().invoke(cli, ["progress", "--help"], env={"ROLLOUT_LANG": "en_US.UTF-8"})
    assert "Usage:" in english.output and "Progress per street" in english.output
    config = data_dir / "rollout.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[ui]\nlang = "en"\n', encoding="utf-8")
    from_toml = CliRunner().invoke(cli, ["--data", str(data_dir), "weekly", "-h"], env={"ROLLOUT_LANG": ""})
    assert "Usage:" in from_toml.output and "Write the weekly coverage pack" in from_toml.output
    from_toml_after = CliRunner().invoke(cli, ["weekly", "-h", "--data", str(data_dir)], env={"ROLLOUT_LANG": ""})
    assert "Usage:" in from_toml_after.output
    overridden = CliRunner().invoke(cli, ["--data", str(data_dir), "--lang", "zh", "weekly", "-h"])
    assert "用法：" in overridden.output and "生成周报包" in overridden.output


@pytest.mark.parametrize("args, env", [(["--lang", "fr", "--help"], {}), (["--help"], {"ROLLOUT_LANG": "klingon"})])
def test_unknown_language_is_a_bilingual_message(args: list[str], env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2
    assert "无法识别的语言" in result.output and "unknown language" in result.output
    assert "Traceback" not in result.output


def test_global_options_after_the_command(sample_data_dir: Path, tmp_path: Path) -> None:
    before = CliRunner().invoke(cli, ["--data", str(sample_data_dir), "--lang", "en", "progress", "--as-of", "2024-06-30"])
    after = CliRunner().invoke(cli, ["progress", "--as-of", "2024-06-30", "--data", str(sample_data_dir), "--lang", "en"])
    assert before.exit_code == after.exit_code == 0, after.output
    assert after.output == before.output and "Putuo District" in after.output
    weekly = CliRunner().invoke(cli, ["weekly", "--week", "2024-W26", "--out", str(tmp_path), "--data", str(sample_data_dir)])
    assert weekly.exit_code == 0, weekly.output
    assert (tmp_path / "2024-W26" / "index.html").is_file() and "宏站 81/200" in weekly.output
    nested = CliRunner().invoke(cli, ["boundaries", "show", "--data", str(sample_data_dir), "--lang", "en"])
    assert nested.exit_code == 0 and "Note: approximate street zones" in nested.output


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    quiet = CliRunner().invoke(cli, ["--data", str(tmp_path), "progress"])
    assert quiet.exit_code == 2 and "Traceback" not in quiet.output
    loud = CliRunner().invoke(cli, ["--data", str(tmp_path), "progress", "-v"])
    assert loud.exit_code == 2 and "Traceback" in loud.output and "ConfigError" in loud.output and "没有配置文件" in loud.output


@pytest.mark.parametrize(("lang", "word"), [("zh", "已中断"), ("en", "interrupted")])
def test_ctrl_c_during_start_up_is_one_line(lang: str, word: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "rollout", "--lang", lang, "progress", "--as-of", "2024-06-30"],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Inside start-up: numpy's core is the first library pandas loads, half a second before any output
    # (pandas' own libraries came late enough that a busy machine could finish the command first).
    _wait_until_importing(process.pid, "numpy/_core/_multiarray_umath")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    # 130, or ended by the SIGINT itself: a shell shows both as 130 (128 + SIGINT). Which of the two
    # depends on the moment of the Ctrl-C in Python's start-up; what the user reads is the same line.
    assert process.returncode in (130, -signal.SIGINT), err
    assert err.strip() == word and out == ""


def test_a_command_ends_as_python_would_with_its_output_and_status(sample_data_dir: Path, tmp_path: Path) -> None:
    """The command line skips Python's teardown of every module, and nothing else: the exit
    functions registered with atexit run, what is buffered for a pipe is written, the status is
    the command's."""
    marker = tmp_path / "atexit"
    script = (
        f"import atexit, sys; sys.argv[0] = 'rollout'; atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'));"
        "from rollout.cli import main; main(sys.argv[1:])"
    )

    def rollout(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, *args], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120, check=False
        )

    done = rollout("--data", str(sample_data_dir), "progress", "--as-of", "2024-06-30", "--format", "csv")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 12 and lines[-1].split(",")[0] == "310107"  # the header, 10 streets, then the district
    assert marker.read_text() == "ran"
    marker.unlink()
    failed = rollout("--data", str(tmp_path / "nowhere"), "progress")
    assert failed.returncode == 2 and "rollout.toml" in failed.stderr and "Traceback" not in failed.stderr
    assert marker.read_text() == "ran"


def test_click_catalogue_is_compiled_and_covers_clicks_messages() -> None:
    assert MO_FILE.read_bytes() == compile_catalogue(), "run: python -m rollout.cli.translations"
    ids = {texts["en"] for key, texts in catalogue().items() if key.startswith("click.")}
    source = "".join(p.read_text(encoding="utf-8") for p in Path(click.__file__).parent.glob("*.py"))
    stale = sorted(i for i in ids if repr(i)[1:-1] not in source and i not in source)
    assert not stale, f"click.toml entries click no longer uses: {stale}"
    for message in ("Usage:", "Options", "Commands", "Error: {message}", "No such option {name!r}.", "Show this message and exit."):
        assert message in ids


def _wait_until_importing(pid: int, library: str, timeout_s: float = 30.0) -> None:
    """Wait until the process has loaded ``library`` (it is importing the heavy modules); a fixed sleep
    would land after the command finished on a fast machine, or before Python started on a slow one."""
    maps = Path(f"/proc/{pid}/maps")
    if not maps.exists():
        pytest.skip("needs Linux's /proc to see where the process is")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if library in maps.read_text():
                return
        except OSError:  # the process ended
            break
        time.sleep(0.002)
    pytest.fail(f"the process never loaded {library}")


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), ROLLOUT_LANG="")
