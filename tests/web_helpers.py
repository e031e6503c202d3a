"""The platform under test: a register of the sample records, users of every role, a live server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from conftest import REPO

#: The day the sample submissions describe, and "today" for the platform tests.
REPORTED = dt.date(2024, 6, 30)
TODAY = "2024-07-03"
PASSWORD = "correct-horse-1"
#: name -> (role, street, operator)
USERS = {
    "wang": ("district", "", ""),
    "boss": ("admin", "", ""),
    "zhang": ("street", "长寿路", ""),
    "zhou": ("street", "真如镇", ""),
    "li": ("operator", "", "移动"),
    "chen": ("operator", "", "电信"),
    "tie": ("tower", "", ""),
    "guest": ("viewer", "", ""),
}
#: A garage of 长寿路 (lead unit 中国联通) and one of 真如镇, in the sample.
CHANGSHOU_GARAGE = "PT-GA-013"


def sample_register(root: Path, db: str | None = None):
    """A data folder under ``root`` whose register holds the sample's macro stations and garages
    (sent by 铁塔 on 2024-06-30), and a platform over it with the users of :data:`USERS`."""
    from rollout.boundaries import read_streets
    from rollout.config import load_config
    from rollout.register.importer import import_files
    from rollout.web import open_platform
    from rollout.web.accounts import add_user

    data = root / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("submissions", "register.sqlite*"))
    config = load_config(data)
    streets = read_streets(config)
    for name in ("macro_stations.csv", "garage_compounds.csv"):
        import_files([data / "sites" / name], config, streets, source="铁塔", as_of=REPORTED, db=db)
    platform, password = open_platform(config, db, packs=root / "maps")
    assert password  # the first run made admin
    for name, (role, street, operator) in USERS.items():
        add_user(platform.register, config, name, role, street=street, operator=operator, password=PASSWORD)
    return platform


@dataclass
class Server:
    """A running platform: its base URL and the platform object."""

    url: str
    platform: Any
    clients: list = field(default_factory=list)

    def client(self, **options) -> httpx.Client:
        """An HTTP client of this server (keeps cookies; closed with the server)."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=60, **options)
        self.clients.append(client)
        return client

    def login(self, name: str, password: str = PASSWORD) -> httpx.Client:
        """A client logged in as ``name``."""
        client = self.client()
        response = post_login(client, name, password)
        assert response.status_code == 303, response.text
        return client


@contextlib.contextmanager
def serve(platform, app=None) -> Iterator[Server]:
    """Run the application (``app``, else the platform's) on a free port of 127.0.0.1 in a thread, for the duration of the block."""
    import uvicorn

    from rollout.web.app import create_app

    config = uvicorn.Config(app or create_app(platform), host="127.0.0.1", port=0, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    running = Server(f"http://127.0.0.1:{port}", platform)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def sample_site(root: Path) -> Iterator[Server]:
    """The sample register (:func:`sample_register`) served on 127.0.0.1, "today" being :data:`TODAY`."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROLLOUT_TODAY", TODAY)
        platform = sample_register(root)
        try:
            with serve(platform) as server:
                yield server
        finally:
            platform.register.close()


def post_login(client: httpx.Client, name: str, password: str, *, headers: dict | None = None) -> httpx.Response:
    """Open the login page and send the form (with its anti-forgery value)."""
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "login_token": token, "next": "/"}, headers=headers)


def csrf(client: httpx.Client, path: str = "/") -> str:
    """The session's CSRF token, as a page's forms carry it."""
    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def version_of(client: httpx.Client, kind: str, record_id: str) -> int:
    """The record's version as its edit form carries it."""
    page = client.get(f"/records/{kind}/{record_id}")
    return int(re.search(r'name="version" value="(\d+)"', page.text).group(1))
