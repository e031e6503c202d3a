"""Register tables in words: codes (change classes, statuses, fields, kinds) made readable in
Chinese or English, at the edge. Machine outputs (CSV of ``rollout changes``) keep the codes."""

from __future__ import annotations

import pandas as pd

from rollout import labels
from rollout.i18n import Lang, has, t
from rollout.schema import KINDS

__all__ = ["change_label", "field_label", "localised", "value_label"]


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
    for column in ("status", "counted_status", "other_status"):
        if column in out.columns and "kind" in out.columns:
            out[column] = [labels.status(k, str(s), lang) for k, s in zip(table["kind"], table[column], strict=True)]
    if "change" in out.columns:
        out["change"] = out["change"].map(lambda c: change_label(str(c), lang))
    if "state" in out.columns:
        out["state"] = out["state"].map(lambda s: t(f"register.value.{s}", lang) if s in ("missing", "reported") else s)
    if "channel" in out.columns:
        out["channel"] = out["channel"].map(lambda c: t(f"register.channel.{c}", lang) if c in ("file", "platform") else c)
    if "kind" in out.columns:
        out["kind"] = out["kind"].map(lambda k: labels.kind(k, lang) if k in KINDS else k)
    if headers:
        out = out.rename(columns={c: t(f"register.column.{c}", lang) for c in out.columns if has(f"register.column.{c}")})
    return out
