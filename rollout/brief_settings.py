"""The ``[brief]`` and ``[responsible]`` tables of ``rollout.toml``: the leaders' brief's lights and
lists, and who must act on a blocked record.

Both are optional; the defaults below are what ``data/rollout.toml`` documents. Unknown keys are
refused with the list of known ones.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from rollout.config import Config
from rollout.errors import ConfigError

__all__ = ["BriefSettings", "load_brief_settings"]

#: Words of a blocker (受阻原因) that make the property side (物业, 业委会, owners) the one to act.
PROPERTY_WORDS = ("物业", "业委会", "业主", "产权")
#: Words of a blocker that make it a coordination matter for the street (residents, approvals).
STREET_WORDS = ("居民", "投诉", "居委", "辐射", "审批", "协调", "占用", "街道", "规划")
#: Words of a blocker that China Tower must solve whatever the step (power, structure, mast).
TOWER_WORDS = ("电力", "引电", "供电", "承重", "塔桅", "抱杆")


@dataclass(frozen=True)
class BriefSettings:
    """What ``[brief]`` and ``[responsible]`` say."""

    #: A street behind the plan whose done count is below this share (%) of what the plan
    #: expects by now is red; behind but above it, yellow; on track or ahead, green.
    red_below_pct: float = 80.0
    #: Blocked records listed on the brief, longest blocked first.
    top_blocked: int = 5
    #: The brief lists the milestones planned within this many days after the day.
    due_days: int = 7
    #: Open records whose planned date falls within this many days are "due soon".
    due_soon_days: int = 14
    property_words: tuple[str, ...] = PROPERTY_WORDS
    street_words: tuple[str, ...] = STREET_WORDS
    tower_words: tuple[str, ...] = TOWER_WORDS


def load_brief_settings(config: Config) -> BriefSettings:
    """Read ``[brief]`` and ``[responsible]`` from ``rollout.toml``; defaults for what is missing."""
    path = config.data_dir / "rollout.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    brief, responsible = raw.get("brief", {}), raw.get("responsible", {})
    values: dict = {}
    numbers = {"red_below_pct": float, "top_blocked": int, "due_days": int, "due_soon_days": int}
    _known(brief, set(numbers), path, "brief")
    _known(responsible, {"property", "street", "tower"}, path, "responsible")
    try:
        for key, kind in numbers.items():
            if key in brief:
                values[key] = kind(brief[key])
        for key in ("property", "street", "tower"):
            if key in responsible:
                values[f"{key}_words"] = tuple(str(w) for w in responsible[key] if str(w).strip())
    except (TypeError, ValueError) as e:
        raise ConfigError("errors.config_value", path=path, detail=str(e)) from e
    if values.get("top_blocked", 1) < 0 or values.get("due_days", 1) < 0 or values.get("due_soon_days", 1) < 0:
        raise ConfigError("errors.config_value", path=path, detail="[brief] counts and days must be 0 or more")
    return BriefSettings(**values)


def _known(table: dict, known: set[str], path: object, where: str) -> None:
    if unknown := set(table) - known:
        detail = f"[{where}] {', '.join(sorted(unknown))}: known keys are {', '.join(sorted(known))}"
        raise ConfigError("errors.config_value", path=path, detail=detail)
