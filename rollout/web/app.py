"""The web application: FastAPI (on Starlette) over the register, pages and a JSON API.

:func:`create_app` wires the parts: the security headers on every response
(:class:`SecurityHeaders`: a Content-Security-Policy whose only inline scripts are those
carrying the response's nonce), the request's language, the static files, the pages
(:mod:`rollout.web.pages_auth`, ``pages_dashboard``, ``pages_records``, ``uploads``,
``pages_admin``, ``packs``) and the API (:mod:`rollout.web.api`), and turns errors into a
page or a JSON answer in the reader's language.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from rollout.errors import RolloutError
from rollout.i18n import DEFAULT_LANG, LANGS, Lang, t
from rollout.web.state import Platform

__all__ = ["SecurityHeaders", "ServerErrors", "api_lang", "create_app", "request_lang"]

STATIC = Path(__file__).with_name("static")
LANG_COOKIE = "rollout_lang"
#: Requests worked on at once (the rest wait their turn). The work is CPU-bound under one GIL: a few threads
#: let a long request (an edit, a rebuilt view) finish instead of sharing the processor with dozens of others,
#: and fewer threads spend less time handing the GIL round (4 measured better than 8 and than 2, whose long
#: requests held up the short ones).
WORKER_THREADS = 4
#: How long a thread may hold the GIL while others wait (Python's default: 5 ms). A long request gives way
#: sooner, so the short ones queued behind it (most requests need a millisecond or two) get through.
SWITCH_INTERVAL_S = 0.001


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def create_app(platform: Platform) -> FastAPI:
    """The application for an open :class:`~rollout.web.state.Platform`."""
    from rollout import __version__
    from rollout.web import api, packs, pages_admin, pages_auth, pages_dashboard, pages_records, uploads

    app = FastAPI(
        title="rollout",
        version=__version__,
        description=t("web.api.description", "en"),
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN: the description is enough
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.platform = platform
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (pages_auth, pages_dashboard, pages_records, uploads, pages_admin, packs, api):
        app.include_router(module.router)
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RolloutError, _rollout_error)  # type: ignore[arg-type]
    app.add_middleware(ServerErrors)  # inside SecurityHeaders: the 500 page carries the same headers
    app.add_middleware(SecurityHeaders)
    return app


def request_lang(request: Request) -> Lang:
    """The reader's language: ``?lang=``, else the language cookie, else Chinese."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGS:
            return value
    return DEFAULT_LANG


def api_lang(request: Request) -> Lang:
    """The API caller's language: ``?lang=``, else the first of ``Accept-Language`` we speak, else Chinese."""
    value = request.query_params.get("lang")
    if value in LANGS:
        return value
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return DEFAULT_LANG


class SecurityHeaders:
    """Pure ASGI middleware: a nonce per request (``scope["state"]["nonce"]``) and the security
    headers on every response: CSP, no sniffing, same-origin framing and referrer, no caching of
    pages, HSTS behind HTTPS; and the language cookie when ``?lang=`` switches it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["nonce"] = nonce
        https = scope.get("scheme") == "https"
        static = scope["path"].startswith("/static/")
        switch = _lang_switch(scope)

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):  # a pack's sandbox keeps its own
                    headers.append((b"content-security-policy", _csp(nonce).encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                if switch:
                    secure = "; Secure" if https else ""
                    cookie = f"{LANG_COOKIE}={switch}; Path=/; Max-Age=31536000; SameSite=Lax{secure}"
                    headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class ServerErrors:
    """Pure ASGI middleware: an error nothing else handled becomes the friendly 500 page in the
    reader's language (JSON under ``/api/``), never a traceback; it runs inside
    :class:`SecurityHeaders`, so the page carries the same headers as every other. The traceback
    goes to the server's log (logger ``rollout.web``), not to the reader."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            logging.getLogger("rollout.web").exception("error answering %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for a page: the server closes the connection
                raise
            await _server_error(scope)(scope, receive, send)


def _server_error(scope) -> Response:
    """The 500 answer; a plain page in the reader's language should even the page layout fail."""
    from fastapi.responses import HTMLResponse

    from rollout.web.responses import error_answer

    request = Request(scope)
    try:
        return error_answer(request, 500)
    except Exception:  # the layout itself failed: still no traceback
        lang = request_lang(request)
        body = f'<!doctype html><meta charset="utf-8"><title>500</title><p>{t("web.error.500", lang)}</p>'
        return HTMLResponse(body, status_code=500)


def _csp(nonce: str) -> str:
    # Leaflet positions its panes with style attributes, so styles may be inline; scripts may not.
    return (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "font-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'"
    )


def _lang_switch(scope) -> str:
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [])
    return values[0] if values and values[0] in LANGS else ""


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    from rollout.web.api import validation_answer

    return validation_answer(request, error)


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    from rollout.web.responses import error_answer

    return error_answer(request, error.status_code, detail=error.detail, headers=getattr(error, "headers", None))


async def _rollout_error(request: Request, error: RolloutError) -> Response:
    from rollout.web.responses import error_answer

    lang = api_lang(request) if request.url.path.startswith("/api/") else request_lang(request)
    return error_answer(request, 422, message=error.message(lang))
