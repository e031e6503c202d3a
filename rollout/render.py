"""HTML pages from the templates in ``rollout/templates``: one Jinja environment for all.

Templates get ``t(key, lang, **params)`` for catalogue texts and ``lang``/``html_lang`` from the
caller; every value is escaped (autoescape), since site files are untrusted.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from rollout.i18n import Lang, t

__all__ = ["environment", "render_page"]


@functools.cache
def environment() -> Environment:
    """The Jinja environment (built once)."""
    env = Environment(
        loader=PackageLoader("rollout", "templates"), autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True
    )
    env.globals["t"] = t
    return env


def render_page(template: str, *, lang: Lang, **context: Any) -> str:
    """Render ``template`` with ``context``, in ``lang``."""
    return environment().get_template(template).render(lang=lang, html_lang=t("common.html_lang", lang), **context)
