"""PDF and PNG from a Typst template in ``rollout/templates``, laid out in this process by the
Typst compiler (the ``typst`` package): the worksheets (made by the dozen), the brief and the charts
(``charts.typ``, which the templates import).

Typst lays out a CJK page with its tables in a few milliseconds and embeds the font subset it
uses, where WeasyPrint takes about a second a page (see ``benchmarks/bench_deliverables.py``). The
fonts are found once per process; the data comes in as ``sys.inputs`` strings (JSON), which the
template shows as text, never as markup. Same inputs, same bytes (no creation date).

The Typst compiler holds the GIL while it works, so :func:`typst_pdfs` lays out a batch in a
forked worker process while the caller builds its other files on the other core. The worker is
forked only before this process has laid out anything with Typst (a fork would not carry over
Typst's thread pool: the worker would wait for it for ever) and only while this process runs one
thread; else the batch is laid out here.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from importlib.resources import files
from typing import Any

from rollout.errors import InputFileError

__all__ = ["CJK_FONTS", "PendingPdfs", "may_fork", "one_page_pdf", "prepare", "typst_pdf", "typst_pdfs", "typst_png"]

#: Set once Typst has laid out a page in this process (its thread pool is running): no fork after that.
_typst_started = False

#: Chinese fonts in order of preference (the first one installed is used; Typst falls back to the
#: others, then to its own fonts, for a character the first lacks).
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Zen Hei", "Droid Sans Fallback")


def may_fork() -> bool:
    """True while a forked process could still lay out with Typst: Typst has not run here yet (its
    thread pool would not be carried over) and this process runs one thread."""
    import threading

    return hasattr(os, "fork") and not _typst_started and threading.active_count() == 1


def prepare() -> None:
    """Find the fonts, set up the compiler and lay out a first small page in the Chinese fonts now
    (together about a tenth of a second), ahead of the first document: in a process that gets
    ready while another one works. After this, the process cannot fork a Typst worker."""
    _compile("warm_up.typ", {}, format="png", ppi=10.0)


def typst_pdf(template: str, **inputs: str) -> tuple[bytes, int]:
    """``template`` laid out with ``inputs`` as ``sys.inputs`` (plus ``fonts``, the JSON list of
    the Chinese fonts found): the PDF bytes and its number of pages."""
    pdf = _compile(template, inputs, format="pdf")
    return pdf, _pages(pdf)


def typst_png(template: str, *, ppi: float, **inputs: str) -> bytes:
    """``template`` (one page) laid out as :func:`typst_pdf` does, as PNG bytes at ``ppi``."""
    return _compile(template, inputs, format="png", ppi=ppi)


def _compile(template: str, inputs: dict[str, str], **output: Any) -> bytes:
    global _typst_started
    compiler, fonts = _compiler()
    _typst_started = True
    try:
        # The templates folder is the root: a template imports charts.typ beside it.
        return compiler.compile(input=_source(template), root=str(_templates()), sys_inputs={**inputs, "fonts": fonts}, **output)
    except RuntimeError as e:  # typst.TypstError: the template or its data is wrong
        raise InputFileError("errors.typst_failed", template=template, detail=str(e)) from e


def one_page_pdf(template: str, choices: Sequence[Mapping[str, str]]) -> bytes:
    """The first of ``choices`` (inputs for ``template``) that lays out on one page, else the last."""
    pdf = b""
    for inputs in choices:
        pdf, pages = typst_pdf(template, **inputs)
        if pages <= 1:
            break
    return pdf


class PendingPdfs:
    """PDFs being laid out (in workers, or already here): :meth:`result` waits and gives them in order."""

    def __init__(self, parts: Sequence[Future[list[bytes]]]) -> None:
        self._parts = list(parts)

    def result(self) -> list[bytes]:
        """The PDFs, in the order of the documents (a worker's error is raised here)."""
        return [pdf for part in self._parts for pdf in part.result()]


def typst_pdfs(template: str, documents: Sequence[Sequence[Mapping[str, str]]], *, workers: int | None = None) -> PendingPdfs:
    """Each of ``documents`` (its choices, as for :func:`one_page_pdf`) as PDF bytes, in order.

    With more than one core (``workers``, default: the cores this process may use), a few
    documents or more, Typst not yet started here and no other thread running, they are laid out
    in forked workers (one per core, a share of the documents each) while the caller goes on; else
    here, before returning.
    """
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers > 1 and len(documents) >= 4 and may_fork():
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        size = -(-len(documents) // workers)
        chunks = [[[dict(choice) for choice in d] for d in documents[start : start + size]] for start in range(0, len(documents), size)]
        pool = ProcessPoolExecutor(max_workers=len(chunks), mp_context=multiprocessing.get_context("fork"))
        parts = [pool.submit(_lay_out, template, chunk) for chunk in chunks]
        pool.shutdown(wait=False)  # the workers end after their one job each
        return PendingPdfs(parts)
    done: Future[list[bytes]] = Future()
    done.set_result(_lay_out(template, documents))
    return PendingPdfs([done])


def _lay_out(template: str, documents: Sequence[Sequence[Mapping[str, str]]]) -> list[bytes]:
    return [one_page_pdf(template, choices) for choices in documents]


@functools.cache
def _compiler() -> tuple[Any, str]:
    try:
        import typst
    except ImportError as e:
        raise InputFileError("errors.typst_unavailable", detail=str(e)) from e
    fonts = typst.Fonts()  # the system's fonts, scanned once
    found = [name for name in CJK_FONTS if name in set(fonts.families())]
    if not found:
        raise InputFileError("errors.pdf_no_cjk_font", fonts=", ".join(CJK_FONTS))
    return typst.Compiler(font_paths=fonts), json.dumps(found)


@functools.cache
def _templates() -> Any:
    return files("rollout") / "templates"


@functools.cache
def _source(template: str) -> bytes:
    return (_templates() / template).read_bytes()


def _pages(pdf: bytes) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()
