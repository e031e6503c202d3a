"""The register's tables (SQLAlchemy Core), its schema version and the migrations.

Version 1 (the first schema):

- ``schema_version``: one row per version applied (version, applied_at UTC).
- ``submissions``: one row per import (or platform edit): source, kind, channel (``file`` or
  ``platform``), file name, sha256 of the bytes and of the checked content, rows, loaded,
  rejected, imported_at (UTC), reported_on (the as-of date), the OS user, a note.
- ``records``: the current state of each (kind, record id, source): its version number and
  whether the source still reports it (``reported``) or left it out (``missing``, 未报送).
- ``record_versions``: every version of every record, valid from one submission until the
  one that replaced it (``valid_to`` NULL = current), with every canonical field as a column,
  unknown columns as JSON, the change classes that made it, and on PostgreSQL a PostGIS
  ``geom`` point (generated from lon/lat).
- ``changes``: one row per change found by an import (record, class, field, old, new).

Version 2 (for the multi-party web platform): ``record_versions.author`` (the OS user for
imports, the web user for edits; filled from the submissions for older versions) and
``conflict_resolutions`` (which source to keep for a record, by whom, when), and ``snapshots``
(the current versions of each kind as Parquet, rewritten by every write: reading the records
now is then one blob instead of a query over the whole history).

Version 3 (the platform's people and their traces, ``rollout serve``): ``users`` (name, role,
street or operator, argon2 password hash, disabled, failed logins and lock), ``api_tokens``
(SHA-256 of each token, expiry, revocation), ``sessions`` (SHA-256 of each session cookie, its
CSRF token, expiry), ``login_attempts`` (for the rate limit), ``audit_log`` (logins, changes,
uploads, publications) and ``staged_uploads`` (an uploaded file between its preview and its
confirmation).
"""

from __future__ import annotations

import datetime as dt

from rollout.register.errors import EmptyRegisterError, RegisterError
from rollout.schema import KINDS

__all__ = ["SCHEMA_VERSION", "column_names", "field_columns", "metadata", "open_schema"]

SCHEMA_VERSION = 3
_SQL_TYPES = {"date": "Date", "float": "Float", "int": "Integer", "bool": "Boolean", "flag": "Boolean"}


def field_columns() -> dict[str, str]:
    """Canonical field name -> SQL type name, over both kinds (shared names share a column)."""
    columns: dict[str, str] = {}
    for kind in KINDS.values():
        for f in kind.fields:
            columns.setdefault(f.name, _SQL_TYPES.get(f.type, "Text"))
    return columns


def metadata(version: int = SCHEMA_VERSION):
    """The tables as of schema ``version`` (1 to 3)."""
    import sqlalchemy as sa

    types = {"Date": sa.Date, "Float": sa.Float, "Integer": sa.Integer, "Boolean": sa.Boolean, "Text": sa.Text}
    meta = sa.MetaData()
    sa.Table(
        "schema_version",
        meta,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "submissions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("loaded", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("reported_on", sa.Date, nullable=False),
        sa.Column("os_user", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Index("ix_submissions_source_kind", "source", "kind", "reported_on"),
    )
    sa.Table(
        "records",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("first_submission", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("last_submission", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.UniqueConstraint("kind", "record_id", "source", name="uq_records_kind_id_source"),
        sa.Index("ix_records_source", "kind", "source"),
    )
    fields: list[sa.Column] = [sa.Column(name, types[kind]) for name, kind in field_columns().items()]
    versions = sa.Table(
        "record_versions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record", sa.Integer, sa.ForeignKey("records.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("valid_to", sa.Integer, sa.ForeignKey("submissions.id")),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False, server_default=""),
        *fields,
        sa.Column("crs_input", sa.Text),
        sa.Column("source_file", sa.Text),
        sa.Column("source_row", sa.Integer),
        sa.Column("flags", sa.Text),
        sa.Column("extra", sa.Text),
        sa.UniqueConstraint("record", "version", name="uq_versions_record_version"),
        sa.Index("ix_versions_valid_to", "valid_to"),
        sa.Index("ix_versions_valid_from", "valid_from"),
    )
    sa.Table(
        "changes",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("change", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("old", sa.Text, nullable=False),
        sa.Column("new", sa.Text, nullable=False),
        sa.Index("ix_changes_submission", "submission"),
        sa.Index("ix_changes_record", "kind", "record_id"),
    )
    if version >= 2:
        versions.append_column(sa.Column("author", sa.Text, nullable=False, server_default=""))
        sa.Table(
            "conflict_resolutions",
            meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("record_id", sa.Text, nullable=False),
            sa.Column("keep_source", sa.Text, nullable=False),
            sa.Column("after_submission", sa.Integer, nullable=False),
            sa.Column("resolved_by", sa.Text, nullable=False),
            sa.Column("resolved_at", sa.DateTime, nullable=False),
            sa.Column("note", sa.Text, nullable=False, server_default=""),
            sa.Index("ix_resolutions_record", "kind", "record_id"),
        )
        sa.Table(
            "snapshots",
            meta,
            sa.Column("kind", sa.Text, primary_key=True),
            sa.Column("revision", sa.Integer, nullable=False),
            sa.Column("data", sa.LargeBinary, nullable=False),
        )
    if version >= 3:
        _platform_tables(meta)
    return meta


def _platform_tables(meta) -> None:
    """Version 3: the web platform's users, tokens, sessions, login attempts, audit log and staged uploads."""
    import sqlalchemy as sa

    sa.Table(
        "users",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("street_code", sa.Text, nullable=False, server_default=""),
        sa.Column("operator", sa.Text, nullable=False, server_default=""),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False, server_default=""),
    )
    sa.Table(
        "api_tokens",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("last_used_at", sa.DateTime),
    )
    sa.Table(
        "sessions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("session_hash", sa.Text, nullable=False, unique=True),
        sa.Column("csrf_token", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("ip", sa.Text, nullable=False, server_default=""),
    )
    sa.Table(
        "login_attempts",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("ip", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Index("ix_login_attempts_ip", "ip", "at"),
    )
    sa.Table(
        "audit_log",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False, server_default=""),
        sa.Column("ip", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Index("ix_audit_log_at", "at"),
    )
    sa.Table(
        "staged_uploads",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_hash", sa.Text, nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("suffix", sa.Text, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, server_default=""),
        sa.Column("reported_on", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def open_schema(conn, *, where: str, create: bool, postgres: bool) -> int:
    """Check (and create or migrate) the schema inside the open transaction ``conn``.

    Returns the schema version. A database without the tables is created when ``create``;
    a database with other tables but no ``schema_version`` is not a register; a register of a
    newer schema version than this code knows is refused; an older one is migrated.
    """
    import sqlalchemy as sa

    names = set(sa.inspect(conn).get_table_names())
    if "schema_version" not in names:
        if names - {"spatial_ref_sys"} or not create:
            if names - {"spatial_ref_sys"}:
                raise RegisterError("register.not_register", where=where)
            raise EmptyRegisterError("register.empty", where=where)
        create_schema(conn, version=SCHEMA_VERSION, postgres=postgres)
        return SCHEMA_VERSION
    version = conn.execute(sa.text("SELECT MAX(version) FROM schema_version")).scalar() or 0
    if version > SCHEMA_VERSION:
        raise RegisterError("register.newer_schema", where=where, version=version, known=SCHEMA_VERSION)
    if version < SCHEMA_VERSION and not create:
        return version  # the caller migrates it in a write transaction
    for step in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[step](conn)
        _stamp(conn, step)
    _add_new_field_columns(conn)
    return SCHEMA_VERSION


def create_schema(conn, *, version: int, postgres: bool) -> None:
    """Create the tables of schema ``version`` in an empty database (inside ``conn``'s transaction)."""
    import sqlalchemy as sa

    if postgres:
        try:
            with conn.begin_nested():
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except sa.exc.DBAPIError as e:
            raise RegisterError("register.no_postgis", detail=str(e.orig).splitlines()[0]) from e
    metadata(version).create_all(conn)
    if postgres:
        conn.execute(
            sa.text(
                "ALTER TABLE record_versions ADD COLUMN geom geometry(Point, 4326) "
                "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
            )
        )
        conn.execute(sa.text("CREATE INDEX ix_versions_geom ON record_versions USING GIST (geom)"))
    for step in range(1, version + 1):
        _stamp(conn, step)


def _stamp(conn, version: int) -> None:
    import sqlalchemy as sa

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.execute(sa.text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :at)"), {"v": version, "at": now})


def _migrate_to_2(conn) -> None:
    """Version 2: an author on every record version, the table of conflict resolutions, snapshots."""
    import sqlalchemy as sa

    conn.execute(sa.text("ALTER TABLE record_versions ADD COLUMN author TEXT NOT NULL DEFAULT ''"))
    conn.execute(
        sa.text("UPDATE record_versions SET author = (SELECT s.os_user FROM submissions s WHERE s.id = record_versions.valid_from)")
    )
    metadata(2).tables["conflict_resolutions"].create(conn)
    metadata(2).tables["snapshots"].create(conn)


def _migrate_to_3(conn) -> None:
    """Version 3: the web platform's tables (users, tokens, sessions, login attempts, audit log, staged uploads)."""
    tables = metadata(3).tables
    for name in ("users", "api_tokens", "sessions", "login_attempts", "audit_log", "staged_uploads"):
        tables[name].create(conn)


MIGRATIONS = {2: _migrate_to_2, 3: _migrate_to_3}


def column_names(conn, table: str) -> set[str]:
    """The columns of ``table`` as the database has them (no type reflection: PostGIS types
    are unknown to SQLAlchemy)."""
    import sqlalchemy as sa

    return set(conn.execute(sa.text(f"SELECT * FROM {table} WHERE 1 = 0")).keys())


def _add_new_field_columns(conn) -> None:
    """Columns for fields added to rollout/schema.py since the register was made (nullable)."""
    import sqlalchemy as sa

    present = column_names(conn, "record_versions")
    for name, sql_type in field_columns().items():
        if name not in present:
            kind = {"Date": "DATE", "Float": "FLOAT", "Integer": "INTEGER", "Boolean": "BOOLEAN"}.get(sql_type, "TEXT")
            conn.execute(sa.text(f'ALTER TABLE record_versions ADD COLUMN "{name}" {kind}'))
