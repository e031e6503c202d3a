"""Neutralising text that a spreadsheet would run as a formula."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a process that only writes workbooks from plain rows needs no pandas
    import pandas as pd

__all__ = ["neutralize_formulas", "neutralize_text"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_text(value: object) -> object:
    """Prefix a text that a spreadsheet would run as a formula with an apostrophe.

    Numbers are left alone (a negative number is not a formula).

    >>> neutralize_text("=1+1"), neutralize_text("ok"), neutralize_text(-1)
    ("'=1+1", 'ok', -1)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text cells and column names that start with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return prefixed with an apostrophe.

    >>> import pandas as pd
    >>> neutralize_formulas(pd.DataFrame({"a": ["=1+1", "ok", "-x"], "b": [-1, 2, 3]}))["a"].tolist()
    ["'=1+1", 'ok', "'-x"]
    """
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype("object")
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_STARTS))
            if risky.any():
                out[column] = text.where(~risky, "'" + text.astype(str))
    out.columns = [neutralize_text(c) if isinstance(c, str) else c for c in out.columns]
    return out
