"""Where the register lives and how to reach it: a URL to a SQLAlchemy engine.

The register is ``data/register.sqlite`` unless ``--db URL`` or ``[register] url`` in
rollout.toml names another: a SQLite file (a path or ``sqlite:///path``) or a PostgreSQL
database (``postgresql://user@host:port/db``, through psycopg 3). SQLite runs in WAL mode
with a busy timeout, and write transactions start with ``BEGIN IMMEDIATE``, so two imports
at once queue instead of failing or losing an update; on PostgreSQL a write transaction
takes a transaction-scoped advisory lock for the same effect.

Every driver error that a person can act on (locked, read-only, not a register, server
unreachable) becomes a one-line :class:`~rollout.register.errors.RegisterError`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rollout.register.errors import RegisterError

__all__ = ["DEFAULT_FILE", "Target", "connect", "resolve_target", "translate_errors", "write_transaction"]

DEFAULT_FILE = "register.sqlite"
#: Key of the PostgreSQL advisory lock that serialises writers (any fixed 64-bit number).
_LOCK_KEY = 0x726F6C6C6F7574  # "rollout"
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")


@dataclass(frozen=True)
class Target:
    """A register's location: the SQLAlchemy URL, and the file for SQLite."""

    url: str
    path: Path | None  # the SQLite file; None for PostgreSQL

    @property
    def is_postgres(self) -> bool:
        """True for a PostgreSQL register."""
        return self.path is None

    @property
    def shown(self) -> str:
        """The location as shown to people (no password)."""
        return str(self.path) if self.path is not None else _PASSWORD.sub(r"\1***@", self.url)

    def exists(self) -> bool:
        """True when there is something to open (a PostgreSQL URL always counts)."""
        return self.path is None or self.path.exists()


def resolve_target(data_dir: Path, db: str | None = None, configured: str = "") -> Target:
    """The register named by ``--db``, else by ``[register] url``, else ``data/register.sqlite``.

    >>> resolve_target(Path("data")).path
    PosixPath('data/register.sqlite')
    >>> resolve_target(Path("data"), "postgresql://u:secret@h/db").shown
    'postgresql+psycopg://u:***@h/db'
    """
    value = (db or configured or "").strip()
    if not value:
        return Target(url=f"sqlite:///{data_dir / DEFAULT_FILE}", path=data_dir / DEFAULT_FILE)
    if value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        rest = value.split("://", 1)[1]
        return Target(url=f"postgresql+psycopg://{rest}", path=None)
    if value.startswith("sqlite:///"):
        path = Path(value[len("sqlite:///") :])
    elif "://" in value:
        raise RegisterError("register.db_url", value=value)
    else:
        path = Path(value)
    return Target(url=f"sqlite:///{path}", path=path)


def connect(target: Target, *, write: bool, timeout_s: float):
    """A SQLAlchemy engine for ``target``; ``write`` checks that a SQLite file can be written."""
    from sqlalchemy import create_engine, event

    if target.is_postgres:
        engine = create_engine(target.url, connect_args={"connect_timeout": max(int(timeout_s), 2)}, pool_pre_ping=True)
        with translate_errors(target), engine.connect():
            pass  # fail here, with a clear message, when the server cannot be reached
        return engine
    path = target.path
    assert path is not None
    if path.exists() and not path.is_file():
        raise RegisterError("register.not_register", where=target.shown)
    read_only = path.exists() and not os.access(path, os.W_OK)
    if write and (read_only or (not path.exists() and not os.access(path.parent if path.parent.exists() else Path("."), os.W_OK))):
        raise RegisterError("register.read_only", where=target.shown)
    if read_only:
        # A file we may not write: open it immutable, so SQLite needs no -wal/-shm files beside it.
        url, args = f"sqlite:///file:{path.resolve()}?mode=ro&immutable=1&uri=true", {}
    else:
        url, args = target.url, {"timeout": timeout_s}
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not read_only:
            cursor.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        options = connection.get_execution_options()
        if options.get("rollout_single", False):
            return  # one statement is a transaction of its own (see read_statement)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("rollout_write", False) else "BEGIN")

    return engine


def use_wal(engine, target: Target) -> None:
    """Put a SQLite register in WAL mode (readers never wait for a writer); kept in the file.
    Called once the file is known to be a register, so that no other file is ever changed."""
    if target.is_postgres:
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA journal_mode=WAL")
    finally:
        raw.close()


@contextlib.contextmanager
def write_transaction(engine, target: Target, *, timeout_s: float = 30.0) -> Iterator:
    """One write transaction: all of it lands or none does; writers queue behind each other."""
    from sqlalchemy import text

    with translate_errors(target), engine.execution_options(rollout_write=True).begin() as conn:
        if target.is_postgres:
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(timeout_s * 1000)}ms'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        yield conn


@contextlib.contextmanager
def read_connection(engine, target: Target) -> Iterator:
    """A read transaction: a consistent snapshot of the register."""
    with translate_errors(target), engine.connect() as conn:
        yield conn


@contextlib.contextmanager
def single_statement_connection(engine, target: Target) -> Iterator:
    """A connection for one read statement: no transaction is begun for it (a statement sees one
    consistent state anyway), which saves two round trips on the busiest reads (who is asking)."""
    with translate_errors(target), engine.connect() as conn:
        yield conn.execution_options(rollout_single=True)


@contextlib.contextmanager
def translate_errors(target: Target) -> Iterator[None]:
    """Turn driver errors a person can act on into a one-line :class:`RegisterError`."""
    from sqlalchemy import exc

    try:
        yield
    except exc.DBAPIError as e:
        key, params = _message(e, target)
        raise RegisterError(key, **params) from e


def _message(error, target: Target) -> tuple[str, dict[str, str]]:
    """The catalogue key and parameters of the error a driver error means."""
    text = str(getattr(error, "orig", error)).lower()
    where = target.shown
    if "locked" in text or "busy" in text or "lock timeout" in text:
        return "register.locked", {"where": where}
    if "readonly" in text or "read-only" in text or "unable to open" in text or "permission denied" in text:
        return "register.read_only", {"where": where}
    if "not a database" in text or "malformed" in text:
        return "register.not_register", {"where": where}
    if target.is_postgres and ("connection" in text or "could not" in text or "timeout" in text or "resolve" in text):
        detail = str(getattr(error, "orig", error)).strip().splitlines()[0][:160]
        return "register.unreachable", {"where": where, "detail": detail}
    detail = str(getattr(error, "orig", error)).strip().splitlines()[0][:200]
    return "register.database_error", {"where": where, "detail": detail}
