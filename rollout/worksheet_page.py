"""What the worksheet page says, once: every text on the page, in order, as plain data.

The HTML page (``worksheet.html.j2``, print CSS) and the PDF (``worksheet.typ``, Typst) are two
layouts of this one description; neither template makes or formats a text of its own, so the two
cannot drift apart (a test reads every text of the description back from both). The XLSX is built
from the typed :class:`~rollout.worksheet_data.Worksheet` instead (numbers and dates stay typed there).

A table is ``{"heading", "widths", "head", "rows"}``: ``widths`` in per cent of the table, 0 for
an equal share of what is left; ``head`` a list of cells or None; ``rows`` lists of cells. A cell is
``{"text", "label", "cls", "span"}``: ``label`` for a label cell (shaded), ``cls`` one of ``ok``,
``fail``, ``overdue`` or ``""``, ``span`` the columns it covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rollout.i18n import Lang, t

if TYPE_CHECKING:
    from rollout.worksheet_data import Worksheet

__all__ = ["page_content", "page_texts", "show"]


def page_content(sheet: Worksheet, *, as_of: str, district: str, approximate: str, lang: Lang) -> dict[str, Any]:
    """The page of ``sheet`` as plain data (JSON-ready): title, warnings, tables, map, sign-off."""
    warnings = []
    if sheet.accepted_without_evidence:
        warnings.append(t("worksheets.warn_evidence", lang) + sheet.evidence_problems)
    if sheet.attachment_problem:
        warnings.append(sheet.attachment_problem)
    status = f"{t('worksheets.status', lang)}：{sheet.status}" if lang == "zh" else f"{t('worksheets.status', lang)}: {sheet.status}"
    subtitle = " · ".join((district, sheet.street_name, sheet.compound_id, f"{t('worksheets.as_of', lang)} {as_of}", status))
    return {
        "lang": lang,
        "title": f"{t('worksheets.page_title', lang, name=sheet.name)} {t('worksheets.title', lang)}",
        "long_title": len(sheet.name) > 14,
        "subtitle": subtitle,
        "warnings": warnings,
        "note": approximate,
        "facts": _pairs(t("worksheets.section.facts", lang), [(label, value) for _, label, value in sheet.facts], per_row=2, width=19),
        "solution": _pairs(t("worksheets.section.solution", lang), [(label, value) for _, label, value in sheet.plan], per_row=1, width=24),
        "point_map": _point_map(sheet, lang),
        "operators": _operators(sheet, lang),
        "equipment": _pairs(
            t("worksheets.section.equipment", lang), [(label, value) for _, label, value in sheet.equipment], per_row=2, width=30
        ),
        "schedule": _schedule(sheet, lang),
        "blockers": _pairs(t("worksheets.section.blockers", lang), sheet.blockers, per_row=4, width=11) if sheet.blockers else None,
        "evidence": _evidence(sheet, lang),
        "contacts": _pairs(
            t("worksheets.section.contacts", lang), [(label, value) for _, label, value in sheet.contacts], per_row=3, width=9
        ),
        "signoff": {
            "heading": t("worksheets.section.signoff", lang),
            "units": list(sheet.signoff),
            "seal": t("worksheets.head.seal", lang),
            "sign": f"{t('worksheets.head.signature', lang)}：　　　　　{t('worksheets.head.date', lang)}：",
        },
    }


def page_texts(content: dict[str, Any]) -> list[str]:
    """Every text the page shows (for checking that a layout shows them all)."""
    out = [content["title"], content["subtitle"], *content["warnings"], content["note"]]
    for key in ("facts", "solution", "operators", "equipment", "schedule", "blockers", "evidence", "contacts"):
        table = content[key]
        if table is None:
            continue
        out.append(table["heading"])
        out += [cell["text"] for row in [table["head"] or [], *table["rows"]] for cell in row]
    out += [content["point_map"]["heading"], content["point_map"]["caption"]]
    signoff = content["signoff"]
    out += [signoff["heading"], *signoff["units"], signoff["seal"]]
    return [text for text in out if text]


def show(value: object) -> str:
    """A value as the page shows it: dates as 2024-06-30, whole numbers without a decimal point."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return "" if np.isnan(value) else (str(int(value)) if value.is_integer() else f"{value:g}")
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _cell(value: object, *, label: bool = False, cls: str = "", span: int = 1) -> dict[str, Any]:
    return {"text": show(value), "label": label, "cls": cls, "span": span}


def _table(heading: str, widths: Sequence[int], rows: list[list[dict]], head: list[dict] | None = None) -> dict[str, Any]:
    return {"heading": heading, "widths": list(widths), "head": head, "rows": rows}


def _pairs(heading: str, pairs: Sequence[tuple[str, Any]], *, per_row: int, width: int) -> dict[str, Any]:
    """Label/value pairs, ``per_row`` pairs a row, each label ``width`` per cent wide; a short last
    row leaves its cells empty."""
    rows = []
    for start in range(0, len(pairs), per_row):
        row = []
        for label, value in pairs[start : start + per_row]:
            row += [_cell(label, label=True), _cell(value)]
        rows.append(row + [_cell("") for _ in range(2 * per_row - len(row))])
    return _table(heading, [width, 0] * per_row, rows)


def _operators(sheet: Worksheet, lang: Lang) -> dict[str, Any]:
    head = [
        _cell(t(f"worksheets.head.{key}", lang), label=True) for key in ("operator", "signal_source", "band", "callable_share", "result")
    ]
    rows = []
    for op in sheet.operators:
        share = f"{show(op['callable'])}%" if op["callable"] is not None else t("worksheets.not_tested", lang)
        result = "ok" if op["ok"] else "fail" if op["result"] else ""
        rows.append([_cell(op["operator"]), _cell(op["signal_source"]), _cell(op["band"]), _cell(share), _cell(op["result"], cls=result)])
    return _table(t("worksheets.section.operators", lang), [10, 0, 26, 12, 8], rows, head)


def _schedule(sheet: Worksheet, lang: Lang) -> dict[str, Any]:
    head = [_cell(t(f"worksheets.head.{key}", lang), label=True) for key in ("step", "planned", "actual", "flag")]
    rows = []
    for step in sheet.schedule:
        cls = "overdue" if step["flag"] in ("overdue", "late") else "ok" if step["flag"] == "on_time" else ""
        rows.append(
            [
                _cell(step["step"]),
                _cell(show(step["planned"]) or "—"),
                _cell(show(step["actual"]) or "—"),
                _cell(step["flag_text"], cls=cls),
            ]
        )
    return _table(t("worksheets.section.schedule", lang), [22, 0, 0, 28], rows, head)


def _evidence(sheet: Worksheet, lang: Lang) -> dict[str, Any]:
    table = _pairs(t("worksheets.section.evidence", lang), [(label, value) for _, label, value in sheet.evidence], per_row=2, width=21)
    result = t("worksheets.passes", lang) if sheet.evidence_passes else sheet.evidence_problems
    table["rows"].append(
        [_cell(t("worksheets.head.result", lang), label=True), _cell(result, cls="ok" if sheet.evidence_passes else "fail", span=3)]
    )
    return table


def _point_map(sheet: Worksheet, lang: Lang) -> dict[str, Any]:
    if sheet.plan_image:
        caption = t("worksheets.point_map.caption_supplied", lang, compound_id=sheet.compound_id)
    else:
        caption = t("worksheets.point_map.caption_location", lang, compound_id=sheet.compound_id)
    if sheet.nearby:
        stations = "、".join(n["site_id"] for n in sheet.nearby[:4])
        caption += " " + t("worksheets.nearby_line", lang, count=len(sheet.nearby), stations=stations)
    else:
        caption += " " + t("worksheets.nearby_none", lang)
    return {
        "heading": t("worksheets.section.point_map", lang),
        "image": sheet.plan_image,
        "image_size": list(sheet.plan_image_size) if sheet.plan_image_size else None,
        "svg": None if sheet.plan_image else sheet.location_svg,
        "alt": sheet.name,
        "caption": caption,
    }
