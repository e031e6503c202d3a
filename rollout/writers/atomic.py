"""Atomic files and folders, and safe file names."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "safe_filename", "write_bytes", "write_folder", "write_text", "zip_folder"]

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
#: Zip entries carry this date, so that the same files give the same archive.
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers such as GDAL refuse to overwrite; let them create it
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: Path | str, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_folder(folder: Path | str, files: Mapping[str, Any], *, write: Callable[[Path, Any], object], merge: bool = False) -> Path:
    """Write ``files`` (name -> artefact, written by ``write``) into ``folder`` as a whole.

    The files are written into a temporary folder beside ``folder``, which then replaces
    ``folder`` by renames only, so a failure leaves the previous folder untouched. With
    ``merge``, the files are moved into an existing ``folder`` one by one instead (other files
    in it stay). Names are checked: a file can only land inside ``folder``.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, artefact in files.items():
            target = (staging / name).resolve()
            if staging.resolve() not in target.parents:
                msg = f"refusing to write outside {folder}: {name}"
                raise ValueError(msg)
            write(target, artefact)
        staging.chmod(0o755)  # mkdtemp makes it private; outputs are meant to be shared
        if merge and folder.is_dir():
            for child in sorted(staging.iterdir()):
                os.replace(child, folder / child.name)
        else:
            _swap_in(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder


def _swap_in(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging`` with renames only."""
    if folder.exists():
        retired = folder.with_name(f".{folder.name}.old")
        if retired.exists():
            shutil.rmtree(retired)
        os.replace(folder, retired)
        os.replace(staging, folder)
        shutil.rmtree(retired)
    else:
        os.replace(staging, folder)


def zip_folder(folder: Path | str, path: Path | str) -> Path:
    """Zip the files of ``folder`` under its name, with fixed dates, atomically."""
    folder = Path(folder)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
        for file in sorted(folder.iterdir()):
            info = zipfile.ZipInfo(f"{folder.name}/{file.name}", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, file.read_bytes())
    return Path(path)


def safe_filename(*parts: object, max_length: int = 80) -> str:
    """A file name from untrusted text: no path separators, control or reserved characters,
    no leading dots, Chinese kept.

    >>> safe_filename("PT-GA-001", "../../etc/passwd")
    'PT-GA-001_.._.._etc_passwd'
    >>> safe_filename("A1", "<script>金沙雅苑")
    'A1_script_金沙雅苑'
    """
    text = "_".join(unicodedata.normalize("NFKC", str(p)).strip() for p in parts if str(p).strip())
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" ._") or "worksheet"
    text = re.sub(r"_+", "_", text)
    if text.upper().split(".")[0] in _RESERVED:
        text = f"_{text}"
    return text[:max_length].rstrip(" .")
