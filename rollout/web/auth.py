"""Who is asking, and may they: the session of a page, the Bearer token of the API, CSRF checks.

Pages use :func:`page_user` (``Depends(page_user("view_records"))``): no session redirects to the
login page, a role without the action gets 403, a one-time password must be changed first.
API routes use :func:`api_user` the same way with a Bearer token: 401 without a valid one
(unknown, expired, revoked, or its user disabled), 403 for a role without the action.
Every form posts the session's CSRF token; :func:`check_csrf` compares it in constant time.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from fastapi import HTTPException, Request

from rollout.web.accounts import User, token_user
from rollout.web.logins import Session, session_user
from rollout.web.permissions import allowed
from rollout.web.state import Platform

__all__ = [
    "SESSION_COOKIE",
    "api_user",
    "check_csrf",
    "client_ip",
    "page_user",
    "platform",
    "session_cookie",
]

SESSION_COOKIE = "rollout_session"


class LoginRequired(HTTPException):
    """No session: the page redirects to the login page."""


def platform(request: Request) -> Platform:
    """The application's :class:`~rollout.web.state.Platform`."""
    return request.app.state.platform


def client_ip(request: Request) -> str:
    """The caller's address (behind a reverse proxy, the one it forwards: see ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else ""


def current_session(request: Request) -> Session | None:
    """The request's live session, if any (looked up once per request)."""
    if not hasattr(request.state, "session"):
        secret = request.cookies.get(SESSION_COOKIE, "")
        request.state.session = session_user(platform(request).register, secret) if secret else None
    return request.state.session


@functools.cache
def page_user(action: str, *, password_ok: bool = False) -> Callable[[Request], User]:
    """A dependency: the signed-in user, who may do ``action``."""

    def dependency(request: Request) -> User:
        session = current_session(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(303, headers={"Location": "/login?" + _next(target)})
        user = session.user
        if user.must_change_password and not password_ok:
            raise HTTPException(303, headers={"Location": "/password"})
        if not allowed(user, action):
            raise HTTPException(403, "web.error.role")
        return user

    dependency.action = action  # type: ignore[attr-defined]
    return dependency


@functools.cache
def api_user(action: str) -> Callable[[Request], User]:
    """A dependency: the user of the request's Bearer token, who may do ``action``."""

    def dependency(request: Request) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "web.api.no_token", headers={"WWW-Authenticate": "Bearer"})
        user, reason = token_user(platform(request).register, token.strip())
        if user is None:
            raise HTTPException(401, f"web.api.token_{reason}", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if not allowed(user, action):
            raise HTTPException(403, "web.error.role")
        request.state.api_user = user
        return user

    dependency.action = action  # type: ignore[attr-defined]
    return dependency


def check_csrf(request: Request, form) -> None:
    """Refuse a form whose CSRF token is not the session's (403, nothing done)."""
    session = current_session(request)
    sent = str(form.get("csrf_token", "")) if form is not None else ""
    if session is None or not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise HTTPException(403, "web.error.csrf")


def session_cookie(response, secret: str, request: Request, *, max_age: int | None) -> None:
    """Set (or with an empty ``secret``, clear) the session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max_age if secret else 0,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _next(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})
