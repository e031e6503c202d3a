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

__all__ = ["html_pdf", "html_pdfs", "one_page_pdfs", "rendered"]


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


def html_pdfs(pages: Sequence[str | tuple[str, ...]], *, workers: int | None = None) -> list[bytes]:
    """Each HTML document of ``pages`` as PDF bytes, in order, on up to ``workers`` processes
    (default: the cores this process may use). Small batches stay in this process.

    A tuple of documents is a choice: the first laid out on one page is kept (else the last).
    """
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers <= 1 or len(pages) < 4:
        return [_one_page(page) for page in pages]
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


def _chunk(pages: list[str | tuple[str, ...]]) -> list[bytes]:
    return [_one_page(page) for page in pages]


def _one_page(choices: str | tuple[str, ...]) -> bytes:
    options = (choices,) if isinstance(choices, str) else choices
    for position, html in enumerate(options):
        document = rendered(html)
        if len(document.pages) <= 1 or position == len(options) - 1:
            return document.write_pdf()
    raise ValueError("no document to render")


def one_page_pdfs(batch: Any, alone: Any, count: int, *, workers: int | None = None) -> list[bytes]:
    """A one-page PDF for each of ``count`` documents: ``batch(indices)`` is the HTML of several,
    each in a ``<section id="ws-N">`` (N counting from 0 within the batch) starting a new page;
    ``alone(i)`` the HTML of document ``i`` on its own, more compact, used when it takes more
    than one page in the batch. The batches are laid out on up to ``workers`` processes."""
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = max(1, min(workers, count // 4 or 1))
    chunks = [list(range(count))[i::workers] for i in range(workers)]
    if workers == 1:
        results = [_batch(chunks[0], batch, alone)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # The builders are closures: forked workers inherit them here instead of receiving them.
        _JOBS["current"] = (batch, alone)
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
                results = list(pool.map(_forked_batch, chunks))
        finally:
            _JOBS.pop("current", None)
    out: list[bytes] = [b""] * count
    for chunk, pdfs in zip(chunks, results, strict=True):
        for i, pdf in zip(chunk, pdfs, strict=True):
            out[i] = pdf
    return out


_JOBS: dict[str, Any] = {}


def _forked_batch(chunk: list[int]) -> list[bytes]:
    batch, alone = _JOBS["current"]
    return _batch(chunk, batch, alone)


def _batch(chunk: list[int], batch: Any, alone: Any) -> list[bytes]:
    if not chunk:
        return []
    document = rendered(batch(chunk))
    starts: dict[int, int] = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("ws-"):
                starts.setdefault(int(anchor[3:]), number)
    bounds = [starts.get(k, -1) for k in range(len(chunk))] + [len(document.pages)]
    out = []
    for k, i in enumerate(chunk):
        first, end = bounds[k], bounds[k + 1]
        if first >= 0 and end - first == 1:
            out.append(document.copy([document.pages[first]]).write_pdf())
        else:
            out.append(_one_page((alone(i),)))
    return out
