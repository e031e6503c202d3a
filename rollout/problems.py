"""Problems found in site files: rejects and warnings as codes with parameters.

A problem names the file, the row as Excel shows it (header = row 1), the column as written
in the file, the value, its severity, a stable ``reason_code`` and the ``params`` the reason
needs (a dict of JSON values). The reason is words only where people read it:
:func:`with_reasons` renders it in the reader's language (``rollout/locale/reasons.toml``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rollout import labels
from rollout.i18n import Lang, has, t
from rollout.schema import KINDS

__all__ = [
    "IGNORED",
    "PROBLEM_COLUMNS",
    "REJECTED",
    "REPORT_COLUMNS",
    "WARNING",
    "Finding",
    "concat_problems",
    "locate",
    "problem_frame",
    "reason",
    "rejected_mask",
    "with_reasons",
]

REJECTED = "rejected"
WARNING = "warning"
#: Rows read but not counted (a planning table's rows that do not apply, e.g. a complaint not about signal).
IGNORED = "ignored"
#: Columns of a problems table.
PROBLEM_COLUMNS = ["file", "row", "column", "value", "severity", "reason_code", "params", "kind", "record_id"]
#: Columns of a problems report people read: the reason in words instead of the parameters.
REPORT_COLUMNS = ["file", "row", "column", "value", "severity", "reason_code", "reason", "kind", "record_id"]


def concat_problems(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame:
    """Problems tables joined and sorted by file, row, severity (rejects first) and column."""
    kept = [f for f in frames if f is not None and not f.empty]
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in PROBLEM_COLUMNS})
    problems = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]
    if list(problems.columns) != PROBLEM_COLUMNS:
        problems = problems[PROBLEM_COLUMNS]
    # A stable sort on the four keys, as sort_values does it (missing values last), in one
    # numpy lexsort on plain arrays: the tables are often small and pandas' fixed costs would
    # dominate (this runs several times for every file read).
    severity = problems["severity"].to_numpy(dtype=object)
    keys = [_sort_codes(problems["file"]), _sort_codes(problems["row"]), _severity_order(severity), _sort_codes(problems["column"])]
    order = np.lexsort(keys[::-1])
    if (order[1:] > order[:-1]).all():  # already in order (a table sorted here before)
        return problems.reset_index(drop=True)
    return problems.take(order).reset_index(drop=True)


def _sort_codes(values: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(values.to_numpy(), sort=True)
    return np.where(codes < 0, len(uniques), codes)


def _severity_order(severity: np.ndarray) -> np.ndarray:
    """Rejects first, then warnings, then ignored rows; anything else last."""
    codes, uniques = pd.factorize(severity)
    order = np.array([_SEVERITY_ORDER.get(u, len(_SEVERITY_ORDER)) for u in uniques] + [len(_SEVERITY_ORDER)])
    return order[codes]


_SEVERITY_ORDER = {REJECTED: 0, WARNING: 1, IGNORED: 2}


def problem_frame(
    records: pd.DataFrame,
    kind_name: str,
    id_field: str,
    mask: pd.Series,
    column: str | Sequence[str],
    code: str,
    severity: str,
    values: pd.Series,
    params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Problems about the loaded ``records`` under ``mask`` (after the row checks, e.g. the join).

    ``values`` is aligned to ``records`` or already restricted to the rows under ``mask``;
    ``params`` is one dict for every row or a list with one per row.
    """
    rows = records.loc[mask]
    if params is None or isinstance(params, Mapping):
        per_row = [dict(params or {})] * len(rows)
    else:
        per_row = [dict(p) for p in params]
    return pd.DataFrame(
        {
            "file": rows["source_file"],
            "row": rows["source_row"],
            "column": column,
            "value": (values[mask] if len(values) == len(mask) else values).astype(str).to_numpy(),
            "severity": severity,
            "reason_code": code,
            "params": per_row,
            "kind": kind_name,
            "record_id": rows[id_field].astype(str),
        }
    )


@dataclass(frozen=True)
class Finding:
    """A problem a check found on some of the rows it was given, before it is placed in files
    and rows by :func:`locate`.

    ``mask`` marks the rows (aligned to the checked cells); ``column`` is the canonical column
    (``""`` for the row as a whole); ``value`` the value shown (by default the cell of
    ``column``); ``params`` the reason's parameters, each one value for every row or a Series
    aligned to the cells (one value per row).
    """

    mask: pd.Series
    column: str
    code: str
    severity: str
    value: pd.Series | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rejects(self) -> bool:
        """True when the rows are rejected (not only warned about)."""
        return self.severity == REJECTED


def locate(
    findings: Sequence[Finding], cells: pd.DataFrame, *, kind: str, id_field: str, headers: Mapping[str, Mapping[str, str]]
) -> pd.DataFrame:
    """The problems table of ``findings`` about ``cells`` (text cells with ``source_file`` and
    ``source_row``): file, the row as Excel shows it, the column as the file wrote it (``headers``:
    file -> canonical column -> header), the value, severity, code, parameters, kind, record id."""
    frames = []
    for found in findings:
        mask = np.asarray(found.mask, dtype=bool)
        if not mask.any():
            continue
        where = np.flatnonzero(mask)
        rows = cells.iloc[where]
        shown = found.value if found.value is not None else cells.get(found.column, pd.Series("", index=cells.index))
        fixed = {k: _plain(v) for k, v in found.params.items() if not isinstance(v, pd.Series)}
        varying = {k: v.to_numpy()[where] for k, v in found.params.items() if isinstance(v, pd.Series)}
        params = [fixed | {k: _plain(values[i]) for k, values in varying.items()} for i in range(len(where))]
        files = rows["source_file"].to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "file": files,
                    "row": rows["source_row"].to_numpy(dtype="int64"),
                    "column": [headers.get(f, {}).get(found.column, found.column) for f in files],
                    "value": pd.Series(shown.to_numpy()[where]).astype(str).to_numpy(),
                    "severity": found.severity,
                    "reason_code": found.code,
                    "params": params,
                    "kind": kind,
                    "record_id": rows[id_field].astype(str).to_numpy() if id_field in rows else "",
                }
            )
        )
    return concat_problems(frames)


def rejected_mask(findings: Sequence[Finding], length: int) -> np.ndarray:
    """Rows rejected by any of ``findings``."""
    out = np.zeros(length, dtype=bool)
    for found in findings:
        if found.rejects:
            out |= np.asarray(found.mask, dtype=bool)
    return out


def _plain(value: object) -> object:
    """A parameter as a plain JSON value (numpy numbers become int and float)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def reason(code: str, params: Mapping[str, Any], kind_name: str, lang: Lang) -> str:
    """The reason of one problem in ``lang``.

    >>> reason("id_duplicate", {"first_file": "a.csv", "first_row": 12}, "macro", "zh")
    '编码重复，首次出现在 a.csv 第 12 行：请删除重复行或改用新编码'
    """
    return t(f"reasons.{code}", lang, **_rendered_params(code, params, kind_name, lang))


def with_reasons(problems: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The problems report: ``params`` replaced by the ``reason`` in ``lang``."""
    cache: dict[tuple, str] = {}
    reasons = []
    for code, params, kind_name in zip(problems["reason_code"], problems["params"], problems["kind"], strict=True):
        key = (code, kind_name, tuple(sorted((params or {}).items())))
        text = cache.get(key)
        if text is None:
            text = cache[key] = reason(code, params or {}, kind_name, lang)
        reasons.append(text)
    return problems.assign(reason=pd.Series(reasons, index=problems.index, dtype=object))[REPORT_COLUMNS]


def _rendered_params(code: str, params: Mapping[str, Any], kind_name: str, lang: Lang) -> dict[str, Any]:
    """Parameters that are codes or headers, in words."""
    out = dict(params)
    kind = KINDS.get(kind_name)
    if code in ("status_missing", "status_unknown") and kind is not None:
        out["allowed"] = "/".join(labels.status(kind_name, s, lang) for s in kind.statuses)
    if "status" in out:
        out["status"] = labels.status(kind_name, out["status"], lang)
    for name in ("later", "other", "milestone"):
        column = out.pop(f"{name}_column", None)
        if column is not None:
            header = out.pop(f"{name}_header", "")
            out[name] = header or labels.field(kind_name, column, lang)
    if code == "crs_conflict":
        for name in ("cell", "hint"):
            out[name] = t(f"reasons.crs_name.{out.get(name)}", lang) if has(f"reasons.crs_name.{out.get(name)}") else out.get(name, "")
    if code == "bool_unreadable":
        out["default"] = t(f"labels.{out.get('default', 'unknown')}", lang)
    if code == "outside_district":
        where = out.get("where", "")
        out["where"] = t("reasons.where.in", lang, name=where) if where else t("reasons.where.outside", lang)
        out["district"] = out.get(f"district_{lang}") or out.get("district_zh", "")
    return out
