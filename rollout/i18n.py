"""Words people read, in Chinese (the default) or English.

Computation carries codes (``on_air``, ``behind``, ``id_duplicate``); this module turns a
code into words at the edge, in the language the caller passes. There is no global
language: ``lang`` travels with the output (a CLI context, a report, a web request).

The words live in catalogues, ``rollout/locale/<area>.toml``, one per area of the tool so
that each stays small. Every entry is a table with a ``zh`` and an ``en`` template; nested
tables make dotted keys, and the file's stem is the first part of the key::

    # rollout/locale/status.toml
    [macro.on_air]
    zh = "已开通"
    en = "on air"

is ``t("status.macro.on_air", lang)``. Templates use ``str.format`` fields (``{row}``);
both languages of an entry must use the same fields (a test checks every entry).
"""

from __future__ import annotations

import functools
import os
import re
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, cast

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "Lang",
    "LanguageError",
    "argv_lang",
    "catalogue",
    "config_lang",
    "fields",
    "has",
    "normalise_lang",
    "resolve_lang",
    "t",
]

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"
LOCALE_DIR = Path(__file__).with_name("locale")
#: Environment variable that sets the language when no --lang is given.
LANG_ENV = "ROLLOUT_LANG"
_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+")


class LanguageError(ValueError):
    """An unknown language name (``--lang``, ``ROLLOUT_LANG`` or rollout.toml)."""


def catalogue() -> Mapping[str, Mapping[Lang, str]]:
    """Every entry of every catalogue, by dotted key."""
    entries: dict[str, Mapping[Lang, str]] = {}
    for path in sorted(LOCALE_DIR.glob("*.toml")):
        entries |= _area(path.stem)
    return entries


@functools.cache
def _area(stem: str) -> Mapping[str, Mapping[Lang, str]]:
    """The entries of one catalogue, read once per process (a command reads only the areas it uses)."""
    path = LOCALE_DIR / f"{stem}.toml"
    entries: dict[str, dict[Lang, str]] = {}
    if path.is_file():
        with path.open("rb") as handle:
            _flatten(tomllib.load(handle), stem, entries, path)
    return entries


def _flatten(table: Mapping[str, object], prefix: str, out: dict[str, dict[Lang, str]], path: Path) -> None:
    if set(table) and set(table) <= set(LANGS):
        missing = [lang for lang in LANGS if not isinstance(table.get(lang), str)]
        if missing:
            msg = f"{path}: entry {prefix!r} has no text for {', '.join(missing)}"
            raise ValueError(msg)
        out[prefix] = {lang: cast(str, table[lang]) for lang in LANGS}
        return
    for key, value in table.items():
        if not isinstance(value, Mapping):
            msg = f"{path}: {prefix}.{key} must be a table with zh and en texts"
            raise ValueError(msg)
        _flatten(value, f"{prefix}.{key}", out, path)


def t(key: str, lang: Lang, /, **params: object) -> str:
    """The text of ``key`` in ``lang``, with ``params`` filled in.

    >>> t("common.lang_unknown", "en", value="fr")
    "unknown language 'fr': use zh (中文) or en (English)"
    """
    entry = _area(key.split(".", 1)[0]).get(key)
    if entry is None:
        raise KeyError(f"no text for {key!r} in rollout/locale")
    try:
        template = entry[lang]
    except KeyError:
        raise LanguageError(t("common.lang_unknown", DEFAULT_LANG, value=lang)) from None
    return template.format(**params) if params else template


def has(key: str) -> bool:
    """True when the catalogues have an entry ``key``."""
    return bool(_KEY.fullmatch(key)) and key in _area(key.split(".", 1)[0])


def fields(template: str) -> set[str]:
    """The ``str.format`` field names used in ``template``.

    >>> sorted(fields("第 {row} 行 {column!r}"))
    ['column', 'row']
    """
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def resolve_lang(explicit: str | None = None, *, config_lang: str | None = None, environ: Mapping[str, str] | None = None) -> Lang:
    """The language to use: ``--lang``, else ``ROLLOUT_LANG``, else rollout.toml's, else Chinese.

    Accepts ``zh``/``en`` and common spellings (``zh_CN.UTF-8``, ``中文``, ``English``).

    >>> resolve_lang(None, environ={"ROLLOUT_LANG": "en_US.UTF-8"})
    'en'
    >>> resolve_lang("中文", environ={})
    'zh'
    """
    environ = os.environ if environ is None else environ
    for value in (explicit, environ.get(LANG_ENV), config_lang):
        if value is not None and str(value).strip():
            return normalise_lang(str(value))
    return DEFAULT_LANG


def argv_lang(args: list[str], *, environ: Mapping[str, str] | None = None) -> Lang:
    """The language of a command line, known before it is parsed: ``--lang`` anywhere in
    ``args``, else ``ROLLOUT_LANG``, else ``[ui] lang`` of rollout.toml in the ``--data`` folder
    (``data`` by default), else Chinese.

    >>> argv_lang(["weekly", "--lang", "en"], environ={})
    'en'
    >>> argv_lang(["--lang=zh", "progress"], environ={"ROLLOUT_LANG": "en"})
    'zh'
    """
    explicit = _option_value(args, "--lang")
    data_dir = _option_value(args, "--data") or "data"
    environ = os.environ if environ is None else environ
    from_config = None if explicit or (environ.get(LANG_ENV) or "").strip() else config_lang(data_dir)
    return resolve_lang(explicit, config_lang=from_config, environ=environ)


def _option_value(args: list[str], name: str) -> str | None:
    """The last value given to option ``name`` in ``args`` (``--name value`` or ``--name=value``)."""
    value = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def config_lang(data_dir: Path | str) -> str | None:
    """``[ui] lang`` of ``rollout.toml`` in ``data_dir``, read without the rest of the library
    (the CLI needs it before it renders help); None when absent or unreadable."""
    try:
        with (Path(data_dir) / "rollout.toml").open("rb") as handle:
            value = tomllib.load(handle).get("ui", {}).get("lang")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError):
        return None
    return str(value) if value is not None else None


def normalise_lang(value: str) -> Lang:
    """``zh``/``en`` for a language name as people write it; :class:`LanguageError` otherwise."""
    token = value.strip().lower().replace("-", "_").split(".")[0]
    if token in ("zh", "zh_cn", "zh_hans", "cn", "chinese", "中文", "简体中文", "汉语"):
        return "zh"
    if token in ("en", "en_us", "en_gb", "english", "英文", "英语"):
        return "en"
    raise LanguageError(t("common.lang_unknown", DEFAULT_LANG, value=value) + " / " + t("common.lang_unknown", "en", value=value))
