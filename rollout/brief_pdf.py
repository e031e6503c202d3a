"""The leaders' brief as a one-page A4 PDF, laid out by Typst (``templates/brief.typ``: 黑体-style
headings, 宋体-style text, Noto CJK embedded) from the same view as the Word brief."""

from __future__ import annotations

import json
from typing import Any

from rollout.i18n import t

__all__ = ["DUE_LIMIT", "brief_layout", "brief_pdf"]

#: Milestones listed on the page at most (the rest are counted), so that it stays one page.
DUE_LIMIT = 10


def brief_pdf(view: dict[str, Any]) -> tuple[bytes, int]:
    """The brief as PDF bytes, one page, and how many milestones it lists: the most (up to
    :data:`DUE_LIMIT`) that keep it on one page. A layout takes a few hundredths of a second, so the
    page is laid out with one milestone fewer until it fits (usually once)."""
    limit = max(1, min(DUE_LIMIT, len(view["due"])))
    while True:
        pdf, pages = brief_layout(view, limit)
        if pages <= 1 or limit <= 1:
            return pdf, limit
        limit -= 1


def brief_layout(view: dict[str, Any], due_limit: int) -> tuple[bytes, int]:
    """The brief laid out with ``due_limit`` milestones listed (its chart drawn on the page): the
    PDF and its number of pages."""
    from rollout.typst_pdf import typst_pdf

    more = t("brief.more_due", view["lang"], shown=due_limit, count=len(view["due"]))
    page = json.dumps({**view, "due_more": more}, ensure_ascii=False, default=str)
    return typst_pdf("brief.typ", view=page, due_limit=str(due_limit))
