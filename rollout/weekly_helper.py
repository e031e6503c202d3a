"""The weekly pack's files made in a second process: the burn-up chart, the brief and the workbook.

They need libraries that take longer to get ready than to use (Typst and its fonts, python-docx,
openpyxl) and nothing but a few plain values: the chart's (:class:`rollout.charts.Burnup`), the
brief's view and the workbook's rows (:class:`rollout.progress_xlsx.ProgressSheet`), so that the
helper never imports pandas. ``rollout weekly`` starts :func:`pack_helper` before it reads the
site files, so that the helper imports them, finds the fonts and lays out a first Typst page on the
other core meanwhile; then :func:`rollout.weekly.weekly_pack` sends it the values, and models the
coverage and builds the map while the helper draws. Without a helper (the library, the web
platform) the same :func:`helper_files` runs in a process forked once the project is loaded.

This module imports only the standard library at the top: starting the helper costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rollout.executors import Helper, importing

if TYPE_CHECKING:
    from rollout.charts import Burnup
    from rollout.i18n import Lang
    from rollout.progress_xlsx import ProgressSheet

__all__ = ["helper_files", "pack_helper"]


def pack_helper() -> Helper:
    """A :class:`~rollout.executors.Helper` for :func:`helper_files`, getting ready at once.

    There is no second process (the files are made here) where Typst has already laid out a page
    in this process: a fork would not carry over Typst's threads.
    """
    from rollout.typst_pdf import may_fork

    return Helper(_WARM_UP, fork=may_fork())


def helper_files(
    *,
    chart: Burnup | None = None,
    chart_title: str = "",
    brief: dict[str, Any] | None = None,
    progress: ProgressSheet | None = None,
    lang: Lang,
) -> dict[str, bytes]:
    """The files of the pack made from the parts given, as bytes: ``progress.xlsx`` from
    ``progress`` (:func:`rollout.progress_xlsx.progress_sheet`), ``brief.docx`` and ``brief.pdf``
    from the brief's view (:func:`rollout.brief.brief_view`), ``burnup.png`` from ``chart``."""
    files: dict[str, bytes] = {}
    if progress is not None:
        from rollout.progress_xlsx import progress_sheet_workbook
        from rollout.writers.xlsx import workbook_bytes

        files["progress.xlsx"] = workbook_bytes(progress_sheet_workbook(progress))
    if brief is not None:
        from rollout.brief_documents import brief_documents

        files |= brief_documents(brief)
    if chart is not None:
        from rollout.charts import burnup_png

        files["burnup.png"] = burnup_png(chart, title=chart_title, lang=lang)
    return files


def _typst_fonts() -> None:
    from rollout.typst_pdf import prepare

    prepare()


#: Getting ready, in the order the calls need it (Typst for the chart first, then the workbook and
#: the brief); the helper stops when the first call arrives and imports the rest when it needs it.
_WARM_UP = (
    importing("rollout.charts", "rollout.typst_pdf"),
    _typst_fonts,
    importing("openpyxl.formatting.rule", "rollout.progress_xlsx", "rollout.writers.xlsx"),
    importing("rollout.brief_documents", "rollout.brief_pdf", "rollout.brief_chart", "pypdfium2"),
    importing("docx", "rollout.brief_docx"),
)
