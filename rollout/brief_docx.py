"""The leaders' brief as an editable Word document (python-docx): A4, 黑体 title and headings,
宋体 text (East Asian fonts set, so Word shows them for Chinese), bordered tables, the chart.

Same content as the PDF (:func:`rollout.brief.brief_view`); same bytes for the same content
(fixed document dates, fixed zip entry dates).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
import zipfile
from typing import Any

__all__ = ["brief_docx"]

_BODY_FONT, _HEADING_FONT, _LATIN_FONT = "宋体", "黑体", "Times New Roman"
_LIGHT_FILL = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}
_FIXED = dt.datetime(2000, 1, 1)


def brief_docx(view: dict[str, Any], chart_png: bytes, *, due_limit: int = 10) -> bytes:
    """The brief (a :func:`rollout.brief.brief_view`) and its chart as DOCX bytes."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(1.5), Cm(1.3)
    section.left_margin, section.right_margin = Cm(1.6), Cm(1.6)
    normal = document.styles["Normal"]
    normal.font.size = Pt(9)
    _east_asian(normal.element, _BODY_FONT, _LATIN_FONT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)

    def paragraph(text: str, *, size: float = 9, bold: bool = False, heading: bool = False, center: bool = False, color: str | None = None):
        para = document.add_paragraph()
        if center:
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = para.add_run(text)
        run.font.size = Pt(size)
        run.font.bold = bold
        if color:
            run.font.color.rgb = RGBColor.from_string(color)
        _east_asian(run._element, _HEADING_FONT if heading else _BODY_FONT, _LATIN_FONT)
        return para

    paragraph(view["title"], size=16, bold=True, heading=True, center=True)
    paragraph(view["subtitle"], size=10, center=True)
    rule = paragraph("", size=4)
    _bottom_border(rule, "C00000")
    paragraph(view["sections"]["overall"], size=11, bold=True, heading=True).paragraph_format.space_before = Pt(4)
    for item in view["headline"]:
        para = paragraph(f"{item['label']}：", size=9.5, bold=True, heading=True)
        run = para.add_run(f"{item['done']}/{item['target']}（{item['pct']}）")
        run.font.size, run.font.bold = Pt(12), True
        run.font.color.rgb = RGBColor.from_string("2F5597")
        _east_asian(run._element, _HEADING_FONT, _LATIN_FONT)
        tail = para.add_run("  " + item["line"])
        tail.font.size = Pt(9)
        _east_asian(tail._element, _BODY_FONT, _LATIN_FONT)
    paragraph(view["sections"]["streets"], size=11, bold=True, heading=True).paragraph_format.space_before = Pt(4)
    headers = view["street_header"]
    table = document.add_table(rows=2, cols=11)
    _grid(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    top, second = table.rows[0].cells, table.rows[1].cells
    top[0].merge(second[0])
    _cell(top[0], headers[0], bold=True, fill="DDE5F0")
    for k, kind in enumerate(view["kinds"]):
        merged = top[1 + 4 * k].merge(top[4 + 4 * k])
        _cell(merged, kind, bold=True, fill="DDE5F0")
        for i, head in enumerate(headers[1:]):
            _cell(second[1 + 4 * k + i], head, bold=True, fill="DDE5F0")
    _cell(top[9].merge(second[9]), view["rank_header"], bold=True, fill="DDE5F0")
    _cell(top[10].merge(second[10]), view["light_header"], bold=True, fill="DDE5F0")
    for row in view["rows"]:
        cells = table.add_row().cells
        for i, value in enumerate(row["cells"]):
            _cell(cells[i], value, fill=_LIGHT_FILL[row["light"]] if i == 10 else None, left=i == 0)
    _widths(table, [2.4, 1.3, 1.6, 1.5, 1.2, 1.3, 1.6, 1.5, 1.2, 1.1, 1.1])
    document.add_picture(io.BytesIO(chart_png), width=Cm(17.6))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph(view["sections"]["blocked"], size=11, bold=True, heading=True)
    if view["blocked"]:
        _simple_table(document, view["blocked_header"], view["blocked"], left=(2, 3, 5), widths=[2.3, 1.1, 5.6, 3.8, 1.5, 3.2])
    else:
        paragraph(view["blocked_none"])
    if view["blocked_more"]:
        paragraph(view["blocked_more"], size=7.5)
    paragraph(view["sections"]["due"], size=11, bold=True, heading=True).paragraph_format.space_before = Pt(4)
    if view["due"]:
        _simple_table(document, view["due_header"], view["due"][:due_limit], left=(2, 4), widths=[2.1, 2.4, 7.0, 2.2, 3.8])
        if len(view["due"]) > due_limit:
            paragraph(view["due_more"], size=7.5)
    else:
        paragraph(view["due_none"])
    for note in view["notes"]:
        paragraph(note, size=7.5, color="444444")
    properties = document.core_properties
    properties.author = properties.last_modified_by = "rollout"
    properties.title = view["title"]
    properties.created = properties.modified = properties.last_printed = _FIXED
    properties.revision = 1
    raw = io.BytesIO()
    document.save(raw)
    return _fixed_zip(raw.getvalue())


def _simple_table(document: Any, header: list[str], rows: list[list[Any]], *, left: tuple[int, ...], widths: list[float]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    _grid(table)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _cell(cell, text, bold=True, fill="DDE5F0")
    for row in rows:
        for i, (cell, value) in enumerate(zip(table.add_row().cells, row, strict=True)):
            _cell(cell, value, left=i in left)
    _widths(table, widths)


def _grid(table: Any) -> None:
    """Word's "Table Grid" style (thin borders on every cell), set by its id: python-docx's style
    setter looks through all the template's styles for the default one each time, a third of the
    time the brief takes."""
    table._tbl.tblPr.style = "TableGrid"


def _widths(table: Any, centimetres: list[float]) -> None:
    """Fixed column widths (Word and LibreOffice read the cells' widths)."""
    from docx.shared import Cm

    table.autofit = False
    for column, width in zip(table.columns, centimetres, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, centimetres, strict=True):
            cell.width = Cm(width)


def _cell(cell: Any, value: object, *, bold: bool = False, fill: str | None = None, left: bool = False) -> None:
    """A table cell's text (8.5 pt, centred unless ``left``), bold and shaded as asked.

    The paragraph's and the run's properties are copies of ones made once (:func:`_cell_format`):
    python-docx finds each property's place among its siblings on every set, half the brief's time.
    """
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph_properties, run_properties = _cell_format(bold=bold, left=left)
    para = cell.paragraphs[0]
    para._p.insert(0, copy.deepcopy(paragraph_properties))
    run = para.add_run("" if value is None else str(value))
    run._r.insert(0, copy.deepcopy(run_properties))
    if fill:
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), fill)
        cell._tc.get_or_add_tcPr().append(shading)


@functools.cache
def _cell_format(*, bold: bool, left: bool) -> tuple[Any, Any]:
    """A table cell's paragraph properties (its alignment) and run properties (8.5 pt, bold or
    not, 黑体 or 宋体), made once by python-docx on a paragraph of their own."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Pt
    from docx.text.paragraph import Paragraph

    para = Paragraph(OxmlElement("w:p"), None)  # type: ignore[arg-type]  # no document: only its XML is kept
    para.alignment = WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run("")
    run.font.size, run.font.bold = Pt(8.5), bold
    _east_asian(run._element, _HEADING_FONT if bold else _BODY_FONT, _LATIN_FONT)
    return para._p.pPr, run._r.rPr


def _east_asian(element: Any, east_asia: str, latin: str) -> None:
    """Set the fonts of a style or run: ``east_asia`` for Chinese text, ``latin`` for the rest."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for attribute, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia)):
        fonts.set(qn(attribute), name)


def _bottom_border(paragraph: Any, colour: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", colour)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed entry dates, so that the same brief gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
