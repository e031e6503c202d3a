"""The leaders' brief as a one-page A4 PDF, laid out by Typst (``templates/brief.typ``: 黑体-style
headings, 宋体-style text, Noto CJK embedded) from the same view as the Word brief."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from rollout.i18n import t

__all__ = ["DUE_LIMIT", "brief_layout", "brief_pdf"]

#: Milestones listed on the page at most (the rest are counted), so that it stays one page.
DUE_LIMIT = 10


def brief_pdf(view: dict[str, Any], chart_png: bytes) -> tuple[bytes, int]:
    """The brief as PDF bytes, one page, and how many milestones it lists: the most (up to
    :data:`DUE_LIMIT`) that keep it on one page. A layout takes a few hundredths of a second, so the
    page is laid out with one milestone fewer until it fits (usually once)."""
    limit = max(1, min(DUE_LIMIT, len(view["due"])))
    while True:
        pdf, pages = brief_layout(view, chart_png, limit)
        if pages <= 1 or limit <= 1:
            return pdf, limit
        limit -= 1


def brief_layout(view: dict[str, Any], chart_png: bytes, due_limit: int) -> tuple[bytes, int]:
    """The brief laid out with ``due_limit`` milestones listed: the PDF and its number of pages."""
    from rollout.typst_pdf import typst_pdf

    more = t("brief.more_due", view["lang"], shown=due_limit, count=len(view["due"]))
    page = json.dumps({**view, "chart_size": _png_size(chart_png), "due_more": more}, ensure_ascii=False, default=str)
    chart = "data:image/png;base64," + base64.b64encode(chart_png).decode("ascii")
    return typst_pdf("brief.typ", view=page, chart=chart, due_limit=str(due_limit))


def _png_size(png: bytes) -> list[int]:
    """Width and height of a PNG image, in pixels (from its header)."""
    width, height = struct.unpack(">II", png[16:24])
    return [width, height]
