"""Logging in: passwords checked with a rate limit and a lockout, and server-side sessions.

- An address with ``ip_attempts`` failed logins within ``ip_window_minutes`` must wait before
  it may try again (every attempt is kept in ``login_attempts``).
- ``lockout_after`` failed logins in a row lock the account for ``lockout_minutes`` (a right
  password does not open it meanwhile; ``rollout users reset`` does).
- Unknown names cost the same time as known ones (a dummy hash is verified), and the answer
  never says which part was wrong.

A session is a random cookie; the register keeps only its SHA-256, the user, its CSRF token
and its expiry, so logging out, disabling a user or resetting a password ends it at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass

from rollout.register.clock import utc_now
from rollout.register.store import Register
from rollout.web.accounts import User, _user, password_hasher, token_hash
from rollout.web.settings import WebSettings

__all__ = ["LoginResult", "Session", "check_login", "close_session", "open_session", "session_user"]


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login: the user, or why not (``wrong``, ``locked``, ``disabled``, ``too_many``)
    and until when one must wait."""

    user: User | None
    reason: str = ""
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Session:
    """A live session: its user and the CSRF token its forms carry."""

    user: User
    csrf_token: str
    expires_at: dt.datetime


@functools.cache
def _dummy_hash() -> str:
    return password_hasher().hash(secrets.token_urlsafe(16))


def check_login(register: Register, settings: WebSettings, name: str, password: str, *, ip: str) -> LoginResult:
    """Check a login attempt and record it (attempt, failed count, lock)."""
    import sqlalchemy as sa
    from argon2.exceptions import InvalidHashError, VerificationError

    users, attempts = register.tables["users"], register.tables["login_attempts"]
    now = utc_now()
    name = name.strip()[:64]
    window = now - dt.timedelta(minutes=settings.ip_window_minutes)
    with register.read() as conn:
        failures = conn.execute(
            sa.select(sa.func.count(), sa.func.min(attempts.c.at)).where(
                attempts.c.ip == ip, attempts.c.at > window, attempts.c.success.is_(False)
            )
        ).one()
        row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
    if failures[0] >= settings.ip_attempts:
        return LoginResult(None, "too_many", failures[1] + dt.timedelta(minutes=settings.ip_window_minutes))
    if row is not None and row["locked_until"] is not None and row["locked_until"] > now:
        _record(register, name, ip, now, success=False)
        return LoginResult(None, "locked", row["locked_until"])
    try:
        password_hasher().verify(row["password_hash"] if row is not None else _dummy_hash(), password)
        right = row is not None
    except (VerificationError, InvalidHashError):
        right = False
    if right and row["disabled"]:
        _record(register, name, ip, now, success=False)
        return LoginResult(None, "disabled")
    if not right:
        until = _record(register, name, ip, now, success=False, user_id=row["id"] if row is not None else None, settings=settings)
        return LoginResult(None, "locked" if until else "wrong", until)
    _record(register, name, ip, now, success=True, user_id=row["id"])
    return LoginResult(_user(row))


def _record(
    register: Register,
    name: str,
    ip: str,
    now: dt.datetime,
    *,
    success: bool,
    user_id: int | None = None,
    settings: WebSettings | None = None,
) -> dt.datetime | None:
    """Keep the attempt; count a failure against the user (locking it at the limit). Returns the
    end of a lock this attempt caused."""
    users = register.tables["users"]
    until = None
    with register.write() as conn:
        conn.execute(register.tables["login_attempts"].insert().values(name=name, ip=ip, at=now, success=success))
        if user_id is None:
            return None
        if success:
            conn.execute(users.update().where(users.c.id == user_id).values(failed_logins=0, locked_until=None))
        elif settings is not None:
            failed = conn.execute(
                users.update().where(users.c.id == user_id).values(failed_logins=users.c.failed_logins + 1).returning(users.c.failed_logins)
            ).scalar_one()
            if failed >= settings.lockout_after:
                until = now + dt.timedelta(minutes=settings.lockout_minutes)
                conn.execute(users.update().where(users.c.id == user_id).values(failed_logins=0, locked_until=until))
        # Old attempts are of no use to the rate limit: keep a day of them.
        attempts = register.tables["login_attempts"]
        conn.execute(attempts.delete().where(attempts.c.at < now - dt.timedelta(days=1)))
    return until


def open_session(register: Register, settings: WebSettings, user: User, *, ip: str) -> tuple[str, Session]:
    """A new session for ``user``: the cookie value (shown to the browser only) and the session."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utc_now()
    expires = now + dt.timedelta(hours=settings.session_hours)
    sessions = register.tables["sessions"]
    with register.write() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at < now))
        conn.execute(
            sessions.insert().values(
                user_id=user.id, session_hash=token_hash(secret), csrf_token=csrf, created_at=now, expires_at=expires, ip=ip[:64]
            )
        )
    return secret, Session(user, csrf, expires)


def session_user(register: Register, secret: str) -> Session | None:
    """The live session of a cookie (None: unknown, expired, or its user disabled)."""
    import sqlalchemy as sa

    if not secret or len(secret) > 100:
        return None
    sessions, users = register.tables["sessions"], register.tables["users"]
    query = (
        sa.select(sessions.c.csrf_token, sessions.c.expires_at, users)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.session_hash == token_hash(secret))
    )
    with register.read_statement() as conn:
        row = conn.execute(query).mappings().first()
    if row is None or row["expires_at"] <= utc_now() or row["disabled"]:
        return None
    return Session(_user(row), str(row["csrf_token"]), row["expires_at"])


def close_session(register: Register, secret: str) -> None:
    """End a session (logout)."""
    sessions = register.tables["sessions"]
    with register.write() as conn:
        conn.execute(sessions.delete().where(sessions.c.session_hash == token_hash(secret)))
