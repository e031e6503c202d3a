"""Who sends submissions, and the register's settings: ``[sources]`` and ``[register]`` in rollout.toml.

The senders known by default are China Tower and the four operators (with the names people
use for them: 中国移动, cmcc, China Mobile, ...) and every street of ``boundaries/streets.csv``
(with its aliases). ``[sources.NAME]`` adds a sender or more aliases to a known one::

    [sources.监理公司]
    name_en = "Site supervisor"
    aliases = ["某某监理"]

``[register]`` holds the register's URL and the comparison thresholds; ``[register.winner]``
says which sender's record counts when several report the same id, per kind: a list of
sender names and the words ``operator`` (for a macro station: the sender that is one of the
station's operators) and ``lead_unit`` (for a garage: the sender named as its lead unit).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rollout import labels
from rollout.config import CONFIG_FILE, Config
from rollout.errors import ConfigError
from rollout.i18n import Lang
from rollout.register.errors import UnknownSourceError
from rollout.schema import OPERATORS, normalize_token

__all__ = ["DEFAULT_WINNER", "RegisterConfig", "Source", "load_register_config"]

#: Default winner rules per kind (see the module docstring).
DEFAULT_WINNER: dict[str, tuple[str, ...]] = {"macro": ("operator", "铁塔"), "garage": ("lead_unit",)}
_RULE_WORDS = frozenset({"operator", "lead_unit"})


@dataclass(frozen=True)
class Source:
    """A sender of submissions."""

    name: str
    name_en: str
    role: str  # "operator", "street" or "other"
    operator: str = ""  # operator code (tower, cmcc, ...) for operators
    street_code: str = ""
    aliases: tuple[str, ...] = ()

    def label(self, lang: Lang) -> str:
        """The sender's name in ``lang``."""
        return self.name if lang == "zh" or not self.name_en else self.name_en


@dataclass(frozen=True)
class RegisterConfig:
    """What rollout.toml says about the register and its senders."""

    data_dir: Path
    sources: dict[str, Source]
    url: str = ""
    moved_m: float = 50.0
    rename_m: float = 10.0
    overdue_weeks: int = 2
    busy_timeout_s: float = 30.0
    winner: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_WINNER))
    _index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for source in self.sources.values():
            for alias in (source.name, source.name_en, source.operator, *source.aliases):
                if alias:
                    index.setdefault(normalize_token(alias), source.name)
        object.__setattr__(self, "_index", index)

    def resolve(self, text: str) -> Source:
        """The sender called ``text`` (any alias); :class:`UnknownSourceError` when there is none."""
        name = self._index.get(normalize_token(text))
        if name is None:
            raise UnknownSourceError("register.source_unknown", value=text, known=" / ".join(self.sources))
        return self.sources[name]

    def match(self, values: pd.Series) -> pd.Series:
        """The sender named by each text (``""`` when none), e.g. a garage's lead unit."""
        distinct = {v: self._index.get(normalize_token(v), "") for v in values.dropna().astype(str).unique()}
        return values.astype(object).map(distinct).fillna("")

    @property
    def operator_sources(self) -> dict[str, str]:
        """Operator code -> sender name."""
        return {s.operator: s.name for s in self.sources.values() if s.operator}


def load_register_config(config: Config, *, street_table: pd.DataFrame | None = None) -> RegisterConfig:
    """The senders and register settings of the project in ``config`` (``street_table``: the
    project's streets, read from ``streets.csv`` when not given)."""
    path = config.data_dir / CONFIG_FILE
    raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    sources = _default_sources(config, street_table)
    for name, entry in (raw.get("sources") or {}).items():
        if not isinstance(entry, dict):
            raise ConfigError("register.config_source_table", path=path, name=name)
        known = sources.get(name)
        aliases = tuple(str(a) for a in entry.get("aliases", ()))
        if known is not None:
            sources[name] = Source(**{**known.__dict__, "aliases": (*known.aliases, *aliases)})
        else:
            sources[name] = Source(name=str(name), name_en=str(entry.get("name_en", "")), role="other", aliases=aliases)
    register = raw.get("register") or {}
    winner = dict(DEFAULT_WINNER)
    for kind, rule in (register.get("winner") or {}).items():
        if kind not in DEFAULT_WINNER or not isinstance(rule, list):
            raise ConfigError("register.config_winner", path=path, kind=kind)
        unknown = [r for r in rule if r not in _RULE_WORDS and r not in sources]
        if unknown:
            raise ConfigError("register.config_winner_unknown", path=path, kind=kind, unknown=", ".join(map(str, unknown)))
        winner[kind] = tuple(str(r) for r in rule)
    try:
        return RegisterConfig(
            data_dir=config.data_dir,
            sources=sources,
            winner=winner,
            url=str(register.get("url", "")),
            moved_m=float(register.get("moved_m", 50.0)),
            rename_m=float(register.get("rename_m", 10.0)),
            overdue_weeks=int(register.get("overdue_weeks", 2)),
            busy_timeout_s=float(register.get("busy_timeout_s", 30.0)),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError("register.config_value", path=path, detail=str(e)) from e


def _default_sources(config: Config, street_table: pd.DataFrame | None) -> dict[str, Source]:
    sources = {}
    for code, aliases in OPERATORS.items():
        name = labels.operator(code, "zh")
        sources[name] = Source(name=name, name_en=labels.operator(code, "en"), role="operator", operator=code, aliases=aliases)
    if street_table is None and config.streets_table.is_file():
        from rollout.boundaries import read_street_table

        street_table = read_street_table(config)
    if street_table is not None:
        for row in street_table.to_dict("records"):
            aliases = tuple(a for a in str(row["aliases"]).split(";") if a)
            sources[row["name"]] = Source(
                name=row["name"], name_en=row["name_en"], role="street", street_code=row["street_code"], aliases=aliases
            )
    return sources
