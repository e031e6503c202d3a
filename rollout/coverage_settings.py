"""The ``[coverage]`` table of ``rollout.toml``: link budget, bands, clutter, existing network, demand.

Every key has a default (:mod:`rollout.linkbudget` for bands and clutter classes); the shipped
``data/rollout.toml`` lists them with their sources. Unknown keys are refused with the list
of known ones, so that a typo does not silently leave a default in place.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from rollout.config import Config
from rollout.errors import ConfigError
from rollout.linkbudget import BANDS, CLUTTER, CLUTTER_CODES, Band, Clutter, Receiver
from rollout.propagation import MODELS

__all__ = ["CoverageSettings", "DemandWeights", "TrafficModel", "load_coverage_settings"]


@dataclass(frozen=True)
class DemandWeights:
    """Weight of one unit of each demand component in the site-planning objective."""

    area_km2: float = 1.0  # per km² of outdoor area without coverage
    households: float = 0.01  # per household of a garage compound without indoor coverage
    traffic_mbps: float = 0.01  # per busy-hour Mbps that no cell can carry
    weak_mr_samples: float = 0.0001  # per MR sample below the weak-coverage threshold
    complaints: float = 0.5  # per 12345 complaint about mobile signal

    def as_dict(self) -> dict[str, float]:
        """The weights by component."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class TrafficModel:
    """Busy-hour traffic per person and how much of a cell's capacity may be used."""

    dou_gb_per_month: float = 20.0  # mobile data per user per month
    busy_hour_share: float = 0.08  # share of a day's traffic in the busy hour
    network_share: float = 0.5  # share of the population's traffic these stations carry
    max_utilisation: float = 0.7  # busy-hour load a cell may carry before it needs relief
    district_population: float = 0.0  # for streets without a population in streets.csv; 0: by density

    @property
    def mbps_per_person(self) -> float:
        """Average busy-hour throughput per resident carried by the modelled network."""
        per_day_mb = self.dou_gb_per_month * 1000 / 30
        return per_day_mb * self.busy_hour_share * 8 / 3600 * self.network_share


@dataclass(frozen=True)
class CoverageSettings:
    """Everything the coverage model and site planning read from ``[coverage]``."""

    receiver: Receiver = field(default_factory=Receiver)
    bands: dict[str, Band] = field(default_factory=lambda: dict(BANDS))
    clutters: dict[str, Clutter] = field(default_factory=lambda: dict(CLUTTER))
    default_band: str = "n78"
    default_clutter: str = "urban"
    clutter_file: Path | None = None
    min_gap_m2: float = 20_000.0
    grid: str = "50m"
    existing: Path | None = None
    existing_margin_m: float = 3000.0
    mr_threshold_dbm: float = -110.0
    weights: DemandWeights = field(default_factory=DemandWeights)
    traffic: TrafficModel = field(default_factory=TrafficModel)


_TOP = {
    "model",
    "rsrp_threshold_dbm",
    "ue_gain_dbi",
    "body_loss_db",
    "shadow_margin_db",
    "ul_interference_margin_db",
    "ue_height_m",
    "default_band",
    "default_clutter",
    "clutter",
    "min_gap_m2",
    "grid",
    "existing",
    "existing_margin_m",
    "mr_threshold_dbm",
    "bands",
    "clutter_classes",
    "demand",
    "traffic",
}


def load_coverage_settings(config: Config) -> CoverageSettings:
    """Read ``[coverage]`` and its sub-tables from ``rollout.toml``; defaults otherwise."""
    path = config.data_dir / "rollout.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("coverage", {}) if path.is_file() else {}
    where = f"{path}: [coverage]"
    _known(raw, _TOP, where)
    try:
        receiver = _dataclass_from(Receiver(), {k: v for k, v in raw.items() if k in {f.name for f in fields(Receiver)}}, where)
        bands = dict(BANDS)
        for name, values in raw.get("bands", {}).items():
            bands[name] = _dataclass_from(bands.get(name, replace(BANDS["n78"], name=name)), values, f"{where}.bands.{name}")
        clutters = dict(CLUTTER)
        for name, values in raw.get("clutter_classes", {}).items():
            if name not in CLUTTER_CODES:
                raise ConfigError(
                    "errors.coverage_clutter_class", where=f"{where}.clutter_classes.{name}", allowed=", ".join(CLUTTER_CODES)
                )
            clutters[name] = _dataclass_from(clutters[name], values, f"{where}.clutter_classes.{name}")
        settings = CoverageSettings(
            receiver=receiver,
            bands=bands,
            clutters=clutters,
            default_band=str(raw.get("default_band", "n78")),
            default_clutter=str(raw.get("default_clutter", "urban")),
            clutter_file=_path(config, raw.get("clutter")),
            min_gap_m2=float(raw.get("min_gap_m2", 20_000.0)),
            grid=str(raw.get("grid", "50m")),
            existing=_path(config, raw.get("existing")),
            existing_margin_m=float(raw.get("existing_margin_m", 3000.0)),
            mr_threshold_dbm=float(raw.get("mr_threshold_dbm", -110.0)),
            weights=_dataclass_from(DemandWeights(), raw.get("demand", {}), f"{where}.demand"),
            traffic=_dataclass_from(TrafficModel(), raw.get("traffic", {}), f"{where}.traffic"),
        )
    except (TypeError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError("errors.coverage_value", where=where, detail=str(e)) from e
    for key, value, allowed in (
        ("model", receiver.model, MODELS),
        ("default_band", settings.default_band, tuple(bands)),
        ("default_clutter", settings.default_clutter, CLUTTER_CODES),
    ):
        if value not in allowed:
            raise ConfigError("errors.coverage_choice", where=where, key=key, value=value, allowed=", ".join(allowed))
    return settings


def _known(raw: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError("errors.coverage_keys", where=where, unknown=", ".join(unknown), known=", ".join(sorted(known)))


def _dataclass_from(base, values: dict, where: str):
    names = {f.name: f for f in fields(base)}
    _known(values, set(names) - {"name", "code"}, where)
    converted = {}
    for key, value in values.items():
        kind = {"float": float, "int": int, "str": str}.get(str(names[key].type))
        if kind is int and float(value) != int(float(value)):
            raise ConfigError("errors.coverage_whole_number", where=where, key=key, value=value)
        converted[key] = kind(float(value)) if kind is int else kind(value) if kind else value
    return replace(base, **converted)


def _path(config: Config, value: object) -> Path | None:
    if value is None or not str(value).strip():
        return None
    path = Path(str(value))
    return path if path.is_absolute() else config.data_dir / path
