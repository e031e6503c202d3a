"""Static charts (PNG) with CJK fonts: the burn-up (累计完成图) of done sites against the linear plan.

Figures are drawn with matplotlib's ``Figure`` and the Agg canvas directly: no pyplot (its
import and global figure manager cost more than the chart), no global state.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rollout.i18n import Lang, t

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["burnup_figure", "burnup_png", "burnup_series", "burnup_y_top", "chart_style", "cjk_font", "figure_png"]

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


def burnup_series(weeks: list[dt.date], done_by_week: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack weekly done counts (per kind, a frame of weeks x streets) into one long table."""
    frames = []
    for kind, table in done_by_week.items():
        long = table.reset_index(names="week_end").melt(id_vars="week_end", var_name="street_code", value_name="done")
        frames.append(long.assign(kind=kind))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["week_end", "street_code", "done", "kind"])


def burnup_png(
    series: pd.DataFrame,
    targets: pd.DataFrame,
    names: Mapping[str, str],
    start: dt.date,
    deadline: dt.date,
    as_of: dt.date,
    *,
    title: str,
    lang: Lang,
) -> bytes:
    """:func:`burnup_figure` as PNG bytes."""
    with chart_style():
        return figure_png(burnup_figure(series, targets, names, start, deadline, as_of, title=title, lang=lang))


def burnup_figure(
    series: pd.DataFrame,
    targets: pd.DataFrame,
    names: Mapping[str, str],
    start: dt.date,
    deadline: dt.date,
    as_of: dt.date,
    *,
    title: str,
    lang: Lang,
) -> Figure:
    """Small multiples of % of target done per week (macro and garage) against the linear plan
    (累计完成图: cumulative done, not a burn-down).

    ``series`` has ``week_end``, ``street_code``, ``kind`` and ``done``; ``targets`` is indexed by
    ``street_code`` with ``macro_target`` and ``garage_target`` (the district code included);
    ``names`` gives the label of each code, the district first. The y axis, shared by every
    panel, reaches past the highest value (a street past its target shows above 100 %).
    Draw it inside :func:`chart_style` for CJK text.
    """
    import matplotlib
    import matplotlib.dates
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

    codes = list(names)
    columns = 4
    rows = int(np.ceil(len(codes) / columns))
    pct = _pct_of_target(series, targets)
    by_key: dict[Any, pd.DataFrame] = {key: group for key, group in pct.groupby(["street_code", "kind"], sort=False)}
    figure = Figure(figsize=(4 * columns, 2.8 * rows), dpi=100)
    # Every panel has the same axes, fixed here rather than shared and measured: the plan's months
    # with a margin, 0 to past the highest value. The grid, the 100 % line and the day are one
    # collection per panel; only the outer panels carry ticks (tick objects cost most of the drawing).
    span = matplotlib.dates.date2num(pd.Timestamp(deadline)) - matplotlib.dates.date2num(pd.Timestamp(start))
    x0 = matplotlib.dates.date2num(pd.Timestamp(start)) - 0.05 * span
    x1 = matplotlib.dates.date2num(pd.Timestamp(deadline)) + 0.05 * span
    top = burnup_y_top(pct["pct"])
    x_ticks = [x for x in matplotlib.dates.MonthLocator(bymonth=(1, 4, 7, 10)).tick_values(*matplotlib.dates.num2date([x0, x1])) if x0 <= x <= x1]
    y_ticks = [y for y in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top) if 0 <= y <= top]
    day = matplotlib.dates.date2num(pd.Timestamp(as_of))
    grid_color = matplotlib.colors.to_rgba(matplotlib.rcParams["grid.color"], 0.3)
    guides = (
        [[(x, 0), (x, top)] for x in x_ticks] + [[(x0, y), (x1, y)] for y in y_ticks],
        [grid_color] * (len(x_ticks) + len(y_ticks)),
        [matplotlib.rcParams["grid.linewidth"]] * (len(x_ticks) + len(y_ticks)),
    )
    plan_x = [pd.Timestamp(start), pd.Timestamp(deadline)]
    for i, code in enumerate(codes):
        ax = figure.add_subplot(rows, columns, i + 1)
        ax.set_xlim(x0, x1)
        ax.set_ylim(0, top)
        left, bottom = i % columns == 0, i + columns >= len(codes)  # the panels with labels
        segments, colors, widths = guides
        ax.add_collection(
            LineCollection(
                [*segments, [(x0, 100), (x1, 100)], [(day, 0), (day, top)]],
                colors=[*colors, "#bbbbbb", "#cc0000"],
                linewidths=[*widths, 0.8, 0.8],
                zorder=1.5,
            ),
            autolim=False,
        )
        ax.plot(plan_x, [0, 100], linestyle="--", color="#888888", linewidth=1, label=t("weekly.chart.plan", lang))
        for kind, color in (("macro", "#2166ac"), ("garage", "#e08214")):
            rows_of = by_key.get((code, kind))
            if rows_of is None or rows_of.empty:
                continue
            label = t(f"labels.kind.{kind}", lang)
            ax.plot(pd.to_datetime(rows_of["week_end"]), rows_of["pct"], color=color, linewidth=2, label=label)
        ax.set_xlim(x0, x1)  # plotting dates does not move them
        ax.set_ylim(0, top)
        ax.set_title(names[code], fontsize=11)
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


def burnup_y_top(values: pd.Series) -> float:
    """The top of the burn-up's y axis: 110 %, or past the highest value with room to spare.

    >>> burnup_y_top(pd.Series([40.0, 100.0])), burnup_y_top(pd.Series([166.7]))
    (110.0, 180.0)
    """
    highest = float(values.max()) if len(values) and values.notna().any() else 0.0
    return max(110.0, float(np.ceil((highest + 5) / 10) * 10))


def _pct_of_target(series: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """``series`` with ``pct``, done as % of the street's target of that kind (rows of a kind
    with no target are left out)."""
    target = pd.Series(np.nan, index=series.index)
    for kind in ("macro", "garage"):
        mine = series["kind"].eq(kind)
        target[mine] = series.loc[mine, "street_code"].map(targets[f"{kind}_target"].astype(float)).to_numpy()
    keep = target.gt(0).to_numpy()
    return series[keep].assign(pct=(series["done"][keep] / target[keep] * 100).to_numpy())
