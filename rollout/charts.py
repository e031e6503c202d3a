"""Static charts (PNG) with CJK fonts: the burn-up (累计完成图) of done sites against the linear plan.

Figures are drawn with matplotlib's ``Figure`` and the Agg canvas directly: no pyplot (its
import and global figure manager cost more than the chart), no global state. Charts are drawn
from plain values (:class:`Burnup`; :mod:`rollout.burnup` computes it from the records), and this
module imports no pandas: the weekly pack draws them in a helper process that has none.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout.i18n import Lang, t

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Burnup", "BurnupLine", "burnup_figure", "burnup_png", "chart_style", "cjk_font", "figure_png"]

log = logging.getLogger(__name__)
CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC")


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed font that has Chinese glyphs (Debian: ``fonts-noto-cjk``)."""
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


@contextmanager
def chart_style() -> Iterator[None]:
    """Matplotlib settings for rollout's charts: a CJK font first, ASCII minus signs, titles placed
    without measuring."""
    import matplotlib

    font = cjk_font()
    rc: dict[str, Any] = {
        "font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
        "axes.unicode_minus": False,
        # Titles at the top of their axes: where matplotlib would place them anyway, as no axes has
        # labels on top, without measuring every panel's tick labels to find that out.
        "axes.titley": 1.0,
    }
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]  # the stubs list rc keys as literals
        yield


def figure_png(figure: Figure, *, dpi: float | None = None) -> bytes:
    """A figure as PNG bytes with no software stamp (same figure, same bytes), drawn with the
    Agg canvas directly."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi or "figure", metadata={"Software": None})
    return buffer.getvalue()


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
    """:func:`burnup_figure` as PNG bytes."""
    with chart_style():
        return figure_png(burnup_figure(chart, title=title, lang=lang))


def burnup_figure(chart: Burnup, *, title: str, lang: Lang) -> Figure:
    """Small multiples of % of target done per week (macro and garage) against the linear plan
    (累计完成图: cumulative done, not a burn-down), four panels a row. The y axis, the same in
    every panel, reaches past the highest value (a street past its target shows above 100 %).
    Draw it inside :func:`chart_style` for CJK text.
    """
    import matplotlib
    import matplotlib.dates
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

    columns = 4
    rows = -(-len(chart.panels) // columns)
    figure = Figure(figsize=(4 * columns, 2.8 * rows), dpi=100)
    # Every panel has the same axes, fixed here rather than shared and measured: the plan's months
    # with a margin, 0 to past the highest value. The grid, the 100 % line and the day are one
    # collection per panel; only the outer panels carry ticks (tick objects cost most of the drawing).
    start, deadline, day = (matplotlib.dates.date2num(d) for d in (chart.start, chart.deadline, chart.as_of))
    first, last = min(start, day), max(deadline, day)  # the weeks drawn end on the day, before or after the plan
    x0, x1, top = first - 0.05 * (last - first), last + 0.05 * (last - first), chart.top
    x_ticks = [
        x for x in matplotlib.dates.MonthLocator(bymonth=(1, 4, 7, 10)).tick_values(*matplotlib.dates.num2date([x0, x1])) if x0 <= x <= x1
    ]
    y_ticks = [y for y in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top) if 0 <= y <= top]
    grid_color = matplotlib.colors.to_rgba(matplotlib.rcParams["grid.color"], 0.3)
    grid_width = matplotlib.rcParams["grid.linewidth"]
    guides = (
        [[(x, 0), (x, top)] for x in x_ticks] + [[(x0, y), (x1, y)] for y in y_ticks] + [[(x0, 100), (x1, 100)], [(day, 0), (day, top)]]
    )
    guide_colors = [grid_color] * (len(guides) - 2) + ["#bbbbbb", "#cc0000"]
    guide_widths = [grid_width] * (len(guides) - 2) + [0.8, 0.8]
    colors = {"macro": "#2166ac", "garage": "#e08214"}
    for i, (name, lines) in enumerate(chart.panels):
        ax = figure.add_subplot(rows, columns, i + 1)
        ax.add_collection(LineCollection(guides, colors=guide_colors, linewidths=guide_widths, zorder=1.5), autolim=False)
        ax.plot([start, deadline], [0, 100], linestyle="--", color="#888888", linewidth=1, label=t("weekly.chart.plan", lang))
        for line in lines:
            ax.plot(
                matplotlib.dates.date2num(line.days),
                line.pct,
                color=colors[line.kind],
                linewidth=2,
                label=t(f"labels.kind.{line.kind}", lang),
            )
        ax.set_xlim(x0, x1)
        ax.set_ylim(0, top)
        ax.set_title(name, fontsize=11)
        left, bottom = i % columns == 0, i + columns >= len(chart.panels)  # the panels with labels
        ax.xaxis.set_major_locator(FixedLocator(x_ticks) if bottom else NullLocator())
        ax.yaxis.set_major_locator(FixedLocator(y_ticks) if left else NullLocator())
        if bottom:
            ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m"))
            ax.tick_params(axis="x", labelsize=8)
        if left:
            ax.tick_params(axis="y", labelsize=8)
    first = figure.axes[0]
    first.legend(fontsize=8, loc="upper left")
    first.set_ylabel(t("weekly.chart.y_label", lang))
    figure.suptitle(title, fontsize=14)
    # Fixed margins: tight_layout measures every label and costs most of the chart's time.
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.06, top=0.9, wspace=0.08, hspace=0.3)
    return figure
