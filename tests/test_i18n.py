"""Every text the tool shows exists in both languages, with the same fields."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from rollout import i18n

_KEY_USE = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+)["']""")
#: Errors raised with a catalogue key: ``raise InputFileError("errors.file_empty", path=path)``.
_ERROR_KEY = re.compile(r"""(?:Error|Rejected)\(\s*["']([a-z_]+(?:\.[A-Za-z0-9_]+)+)["']""")


def test_every_entry_has_both_languages_with_the_same_fields() -> None:
    entries = i18n.catalogue()
    assert entries, "no catalogues in rollout/locale"
    for key, texts in entries.items():
        assert set(texts) == set(i18n.LANGS), key
        assert texts["zh"].strip() and texts["en"].strip(), key
        assert i18n.fields(texts["zh"]) == i18n.fields(texts["en"]), f"{key}: {texts}"


def test_every_key_the_code_uses_exists() -> None:
    used: dict[str, str] = {}
    for path in [*REPO.joinpath("rollout").rglob("*.py"), *REPO.joinpath("rollout").rglob("*.j2")]:
        text = path.read_text(encoding="utf-8")
        for key in [*_KEY_USE.findall(text), *_ERROR_KEY.findall(text)]:
            used.setdefault(key, str(path.relative_to(REPO)))
    missing = {key: where for key, where in used.items() if not i18n.has(key)}
    assert not missing, f"keys used but not in rollout/locale: {missing}"


@pytest.mark.parametrize(("value", "expected"), [("zh", "zh"), ("EN", "en"), ("zh_CN.UTF-8", "zh"), ("English", "en"), ("中文", "zh")])
def test_language_names(value: str, expected: str) -> None:
    assert i18n.resolve_lang(value, environ={}) == expected


def test_language_precedence() -> None:
    assert i18n.resolve_lang(None, config_lang="en", environ={}) == "en"
    assert i18n.resolve_lang(None, config_lang="en", environ={"ROLLOUT_LANG": "zh"}) == "zh"
    assert i18n.resolve_lang("en", config_lang="zh", environ={"ROLLOUT_LANG": "zh"}) == "en"
    assert i18n.resolve_lang(None, environ={}) == "zh"


def test_unknown_language_is_named_in_both_languages() -> None:
    with pytest.raises(i18n.LanguageError, match=r"'fr'.*zh.*unknown language 'fr'"):
        i18n.resolve_lang("fr", environ={})
