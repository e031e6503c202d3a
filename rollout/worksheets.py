""" "One compound, one plan" (一小区一方案): a one-page A4 worksheet per garage compound.

For each compound: its facts; the solution (室分/皮站/漏缆/直放站) with signal source and band
per operator; the equipment list; who builds (铁塔统建 or an operator) and who shares; power and
transmission; the schedule, planned against actual, with overdue steps flagged; blockers with
days and who must act; acceptance evidence and the test method; the point map (the compound's
``data/attachments/<id>/plan.png|jpg|pdf``, else a location map); contacts (worksheets are the
only output with phone numbers); sign-off boxes with room for a seal for 物业, 业委会, 居委会, the
street, 铁塔 and each participating operator.

The page's texts are described once (:mod:`rollout.worksheet_page`) and laid out twice: as HTML
(print CSS, Jinja) and as PDF (Typst, a few milliseconds a page; a page that would spill over is
laid out again in a compact style, scaled to fit if need be). The XLSX keeps numbers and dates as
such. With an index and the 台账 (one row per compound). Written as a whole folder.

What a worksheet shows is assembled in :mod:`rollout.worksheet_data` (:class:`Worksheet`,
:func:`build_worksheets`); this module makes and writes the files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rollout import labels
from rollout.errors import InputFileError
from rollout.i18n import Lang, t
from rollout.pipeline import Project
from rollout.render import render_page
from rollout.schema import operator_code
from rollout.worksheet_data import Worksheet, build_worksheets
from rollout.worksheet_page import page_content, show
from rollout.writers import safe_filename, workbook_bytes, write_file, write_folder, zip_folder

__all__ = [
    "FORMATS",
    "Worksheet",
    "build_worksheets",
    "render_html",
    "render_pdf",
    "safe_filename",
    "show",
    "worksheet_files",
    "write_worksheets",
]

FORMATS = ("html", "pdf", "xlsx")


def worksheet_files(
    project: Project, sheets: Sequence[Worksheet], *, formats: Sequence[str] = FORMATS, lang: Lang = "zh"
) -> dict[str, Any]:
    """The files of ``sheets`` in ``formats``, plus ``index.html`` and the 台账: name -> artefact."""
    from rollout.worksheet_xlsx import ledger_workbook, worksheet_workbook

    contents = [_content(sheet, project, lang) for sheet in sheets]
    if "pdf" in formats:
        from rollout.typst_pdf import typst_pdfs

        # Laid out on the other core (Typst, a forked worker) while this one makes the HTML and XLSX.
        pending = typst_pdfs("worksheet.typ", [_pdf_choices(content) for content in contents])
    made: dict[str, dict[str, Any]] = {"html": {}, "xlsx": {}}
    for sheet, content in zip(sheets, contents, strict=True):
        if "html" in formats:
            made["html"][sheet.file_stem] = render_page("worksheet.html.j2", lang=lang, p=content)
        if "xlsx" in formats:
            made["xlsx"][sheet.file_stem] = workbook_bytes(worksheet_workbook(sheet, as_of=project.as_of, lang=lang))
    if "pdf" in formats:
        made["pdf"] = dict(zip((sheet.file_stem for sheet in sheets), pending.result(), strict=True))
    files: dict[str, Any] = {}
    for sheet in sheets:
        for kind in FORMATS:
            if kind in formats:
                files[f"{sheet.file_stem}.{kind}"] = made[kind][sheet.file_stem]
    files[t("worksheets.ledger_file", lang)] = ledger_workbook(sheets, as_of=project.as_of, lang=lang)
    files["index.html"] = render_page(
        "worksheet_index.html.j2",
        lang=lang,
        sheets=sheets,
        formats=[f for f in FORMATS if f in formats],
        as_of=project.as_of.isoformat(),
        district=project.config.district(lang),
        ledger=t("worksheets.ledger_file", lang),
    )
    return files


def write_worksheets(
    project: Project,
    out_dir: Path | str,
    *,
    formats: Sequence[str] = FORMATS,
    compound_ids: Iterable[str] | None = None,
    operator: str | None = None,
    lang: Lang = "zh",
) -> tuple[Path, list[Worksheet]]:
    """Write the worksheets, index and 台账 into ``out_dir`` as a whole (or ``out_dir/operator-<name>``
    plus a zip). Returns the folder written and the worksheets; every file lands inside it."""
    if not formats or set(formats) - set(FORMATS):
        raise InputFileError("errors.worksheet_format", value=",".join(formats), allowed=", ".join(FORMATS))
    sheets = build_worksheets(project, compound_ids=compound_ids, operator=operator, lang=lang)
    files = worksheet_files(project, sheets, formats=formats, lang=lang)
    out_dir = Path(out_dir)
    if operator:
        folder = write_folder(out_dir / safe_filename(f"operator-{_operator_label(operator, lang)}"), files, write=write_file)
        zip_folder(folder, folder.with_suffix(".zip"))
    else:
        folder = write_folder(out_dir, files, write=write_file)
    return folder, sheets


def render_html(sheet: Worksheet, project: Project, *, lang: Lang = "zh") -> str:
    """One worksheet as a printable A4 HTML page (print CSS)."""
    return render_page("worksheet.html.j2", lang=lang, p=_content(sheet, project, lang))


def render_pdf(sheet: Worksheet, project: Project, *, lang: Lang = "zh") -> bytes:
    """One worksheet as a one-page A4 PDF (Typst; Chinese fonts embedded)."""
    from rollout.typst_pdf import one_page_pdf

    return one_page_pdf("worksheet.typ", _pdf_choices(_content(sheet, project, lang)))


def _content(sheet: Worksheet, project: Project, lang: Lang) -> dict[str, Any]:
    approximate = labels.approximate_note(lang) if project.approximate else ""
    return page_content(sheet, as_of=project.as_of.isoformat(), district=project.config.district(lang), approximate=approximate, lang=lang)


def _pdf_choices(content: dict[str, Any]) -> list[dict[str, str]]:
    """The page as Typst inputs: as designed, else compact (and scaled to fit) if it would spill over."""
    page = json.dumps(content, ensure_ascii=False)
    return [{"page": page}, {"page": page, "compact": "1"}]


def _operator_label(operator: str, lang: Lang) -> str:
    code = operator_code(operator)
    return labels.operator(code, lang) if code else operator
