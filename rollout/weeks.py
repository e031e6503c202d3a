"""ISO weeks as the weekly packs name them: ``2024-W26``, the days a week covers, its subtitle and notes.

A week belongs to the year of its Thursday, so the last days of December can lie in week 1 of
the next year; :func:`week_notes` says so wherever a pack is shown.
"""

from __future__ import annotations

import datetime as dt
import re

from rollout.errors import InvalidValueError
from rollout.i18n import Lang, t

__all__ = ["is_week_folder", "iso_week", "week_days", "week_end", "week_notes", "week_subtitle"]

_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)


def iso_week(day: dt.date) -> str:
    """The ISO week of ``day`` as ``YYYY-Www``.

    >>> iso_week(dt.date(2024, 6, 30))
    '2024-W26'
    """
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def is_week_folder(name: str) -> bool:
    """Whether a folder name is a pack's ISO week (``2024-W26``)."""
    return bool(_WEEK.match(name))


def week_end(week: str) -> dt.date:
    """The last day (Sunday) of an ISO week written ``2024-W26``.

    >>> week_end("2024-W26")
    datetime.date(2024, 6, 30)
    """
    match = _WEEK.match(week.strip())
    if not match:
        raise InvalidValueError("errors.week_format", value=week)
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 7)
    except ValueError as e:
        raise InvalidValueError("errors.week_invalid", value=week, year=match.group(1), week=match.group(2)) from e


def week_days(week: str) -> tuple[dt.date, dt.date]:
    """The first (Monday) and last (Sunday) day of an ISO week; at the year's end they can lie
    in two calendar years.

    >>> week_days("2025-W01")
    (datetime.date(2024, 12, 30), datetime.date(2025, 1, 5))
    """
    end = week_end(week)
    return end - dt.timedelta(days=6), end


def week_subtitle(week: str, as_of: dt.date, *, lang: Lang) -> str:
    """The pack's subtitle: the ISO week, the days it covers, the day the numbers are for.

    >>> week_subtitle("2025-W01", dt.date(2024, 12, 31), lang="zh")
    '2025-W01（2024-12-30 至 2025-01-05）· 截至 2024-12-31'
    """
    first, last = week_days(week)
    return t("weekly.subtitle", lang, week=week, first=first.isoformat(), last=last.isoformat(), date=as_of.isoformat())


def week_notes(week: str, as_of: dt.date, *, lang: Lang) -> list[str]:
    """A note when ``as_of`` lies in another ISO year than its calendar year (the last days of
    December can belong to week 1 of the next year, the first days of January to week 52 or 53
    of the one before), so that nobody reads 2025-W01 as a mistake for a December report.

    >>> week_notes("2025-W01", dt.date(2024, 12, 31), lang="en")
    ['ISO weeks start on Monday and belong to the year of their Thursday: 2024-12-31 is in week 1 of 2025 (2025-W01).']
    """
    iso_year, number, _ = as_of.isocalendar()
    if iso_year == as_of.year:
        return []
    return [t("weekly.iso_year_note", lang, date=as_of.isoformat(), year=iso_year, number=number, week=week)]
