"""The labels layer: codes in tables become words, in Chinese or English, at the edge.

Tables carry codes (``on_air``, ``behind``, ``cmcc``, ``macro_done``); builders of maps,
workbooks, documents and terminal output call these functions with the reader's ``lang``.
The words live in ``rollout/locale/labels.toml`` and ``status.toml``.

>>> status("macro", "on_air", "zh"), pace("behind", "en"), operators("cmcc;ctc", "zh")
('已开通', 'behind', '移动/电信')
>>> column("macro_pct", "zh"), column("garage_covered", "en")
('宏站完成率', 'garage covered')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from rollout.i18n import Lang, has, t

__all__ = [
    "approximate_note",
    "column",
    "field",
    "headers",
    "kind",
    "kind_title",
    "operator",
    "operators",
    "pace",
    "solution",
    "status",
    "street_name_column",
    "yes_no",
]

KIND_NAMES = ("macro", "garage")


def status(kind_name: str, code: str, lang: Lang) -> str:
    """A record's status (``on_air``) as people say it; unknown codes stay as they are."""
    key = f"status.{kind_name}.{code}"
    return t(key, lang) if has(key) else str(code)


def statuses(kind_name: str, codes: pd.Series, lang: Lang) -> pd.Series:
    """:func:`status` over a column, computed once per distinct code."""
    return codes.map({c: status(kind_name, c, lang) for c in codes.dropna().unique()})


def pace(code: str, lang: Lang) -> str:
    """``ahead``, ``behind`` or ``on_track`` in words."""
    key = f"labels.pace.{code}"
    return t(key, lang) if has(key) else str(code)


def kind(kind_name: str, lang: Lang) -> str:
    """The short name of a kind of record: 宏站, 车库 / macro, garage."""
    return t(f"labels.kind.{kind_name}", lang)


def kind_title(kind_name: str, lang: Lang) -> str:
    """The full name of a kind of record: 5G室外宏站 / outdoor 5G macro stations."""
    return t(f"labels.kind_title.{kind_name}", lang)


def operator(code: str, lang: Lang, *, full: bool = False) -> str:
    """An operator's name (移动 / China Mobile; with ``full``, 中国移动); unknown codes as written."""
    key = f"labels.{'operator_full' if full else 'operator'}.{code}"
    return t(key, lang) if has(key) else str(code)


def operators(cell: object, lang: Lang, *, sep: str = "/") -> str:
    """``;``-joined operator codes (``cmcc;ctc``) as names joined by ``sep``."""
    if cell is None or (isinstance(cell, float) and pd.isna(cell)):
        return ""
    return sep.join(operator(code, lang) for code in str(cell).split(";") if code)


def solution(code: object, lang: Lang) -> str:
    """A garage coverage solution (``das``) in words; text that is no code stays as written."""
    key = f"labels.solution.{code}"
    return t(key, lang) if isinstance(code, str) and code and has(key) else ("" if code is None else str(code))


def yes_no(value: object, lang: Lang) -> str:
    """是/否 (yes/no) for a truth value, and an empty string for a missing one."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return t("labels.yes" if bool(value) else "labels.no", lang)


def approximate_note(lang: Lang) -> str:
    """The note every output over approximate street zones carries."""
    return t("labels.approximate", lang)


def street_name_column(lang: Lang) -> str:
    """The column of a progress or gap table holding street names in ``lang``."""
    return "street_name" if lang == "zh" else "street_name_en"


def column(name: str, lang: Lang, *, family: str = "column") -> str:
    """The header of a table column for people (progress and gap tables by default).

    ``family`` picks another set of headers: ``problem_column`` (the problems report),
    ``change_column`` (the weekly changes).
    """
    key = f"labels.{family}.{name}"
    if has(key):
        return t(key, lang)
    if family == "column":
        for kind_name in KIND_NAMES:
            prefix = f"{kind_name}_"
            if name.startswith(prefix):
                rest = name[len(prefix) :]
                if has(f"labels.column.per_kind.{rest}"):
                    return t(f"labels.column.per_kind.{rest}", lang, kind=kind(kind_name, lang))
                if has(f"status.{kind_name}.{rest}"):
                    return t("labels.column.kind_status", lang, kind=kind(kind_name, lang), status=status(kind_name, rest, lang))
    return name


def field(kind_name: str, name: str, lang: Lang) -> str:
    """A column of a kind's records as its files head it: the Chinese header under ``zh``, the
    canonical name under ``en``; names that are no field of the kind stay as they are.

    >>> field("macro", "on_air_date", "zh"), field("macro", "on_air_date", "en")
    ('开通日期', 'on_air_date')
    """
    from rollout.schema import KINDS

    kind = KINDS.get(kind_name)
    if lang != "zh" or kind is None or name not in kind.field_names:
        return name
    return kind.field(name).zh


def headers(columns: Iterable[str], lang: Lang, *, family: str = "column") -> dict[str, str]:
    """:func:`column` for every column: a renaming map."""
    return {c: column(c, lang, family=family) for c in columns}


def join(words: Iterable[str], lang: Lang) -> str:
    """Words joined as a list in ``lang`` (、 or , )."""
    return t("labels.list_separator", lang).join(words)


def render_codes(frame: pd.DataFrame, lang: Lang, *, kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with codes in words: paces, yes/no columns, kinds and statuses.

    ``kinds`` names the kind of the statuses in a column (``{"status_as_of": "garage"}``);
    a ``status``, ``from`` or ``to`` column follows the row's ``kind`` column.
    """
    out = frame.copy()
    for name in out.columns:
        values = out[name]
        if name.endswith("_pace"):
            out[name] = values.map(lambda v: pace(v, lang))
        elif name.endswith(("_at_risk", "_passes", "_ok")):
            out[name] = values.map(lambda v: yes_no(v, lang))
        elif kinds and name in kinds:
            out[name] = statuses(kinds[name], values, lang)
        elif name in ("status", "from", "to") and "kind" in frame.columns:
            out[name] = [status(k, s, lang) for k, s in zip(frame["kind"], values, strict=True)]
    if "kind" in out.columns:
        out["kind"] = out["kind"].map(lambda k: kind(k, lang) if k in KIND_NAMES else k)
    return out
