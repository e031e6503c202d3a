"""Register tables in words: codes (change classes, statuses, fields, kinds) made readable in
Chinese or English, at the edge. Machine outputs (CSV of ``rollout changes``) keep the codes."""

from __future__ import annotations

import pandas as pd

from rollout import labels
from rollout.i18n import Lang, has, t
from rollout.schema import KINDS

__all__ = ["cell_label", "change_label", "column_label", "field_label", "localised", "value_label"]


def change_label(change: str, lang: Lang) -> str:
    """The name of a change class (``regressed`` -> 倒退)."""
    return t(f"register.change.{change}", lang) if has(f"register.change.{change}") else change


def field_label(kind: str, field: str, lang: Lang) -> str:
    """A field's header (Chinese header under zh, canonical name under en)."""
    if not field:
        return ""
    if has(f"register.field.{field}"):
        return t(f"register.field.{field}", lang)
    return labels.field(kind, field, lang)


def value_label(kind: str, field: str, value: str, lang: Lang) -> str:
    """A value of a change row in words: statuses, ``source:status`` pairs, reported/missing."""
    if value == "":
        return ""
    if field == "reported" and value in ("missing", "reported"):
        return t(f"register.value.{value}", lang)
    if ":" in value and field in ("status", "position"):
        source, rest = value.split(":", 1)
        return t("register.pair", lang, name=source, value=value_label(kind, field, rest, lang))
    if field in ("status", "") and value in KINDS[kind].statuses:
        return labels.status(kind, value, lang)
    return value


def localised(table: pd.DataFrame, lang: Lang, *, headers: bool = True) -> pd.DataFrame:
    """A table of register rows with kinds, change classes, fields, statuses and sources in
    words, and (``headers``) its column names in ``lang``."""
    out = table.copy()
    if {"kind", "field", "old", "new"} <= set(out.columns):
        for column in ("old", "new"):
            out[column] = [value_label(k, f, str(v), lang) for k, f, v in zip(table["kind"], table["field"], table[column], strict=True)]
        out["field"] = [field_label(k, f, lang) for k, f in zip(table["kind"], table["field"], strict=True)]
    kinds = table["kind"] if "kind" in table.columns else pd.Series("", index=table.index)
    for column in out.columns:
        if column in _WORDED and (column in _ANY_KIND or "kind" in table.columns):
            out[column] = [cell_label(column, k, v, lang) for k, v in zip(kinds, table[column], strict=True)]
    if headers:
        out = out.rename(columns={c: column_label(c, lang) for c in out.columns})
    return out


#: Columns whose codes are put into words (see :func:`cell_label`); those of the first tuple need the row's kind.
_BY_KIND = ("status", "counted_status", "other_status")
_ANY_KIND = ("change", "state", "channel", "kind")
_WORDED = (*_BY_KIND, *_ANY_KIND)


def cell_label(column: str, kind: str, value, lang: Lang):
    """A register row's code in words, as :func:`localised` puts it (other columns as they are)."""
    if column in _BY_KIND:
        return labels.status(kind, str(value), lang)
    if column == "change":
        return change_label(str(value), lang)
    if column == "state":
        return t(f"register.value.{value}", lang) if value in ("missing", "reported") else value
    if column == "channel":
        return t(f"register.channel.{value}", lang) if value in ("file", "platform") else value
    if column == "kind":
        return labels.kind(value, lang) if value in KINDS else value
    return value


def column_label(column: str, lang: Lang) -> str:
    """A register table's column name in ``lang`` (as it is when it has no translation)."""
    return t(f"register.column.{column}", lang) if has(f"register.column.{column}") else column
