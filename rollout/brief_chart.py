"""The brief's chart: target against done per street, for macro stations and garages.

Drawn from the brief's view (:func:`rollout.brief.brief_view`, its ``chart``): no pandas here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rollout.charts import chart_style, figure_png

__all__ = ["brief_chart_png"]


def brief_chart_png(view: dict[str, Any]) -> bytes:
    """A PNG (about 17 x 5.2 cm at 200 dpi): two panels of horizontal bars, the streets in the
    order of their codes, from ``view["chart"]`` (names, per kind a title, targets and done)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    chart = view["chart"]
    names = chart["names"]
    y = np.arange(len(names))[::-1]
    with chart_style():
        figure = Figure(figsize=(6.7, 2.05), dpi=200)
        axes = figure.subplots(1, 2, sharey=True)
        figure.subplots_adjust(left=0.13, right=0.99, top=0.86, bottom=0.04, wspace=0.06)
        for ax, kind in zip(axes, chart["kinds"], strict=True):
            target = np.asarray(kind["target"], dtype=float)
            done = np.asarray(kind["done"], dtype=float)
            ax.barh(y, target, height=0.72, color="#d9e1f2", edgecolor="#8faadc", linewidth=0.5, label=chart["target_label"])
            ax.barh(y, done, height=0.42, color="#2f5597", label=chart["done_label"])
            for yi, d, tg in zip(y, done, target, strict=True):
                ax.text(max(d, tg) + target.max() * 0.015, yi, f"{int(d)}/{int(tg)}", va="center", fontsize=5.5, color="#333333")
            ax.set_title(kind["title"], fontsize=7.5, pad=3)
            ax.set_xlim(0, target.max() * 1.22 if target.max() > 0 else 1)
            ax.xaxis.set_major_locator(NullLocator())  # each bar is labelled with its numbers
            ax.tick_params(axis="y", labelsize=6, length=2, pad=1)
            ax.spines[["top", "right"]].set_visible(False)
        axes[0].set_yticks(y, names)
        _fit_labels(figure, axes[0])
        handles, texts = axes[0].get_legend_handles_labels()
        figure.legend(handles, texts, fontsize=5.5, loc="upper left", ncol=2, frameon=False)  # clear of the long English titles
        return figure_png(figure)


def _fit_labels(figure, axes) -> None:
    """Leave room on the left for the longest street name (English names are three times as long)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    widest = max((label.get_window_extent(renderer).width for label in axes.get_yticklabels()), default=0.0)
    left = min(0.4, (widest + 4 * figure.dpi / 72 + 8) / (figure.get_figwidth() * figure.dpi))  # the ticks and their pad
    figure.subplots_adjust(left=max(0.08, left))
