"""The leaders' brief as a one-page A4 PDF (WeasyPrint, Noto CJK: 黑体-style headings, 宋体-style text)."""

from __future__ import annotations

import base64
from typing import Any

from rollout.i18n import t
from rollout.pdf import rendered
from rollout.render import render_page

__all__ = ["DUE_LIMIT", "brief_html", "brief_pdf"]

#: Milestones listed on the page at most (the rest are counted), so that it stays one page.
DUE_LIMIT = 10


def brief_html(view: dict[str, Any], chart_png: bytes, *, due_limit: int = DUE_LIMIT) -> str:
    """The brief's page as HTML (print CSS, A4)."""
    lang = view["lang"]
    more = t("brief.more_due", lang, shown=due_limit, count=len(view["due"]))
    return render_page(
        "brief.html.j2", lang=lang, v=view, chart=base64.b64encode(chart_png).decode("ascii"), due_limit=due_limit, due_more=more
    )


def brief_pdf(view: dict[str, Any], chart_png: bytes) -> tuple[bytes, int]:
    """The brief as PDF bytes, one page (fewer milestones are listed until it fits), and how many
    milestones it lists."""
    limit = DUE_LIMIT
    while True:
        document = rendered(brief_html(view, chart_png, due_limit=limit))
        if len(document.pages) <= 1 or limit <= 1:
            return document.write_pdf(), limit
        limit -= 2
