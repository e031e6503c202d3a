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
from rollout.values import normalize_text_columns, parse_bools, parse_multi, parse_number_columns, parse_vocab

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
    fields = [f for f in context.kind.fields if f.name != context.kind.id_field and f.name not in _ELSEWHERE and f.type != "date"]
    given = [f for f in fields if f.name in context.given]
    # Numbers and texts of all columns in one pass each: the fixed cost of the kernels is paid
    # once, not once per column (a garage file has twenty of each).
    numbers = parse_number_columns(columns.cells, [f.name for f in given if f.type in ("float", "int")])
    texts = normalize_text_columns(columns.cells, [f.name for f in given if f.type in ("text", "id")])
    values: dict[str, pd.Series] = {}
    problems: list[Finding] = []
    for f in fields:
        if f.name in numbers:
            parsed, found = _number(*numbers[f.name], f.name, f.type, context)
        elif f.name in texts:
            parsed, found = texts[f.name], []
        else:
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


def _number(parsed: pd.Series, bad: pd.Series, name: str, kind: str, context: Context) -> tuple[pd.Series, list[Finding]]:
    """A number within its plausible range; outside it (or beyond exact whole numbers) it is blanked."""
    low, high = context.limits.get(name, (-np.inf, np.inf))
    if kind == "int":
        low, high = max(low, -_INT_MAX), min(high, _INT_MAX)
    numbers = parsed.to_numpy(dtype=float)  # in numpy: a few operations on small columns, without pandas' fixed costs
    outside = ~np.isnan(numbers) & ((numbers < low) | (numbers > high))
    found = [Finding(bad, name, "number_unreadable", WARNING)]
    if outside.any():
        found.append(
            Finding(
                pd.Series(outside, index=parsed.index),
                name,
                "number_out_of_range",
                WARNING,
                params={"low": float(low), "high": float(high)},
            )
        )
        numbers = np.where(outside, np.nan, numbers)
    if kind == "int":
        missing = np.isnan(numbers)
        whole = pd.arrays.IntegerArray(np.round(np.where(missing, 0.0, numbers)).astype("int64"), missing)
        return pd.Series(whole, index=parsed.index), found
    return pd.Series(numbers, index=parsed.index), found


def _vocab_words(table: dict) -> Iterable[str]:
    for key, value in table.items():
        yield value[0] if isinstance(value[0], str) and not value[0].isascii() else key
