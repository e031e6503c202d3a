"""The list of weekly packs, ``maps/index.html``: every pack, newest first, with the days its ISO
week covers, its numbers and a link to every file in it (whatever step put it there)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from rollout.i18n import Lang, has, t
from rollout.progress import total_row
from rollout.render import render_page
from rollout.weekly import PACK_FILES, is_week_folder, week_days, week_notes

__all__ = ["pack_index"]


def pack_index(out_root: Path | str, *, lang: Lang = "zh") -> str:
    """The page listing every weekly pack under ``out_root``, newest first: the week and its
    days, the day the numbers are for, the district's numbers, and a link to every file."""
    out_root = Path(out_root)
    folders = sorted((p for p in out_root.iterdir() if p.is_dir() and is_week_folder(p.name)), key=lambda p: p.name, reverse=True)
    packs = []
    for folder in folders:
        week = folder.name.upper()
        first, last = week_days(week)
        entry: dict[str, Any] = {"week": folder.name, "first": first.isoformat(), "last": last.isoformat(), "numbers": None}
        progress_file = folder / "progress.csv"
        if progress_file.is_file():
            total = total_row(pd.read_csv(progress_file, encoding="utf-8-sig", dtype={"street_code": str}))
            entry["numbers"] = {k: total[k] for k in ("as_of", "macro_done", "macro_target", "garage_done", "garage_target")}
            entry["notes"] = week_notes(week, dt.date.fromisoformat(str(total["as_of"])), lang=lang)
        entry["files"] = [_file_link(folder, path, lang) for path in _pack_files(folder)]
        packs.append(entry)
    return render_page("pack_index.html.j2", lang=lang, packs=packs)


def _pack_files(folder: Path) -> list[Path]:
    """Every file of a pack (a sub-folder counts as its index page, else its files), the
    standard ones first in their usual order."""
    found: list[Path] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.is_dir():
            index = path / "index.html"
            found += [index] if index.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file() and not path.name.startswith("."):
            found.append(path)
    order = {name: i for i, name in enumerate(PACK_FILES)}
    return sorted(found, key=lambda p: (order.get(p.name, len(order)) if p.parent == folder else len(order), str(p.relative_to(folder))))


def _file_link(folder: Path, path: Path, lang: Lang) -> dict[str, str]:
    """Where a file of a pack is (relative to the list of packs, URL-quoted) and what it is."""
    relative = path.relative_to(folder.parent).as_posix()
    name = path.relative_to(folder).as_posix()
    key = f"weekly.files.{name.replace('.', '_')}"
    if has(key):
        label = t(key, lang)
    else:
        kind = f"weekly.file_types.{path.suffix.lower().lstrip('.')}"
        label = t(kind, lang) if has(kind) else t("weekly.file_types.other", lang)
    return {"href": quote(relative), "name": name, "label": label}
