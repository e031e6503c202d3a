"""The platform's users and their API tokens, kept in the register (schema version 3).

A user has a name, a role (:data:`ROLES`), for a street coordinator the street, for an
operator's engineer the operator. Passwords are hashed with Argon2id (argon2-cffi's defaults);
a password the tool makes (the first admin's, a reset's) is shown once and must be changed at
the first login. API tokens are random (256 bits), shown once, stored as their SHA-256 (a fast
hash is enough for a secret that long), and expire or are revoked.

Used by ``rollout users`` and by the admin pages; :mod:`rollout.web.logins` checks passwords
and keeps sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import pandas as pd

from rollout.config import Config
from rollout.errors import RolloutError
from rollout.register.clock import utc_now
from rollout.register.store import Register

__all__ = [
    "OPERATOR_ROLES",
    "ROLES",
    "AccountError",
    "User",
    "add_user",
    "change_password",
    "ensure_admin",
    "find_user",
    "issue_token",
    "list_tokens",
    "list_users",
    "reset_password",
    "revoke_tokens",
    "set_disabled",
    "token_user",
]

ROLES = ("admin", "district", "street", "operator", "tower", "viewer")
#: Operators an ``operator`` user may belong to (China Tower has the ``tower`` role).
OPERATOR_ROLES = ("cmcc", "ctc", "cucc", "cbn")
MIN_PASSWORD = 10
TOKEN_PREFIX = "rlt_"
_NAME = re.compile(r"^[^\s/\\<>\"'&;,]{1,64}$")


class AccountError(RolloutError, ValueError):
    """A user or token request that cannot be carried out (unknown user, bad role, weak password)."""


@dataclass(frozen=True)
class User:
    """A platform user, as the permissions see it."""

    id: int
    name: str
    role: str
    street_code: str = ""
    operator: str = ""
    must_change_password: bool = False
    disabled: bool = False

    @property
    def author(self) -> str:
        """The author written on the register versions this user makes."""
        return f"web:{self.name}"


def password_hasher():
    """Argon2id with argon2-cffi's recommended parameters."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def add_user(
    register: Register,
    config: Config,
    name: str,
    role: str,
    *,
    street: str = "",
    operator: str = "",
    password: str | None = None,
    created_by: str = "",
) -> tuple[User, str | None]:
    """Create a user; returns it and the one-time password made for it (None when ``password`` was given)."""
    name = name.strip()
    if not _NAME.match(name):
        raise AccountError("web.account.bad_name", name=name)
    if role not in ROLES:
        raise AccountError("web.account.bad_role", role=role, roles=" / ".join(ROLES))
    street_code, operator_code = _organisation(config, role, street, operator)
    one_time = None
    if password is None:
        password = one_time = secrets.token_urlsafe(12)
    else:
        _check_strength(name, password)
    users = register.tables["users"]
    import sqlalchemy as sa

    with register.write() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is not None:
            raise AccountError("web.account.exists", name=name)
        values = {
            "name": name,
            "role": role,
            "street_code": street_code,
            "operator": operator_code,
            "password_hash": password_hasher().hash(password),
            "must_change_password": one_time is not None,
            "disabled": False,
            "failed_logins": 0,
            "created_at": utc_now(),
            "created_by": created_by,
        }
        user_id = int(conn.execute(users.insert().values(**values)).inserted_primary_key[0])
    return User(user_id, name, role, street_code, operator_code, one_time is not None), one_time


def ensure_admin(register: Register) -> str | None:
    """On the first run (no user at all) create ``admin``; returns its one-time password, else None."""
    import sqlalchemy as sa

    users = register.tables["users"]
    with register.read() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(users)).scalar():
            return None
    password = secrets.token_urlsafe(12)
    with register.write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(users)).scalar():
            return None  # another process made it meanwhile
        conn.execute(
            users.insert().values(
                name="admin",
                role="admin",
                street_code="",
                operator="",
                password_hash=password_hasher().hash(password),
                must_change_password=True,
                disabled=False,
                failed_logins=0,
                created_at=utc_now(),
                created_by="rollout serve",
            )
        )
    return password


def find_user(register: Register, name: str) -> User:
    """The user called ``name``; :class:`AccountError` when there is none."""
    row = _user_row(register, name)
    if row is None:
        raise AccountError("web.account.unknown", name=name)
    return _user(row)


def list_users(register: Register) -> pd.DataFrame:
    """Every user: name, role, street_code, operator, disabled, locked_until, must_change_password,
    created_at, created_by, active_tokens."""
    import sqlalchemy as sa

    users, tokens = register.tables["users"], register.tables["api_tokens"]
    active = (
        sa.select(tokens.c.user_id, sa.func.count().label("active_tokens"))
        .where(tokens.c.revoked_at.is_(None), tokens.c.expires_at > utc_now())
        .group_by(tokens.c.user_id)
        .subquery()
    )
    query = (
        sa.select(
            users.c.name,
            users.c.role,
            users.c.street_code,
            users.c.operator,
            users.c.disabled,
            users.c.locked_until,
            users.c.must_change_password,
            users.c.created_at,
            users.c.created_by,
            sa.func.coalesce(active.c.active_tokens, 0).label("active_tokens"),
        )
        .outerjoin(active, active.c.user_id == users.c.id)
        .order_by(users.c.name)
    )
    with register.read() as conn:
        frame = pd.read_sql(query, conn)
    now = pd.Timestamp(utc_now())
    locked = pd.to_datetime(frame["locked_until"])
    frame["locked_until"] = locked.where(locked > now)
    for column in ("disabled", "must_change_password"):
        frame[column] = frame[column].astype(bool)
    return frame


def set_disabled(register: Register, name: str, disabled: bool) -> User:
    """Disable (or enable again) a user; a disabled user's sessions end at once and its tokens stop working."""
    user = find_user(register, name)
    with register.write() as conn:
        conn.execute(register.tables["users"].update().where(register.tables["users"].c.id == user.id).values(disabled=disabled))
        if disabled:
            conn.execute(register.tables["sessions"].delete().where(register.tables["sessions"].c.user_id == user.id))
    return find_user(register, name)


def reset_password(register: Register, name: str, *, password: str | None = None) -> str | None:
    """Give ``name`` a new password (a one-time one when ``password`` is None, returned), unlock it
    and end its sessions."""
    user = find_user(register, name)
    one_time = None
    if password is None:
        password = one_time = secrets.token_urlsafe(12)
    else:
        _check_strength(user.name, password)
    users = register.tables["users"]
    with register.write() as conn:
        conn.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(
                password_hash=password_hasher().hash(password),
                must_change_password=one_time is not None,
                failed_logins=0,
                locked_until=None,
            )
        )
        conn.execute(register.tables["sessions"].delete().where(register.tables["sessions"].c.user_id == user.id))
    return one_time


def change_password(register: Register, user: User, current: str, new: str) -> None:
    """The user's own change: ``current`` must be right, ``new`` strong enough and different."""
    from argon2.exceptions import VerifyMismatchError

    row = _user_row(register, user.name)
    assert row is not None
    try:
        password_hasher().verify(row["password_hash"], current)
    except VerifyMismatchError:
        raise AccountError("web.account.current_wrong") from None
    if new == current:
        raise AccountError("web.account.same_password")
    _check_strength(user.name, new)
    users = register.tables["users"]
    with register.write() as conn:
        conn.execute(
            users.update().where(users.c.id == user.id).values(password_hash=password_hasher().hash(new), must_change_password=False)
        )


def issue_token(register: Register, name: str, *, days: int) -> tuple[str, dt.datetime]:
    """A new API token for ``name`` (shown once: only its SHA-256 is kept) and when it expires."""
    user = find_user(register, name)
    if user.disabled:
        raise AccountError("web.account.disabled", name=name)
    if days <= 0 or days > 3650:
        raise AccountError("web.account.token_days", days=days)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utc_now()
    expires = now + dt.timedelta(days=days)
    with register.write() as conn:
        conn.execute(
            register.tables["api_tokens"]
            .insert()
            .values(user_id=user.id, token_hash=token_hash(token), prefix=token[:10], created_at=now, expires_at=expires)
        )
    return token, expires


def list_tokens(register: Register, name: str) -> pd.DataFrame:
    """``name``'s tokens: id, prefix, created_at, expires_at, revoked_at, last_used_at."""
    import sqlalchemy as sa

    user = find_user(register, name)
    tokens = register.tables["api_tokens"]
    query = sa.select(
        tokens.c.id, tokens.c.prefix, tokens.c.created_at, tokens.c.expires_at, tokens.c.revoked_at, tokens.c.last_used_at
    ).where(tokens.c.user_id == user.id)
    with register.read() as conn:
        return pd.read_sql(query.order_by(tokens.c.id), conn)


def revoke_tokens(register: Register, name: str, *, token_id: int | None = None) -> int:
    """Revoke ``name``'s tokens (one of them with ``token_id``); returns how many were revoked."""
    user = find_user(register, name)
    tokens = register.tables["api_tokens"]
    query = tokens.update().where(tokens.c.user_id == user.id, tokens.c.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(tokens.c.id == token_id)
    with register.write() as conn:
        return int(conn.execute(query.values(revoked_at=utc_now())).rowcount or 0)


def token_user(register: Register, token: str) -> tuple[User | None, str]:
    """The user a Bearer token belongs to, and why not when it does not (``unknown``, ``expired``,
    ``revoked``, ``disabled``)."""
    import sqlalchemy as sa

    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None, "unknown"
    tokens, users = register.tables["api_tokens"], register.tables["users"]
    query = (
        sa.select(tokens.c.id.label("token_id"), tokens.c.expires_at, tokens.c.revoked_at, tokens.c.last_used_at, users)
        .join(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_hash == token_hash(token))
    )
    with register.read_statement() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None, "unknown"
    now = utc_now()
    if row["revoked_at"] is not None:
        return None, "revoked"
    if row["expires_at"] <= now:
        return None, "expired"
    if row["disabled"]:
        return None, "disabled"
    if row["last_used_at"] is None or now - row["last_used_at"] > dt.timedelta(hours=1):  # one write an hour at most
        with register.write() as conn:
            conn.execute(tokens.update().where(tokens.c.id == row["token_id"]).values(last_used_at=now))
    return _user(row), ""


def token_hash(secret: str) -> str:
    """The SHA-256 of a token or session secret, as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _user_row(register: Register, name: str):
    import sqlalchemy as sa

    users = register.tables["users"]
    with register.read() as conn:
        return conn.execute(sa.select(users).where(users.c.name == name.strip())).mappings().first()


def _user(row) -> User:
    return User(
        id=int(row["id"]),
        name=str(row["name"]),
        role=str(row["role"]),
        street_code=str(row["street_code"] or ""),
        operator=str(row["operator"] or ""),
        must_change_password=bool(row["must_change_password"]),
        disabled=bool(row["disabled"]),
    )


def _organisation(config: Config, role: str, street: str, operator: str) -> tuple[str, str]:
    """The street code of a street user and the operator code of an operator user."""
    from rollout.boundaries import match_streets, read_street_table
    from rollout.schema import operator_code

    if role == "street":
        if not street.strip():
            raise AccountError("web.account.street_needed")
        code = match_streets(pd.Series([street.strip()]), read_street_table(config)).iloc[0]
        if not isinstance(code, str):
            raise AccountError("web.account.street_unknown", street=street)
        return code, ""
    if role == "operator":
        code = operator_code(operator, strict=False) if operator.strip() else None
        if code not in OPERATOR_ROLES:
            raise AccountError("web.account.operator_needed", operator=operator)
        return "", str(code)
    if street.strip() or operator.strip():
        raise AccountError("web.account.no_organisation", role=role)
    return "", ""


def _check_strength(name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("web.account.password_short", minimum=MIN_PASSWORD)
    if password.strip().lower() == name.strip().lower():
        raise AccountError("web.account.password_is_name")
