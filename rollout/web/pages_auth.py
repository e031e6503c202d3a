"""Logging in and out, and changing one's password (the first thing after a one-time password)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from rollout.i18n import t
from rollout.register.queries import shanghai_time
from rollout.web.accounts import AccountError, User, change_password
from rollout.web.app import request_lang
from rollout.web.audit import audit
from rollout.web.auth import SESSION_COOKIE, check_csrf, client_ip, current_session, page_user, platform, session_cookie
from rollout.web.logins import check_login, close_session, open_session
from rollout.web.responses import page, redirect

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "rollout_login"
_STATUS = {"wrong": 401, "disabled": 403, "locked": 423, "too_many": 429}


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    """The login page (a fresh anti-forgery value in a cookie and in the form)."""
    if current_session(request) is not None:
        return redirect(_local(next))
    return _login_page(request, next=next)


@router.post("/login")
async def login(request: Request):
    """Check the name and password; on success a new session and a redirect."""
    form = await request.form(max_files=0, max_fields=10)
    next_path = _local(str(form.get("next", "/")))
    sent, expected = str(form.get("login_token", "")), request.cookies.get(LOGIN_COOKIE, "")
    lang = request_lang(request)
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, next=next_path, message=t("web.error.csrf", lang), status=403)
    name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:256]
    state = platform(request)
    ip = client_ip(request)
    result = check_login(state.register, state.settings, name, password, ip=ip)
    if result.user is None:
        audit(state.register, name, "login_failed", ip=ip, detail={"reason": result.reason})
        until = shanghai_time(_series(result.until)).iloc[0] if result.until is not None else ""
        message = t(f"web.login.{result.reason}", lang, until=until)
        return _login_page(request, next=next_path, message=message, status=_STATUS[result.reason], name=name)
    secret, _ = open_session(state.register, state.settings, result.user, ip=ip)
    audit(state.register, result.user.name, "login", ip=ip)
    response = redirect("/password" if result.user.must_change_password else next_path)
    session_cookie(response, secret, request, max_age=int(state.settings.session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, user: User = Depends(page_user("view_dashboard", password_ok=True))):
    """End the session."""
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    state = platform(request)
    close_session(state.register, request.cookies.get(SESSION_COOKIE, ""))
    audit(state.register, user.name, "logout", ip=client_ip(request))
    response = redirect("/login", done="logged_out")
    session_cookie(response, "", request, max_age=0)
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, user: User = Depends(page_user("view_dashboard", password_ok=True))):
    """The form to change one's password."""
    lang = request_lang(request)
    return page(request, "password.html.j2", title=t("web.password.title", lang), forced=user.must_change_password, message="")


@router.post("/password", response_model=None)
async def password_change(request: Request, user: User = Depends(page_user("view_dashboard", password_ok=True))):
    """Change one's password (the current one, the new one twice)."""
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    lang = request_lang(request)
    new, repeat = str(form.get("new", ""))[:256], str(form.get("repeat", ""))[:256]
    try:
        if new != repeat:
            raise AccountError("web.account.repeat_differs")
        change_password(platform(request).register, user, str(form.get("current", ""))[:256], new)
    except AccountError as e:
        title = t("web.password.title", lang)
        return page(request, "password.html.j2", status_code=422, title=title, forced=user.must_change_password, message=e.message(lang))
    audit(platform(request).register, user.name, "password_changed", ip=client_ip(request))
    return redirect("/", done="password_changed")


def _login_page(request: Request, *, next: str, message: str = "", status: int = 200, name: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    lang = request_lang(request)
    response = page(
        request,
        "login.html.j2",
        status_code=status,
        title=t("web.login.title", lang),
        next=_local(next),
        login_token=token,
        message=message,
        name=name,
    )
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


def _local(path: str) -> str:
    """A redirect target inside this site (never another host)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or "\n" in path or "\r" in path:
        return "/"
    return path


def _series(value):
    import pandas as pd

    return pd.Series([value])


__all__ = ["router"]
