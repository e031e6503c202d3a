"""``rollout serve``: the multi-party web platform over the register."""

from __future__ import annotations

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
def command(host: str, port: int, packs: Path | None, forwarded_allow_ips: str) -> None:
    """Run the web platform."""
    import uvicorn

    from rollout.web import open_platform
    from rollout.web.app import create_app

    lang = current_lang()
    platform, password = open_platform(project_config(), current_db(), packs=packs)
    if password:
        click.echo(t("web.cli.first_admin", lang, password=password))
    click.echo(
        t("web.cli.serving", lang, url=f"http://{host}:{port}/", where=platform.register.target.shown, packs=platform.settings.packs)
    )
    try:
        uvicorn.run(
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
    finally:
        platform.register.close()
