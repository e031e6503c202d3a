"""The brief's chart as a picture, for the Word brief: target against done per street, for macro
stations and garages.

Laid out by Typst (``templates/charts.typ``, the same drawing as on the PDF page) from the brief's
view (:func:`rollout.brief.brief_view`, its ``chart``): no pandas, no matplotlib here.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["BRIEF_CHART_PPI", "brief_chart_png"]

#: The picture's resolution: 6.7 inches wide, printed at 17.6 cm.
BRIEF_CHART_PPI = 200.0


def brief_chart_png(view: dict[str, Any]) -> bytes:
    """A PNG, 6.7 inches wide: two panels of horizontal bars, the streets in the order of their
    codes, from ``view["chart"]`` (names, per kind a title, targets and done)."""
    from rollout.typst_pdf import typst_png

    return typst_png("brief_chart.typ", ppi=BRIEF_CHART_PPI, chart=json.dumps(view["chart"], ensure_ascii=False), lang=view["lang"])
