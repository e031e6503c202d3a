"""``rollout serve --workers N``: several processes on one port, any of them may answer any request."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import REPO
from web_helpers import CHANGSHOU_GARAGE, PASSWORD, TODAY, post_login, sample_register


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_share_the_sessions_and_stop_on_sigterm(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ROLLOUT_TODAY", TODAY)
    platform = sample_register(tmp_path)
    data = platform.config.data_dir
    platform.register.close()
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO), ROLLOUT_TODAY=TODAY)
    server = subprocess.Popen(
        [sys.executable, "-m", "rollout", "--data", str(data), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read()
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()]
        assert len(workers) == 2
        # A fresh connection per request, so that both processes answer; the session holds everywhere.
        with httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            assert post_login(client, "zhang", PASSWORD).status_code == 303
            pages = [client.get(f"/records/garage/{CHANGSHOU_GARAGE}") for _ in range(12)]
        assert all(p.status_code == 200 and CHANGSHOU_GARAGE in p.text for p in pages)
        assert len({re.search(r'name="csrf_token" value="([^"]+)"', p.text).group(1) for p in pages}) == 1
        # A worker that dies is started again.
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()) < 2:
            assert time.monotonic() < deadline, "the worker was not started again"
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert "Traceback" not in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
