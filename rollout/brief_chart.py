"""The brief's chart: target against done per street, for macro stations and garages."""

from __future__ import annotations

import numpy as np

from rollout import labels
from rollout.brief import KINDS, Brief
from rollout.charts import chart_style, figure_png
from rollout.i18n import Lang, t

__all__ = ["brief_chart_png"]


def brief_chart_png(brief: Brief, *, lang: Lang) -> bytes:
    """A PNG (about 17 x 5.2 cm at 200 dpi): two panels of horizontal bars, streets in rank order."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    streets = brief.streets.sort_values("street_code", kind="stable")
    names = streets[labels.street_name_column(lang)].tolist()
    y = np.arange(len(names))[::-1]
    with chart_style():
        figure = Figure(figsize=(6.7, 2.05), dpi=200)
        axes = figure.subplots(1, 2, sharey=True)
        figure.subplots_adjust(left=0.13, right=0.99, top=0.86, bottom=0.04, wspace=0.06)
        for ax, kind in zip(axes, KINDS, strict=True):
            target = streets[f"{kind}_target"].to_numpy(dtype=float)
            done = streets[f"{kind}_done"].to_numpy(dtype=float)
            ax.barh(y, target, height=0.72, color="#d9e1f2", edgecolor="#8faadc", linewidth=0.5, label=t("brief.chart_target", lang))
            ax.barh(y, done, height=0.42, color="#2f5597", label=t("brief.chart_done", lang))
            for yi, d, tg in zip(y, done, target, strict=True):
                ax.text(max(d, tg) + target.max() * 0.015, yi, f"{int(d)}/{int(tg)}", va="center", fontsize=5.5, color="#333333")
            ax.set_title(labels.kind_title(kind, lang), fontsize=7.5, pad=3)
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
