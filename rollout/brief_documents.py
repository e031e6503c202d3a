"""The brief's files from its view (:func:`rollout.brief.brief_view`): the PDF (its chart drawn on
the page) and the Word document (the chart as a picture).

They need Typst and python-docx, and neither pandas nor the modules that read records:
the weekly pack has them made in a helper process, from the view made where the records are.
"""

from __future__ import annotations

from typing import Any

from rollout.i18n import t

__all__ = ["FORMATS", "brief_documents"]

FORMATS = ("docx", "pdf")


def brief_documents(view: dict[str, Any], *, formats: tuple[str, ...] = FORMATS) -> dict[str, bytes]:
    """``brief.docx`` and/or ``brief.pdf`` (name -> bytes) laid out from ``view``, with its chart."""
    from rollout.brief_pdf import brief_pdf

    pdf, due_limit = brief_pdf(view)  # the page decides how many milestones fit; Word lists as many
    view = {**view, "due_more": t("brief.more_due", view["lang"], shown=due_limit, count=len(view["due"]))}
    files: dict[str, bytes] = {}
    if "docx" in formats:
        from rollout.brief_chart import brief_chart_png
        from rollout.brief_docx import brief_docx

        files["brief.docx"] = brief_docx(view, brief_chart_png(view), due_limit=due_limit)
    if "pdf" in formats:
        files["brief.pdf"] = pdf
    return files
