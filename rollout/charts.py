"""Static charts with CJK text, laid out by Typst (``templates/charts.typ``): the burn-up (累计完成图)
of done sites against the linear plan, and :func:`cjk_font` for analysts' matplotlib charts.

Charts are drawn from plain values (:class:`Burnup`; :mod:`rollout.burnup` computes it from the
records): this module works out every position as a fraction of its axes, the ticks and the
labels (:func:`burnup_layout`), and the template only draws them. It imports no pandas and no
matplotlib: the weekly pack draws its charts in a helper process that has neither, with the fonts
Typst has found for the brief. Same values, same PNG bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout.i18n import Lang, t

__all__ = ["Burnup", "BurnupLine", "burnup_layout", "burnup_png", "cjk_font", "nice_ticks"]

log = logging.getLogger(__name__)
CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC")

#: Panels a row in the burn-up chart.
BURNUP_COLUMNS = 4
#: The burn-up's resolution (about 1,600 pixels wide).
BURNUP_PPI = 100.0


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed font that matplotlib can use for Chinese (Debian: ``fonts-noto-cjk``),
    for charts drawn in a notebook; rollout's own charts are laid out by Typst."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in installed:
            return name
    for path in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",):
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    log.warning("no CJK font found (install fonts-noto-cjk); Chinese text in charts will not render")
    return None


@dataclass(frozen=True)
class BurnupLine:
    """One kind's % of target done at each week's end, in one panel."""

    kind: str
    days: tuple[dt.date, ...]
    pct: tuple[float, ...]


@dataclass(frozen=True)
class Burnup:
    """What the burn-up chart draws: one panel per name (the district first), the plan's days, the
    day of the figures, and the top of the y axis shared by every panel (%)."""

    panels: tuple[tuple[str, tuple[BurnupLine, ...]], ...]
    start: dt.date
    deadline: dt.date
    as_of: dt.date
    top: float


def burnup_png(chart: Burnup, *, title: str, lang: Lang) -> bytes:
    """The burn-up chart (:func:`burnup_layout`) as PNG bytes, laid out by Typst."""
    from rollout.typst_pdf import typst_png

    layout = burnup_layout(chart, title=title, lang=lang)
    return typst_png("burnup.typ", ppi=BURNUP_PPI, chart=json.dumps(layout, ensure_ascii=False))


def burnup_layout(chart: Burnup, *, title: str, lang: Lang) -> dict[str, Any]:
    """What the burn-up template draws, every position a fraction of a panel's axes (x from the
    left, y from the bottom): small multiples of % of target done per week (macro and garage)
    against the linear plan (cumulative done, not a burn-down), :data:`BURNUP_COLUMNS` panels a row.

    The x axis spans the plan's days and the chart's day with a 5 % margin, ticked at each quarter's
    first day; the y axis, the same in every panel, goes from 0 to ``chart.top`` (past the highest
    value: a street past its target shows above 100 %).
    """
    start, deadline, day = chart.start, chart.deadline, chart.as_of
    first, last = min(start, day).toordinal(), max(deadline, day).toordinal()  # the weeks drawn end on the day
    margin = 0.05 * max(last - first, 1)
    low, high = first - margin, last + margin

    def x(day: dt.date) -> float:
        return round((day.toordinal() - low) / (high - low), 5)

    def y(pct: float) -> float:
        return round(pct / chart.top, 5)

    def line(kind: str, days: tuple[dt.date, ...], pct: tuple[float, ...]) -> dict[str, Any]:
        return {"kind": kind, "points": [[x(d), y(p)] for d, p in zip(days, pct, strict=True) if math.isfinite(p)]}

    panels: list[dict[str, Any]] = [
        {"name": name, "lines": [drawn for drawn in (line(one.kind, one.days, one.pct) for one in lines) if drawn["points"]]}
        for name, lines in chart.panels
    ]
    kinds = [drawn["kind"] for drawn in panels[0]["lines"]] if panels else []
    return {
        "title": title,
        "lang": lang,
        "columns": BURNUP_COLUMNS,
        "y_label": t("weekly.chart.y_label", lang),
        "legend": [{"kind": "plan", "label": t("weekly.chart.plan", lang)}]
        + [{"kind": kind, "label": t(f"labels.kind.{kind}", lang)} for kind in kinds],
        "x_ticks": [{"at": x(tick), "label": tick.strftime("%Y-%m")} for tick in _quarter_starts(low, high)],
        "y_ticks": [{"at": y(tick), "label": f"{tick:g}"} for tick in nice_ticks(chart.top)],
        "hundred": y(100.0),
        "day": x(day),
        "plan": [[x(start), 0.0], [x(deadline), y(100.0)]],
        "panels": panels,
    }


def nice_ticks(top: float, bins: int = 6) -> list[float]:
    """Ticks from 0 to at most ``top`` at a round step (1, 2, 2.5 or 5 times a power of ten), at
    most ``bins`` intervals.

    >>> nice_ticks(110.0), nice_ticks(180.0)
    ([0.0, 20.0, 40.0, 60.0, 80.0, 100.0], [0.0, 50.0, 100.0, 150.0])
    """
    if not top > 0:
        return [0.0]
    magnitude = 10.0 ** math.floor(math.log10(top / bins))
    step = next(s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude * bins >= top)
    return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]


def _quarter_starts(low: float, high: float) -> list[dt.date]:
    """The first days of January, April, July and October between two day ordinals."""
    first, last = dt.date.fromordinal(math.ceil(low)), dt.date.fromordinal(math.floor(high))
    return [
        day
        for year in range(first.year, last.year + 1)
        for day in (dt.date(year, month, 1) for month in (1, 4, 7, 10))
        if first <= day <= last
    ]
