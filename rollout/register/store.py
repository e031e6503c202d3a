"""An open register: its location, engine, settings and tables, and its transactions.

:func:`open_register` finds the register (``--db``, ``[register] url`` or
``data/register.sqlite``), checks that it is one and of a schema version this code knows,
creates it on the first import and migrates an older one.
"""

from __future__ import annotations

import contextlib
import getpass
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout.config import Config
from rollout.register.config import RegisterConfig, load_register_config
from rollout.register.db import Target, connect, read_connection, resolve_target, single_statement_connection, use_wal, write_transaction
from rollout.register.errors import EmptyRegisterError
from rollout.register.schema import SCHEMA_VERSION, metadata, open_schema

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Register", "find_register", "open_register", "os_user"]


@dataclass
class Register:
    """An open register."""

    target: Target
    engine: Any  # a SQLAlchemy Engine (SQLAlchemy is imported only when a register is opened)
    settings: RegisterConfig

    #: Columns found in the database, per table (see :meth:`has_column`).
    _columns: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _write_turn: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def tables(self):
        """The SQLAlchemy tables of the current schema."""
        return _tables()

    def has_column(self, conn, table: str, column: str) -> bool:
        """Whether the database's ``table`` has ``column`` (looked up once per open register: a register
        opened read-only may predate a column, and its schema does not change while it is open)."""
        from rollout.register.schema import column_names

        if table not in self._columns:
            self._columns[table] = column_names(conn, table)
        return column in self._columns[table]

    @contextlib.contextmanager
    def read(self) -> Iterator:
        """A connection for reading (one consistent snapshot)."""
        with read_connection(self.engine, self.target) as conn:
            yield conn

    @contextlib.contextmanager
    def read_statement(self) -> Iterator:
        """A connection for a single read statement (no transaction around it: cheaper, and one
        statement sees one consistent state anyway). Several statements need :meth:`read`."""
        with single_statement_connection(self.engine, self.target) as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator:
        """A write transaction: everything in it lands or nothing does. The threads of one process
        queue for it here, in turn, rather than each polling the database's lock (SQLite's wait
        sleeps ever longer between tries, so a busy writer could starve the others)."""
        with self._write_turn, write_transaction(self.engine, self.target, timeout_s=self.settings.busy_timeout_s) as conn:
            yield conn

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def find_register(config: Config, db: str | None = None, *, street_table: pd.DataFrame | None = None) -> Target | None:
    """The register to read for ``config``, or None when there is none (no file, no URL);
    ``street_table``: the project's streets when already read."""
    settings = load_register_config(config, street_table=street_table)
    target = resolve_target(config.data_dir, db, settings.url)
    if db or settings.url:
        return target
    return target if target.exists() else None


def open_register(config: Config, db: str | None = None, *, create: bool = False) -> Register:
    """Open the project's register; with ``create`` make it when it does not exist yet.

    Raises :class:`RegisterError` (one line, what to do) when it is not a register, comes
    from a newer version of rollout, is locked, read-only (for ``create``) or unreachable.
    """
    settings = load_register_config(config)
    target = resolve_target(config.data_dir, db, settings.url)
    if not create and not target.exists():
        raise EmptyRegisterError("register.empty", where=target.shown)
    engine = connect(target, write=create, timeout_s=settings.busy_timeout_s)
    register = Register(target=target, engine=engine, settings=settings)
    try:
        with register.read() as conn:
            version = _checked_version(conn, register, create=False)
        if version is None or version < SCHEMA_VERSION:
            if not create and version is None:
                raise EmptyRegisterError("register.empty", where=target.shown)
            with register.write() as conn:
                open_schema(conn, where=target.shown, create=True, postgres=target.is_postgres)
        if create:
            use_wal(engine, target)
    except Exception:
        engine.dispose()
        raise
    return register


def _checked_version(conn, register: Register, *, create: bool) -> int | None:
    """The schema version, or None for an empty database (errors for anything else)."""
    import sqlalchemy as sa

    names = set(sa.inspect(conn).get_table_names())
    if "schema_version" not in names and not (names - {"spatial_ref_sys"}):
        return None
    return open_schema(conn, where=register.target.shown, create=create, postgres=register.target.is_postgres)


_TABLES = None


def _tables():
    global _TABLES
    if _TABLES is None:
        _TABLES = metadata().tables
    return _TABLES


def os_user() -> str:
    """The name of the person running the command (the OS login)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def sqlite_size(target: Target) -> int:
    """Bytes on disk of a SQLite register (with its WAL); 0 for PostgreSQL."""
    if target.path is None:
        return 0
    files = [target.path, Path(f"{target.path}-wal")]
    return sum(p.stat().st_size for p in files if p.exists())
