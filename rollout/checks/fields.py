"""Checks of a record's other fields: text, numbers (within plausible limits), yes/no, vocabularies.

Nothing here rejects a row: a value that cannot be read, or lies outside its plausible range
(``[limits]`` in rollout.toml: households, parking spaces, heights, ...), is a warning and the
value is left blank; a word outside a vocabulary (an unknown operator) is kept as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from rollout.checks import Columns, Context, Outcome
from rollout.problems import WARNING, Finding
from rollout.schema import BAND_INDEX, BANDS, OPERATOR_INDEX, OPERATORS, SOLUTION_INDEX, SOLUTIONS
from rollout.values import normalize_text, parse_bools, parse_multi, parse_numbers, parse_vocab

__all__ = ["check_fields"]

#: Handled by the other checks.
_ELSEWHERE = {"lon", "lat", "crs", "status"}
#: Whole numbers beyond this cannot be stored exactly (and 1e20 households is not a count).
_INT_MAX = 2.0**53
_VOCABULARIES = {
    "operators": (OPERATOR_INDEX, OPERATORS, True),
    "band": (BAND_INDEX, BANDS, False),
    "solution": (SOLUTION_INDEX, SOLUTIONS, False),
}


def check_fields(columns: Columns, context: Context) -> Outcome:
    """Every field not checked elsewhere, parsed by its type."""
    values: dict[str, pd.Series] = {}
    problems: list[Finding] = []
    for f in context.kind.fields:
        if f.name == context.kind.id_field or f.name in _ELSEWHERE or f.type == "date":
            continue
        parsed, found = _field(columns.cells, f.name, f.type, context)
        values[f.name] = parsed
        problems.extend(found)
    return Outcome(values=values, problems=problems)


def _field(cells: pd.DataFrame, name: str, kind: str, context: Context) -> tuple[pd.Series, list[Finding]]:
    if name not in context.given:
        blank: Any = {"float": np.nan, "int": pd.NA, "bool": True, "flag": pd.NA}.get(kind, "")
        dtype: Any = {"float": "float64", "int": "Int64", "bool": bool, "flag": "boolean"}.get(kind, object)
        return pd.Series(blank, index=cells.index, dtype=dtype), []
    values = cells[name]
    if kind in ("text", "id"):
        return normalize_text(values), []
    if kind in ("float", "int"):
        return _number(values, name, kind, context)
    if kind == "flag":
        parsed, bad = parse_bools(values, default=None)
        return parsed, [Finding(bad, name, "bool_unreadable", WARNING, params={"default": "unknown"})]
    if kind == "bool":
        parsed, bad = parse_bools(values, default=True)
        return parsed, [Finding(bad, name, "bool_unreadable", WARNING, params={"default": "yes"})]
    if kind in _VOCABULARIES:
        index, table, multi = _VOCABULARIES[kind]
        parsed, bad = parse_multi(values, index) if multi else parse_vocab(values, index)
        kept = parsed.astype(object).where(~bad, values.astype(str).str.strip()).fillna("")
        return kept, [Finding(bad, name, "vocab_unknown", WARNING, params={"allowed": "/".join(_vocab_words(table))})]
    raise ValueError(kind)


def _number(values: pd.Series, name: str, kind: str, context: Context) -> tuple[pd.Series, list[Finding]]:
    """A number within its plausible range; outside it (or beyond exact whole numbers) it is blanked."""
    parsed, bad = parse_numbers(values)
    low, high = context.limits.get(name, (-np.inf, np.inf))
    if kind == "int":
        low, high = max(low, -_INT_MAX), min(high, _INT_MAX)
    outside = parsed.notna() & ((parsed < low) | (parsed > high))
    found = [Finding(bad, name, "number_unreadable", WARNING)]
    if outside.any():
        found.append(Finding(outside, name, "number_out_of_range", WARNING, params={"low": float(low), "high": float(high)}))
        parsed = parsed.where(~outside)
    return (parsed.round().astype("Int64") if kind == "int" else parsed), found


def _vocab_words(table: dict) -> Iterable[str]:
    for key, value in table.items():
        yield value[0] if isinstance(value[0], str) and not value[0].isascii() else key
