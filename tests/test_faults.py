"""Fault tests: a kill at each rename of the weekly and worksheets swaps, a full disk, Ctrl-C.

A killed run (SIGKILL: no clean-up code runs) must leave the previous outputs or the new ones,
never a mix, and never no outputs once the next run has tidied; the next run also removes what the
killed one left behind. The packs are built once here and written by forked children that kill
themselves just before their n-th rename (every rename of an output goes through
``rollout.writers.atomic._rename`` or ``_exchange``), for every n.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from rollout.cli import cli
from rollout.errors import OutputError
from rollout.pipeline import load_project
from rollout.weekly import WeeklyPack, weekly_pack, write_weekly_pack
from rollout.worksheets import build_worksheets, worksheet_files
from rollout.writers import atomic, tidy, write_file, write_folder

WEEK = "2024-W26"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("faults") / "data"
    shutil.copytree(REPO / "data", target, ignore=shutil.ignore_patterns("submissions", "register.sqlite*", "attachments"))
    return target


@pytest.fixture(scope="module")
def packs(data: Path) -> tuple[WeeklyPack, WeeklyPack]:
    """Two packs of the same week as known on two days: the previous outputs and the new ones."""
    old = weekly_pack(load_project(data, as_of=dt.date(2024, 6, 26)), week=WEEK)
    new = weekly_pack(load_project(data, as_of=dt.date(2024, 6, 30)), week=WEEK)
    return old, new


@pytest.fixture(scope="module")
def sheets(data: Path) -> tuple[dict, dict]:
    """The worksheet files (HTML and XLSX) as known on two days."""
    result = []
    for day in (dt.date(2024, 6, 10), dt.date(2024, 6, 30)):
        project = load_project(data, as_of=day)
        result.append(worksheet_files(project, build_worksheets(project), formats=("html", "xlsx")))
    return result[0], result[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _failing_write(n: int, fault: Callable[[Path], None]) -> Callable[[Path, object], None]:
    """``write_file`` that meets ``fault`` at its ``n``-th file."""
    written = 0

    def write(path: Path, artefact: object) -> None:
        nonlocal written
        written += 1
        if written == n:
            fault(path)
        write_file(path, artefact)

    return write


def _killed_at(n: int, write: Callable[[], object], *, exchange: bool) -> int | None:
    """Run ``write`` in a forked child killed (SIGKILL) just before its ``n``-th rename.

    Returns None when it was killed, else the number of renames it made (it finished first)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        calls = 0
        rename, swap = atomic._rename, atomic._exchange

        def counted() -> None:
            nonlocal calls
            calls += 1
            if calls == n:
                os.kill(os.getpid(), signal.SIGKILL)

        def killing_rename(source: Path, target: Path) -> None:
            counted()
            rename(source, target)

        def killing_exchange(first: Path, second: Path) -> bool:
            if not exchange:
                return False  # a system without renameat2: two renames
            counted()
            return swap(first, second)

        atomic._rename, atomic._exchange = killing_rename, killing_exchange  # type: ignore[assignment]
        try:
            write()
        except BaseException:
            os._exit(3)
        os.write(write_end, str(calls).encode())
        os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        told = pipe.read()
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return None
    assert os.WEXITSTATUS(status) == 0, "the write failed in the child"
    return int(told)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_kill_at_each_rename_of_the_weekly_swap_leaves_the_old_week_or_the_new(
    packs: tuple[WeeklyPack, WeeklyPack], tmp_path: Path, exchange: bool
) -> None:
    old, new = packs
    reference = tmp_path / "reference"
    expected_old = _files(write_weekly_pack(old, reference / "old").folder)
    expected_new = _files(write_weekly_pack(new, reference / "new").folder)
    assert expected_old != expected_new and set(expected_new) >= {"index.html", "progress.xlsx", "brief.pdf", "sites.gpkg"}
    n, outcomes = 1, []
    while True:
        out = tmp_path / f"maps-{n}"
        shutil.copytree(reference / "old", out)
        made = _killed_at(n, lambda out=out: write_weekly_pack(new, out), exchange=exchange)  # type: ignore[misc]
        week = out / WEEK
        if made is not None:  # no kill: every rename was tried
            assert _files(week) == expected_new and not _leftovers(out)
            break
        if exchange:
            assert week.is_dir(), "with renameat2 there is no moment without the week"
        tidy(week)  # what the next run does first
        found = _files(week)
        assert found in (expected_old, expected_new), f"killed at rename {n}: a mix of old and new files"
        outcomes.append("new" if found == expected_new else "old")
        assert not [name for name in _leftovers(out) if ".staging-" in name or ".old-" in name]
        write_weekly_pack(new, out)  # the next run writes the week and removes the killed run's files
        assert _files(week) == expected_new and not _leftovers(out), _leftovers(out)
        assert f'href="{WEEK}/index.html"' in (out / "index.html").read_text(encoding="utf-8")
        n += 1
    # the renames: each file into the staging folder, the week swapped in (one or two), the list of packs
    assert n - 1 == len(expected_new) + (1 if exchange else 2) + 1
    assert outcomes[0] == "old" and outcomes[-1] == "new"


def test_a_kill_while_the_week_is_being_written_leaves_the_old_week(packs: tuple[WeeklyPack, WeeklyPack], tmp_path: Path) -> None:
    old, new = packs
    out = tmp_path / "maps"
    expected_old = _files(write_weekly_pack(old, out).folder)
    write_then_die = _failing_write(4, lambda path: os.kill(os.getpid(), signal.SIGKILL))
    assert _killed_at(0, lambda: write_folder(out / WEEK, new.files, write=write_then_die), exchange=True) is None
    assert _files(out / WEEK) == expected_old
    assert any(".staging-" in name for name in _leftovers(out))  # what the kill left...
    write_weekly_pack(new, out)
    assert not _leftovers(out)  # ...the next run removes


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_kill_at_each_rename_of_the_worksheets_swap(sheets: tuple[dict, dict], tmp_path: Path, exchange: bool) -> None:
    old, new = sheets
    reference = tmp_path / "reference"
    expected_old = _files(write_folder(reference / "old", old, write=write_file))
    expected_new = _files(write_folder(reference / "new", new, write=write_file))
    assert expected_old != expected_new and len(expected_new) == 2 * 60 + 2  # HTML and XLSX per compound, index, 台账

    def rerun(out: Path) -> None:
        write_folder(out, new, write=write_file, merge=True)

    renames = len(expected_new) + (1 if exchange else 2)  # each file into the staging folder, the swap
    # a kill before any file's rename into the staging folder is the same case: the first two, one in
    # the middle and the last, then each rename of the swap
    for n in sorted({1, 2, renames // 2, len(expected_new), *range(len(expected_new) + 1, renames + 1)}):
        out = tmp_path / f"run-{n}" / "worksheets"
        shutil.copytree(reference / "old", out)
        (out / "我的笔记.txt").write_text("kept", encoding="utf-8")  # a file of the user's own: stays
        assert _killed_at(n, lambda out=out: rerun(out), exchange=exchange) is None  # type: ignore[misc]
        tidy(out)
        found = _files(out)
        assert found.pop("我的笔记.txt") == b"kept"
        assert found in (expected_old, expected_new), f"killed at rename {n}: a mix of old and new worksheets"
        assert not _leftovers(out.parent)
    out = tmp_path / "last" / "worksheets"
    shutil.copytree(reference / "old", out)
    assert _killed_at(renames + 1, lambda: rerun(out), exchange=exchange) == renames
    assert _files(out) == expected_new


def test_a_full_disk_is_one_line_and_leaves_the_previous_outputs(packs: tuple[WeeklyPack, WeeklyPack], tmp_path: Path) -> None:
    old, new = packs
    out = tmp_path / "maps"
    expected_old = _files(write_weekly_pack(old, out).folder)

    def no_space(path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    fill_the_disk = _failing_write(3, no_space)
    with pytest.raises(OutputError) as caught:
        write_folder(out / WEEK, new.files, write=fill_the_disk)
    assert caught.value.key == "errors.disk_full" and str(out / WEEK) in caught.value.message("zh")
    assert _files(out / WEEK) == expected_old and not _leftovers(out)


@pytest.mark.parametrize(("lang", "words"), [("zh", "磁盘空间不足"), ("en", "the disk is full")])
def test_a_full_disk_from_the_command_line(
    sample_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, words: str
) -> None:
    out = tmp_path / "sheets"
    args = ["--data", str(sample_data_dir), "--lang", lang, "worksheets", "--format", "html", "--as-of", "2024-06-10", "--out", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    before = _files(out)

    def no_space(source: Path, target: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(atomic, "_rename", no_space)
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    result = CliRunner().invoke(cli, [*args[:-3], "2024-06-30", "--out", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith(("错误", "Error"))]
    assert len(errors) == 1 and words in errors[0] and str(out / "PT-GA-001_铜川新村.html") in errors[0], result.output
    assert _files(out) == before and not _leftovers(tmp_path)


def test_ctrl_c_between_the_two_renames_keeps_the_old_week(
    packs: tuple[WeeklyPack, WeeklyPack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = packs
    out = tmp_path / "maps"
    expected_old = _files(write_weekly_pack(old, out).folder)
    calls = 0
    rename = atomic._rename

    def interrupted(source: Path, target: Path) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the old week retired, the new one not yet in place
            raise KeyboardInterrupt
        rename(source, target)

    monkeypatch.setattr(atomic, "_rename", interrupted)
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    with pytest.raises(KeyboardInterrupt):
        write_weekly_pack(new, out)
    monkeypatch.undo()
    tidy(out / WEEK)
    assert _files(out / WEEK) == expected_old and not _leftovers(out)
