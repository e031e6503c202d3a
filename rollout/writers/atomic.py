"""Atomic files and folders, and safe file names.

A file is written to a temporary file beside it (``.<name>.<pid>.<random>.tmp<suffix>``) and
renamed over it. A folder is written into a staging folder beside it
(``.<name>.staging-<pid>-<random>``) and swapped in whole: where Linux's ``renameat2`` can
exchange two names in one step it does, so there is no moment without the folder; elsewhere by
two renames (``folder -> .<name>.old-<pid>``, ``staging -> folder``), and a kill between them is
repaired by the next write to the same place, which puts the ``.old`` folder back. With
``merge``, the staging folder starts as a copy of the folder made of hard links (no data is
copied), so other files stay and a kill still leaves the old folder or the new one, never a mix.

The next write to a place also removes what a killed run left there: staging folders and
temporary files of processes that no longer run, and a stale ``.old`` folder.

A disk that is full, read-only or refuses a name is an :class:`rollout.errors.OutputError`
naming the file; the previous outputs are left as they were.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rollout.errors import OutputError

__all__ = [
    "atomic_path",
    "safe_filename",
    "tidy",
    "unique_filenames",
    "write_bytes",
    "write_folder",
    "write_text",
    "zip_folder",
]

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
#: Zip entries carry this date, so that the same files give the same archive.
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
#: Most file systems allow 255 bytes in a name (Chinese takes 3 bytes a character, emoji 4).
NAME_MAX_BYTES = 255
#: Bytes of a file name from :func:`safe_filename`, leaving room for an extension and a suffix.
SAFE_NAME_BYTES = 200
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?:staging|old)-(?P<pid>\d+)(?:-[0-9a-f]+)?$")
_TEMPORARY = re.compile(r"^\..*\.(?P<pid>\d+)\.[0-9a-f]+\.tmp[^/]*$")


# -- the renames, in one place (the fault tests kill the process at each of them) ----------------


def _rename(source: Path, target: Path) -> None:
    os.replace(source, target)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing names in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where
    the system or the file system cannot."""
    function = _renameat2()
    if function is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if function(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(second))


_RENAMEAT2: Any = None


def _renameat2() -> Any:
    global _RENAMEAT2
    if _RENAMEAT2 is None:
        try:
            _RENAMEAT2 = ctypes.CDLL(None, use_errno=True).renameat2
            _RENAMEAT2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        except (AttributeError, OSError):
            _RENAMEAT2 = False
    return _RENAMEAT2 or None


# -- files ---------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it over ``path`` only if the block succeeds."""
    path = Path(path)
    with _output(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        _tidy_temporary(path)
    tmp = path.with_name(f".{_clip(path.stem, 80)}.{os.getpid()}.{secrets.token_hex(4)}.tmp{_clip(path.suffix, 16)}")
    try:
        with _output(path):
            yield tmp
            _rename(tmp, path)
    finally:
        with contextlib.suppress(OSError):
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


def zip_folder(folder: Path | str, path: Path | str) -> Path:
    """Zip the files of ``folder`` under its name, with fixed dates, atomically."""
    folder = Path(folder)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
        for file in sorted(folder.iterdir()):
            info = zipfile.ZipInfo(f"{folder.name}/{file.name}", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, file.read_bytes())
    return Path(path)


# -- folders -------------------------------------------------------------------------------


def write_folder(folder: Path | str, files: Mapping[str, Any], *, write: Callable[[Path, Any], object], merge: bool = False) -> Path:
    """Write ``files`` (name -> artefact, written by ``write``) into ``folder`` as a whole.

    The files are written into a staging folder beside ``folder``, which then replaces
    ``folder`` in one step (see the module's notes), so a failure or a kill leaves the previous
    folder as it was. With ``merge``, the other files already in ``folder`` stay. A folder that
    must not be swapped (the current folder or a parent of it, the home folder, a mount point, a
    version-controlled project) keeps its other files and gets the new ones by one rename each. Names are
    checked: a file can only land inside ``folder``, and no name is longer than the file
    system allows.
    """
    folder = Path(os.path.abspath(folder))  # "." and "sub/.." have no name to stage beside
    if folder.is_symlink():
        folder = folder.resolve()  # write where the link points; the link stays
    _check_names(folder, files)
    with _output(folder):
        folder.parent.mkdir(parents=True, exist_ok=True)
        tidy(folder)
    # the current folder, home, a mount point or a project is never swapped: the files go in one by one
    in_place = folder.is_dir() and not _may_replace(folder)
    staging = folder.with_name(f".{_clip(folder.name, 120)}.staging-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with _output(folder):
            if merge and folder.is_dir() and not in_place:
                _link_tree(folder, staging)
            staging.mkdir(exist_ok=True)
            for name, artefact in files.items():
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                write(target, artefact)
            staging.chmod(0o755)  # outputs are meant to be shared
            if in_place:
                _move_into(staging, folder, files)
            else:
                _swap_in(staging, folder)
    except OutputError as e:  # name the file the user asked for, not its place in the staging folder
        path = e.params.get("path")
        if path is not None and Path(path).is_relative_to(staging):
            e.params["path"] = folder / Path(path).relative_to(staging)
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def tidy(folder: Path | str) -> None:
    """Repair and clean what a killed write left beside ``folder``: put a retired ``.old``
    folder back when ``folder`` is missing, remove stale ``.old`` folders and the staging
    folders and temporary files of processes that no longer run."""
    folder = Path(folder)
    parent = folder.parent
    if not parent.is_dir():
        return
    retired: list[Path] = []
    for entry in parent.iterdir():
        match = _STAGING.match(entry.name)
        if not match or match.group("name") != _clip(folder.name, 120) or _alive(int(match.group("pid"))):
            continue
        if ".old-" in entry.name:
            retired.append(entry)
        else:
            shutil.rmtree(entry, ignore_errors=True)
    retired.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    if retired and not folder.exists():
        _rename(retired.pop(0), folder)  # a kill between the two renames: the folder comes back
    for entry in retired:
        shutil.rmtree(entry, ignore_errors=True)


def _swap_in(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging`` with renames only."""
    if not folder.exists():
        _rename(staging, folder)
        return
    if _exchange(staging, folder):
        shutil.rmtree(staging, ignore_errors=True)  # it holds the old folder now
        return
    retired = folder.with_name(f".{_clip(folder.name, 120)}.old-{os.getpid()}")
    if retired.exists():
        shutil.rmtree(retired)
    _rename(folder, retired)
    _rename(staging, folder)
    shutil.rmtree(retired, ignore_errors=True)


def _move_into(staging: Path, folder: Path, files: Mapping[str, Any]) -> None:
    """The files moved into ``folder`` one by one (for a folder that must not be renamed)."""
    for name in files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        _rename(staging / name, target)


def _link_tree(source: Path, target: Path) -> None:
    """A copy of ``source`` at ``target`` made of hard links (a copy where links cannot be made)."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link, ignore=_ignore_leftovers)


def _ignore_leftovers(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if _STAGING.match(n) or _TEMPORARY.match(n)}


def _may_replace(folder: Path) -> bool:
    """False for a folder that must not be swapped by renames: the current folder or one of its
    parents, the home folder, a mount point, a version-controlled project."""
    resolved = folder.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved == Path.home().resolve():
        return False
    return not (os.path.ismount(resolved) or (resolved / ".git").exists())


def _check_names(folder: Path, files: Mapping[str, Any]) -> None:
    for name in files:
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or ".." in parts:
            msg = f"refusing to write outside {folder}: {name}"
            raise ValueError(msg)
        if any(len(part.encode("utf-8")) > NAME_MAX_BYTES for part in parts):
            msg = f"file name longer than {NAME_MAX_BYTES} bytes: {name[:60]}…"
            raise ValueError(msg)


def _tidy_temporary(path: Path) -> None:
    """Remove temporary files for ``path`` left by processes that no longer run."""
    prefix = f".{_clip(path.stem, 80)}."
    with contextlib.suppress(OSError):
        for entry in path.parent.glob(glob_escape(prefix) + "*.tmp*"):
            match = _TEMPORARY.match(entry.name)
            if match and not _alive(int(match.group("pid"))):
                with contextlib.suppress(OSError):
                    entry.unlink() if not entry.is_dir() else shutil.rmtree(entry)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


@contextlib.contextmanager
def _output(path: Path) -> Iterator[None]:
    """OS errors while writing ``path`` as one-line errors that name it (a full disk first)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OutputError("errors.disk_full", path=path) from e
        if e.errno == errno.ENAMETOOLONG:
            raise OutputError("errors.name_too_long", path=path) from e
        raise OutputError("errors.write_failed", path=path, reason=e.strerror or str(e)) from e


# -- names ---------------------------------------------------------------------------------


def safe_filename(*parts: object, max_length: int = 80, max_bytes: int = SAFE_NAME_BYTES) -> str:
    """A file name from untrusted text: no path separators, control or reserved characters,
    no leading dots, Chinese kept, at most ``max_length`` characters and ``max_bytes`` bytes in
    UTF-8 (file systems count bytes: Chinese takes 3 a character, emoji 4).

    >>> safe_filename("PT-GA-001", "../../etc/passwd")
    'PT-GA-001_.._.._etc_passwd'
    >>> safe_filename("A1", "<script>金沙雅苑")
    'A1_script_金沙雅苑'
    >>> len(safe_filename("GA1", "🏠" * 300).encode())
    200
    """
    text = "_".join(unicodedata.normalize("NFKC", str(p)).strip() for p in parts if str(p).strip())
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" ._") or "worksheet"
    text = re.sub(r"_+", "_", text)
    if text.upper().split(".")[0] in _RESERVED:
        text = f"_{text}"
    return _clip(text[:max_length], max_bytes).rstrip(" .") or "file"


def unique_filenames(names: Sequence[str], *, max_bytes: int = SAFE_NAME_BYTES) -> list[str]:
    """``names`` with the ones that would collide made distinct by ``_2``, ``_3``... (names that
    differ only in case or Unicode form collide on Windows and macOS file systems).

    >>> unique_filenames(["A_B", "a_b", "C", "A_B"])
    ['A_B', 'a_b_2', 'C', 'A_B_3']
    """
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while _fold(candidate) in seen:
            n += 1
            suffix = f"_{n}"
            candidate = _clip(name, max_bytes - len(suffix)) + suffix
        seen.add(_fold(candidate))
        out.append(candidate)
    return out


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _clip(text: str, max_bytes: int) -> str:
    """``text`` cut at a character boundary to at most ``max_bytes`` bytes of UTF-8."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")
