"""The leaders' brief as a one-page A4 PDF (WeasyPrint, Noto CJK: 黑体-style headings, 宋体-style text)."""

from __future__ import annotations

import base64
import math
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
    """The brief as PDF bytes, one page, and how many milestones it lists.

    A page that spills over is laid out again with fewer milestones: as many fewer as make room
    for what spilled over (beyond the room left at the foot of the first page) and for the note
    that counts the others. Each layout costs a few tenths of a second: usually two in all.
    """
    total = len(view["due"])
    limit = max(1, min(DUE_LIMIT, total))
    document = rendered(brief_html(view, chart_png, due_limit=limit))
    while len(document.pages) > 1 and limit > 1:
        limit = _fewer(document, limit, total)
        document = rendered(brief_html(view, chart_png, due_limit=limit))
    return document.write_pdf(), limit


def _fewer(document: Any, limit: int, total: int) -> int:
    """How many milestones should fit: those on the first page, less enough rows to make room for
    what follows the table (the notes, and the line counting the milestones left out)."""
    from weasyprint.formatting_structure.boxes import TableRowBox

    first = document.pages[0]._page_box
    rows = [
        box
        for box in first.descendants()
        if isinstance(box, TableRowBox) and box.element is not None and "due" in (box.element.get("class") or "").split()
    ]
    if not rows or rows[-1].margin_height() <= 0:
        return limit - 1
    row_height, last = rows[-1].margin_height(), rows[-1]
    body = first.children[0].children[0]
    index = next(i for i, child in enumerate(body.children) if any(box is last for box in child.descendants()))
    table = body.children[index].element
    following = sum(child.margin_height() for child in body.children[index + 1 :])
    for page in document.pages[1:]:
        following += sum(child.margin_height() for child in page._page_box.children[0].children[0].children if child.element is not table)
    if limit >= total:
        following += row_height  # the line counting the milestones left out will appear
    free = first.content_box_y() + first.height - (last.position_y + last.margin_height())
    return max(1, min(limit - 1, len(rows) - max(0, math.ceil((following - free) / row_height))))
