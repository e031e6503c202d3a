"""click's own words in the reader's language, through gettext.

click looks its messages up with :func:`gettext.gettext` when it shows them ("Usage:",
"Options", "No such option"). :func:`click_language` makes those look-ups answer in Chinese
for the length of a command: it binds a gettext domain to the catalogue compiled from
``rollout/locale/click.toml`` and selects it with ``LANGUAGE``, the standard gettext way,
restoring both afterwards. ``python -m rollout.cli.translations`` recompiles the catalogue.
"""

from __future__ import annotations

import gettext
import os
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rollout.i18n import LOCALE_DIR, Lang, catalogue

__all__ = ["DOMAIN", "MO_FILE", "click_language", "compile_catalogue"]

DOMAIN = "rollout_click"
GETTEXT_DIR = LOCALE_DIR / "gettext"
MO_FILE = GETTEXT_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.mo"
#: The gettext language for each of rollout's (English has no catalogue: click's own words).
_GETTEXT_LANGUAGE = {"zh": "zh", "en": "en"}


@contextmanager
def click_language(lang: Lang) -> Iterator[None]:
    """click's messages in ``lang`` inside the block."""
    previous_domain = gettext.textdomain()
    previous_language = os.environ.get("LANGUAGE")
    gettext.bindtextdomain(DOMAIN, str(GETTEXT_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _GETTEXT_LANGUAGE[lang]
    try:
        yield
    finally:
        gettext.textdomain(previous_domain)
        if previous_language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = previous_language


def compile_catalogue() -> bytes:
    """The GNU .mo catalogue of ``click.toml``: click's message ids and their Chinese."""
    entries = {k.removeprefix("click."): v for k, v in catalogue().items() if k.startswith("click.")}
    messages: dict[bytes, bytes] = {
        b"": b"Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=1; plural=0;\n",
    }
    for key, texts in entries.items():
        if key.endswith(".other"):
            continue
        if key.endswith(".one"):
            other = entries[key.removesuffix(".one") + ".other"]
            msgid = texts["en"].encode() + b"\0" + other["en"].encode()
            messages[msgid] = other["zh"].encode()
        else:
            messages[texts["en"].encode()] = texts["zh"].encode()
    return _mo(messages)


def _mo(messages: dict[bytes, bytes]) -> bytes:
    """GNU gettext's binary format: header, two tables of (length, offset), then the strings."""
    keys = sorted(messages)
    count = len(keys)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    strings_at = translations_at + count * 8
    ids = b"".join(key + b"\0" for key in keys)
    strs = b"".join(messages[key] + b"\0" for key in keys)
    originals, translations = [], []
    offset = strings_at
    for key in keys:
        originals += [len(key), offset]
        offset += len(key) + 1
    for key in keys:
        translations += [len(messages[key]), offset]
        offset += len(messages[key]) + 1
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, 0)
    return header + struct.pack(f"<{2 * count}I", *originals) + struct.pack(f"<{2 * count}I", *translations) + ids + strs


def main() -> None:
    """Write the compiled catalogue (after editing click.toml)."""
    MO_FILE.parent.mkdir(parents=True, exist_ok=True)
    MO_FILE.write_bytes(compile_catalogue())
    sys.stdout.write(f"{MO_FILE}\n")


if __name__ == "__main__":
    main()
