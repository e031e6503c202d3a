"""The weekly packs and briefs to download, and publishing this week's.

The packs are the folders ``<packs>/<YYYY-Www>/`` that ``rollout weekly`` writes (``[web] packs``,
``--packs``; ``maps/`` by default). A file is served only when its week and name are those of a
file actually in that folder, and its resolved path lies inside it (no ``..``, no link leading
out). A pack's HTML pages (the map) are served in a CSP sandbox of their own: their inline
scripts run, but in an opaque origin that cannot act as the signed-in user. Publishing runs the
weekly pack for a week (district and admin only) and is written to the audit log.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from rollout.i18n import has, t
from rollout.register.clock import shanghai_today
from rollout.web.accounts import User
from rollout.web.app import request_lang
from rollout.web.audit import audit
from rollout.web.auth import check_csrf, client_ip, page_user, platform
from rollout.web.permissions import allowed
from rollout.web.responses import page, redirect

router = APIRouter(include_in_schema=False)
_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_NAME = re.compile(r"^[\w\u4e00-\u9fff][\w\u4e00-\u9fff .()-]{0,120}$")
_SHOWN_INLINE = {".html", ".png", ".md", ".pdf", ".txt"}
_SANDBOX = (
    "sandbox allow-scripts allow-popups; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"
)


@router.get("/packs", response_class=HTMLResponse)
def pack_list(request: Request, user: User = Depends(page_user("view_packs"))):
    """Every weekly pack, newest first, with its files."""
    lang = request_lang(request)
    state = platform(request)
    packs = [{"week": folder.name, "files": _files(folder, lang)} for folder in list_packs(state.settings.packs)]
    return page(
        request,
        "packs.html.j2",
        title=t("web.packs.title", lang),
        packs=packs,
        can_publish=allowed(user, "publish"),
        this_week=_iso_week(shanghai_today()),
    )


@router.get("/packs/{week}/{name}")
def pack_file(request: Request, week: str, name: str, user: User = Depends(page_user("view_packs"))):
    """One file of a pack (404 for anything that is not one)."""
    path = pack_path(platform(request).settings.packs, week, name)
    if path is None:
        raise HTTPException(404, "web.packs.no_file")
    suffix = path.suffix.lower()
    media = {".md": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".gpkg": "application/geopackage+sqlite3"}.get(
        suffix, mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    headers = {}
    if suffix == ".html":
        headers["Content-Security-Policy"] = _SANDBOX
        media = "text/html; charset=utf-8"
    if suffix not in _SHOWN_INLINE:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{week}_{path.name}')}"
    return Response(path.read_bytes(), media_type=media, headers=headers)


@router.post("/packs/publish")
async def publish(request: Request, user: User = Depends(page_user("publish"))):
    """Make (or remake) the weekly pack of a week from the register, and log it."""
    from rollout.errors import RolloutError
    from rollout.pipeline import load_project
    from rollout.weekly import build_weekly_pack, week_end

    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    state = platform(request)
    lang = request_lang(request)
    week = str(form.get("week", "")).strip().upper()
    try:
        end = week_end(week)
    except RolloutError as e:
        raise HTTPException(422, e.key) from e
    today = shanghai_today()
    if end - _days(6) > today:
        raise HTTPException(422, "web.packs.future_week")
    project = load_project(state.config.data_dir, db=state.db, as_of=min(end, today))
    pack = build_weekly_pack(project, state.settings.packs, week=week, lang=lang)
    audit(
        state.register,
        user.name,
        "publish",
        target=week,
        ip=client_ip(request),
        detail={"folder": str(pack.folder), "as_of": str(pack.as_of)},
    )
    return redirect("/packs", done="published")


def list_packs(root: Path) -> list[Path]:
    """The pack folders under ``root``, newest week first."""
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and _WEEK.match(p.name)), key=lambda p: p.name, reverse=True
    )


def pack_path(root: Path, week: str, name: str) -> Path | None:
    """The file ``name`` of the pack ``week`` under ``root``, or None when there is no such file
    inside it (bad week, bad name, a folder, a link leading out)."""
    if not _WEEK.match(week) or not _NAME.match(name) or name.startswith("."):
        return None
    folder = root / week
    if not folder.is_dir() or folder.is_symlink() or name not in {p.name for p in folder.iterdir()}:
        return None
    path = (folder / name).resolve()
    if not path.is_file() or not path.is_relative_to(root.resolve()):
        return None
    return path


def _files(folder: Path, lang) -> list[dict]:
    """The pack's files, each with its size and, for the files a pack has, what it is."""
    files = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink() and _NAME.match(path.name):
            key = "web.packs.file." + path.name.replace(".", "_")
            label = t(key, lang) if has(key) else ""
            files.append({"name": path.name, "label": label, "size_kb": max(1, round(path.stat().st_size / 1024))})
    return files


def _iso_week(day) -> str:
    from rollout.weekly import iso_week

    return iso_week(day)


def _days(n: int):
    import datetime as dt

    return dt.timedelta(days=n)
