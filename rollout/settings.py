"""Project-wide defaults, read at call time so that tests and callers can change them.

Change a setting by assignment, e.g. ``rollout.settings.snap_tolerance_m = 100``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

#: Folder holding ``rollout.toml``, ``targets.csv``, ``sites/`` and ``boundaries/``.
data_dir: Path = Path("data")

#: Points up to this distance (metres) outside the district are snapped to the nearest
#: street and flagged; points farther out are rejected.
snap_tolerance_m: float = 50.0

#: Overlap allowed between two street polygons (square metres) before boundaries are
#: refused; survey-grade files often overlap by slivers of a few square metres.
overlap_tolerance_m2: float = 2000.0


def today() -> dt.date:
    """Return the date taken as "now".

    ``ROLLOUT_TODAY=YYYY-MM-DD`` in the environment fixes it, so that runs and tests that
    depend on "now" are reproducible.
    """
    fixed = os.environ.get("ROLLOUT_TODAY")
    if fixed:
        return dt.date.fromisoformat(fixed)
    return dt.date.today()
