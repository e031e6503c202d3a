"""PDF from HTML with WeasyPrint, set up once per process (fonts, CSS): the brief and the
coordinators' gap lists, one document each.

WeasyPrint's import and its font configuration cost more than a page: they are made once and
reused. The worksheets, made by the dozen, are laid out by Typst instead (:mod:`rollout.typst_pdf`),
about a hundred times faster a page.
"""

from __future__ import annotations

import functools
from typing import Any

from rollout.errors import InputFileError

__all__ = ["html_pdf", "rendered"]


@functools.cache
def _weasy() -> tuple[Any, Any]:
    try:
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration
    except (ImportError, OSError) as e:
        raise InputFileError("errors.pdf_unavailable", detail=str(e)) from e
    return HTML, FontConfiguration()


def rendered(html: str) -> Any:
    """The laid-out WeasyPrint document of ``html`` (its ``pages``; ``write_pdf()`` for bytes)."""
    html_class, fonts = _weasy()
    return html_class(string=html).render(font_config=fonts)


def html_pdf(html: str) -> bytes:
    """``html`` as PDF bytes (fonts subset and embedded)."""
    return rendered(html).write_pdf()
