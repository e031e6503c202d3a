"""Answers: pages rendered with the shared layout, redirects, and errors as a page or as JSON.

Every page gets the reader's language, the signed-in user and their session's CSRF token, the
response's CSP nonce, the navigation the user's role allows, and an optional notice chosen
from a fixed list (``?done=CODE``: never text from the request).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from rollout.i18n import has, t
from rollout.render import render_page
from rollout.web.app import api_lang, request_lang
from rollout.web.permissions import allowed

__all__ = ["NAV", "error_answer", "json_error", "page", "redirect"]

#: The navigation: (path, catalogue key, action needed).
NAV = (
    ("/", "web.nav.dashboard", "view_dashboard"),
    ("/records", "web.nav.records", "view_records"),
    ("/upload", "web.nav.upload", "upload"),
    ("/conflicts", "web.nav.conflicts", "view_conflicts"),
    ("/packs", "web.nav.packs", "view_packs"),
    ("/users", "web.nav.users", "manage_users"),
    ("/audit", "web.nav.audit", "view_audit"),
)


def page(request: Request, template: str, *, status_code: int = 200, title: str = "", **context: Any) -> HTMLResponse:
    """A page of ``rollout/templates/web/`` with the layout's context."""
    lang = request_lang(request)
    session = getattr(request.state, "session", None)
    user = session.user if session is not None else None
    done = request.query_params.get("done", "")
    html = render_page(
        f"web/{template}",
        lang=lang,
        request_path=request.url.path,
        switch_url=_switch_url(request, "en" if lang == "zh" else "zh"),
        other_lang="en" if lang == "zh" else "zh",
        user=user,
        csrf_token=session.csrf_token if session is not None else "",
        nonce=request.scope.get("state", {}).get("nonce", ""),
        nav=[(path, key) for path, key, action in NAV if allowed(user, action)] if user and not user.must_change_password else [],
        notice=t(f"web.done.{done}", lang) if done and has(f"web.done.{done}") else "",
        empty_register=status_code < 400 and user is not None and not user.must_change_password and _register_empty(request),
        may_upload=allowed(user, "upload") if user else False,
        title=title,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def redirect(path: str, **query: str) -> RedirectResponse:
    """A 303 redirect (after a form) to a path of this site, with a query."""
    if not path.startswith("/") or path.startswith("//"):
        path = "/"
    return RedirectResponse(path + (f"?{urlencode(query)}" if query else ""), status_code=303)


def error_answer(
    request: Request, status: int, *, message: str = "", detail: Any = None, headers: dict | None = None
) -> HTMLResponse | JSONResponse | RedirectResponse:
    """An error as JSON under ``/api/``, else as a page; the text in the reader's language.
    ``detail`` may be a catalogue key; a redirect (a page's "log in first") passes through."""
    if 300 <= status < 400 and headers and "Location" in headers:
        return RedirectResponse(headers["Location"], status_code=status)
    lang = api_lang(request) if request.url.path.startswith("/api/") else request_lang(request)
    if not message:
        key = (
            detail
            if isinstance(detail, str) and has(detail)
            else f"web.error.{status}"
            if has(f"web.error.{status}")
            else "web.error.other"
        )
        message = t(key, lang)
    if request.url.path.startswith("/api/"):
        return json_error(status, _code(status), message, headers=headers)
    return page(request, "error.html.j2", status_code=status, title=t("web.error.title", lang), message=message, status=status)


def json_error(status: int, code: str, message: str, *, headers: dict | None = None, **extra: Any) -> JSONResponse:
    """``{"error": {"code": ..., "message": ..., ...}}`` with ``status``."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers)


def _register_empty(request: Request) -> bool:
    """True while nothing has been imported into the register (no submission yet)."""
    return request.app.state.platform.revision()[0] == 0


def _code(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "stale_version",
        413: "too_large",
        422: "invalid",
        429: "too_many_requests",
    }.get(status, "error")


def _switch_url(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "done")]
    return request.url.path + "?" + urlencode([*query, ("lang", lang)])
