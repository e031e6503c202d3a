"""The helper process: calls run there after its warm-up, results and errors come back, and
the work is done here when there is no second process (or it is gone).

The helper forks only while its process runs one thread; pytest's process may run others by the
time these tests run, so the tests of the forked helper run in a fresh interpreter (``_in_fresh``).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rollout.errors import InvalidValueError
from rollout.executors import Helper

_warmed_in: int | None = None


def _warm_up() -> None:
    global _warmed_in
    _warmed_in = os.getpid()


def _where(tag: str) -> tuple[str, int, int | None]:
    return tag, os.getpid(), _warmed_in


def _fails(value: str) -> None:
    raise InvalidValueError("errors.grid_spec", value=value)


def _note(log: Path, text: str, *, wait_for: Path | None = None) -> None:
    with log.open("a") as f:
        f.write(text)
    while wait_for is not None and not wait_for.exists():
        time.sleep(0.01)


def _wait_for(condition) -> None:
    for _ in range(3000):  # a minute at most: the helper is a fresh fork with nothing else to do
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("the helper never got there")


def _large(size: int) -> bytes:
    return bytes(size)


# The checks of the forked helper: each runs in a fresh interpreter and returns what it saw.


def _runs_after_its_warm_up(tmp: str) -> dict:
    log = Path(tmp) / "steps"
    with Helper([_warm_up, functools.partial(_note, log, "1"), functools.partial(_note, log, "2")]) as helper:
        _wait_for(lambda: log.exists() and log.read_text() == "12")
        _, pid, warmed = helper.submit(_where, "a").result()
        return {"forked": helper.forked, "here": os.getpid(), "pid": pid, "warmed": warmed, "warmed_here": _warmed_in}


def _stops_warming_up_for_a_call(tmp: str) -> dict:
    log, go = Path(tmp) / "steps", Path(tmp) / "go"
    steps = [functools.partial(_note, log, "1", wait_for=go), functools.partial(_note, log, "2")]
    with Helper(steps) as helper:
        _wait_for(log.exists)
        owed = helper.submit(_where, "first")  # waiting in the pipe when the first step ends
        go.touch()
        tag = owed.result()[0]
        forked = helper.forked
    return {"forked": forked, "tag": tag, "steps": log.read_text()}


def _owed_calls_of_a_dead_helper(tmp: str) -> dict:
    with Helper() as helper:
        forked = helper.forked
        owed = helper.submit(_where, "lost")
        os.kill(helper._process.pid, signal.SIGKILL)
        helper._process.join()
        tag, pid, _ = owed.result()
    return {"forked": forked, "tag": tag, "here": os.getpid(), "pid": pid}


def _where_with(tag: str, _: object) -> tuple[str, int, int | None]:
    return _where(tag)


def _runs_here_what_cannot_be_sent(tmp: str) -> dict:
    import threading

    with Helper() as helper:
        here = helper.submit(_where_with, "lock", threading.Lock()).result()  # a lock cannot be pickled
        there = helper.submit(_where, "plain").result()
        return {"forked": helper.forked, "here": os.getpid(), "lock": here[1], "plain": there[1]}


def _cannot_load() -> None:
    raise ValueError("cannot be unpickled")


class _Unloadable:
    """Pickles, but cannot be unpickled."""

    def __reduce__(self):
        return (_cannot_load, ())


def _runs_here_what_the_helper_cannot_load(tmp: str) -> dict:
    with Helper() as helper:
        forked = helper.forked
        _, pid, _ = helper.submit(_where_with, "unloadable", _Unloadable()).result()
        return {"forked": forked, "here": os.getpid(), "pid": pid, "forked_after": helper.forked}


def _two_end_side_by_side(tmp: str) -> dict:
    first, second = Helper(), Helper()
    owed = [first.submit(_where, "a"), second.submit(_where, "b")]
    processes = [first._process, second._process]
    pids = [o.result()[1] for o in owed]
    first.finish()
    second.finish()  # neither waits: both end side by side
    first.close()
    second.close()
    return {
        "forked": first.forked is False and processes[0] is not None,
        "here": os.getpid(),
        "pids": pids,
        "alive": [p.is_alive() for p in processes],
    }


def _in_fresh(check, tmp_path: Path) -> dict:
    script = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_helper as t; "
    script += f"print(json.dumps(t.{check.__name__}({str(tmp_path)!r})))"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    if not seen["forked"]:
        pytest.skip("no second CPU or no fork on this machine")
    return seen


def test_calls_run_in_the_helper_after_its_warm_up(tmp_path: Path) -> None:
    seen = _in_fresh(_runs_after_its_warm_up, tmp_path)
    assert seen["pid"] != seen["here"] and seen["warmed"] == seen["pid"]  # every step ran there, in order
    assert seen["warmed_here"] is None  # and not here


def test_the_warm_up_stops_when_a_call_arrives(tmp_path: Path) -> None:
    seen = _in_fresh(_stops_warming_up_for_a_call, tmp_path)
    assert seen["tag"] == "first"
    assert seen["steps"] == "1"  # the second step was left for when a call needs it


def test_a_call_whose_arguments_cannot_be_sent_runs_here(tmp_path: Path) -> None:
    seen = _in_fresh(_runs_here_what_cannot_be_sent, tmp_path)
    assert seen["lock"] == seen["here"]  # run here, with its result
    assert seen["plain"] != seen["here"]  # and the helper still takes the next call


def test_a_call_the_helper_cannot_unpickle_runs_here(tmp_path: Path) -> None:
    seen = _in_fresh(_runs_here_what_the_helper_cannot_load, tmp_path)
    assert seen["pid"] == seen["here"] and seen["forked_after"] is False  # the helper ended; the call ran here


def test_helpers_asked_to_finish_answer_their_calls_and_end(tmp_path: Path) -> None:
    seen = _in_fresh(_two_end_side_by_side, tmp_path)
    assert seen["here"] not in seen["pids"] and len(set(seen["pids"])) == 2  # each call ran in its helper
    assert seen["alive"] == [False, False]


def test_calls_owed_by_a_helper_that_died_run_here(tmp_path: Path) -> None:
    seen = _in_fresh(_owed_calls_of_a_dead_helper, tmp_path)
    assert seen["tag"] == "lost" and seen["pid"] == seen["here"]


def test_large_arguments_and_results_do_not_block_either_side() -> None:
    with Helper() as helper:
        owed = [helper.submit(_large, 3_000_000) for _ in range(3)]
        sent = helper.submit(len, bytes(3_000_000))
        assert [len(o.result()) for o in owed] == [3_000_000] * 3 and sent.result() == 3_000_000


def test_an_error_in_a_call_is_raised_where_its_result_is_asked_for() -> None:
    for fork in (True, False):
        with Helper(fork=fork) as helper:
            failing, fine = helper.submit(_fails, "7x"), helper.submit(_where, "after")
            with pytest.raises(InvalidValueError) as raised:
                failing.result()
            assert raised.value.params["value"] == "7x"
            assert fine.result()[0] == "after"  # the helper goes on


def test_without_a_fork_the_calls_run_here() -> None:
    with Helper(_warm_up, fork=False) as helper:
        assert not helper.forked
        assert helper.submit(_where, "here").result()[1] == os.getpid()
    assert _warmed_in is None  # nothing to get ready for: the calls run when submitted
