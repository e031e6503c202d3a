"""PDF from HTML with WeasyPrint, set up once per process (fonts, CSS), for every document.

WeasyPrint's import and its font configuration cost more than a page: they are made once and
reused by the brief, the coordinators' lists and the worksheets. :func:`html_pdfs` spreads many
documents over the machine's cores (forked workers, each with its own set-up).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

from rollout.errors import InputFileError

__all__ = ["html_pdf", "html_pdfs", "rendered"]


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


def html_pdfs(pages: Sequence[str], *, workers: int | None = None) -> list[bytes]:
    """Each HTML document of ``pages`` as PDF bytes, in order, on up to ``workers`` processes
    (default: the cores this process may use). Small batches stay in this process."""
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers <= 1 or len(pages) < 4:
        return [html_pdf(page) for page in pages]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(pages[i::workers]) for i in range(workers)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = list(pool.map(_chunk, chunks))
    out: list[bytes] = [b""] * len(pages)
    for i, chunk in enumerate(results):
        out[i::workers] = chunk
    return out


def _chunk(pages: list[str]) -> list[bytes]:
    return [html_pdf(page) for page in pages]
