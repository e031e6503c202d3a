"""Uploaded weekly files between their preview and their confirmation.

An upload is checked by its content, not its name: an XLSX workbook (a ZIP holding
``[Content_Types].xml`` and ``xl/``) or a CSV text (no NUL byte; UTF-8, UTF-16 or GB18030).
It is kept in the register (``staged_uploads``: the bytes, the sender, the day, the user) under
a random key whose SHA-256 is stored, so that the confirming request need not reach the same
process. The user's file name is only shown and recorded; on disk the file gets a name made
safe (:func:`rollout.writers.safe_filename`) inside a temporary folder the server chose.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import secrets
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rollout.register.clock import utc_now
from rollout.register.store import Register
from rollout.web.accounts import token_hash

__all__ = ["Staged", "drop_staged", "sniff", "stage", "staged", "staged_file"]

_KEPT = dt.timedelta(days=1)


@dataclass(frozen=True)
class Staged:
    """An upload waiting for its confirmation."""

    key: str
    user_id: int
    file_name: str
    suffix: str
    data: bytes
    source: str
    kind: str
    reported_on: dt.date


def sniff(data: bytes) -> str | None:
    """``.xlsx`` or ``.csv`` for what the bytes are, None for anything else (images, PDFs, old .xls, ZIPs of other things)."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        return ".xlsx" if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names) else None
    if not data.strip():
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        with contextlib.suppress(UnicodeDecodeError):
            data.decode("utf-16")
            return ".csv"
        return None
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            data.decode(encoding)
            return ".csv"
    return None


def stage(
    register: Register, *, user_id: int, file_name: str, suffix: str, data: bytes, source: str, kind: str, reported_on: dt.date
) -> str:
    """Keep an upload; returns its key (random, 256 bits). Uploads older than a day are dropped."""
    key = secrets.token_urlsafe(32)
    table = register.tables["staged_uploads"]
    now = utc_now()
    with register.write() as conn:
        conn.execute(table.delete().where(table.c.created_at < now - _KEPT))
        conn.execute(
            table.insert().values(
                key_hash=token_hash(key),
                user_id=user_id,
                file_name=file_name[:200],
                suffix=suffix,
                data=data,
                source=source,
                kind=kind,
                reported_on=reported_on,
                created_at=now,
            )
        )
    return key


def staged(register: Register, key: str, *, user_id: int) -> Staged | None:
    """The upload kept under ``key`` for ``user_id`` (None: unknown, someone else's, or too old)."""
    import sqlalchemy as sa

    table = register.tables["staged_uploads"]
    if not key or len(key) > 100:
        return None
    with register.read() as conn:
        row = conn.execute(sa.select(table).where(table.c.key_hash == token_hash(key))).mappings().first()
    if row is None or int(row["user_id"]) != user_id or row["created_at"] < utc_now() - _KEPT:
        return None
    return Staged(
        key=key,
        user_id=int(row["user_id"]),
        file_name=str(row["file_name"]),
        suffix=str(row["suffix"]),
        data=bytes(row["data"]),
        source=str(row["source"]),
        kind=str(row["kind"]),
        reported_on=row["reported_on"] if isinstance(row["reported_on"], dt.date) else dt.date.fromisoformat(str(row["reported_on"])),
    )


def drop_staged(register: Register, key: str) -> None:
    """Forget an upload (confirmed or cancelled)."""
    table = register.tables["staged_uploads"]
    with register.write() as conn:
        conn.execute(table.delete().where(table.c.key_hash == token_hash(key)))


@contextlib.contextmanager
def staged_file(upload: Staged) -> Iterator[Path]:
    """The upload as a file in a fresh temporary folder, under its name made safe."""
    from rollout.writers import safe_filename, write_bytes

    stem = safe_filename(Path(upload.file_name).stem or "upload")
    with tempfile.TemporaryDirectory(prefix="rollout-upload-") as folder:
        yield write_bytes(Path(folder) / f"{stem}{upload.suffix}", upload.data)
