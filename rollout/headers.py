"""A site file's header: which row it is, which canonical column each header means, which coordinate system it names.

:func:`best_header` finds the row most like a header among the first rows of a file;
:class:`HeaderColumns` maps the header's positions to canonical columns (a header such as
``经度(百度)`` also names the coordinate system, see :func:`rollout.header_crs.coordinate_header`)
and turns a body of text cells into a :class:`~rollout.rawtable.RawTable`, blank rows dropped
and counted. A file whose header is missing, of an unknown kind, or that lacks a required
column is refused with a message that says what was found and what is expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rollout.errors import InputFileError
from rollout.header_crs import coordinate_header
from rollout.rawtable import RawTable
from rollout.schema import KINDS, SiteKind, normalize_token
from rollout.tablekinds import TableKind

__all__ = ["HEADER_SEARCH_ROWS", "HeaderColumns", "best_header", "detect_kind", "refuse_header"]

#: Rows of the head searched for the header row.
HEADER_SEARCH_ROWS = 10


def detect_kind(path: Path, headers: list[str]) -> SiteKind | None:
    """Guess whether a file holds macro stations or garage compounds."""
    stem = normalize_token(path.stem)
    if any(word in stem for word in ("macro", "station", "宏站", "基站")):
        return KINDS["macro"]
    if any(word in stem for word in ("garage", "compound", "车库", "小区")):
        return KINDS["garage"]
    tokens = {normalize_token(h) for h in headers}
    macro_hits = len(tokens & set(KINDS["macro"].field("site_id").names()) - {"id", "编码"})
    garage_hits = len(tokens & set(KINDS["garage"].field("compound_id").names()) - {"id", "编码"})
    if macro_hits != garage_hits:
        return KINDS["macro"] if macro_hits > garage_hits else KINDS["garage"]
    return None


def best_header(rows: list[list[str]], kind: str | TableKind | None) -> tuple[int, int]:
    """Return (index, recognised-column count) of the row most like a header."""
    kinds = [kind] if isinstance(kind, TableKind) else [KINDS[kind]] if kind else list(KINDS.values())
    best = (0, 0)
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [str(c) for c in row if str(c).strip()]
        hits = max(len({_field_of(c, k) for c in cells} - {None}) for k in kinds)  # distinct columns
        if hits > best[1]:
            best = (i, hits)
    return best


def _field_of(header: str, kind: SiteKind | TableKind) -> str | None:
    """The canonical column a header means for ``kind`` (coordinate headers may name a system)."""
    name = kind.header_index.get(normalize_token(header))
    if name is None:
        hint = coordinate_header(header)
        if hint is not None and hint.field in kind.header_index.values():
            return hint.field
    return name


def refuse_header(path: Path, head: list[list[str]], kind: str | TableKind | None) -> None:
    first = next((r for r in head if any(str(c).strip() for c in r)), [])
    shown = " | ".join(_shown(c) for c in first if str(c).strip())[:120]
    joined = len([c for c in first if str(c).strip()]) == 1 and any(d in shown for d in ":：、 ")
    expected = (
        ", ".join(f"{f.zh}/{f.name}" for f in kind.fields if f.required)
        if isinstance(kind, TableKind)
        else "站址编码/site_id, 经度/lon, 纬度/lat, 状态/status"
    )
    raise InputFileError("errors.no_columns_joined" if joined else "errors.no_columns", path=path, first=shown or "—", expected=expected)


@dataclass(frozen=True)
class HeaderColumns:
    """How the header's positions map to canonical columns, for one file."""

    kind: SiteKind | TableKind
    names: list[str | None]  # per position: canonical name, an extra column's name, or None (blank header)
    headers: dict[str, str]  # canonical -> header as written
    extras: list[str]
    crs_hint: str | None

    @staticmethod
    def resolve(path: Path, header: list[str], kind: str | TableKind | None) -> HeaderColumns:
        site_kind = kind if isinstance(kind, TableKind) else KINDS[kind] if kind else detect_kind(path, header)
        if site_kind is None:
            raise InputFileError("errors.kind_unknown", path=path)
        names: list[str | None] = []
        canonical: dict[str, str] = {}
        extras: list[str] = []
        for position, text in enumerate(header):
            if not text:
                names.append(None)
                continue
            name = _field_of(text, site_kind)
            if name is None or name in canonical:
                extras.append(text)
                names.append(text if text not in names else f"{text}_{position + 1}")
                continue
            canonical[name] = text
            names.append(name)
        missing = [f for f in site_kind.fields if f.required and f.name not in canonical]
        if missing:
            wanted = ", ".join(f"{f.zh}/{f.name}" for f in missing)
            raise InputFileError("errors.required_missing", path=path, wanted=wanted, headers=", ".join(_shown(h) for h in header if h))
        return HeaderColumns(site_kind, names, canonical, extras, _header_crs(path, canonical))

    def name_at(self, position: int) -> str:
        name = self.names[position] if position < len(self.names) else None
        return name or f"column_{position + 1}"

    def table(self, path: Path, body: pd.DataFrame, rows: np.ndarray, problems: pd.DataFrame, *, encoding: str, sheet: str) -> RawTable:
        """The canonical frame of ``body`` (cells by position): blank rows dropped and counted."""
        blank = _blank_rows(body)
        if blank.any() and not problems.empty:  # a row rejected for its shape is never blank
            blank &= ~np.isin(rows, problems.loc[problems["severity"] == "rejected", "row"].to_numpy())
        if blank.any():
            body, rows = body[~blank].reset_index(drop=True), rows[~blank]
        columns: dict[str, pd.Series] = {}
        extras = list(self.extras)
        for position in range(body.shape[1]):
            name = self.names[position] if position < len(self.names) else None
            values = body[position]
            if name is None:
                if not _all_blank(values):
                    extras.append(f"column {position + 1}")
                    columns[f"column_{position + 1}"] = values
                continue
            columns[name] = values
        for f in self.kind.fields:  # the columns the file lacks, blank (one frame built, not 20 inserts)
            if f.name not in columns:
                columns[f.name] = pd.Series("", index=body.index, dtype=str)
        cells = pd.DataFrame(columns, index=body.index)
        return RawTable(
            path=path,
            kind=self.kind,
            cells=cells,
            rows=pd.Series(rows, name="row", dtype="int64"),
            headers=dict(self.headers),
            encoding=encoding,
            sheet=sheet,
            blank_rows=int(blank.sum()),
            extra_columns=extras,
            problems=problems,
            crs_hint=self.crs_hint,
        )


def _shown(text: object) -> str:
    """A cell as one line, for a message (line breaks and runs of spaces become one space)."""
    return " ".join(str(text).split())


def _header_crs(path: Path, headers: dict[str, str]) -> str | None:
    """The coordinate system the lon/lat headers name; one that is unknown, several, or two that
    disagree are errors (a header that names a system is never read as WGS-84 by default)."""
    found: dict[str, str] = {}
    for name in ("lon", "lat"):
        header = headers.get(name)
        hint = coordinate_header(header) if header else None
        if hint is None:
            continue
        if hint.unknown:
            raise InputFileError("errors.crs_header_unknown", path=path, header=_shown(header), hint=_shown(hint.unknown))
        if len(hint.systems) > 1:
            raise InputFileError(
                "errors.crs_header_several", path=path, header=_shown(header), systems=", ".join(_upper(s) for s in hint.systems)
            )
        if hint.crs:
            found[header] = hint.crs  # type: ignore[index]
    if len(set(found.values())) > 1:
        (first, a), (second, b) = found.items()
        raise InputFileError(
            "errors.crs_header_conflict", path=path, first=_shown(first), first_crs=_upper(a), second=_shown(second), second_crs=_upper(b)
        )
    return next(iter(found.values()), None)


def _upper(crs: str) -> str:
    return {"wgs84": "WGS84", "gcj02": "GCJ02", "bd09": "BD09"}.get(crs, crs)


def _blank_rows(body: pd.DataFrame) -> np.ndarray:
    blank = np.ones(len(body), dtype=bool)
    for position in body.columns:
        blank &= _blank_cells(body[position])
        if not blank.any():
            break
    return blank


def _all_blank(values: pd.Series) -> bool:
    return bool(_blank_cells(values).all())


def _blank_cells(values: pd.Series) -> np.ndarray:
    """Cells that are empty or only whitespace (computed by pyarrow)."""
    text = pa.array(values.astype(str)) if values.dtype != "str" else pa.array(values)
    empty = pc.or_(pc.equal(pc.utf8_length(text), 0), pc.utf8_is_space(text))
    return empty.to_numpy(zero_copy_only=False)
