"""Records in words for the pages: field names and values as people read them, in zh or en."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd

from rollout import labels
from rollout.i18n import Lang
from rollout.schema import KINDS

__all__ = ["field_name", "field_value", "input_value"]


def field_name(kind: str, name: str, lang: Lang) -> str:
    """A field's header: the Chinese header of the files under zh, the canonical name in words under en."""
    text = labels.field(kind, name, lang)
    return text.replace("_", " ") if lang == "en" else text


def field_value(kind: str, name: str, value: object, lang: Lang) -> str:
    """A field's value for a page (statuses, operators, solutions, yes/no in words; dates as YYYY-MM-DD)."""
    if _blank(value):
        return ""
    if name in ("status", "status_as_of"):
        return labels.status(kind, str(value), lang)
    if name in ("operator", "operators"):
        return labels.operators(value, lang)
    if name == "solution":
        return labels.solution(value, lang)
    if _field_type(kind, name) in ("bool", "flag"):
        return labels.yes_no(value, lang)
    if isinstance(value, pd.Timestamp | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def input_value(kind: str, name: str, value: object) -> str:
    """A field's value as a form shows it for editing (dates ISO, statuses as codes, yes/no as 是/否)."""
    if _blank(value):
        return ""
    if isinstance(value, pd.Timestamp | dt.date):
        return value.strftime("%Y-%m-%d")
    if _field_type(kind, name) in ("bool", "flag"):
        return "是" if bool(value) else "否"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@functools.cache
def _field_type(kind: str, name: str) -> str:
    """The type of a kind's field (``""`` for a column that is no field)."""
    return next((f.type for f in KINDS[kind].fields if f.name == name), "")


def _blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and pd.isna(value):
        return True
    return isinstance(value, str) and not value.strip()
