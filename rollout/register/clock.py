"""Days and times of the register: dates people see are Asia/Shanghai; timestamps are stored in UTC."""

from __future__ import annotations

import datetime as dt
import os

from rollout import settings

__all__ = ["shanghai_today", "utc_now"]


def shanghai_today() -> dt.date:
    """Today in Asia/Shanghai (``ROLLOUT_TODAY=YYYY-MM-DD`` fixes it, for reproducible runs)."""
    from zoneinfo import ZoneInfo

    if os.environ.get("ROLLOUT_TODAY"):
        return settings.today()
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def utc_now() -> dt.datetime:
    """Now in UTC, as the naive timestamp the register stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
