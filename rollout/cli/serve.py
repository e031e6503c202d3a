"""``rollout serve``: the multi-party web platform over the register."""

from __future__ import annotations

import os
from pathlib import Path

import click

from rollout.cli._register import project_config
from rollout.cli.options import current_db, current_lang
from rollout.i18n import t


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--packs", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder of the weekly packs.")
@click.option(
    "--forwarded-allow-ips", default="127.0.0.1", show_default=True, help="Reverse proxies whose X-Forwarded-* headers are trusted."
)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Server processes sharing the port.")
def command(host: str, port: int, packs: Path | None, forwarded_allow_ips: str, workers: int) -> None:
    """Run the web platform."""
    from rollout.web import open_platform

    lang = current_lang()
    config, db = project_config(), current_db()
    platform, password = open_platform(config, db, packs=packs)
    if password:
        click.echo(t("web.cli.first_admin", lang, password=password))
    click.echo(
        t("web.cli.serving", lang, url=f"http://{host}:{port}/", where=platform.register.target.shown, packs=platform.settings.packs)
    )
    if workers == 1 or not hasattr(os, "fork"):
        try:
            _serve(platform, host=host, port=port, forwarded_allow_ips=forwarded_allow_ips)
        finally:
            platform.register.close()
        return
    # Several processes (the platform holds the GIL while it renders a page): each opens the register
    # itself and takes connections from one listening socket. Everything shared (sessions, logins,
    # uploads waiting for confirmation, the audit log) is in the register, so any process may answer.
    platform.register.close()
    from rollout.web.workers import serve_forked

    serve_forked(
        lambda: open_platform(config, db, packs=packs)[0],
        lambda p, sockets: _serve(p, sockets=sockets, forwarded_allow_ips=forwarded_allow_ips),
        host=host,
        port=port,
        workers=workers,
    )


def _serve(platform, *, forwarded_allow_ips: str, host: str = "127.0.0.1", port: int = 8000, sockets=None) -> None:
    import uvicorn

    from rollout.web.app import create_app

    config = uvicorn.Config(
        create_app(platform),
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="warning",
        # Idle keep-alive connections are kept longer than a reverse proxy's (nginx: 60 s) or a busy
        # client's pause, so that neither sends a request on a connection the server is closing.
        timeout_keep_alive=65,
    )
    uvicorn.Server(config).run(sockets=sockets)
