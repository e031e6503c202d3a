"""The leaders' brief: one A4 page for the weekly report to the district's leaders (周报).

:func:`leaders_brief` computes what the page says, as numbers and codes, for ``project.as_of``;
:func:`brief_view` puts it in the reader's language; :mod:`rollout.brief_docx` and
:mod:`rollout.brief_pdf` lay the same view out as Word and PDF.

- Headline: done / target, % and against the linear plan, for macro stations and garages.
- The streets: new this week (本周新增), done so far (累计), % done (完成率), 环比 = this week's
  new minus last week's new (a plus sign: faster than last week), the rank (by the mean of the
  two % done, each capped at 100; ties by street code) and a light: **green** when the street is
  not behind the linear plan on either kind (the pace of ``rollout progress``), **red** when on
  some kind it has done less than ``[brief] red_below_pct`` (80) % of what the plan expects by
  now, **yellow** otherwise (behind, but not that far).
- The records blocked longest (``[brief] top_blocked``) with days blocked and who must act, and
  the milestones planned within ``[brief] due_days`` (7) days after the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rollout import labels
from rollout.brief_documents import FORMATS
from rollout.brief_settings import BriefSettings, load_brief_settings
from rollout.i18n import Lang, t
from rollout.progress import street_rows, total_row
from rollout.status import done_counts

if TYPE_CHECKING:  # not imported at run time: a process that only lays the brief out needs no records' modules
    from rollout.pipeline import Project
    from rollout.records import SiteLoad

__all__ = ["FORMATS", "Brief", "brief_files", "brief_view", "leaders_brief", "street_lights"]

KINDS = ("macro", "garage")
LIGHTS = ("green", "yellow", "red")


@dataclass(frozen=True)
class Brief:
    """What the brief says for one day, as numbers and codes."""

    as_of: dt.date
    week: str
    district: str
    district_en: str
    #: The progress table (streets and total) of the day.
    progress: pd.DataFrame
    #: One row per street: ``street_code``, names, per kind ``{kind}_new``, ``{kind}_new_before``,
    #: ``{kind}_change``, ``{kind}_done``, ``{kind}_target``, ``{kind}_pct``, ``{kind}_light``,
    #: then ``score``, ``rank`` and ``light``, in rank order.
    streets: pd.DataFrame
    #: The district's ``{kind}_new`` and ``{kind}_new_before``.
    totals: dict[str, int]
    blocked: pd.DataFrame  # open records, blocked longest first (top N)
    blocked_count: int
    due: pd.DataFrame  # open records with a milestone planned within the next days
    due_days: int
    approximate: bool


def leaders_brief(project: Project, *, week: str | None = None, settings: BriefSettings | None = None) -> Brief:
    """Compute the brief for ``project.as_of`` (``week`` names it; default: the day's ISO week)."""
    from rollout.open_records import open_records
    from rollout.weeks import iso_week

    settings = settings or load_brief_settings(project.config)
    as_of = project.as_of
    progress = project.progress()
    streets = street_rows(progress).reset_index(drop=True)
    codes = list(streets["street_code"])
    days = [as_of - dt.timedelta(days=14), as_of - dt.timedelta(days=7), as_of]
    table = streets[["street_code", "street_name", "street_name_en"]].copy()
    totals: dict[str, int] = {}
    for kind in KINDS:
        counts = sum(project.loads[kind].map(_done_part, days=days, codes=codes), start=pd.DataFrame(0, index=days, columns=codes))
        before, last, now = (counts.loc[d].to_numpy() for d in days)
        table[f"{kind}_new"] = (now - last).astype(int)
        table[f"{kind}_new_before"] = (last - before).astype(int)
        table[f"{kind}_change"] = table[f"{kind}_new"] - table[f"{kind}_new_before"]
        for column in ("done", "target", "pct", "expected", "pace"):
            table[f"{kind}_{column}"] = streets[f"{kind}_{column}"].to_numpy()
        totals[f"{kind}_new"] = int(table[f"{kind}_new"].sum())
        totals[f"{kind}_new_before"] = int(table[f"{kind}_new_before"].sum())
    table = street_lights(table, red_below_pct=settings.red_below_pct)
    capped = [table[f"{k}_pct"].fillna(100.0).clip(upper=100.0) for k in KINDS]
    table["score"] = ((capped[0] + capped[1]) / 2).round(1)
    table = table.sort_values(["score", "street_code"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    records = open_records(project, settings=settings)
    blocked = records[records["urgency"].eq("blocked")].sort_values(["days_blocked", "record_id"], ascending=[False, True], kind="stable")
    planned = pd.to_datetime(records["planned_date"], errors="coerce")
    soon = (planned > pd.Timestamp(as_of)) & (planned <= pd.Timestamp(as_of + dt.timedelta(days=settings.due_days)))
    due = records[soon & (records["planned_milestone"] == records["next_milestone"])]
    due = due.assign(_day=planned[due.index]).sort_values(["_day", "street_code", "record_id"], kind="stable").drop(columns="_day")
    return Brief(
        as_of=as_of,
        week=week or iso_week(as_of),
        district=project.config.district_name,
        district_en=project.config.district_name_en,
        progress=progress,
        streets=table,
        totals=totals,
        blocked=blocked.head(settings.top_blocked).reset_index(drop=True),
        blocked_count=len(blocked),
        due=due.reset_index(drop=True),
        due_days=settings.due_days,
        approximate=project.approximate,
    )


def street_lights(table: pd.DataFrame, *, red_below_pct: float) -> pd.DataFrame:
    """``table`` with ``{kind}_light`` per kind and ``light`` (the worse of the two): green when
    not behind the plan (``{kind}_pace``), red when done is below ``red_below_pct`` % of
    ``{kind}_expected``, yellow otherwise.

    >>> frame = pd.DataFrame({"macro_pace": ["on_track", "behind", "behind"], "macro_done": [5, 9, 7],
    ...     "macro_expected": [5.5, 10.0, 10.0], "garage_pace": ["ahead"] * 3, "garage_done": [1] * 3, "garage_expected": [0.5] * 3})
    >>> street_lights(frame, red_below_pct=80)["light"].tolist()
    ['green', 'yellow', 'red']
    """
    out = table.copy()
    rank = {light: i for i, light in enumerate(LIGHTS)}
    worst = np.zeros(len(out), dtype=int)
    for kind in KINDS:
        behind = out[f"{kind}_pace"].eq("behind").to_numpy()
        far = (out[f"{kind}_done"].astype(float) < out[f"{kind}_expected"].astype(float) * red_below_pct / 100).to_numpy()
        light = np.where(behind & far, "red", np.where(behind, "yellow", "green"))
        out[f"{kind}_light"] = light
        worst = np.maximum(worst, np.vectorize(rank.get)(light) if len(light) else worst)
    out["light"] = np.asarray(LIGHTS, dtype=object)[worst] if len(out) else []
    return out


def brief_view(brief: Brief, *, lang: Lang) -> dict[str, Any]:
    """Everything the page shows, in ``lang``: texts and rows of strings and numbers."""
    total = total_row(brief.progress)
    district = brief.district if lang == "zh" else brief.district_en
    headline = []
    for kind in KINDS:
        headline.append(
            {
                "label": labels.kind_title(kind, lang),
                "done": int(total[f"{kind}_done"]),
                "target": int(total[f"{kind}_target"]),
                "pct": f"{total[f'{kind}_pct']:.1f}%",
                "new": brief.totals[f"{kind}_new"],
                "line": t(
                    "brief.headline",
                    lang,
                    expected=total[f"{kind}_expected"],
                    vs_plan=f"{total[f'{kind}_vs_plan']:+.1f}",
                    pace=labels.pace(total[f"{kind}_pace"], lang),
                    new=brief.totals[f"{kind}_new"],
                    change=_signed(brief.totals[f"{kind}_new"] - brief.totals[f"{kind}_new_before"], lang),
                ),
                "pace": total[f"{kind}_pace"],
            }
        )
    name = labels.street_name_column(lang)
    rows = []
    for _, row in brief.streets.iterrows():
        cells: list[Any] = [row[name]]
        for kind in KINDS:
            pct = row[f"{kind}_pct"]
            cells += [int(row[f"{kind}_new"]), f"{int(row[f'{kind}_done'])}/{int(row[f'{kind}_target'])}"]
            cells += ["—" if pd.isna(pct) else f"{pct:.1f}%", _signed(int(row[f"{kind}_change"]), lang)]
        cells += [int(row["rank"]), t(f"brief.light.{row['light']}", lang)]
        rows.append({"cells": cells, "light": row["light"]})
    blocked = [
        [
            r["street_name"] if lang == "zh" else _english_street(brief, r["street_code"]),
            labels.kind(r["kind"], lang),
            f"{r['record_id']} {r['name']}",
            r["blocker"] or t("weekly.summary.no_reason", lang),
            "" if pd.isna(r["days_blocked"]) else int(r["days_blocked"]),
            _responsible(r, lang),
        ]
        for _, r in brief.blocked.iterrows()
    ]
    due = [
        [
            r["planned_date"],
            r["street_name"] if lang == "zh" else _english_street(brief, r["street_code"]),
            f"{r['record_id']} {r['name']}",
            _milestone(r["kind"], r["next_milestone"], lang),
            _responsible(r, lang),
        ]
        for _, r in brief.due.iterrows()
    ]
    return {
        "lang": lang,
        "title": t("brief.title", lang, district=district),
        "subtitle": t("brief.subtitle", lang, week=brief.week, date=_date_text(brief.as_of, lang)),
        "headline": headline,
        "sections": {key: t(f"brief.section.{key}", lang) for key in ("overall", "streets", "chart", "blocked", "due")},
        "street_header": [t(f"brief.head.{key}", lang) for key in ("street", "new", "done", "pct", "change")],
        "kinds": [labels.kind(k, lang) for k in KINDS],
        "rank_header": t("brief.head.rank", lang),
        "light_header": t("brief.head.light", lang),
        "rows": rows,
        "blocked_header": [t(f"brief.head.{key}", lang) for key in ("street", "kind", "record", "blocker", "days_blocked", "responsible")],
        "blocked": blocked,
        "blocked_more": t("brief.more_blocked", lang, shown=len(blocked), count=brief.blocked_count)
        if brief.blocked_count > len(blocked)
        else "",
        "due_header": [t(f"brief.head.{key}", lang) for key in ("planned_date", "street", "record", "milestone", "responsible")],
        "due": due,
        "due_none": t("brief.due_none", lang, days=brief.due_days),
        "blocked_none": t("brief.blocked_none", lang),
        "notes": [t("brief.light_rule", lang)] + ([labels.approximate_note(lang)] if brief.approximate else []),
        "chart": _chart(brief, lang),
    }


def _chart(brief: Brief, lang: Lang) -> dict[str, Any]:
    """What the brief's chart draws (:func:`rollout.brief_chart.brief_chart_png`): the streets in
    the order of their codes, per kind the targets and the done."""
    streets = brief.streets.sort_values("street_code", kind="stable")
    return {
        "names": [str(name) for name in streets[labels.street_name_column(lang)]],
        "kinds": [
            {
                "title": labels.kind_title(kind, lang),
                "target": streets[f"{kind}_target"].astype(float).tolist(),
                "done": streets[f"{kind}_done"].astype(float).tolist(),
            }
            for kind in KINDS
        ],
        "target_label": t("brief.chart_target", lang),
        "done_label": t("brief.chart_done", lang),
    }


def _done_part(load: SiteLoad, *, days: list[dt.date], codes: list[str]) -> pd.DataFrame:
    """Records done on each of ``days`` per street (those counting toward the target)."""
    records = load.records
    if "counts_toward_target" in records.columns:
        records = records[records["counts_toward_target"].astype(bool)]
    return done_counts(records, load.kind, days, codes)


def _signed(value: int, lang: Lang) -> str:
    return t("brief.same", lang) if value == 0 else f"{value:+d}"


def _date_text(day: dt.date, lang: Lang) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else day.isoformat()


def _english_street(brief: Brief, code: str) -> str:
    names = dict(zip(brief.streets["street_code"], brief.streets["street_name_en"], strict=True))
    return str(names.get(code, code))


def _responsible(row: pd.Series, lang: Lang) -> str:
    from rollout.reports import responsible_text

    return responsible_text(row["responsible"], row["responsible_name"], lang)


def _milestone(kind: str, step: str, lang: Lang) -> str:
    from rollout.reports import milestone_text

    return milestone_text(kind, step, lang)


def brief_files(brief: Brief, *, formats: tuple[str, ...] = FORMATS, lang: Lang = "zh") -> dict[str, bytes]:
    """``brief.docx`` and/or ``brief.pdf`` as bytes (name -> bytes), from the same view and chart."""
    from rollout.brief_documents import brief_documents

    return brief_documents(brief_view(brief, lang=lang), formats=formats)
