"""The project configuration: ``rollout.toml`` and ``targets.csv`` in the data folder.

``rollout.toml`` names the district, the plan's dates and the district targets;
``targets.csv`` splits the targets over the streets. Nothing about Putuo is hard-coded in
the library: it all comes from these files (Putuo's are the shipped defaults).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rollout.errors import ConfigError

__all__ = ["DEFAULT_LIMITS", "Config", "District", "allocate_targets", "load_config", "read_targets", "street_districts"]

CONFIG_FILE = "rollout.toml"
TARGETS_FILE = "targets.csv"
TARGET_COLUMNS = ("macro_target", "garage_target")

#: Plausible range of the numbers in site files (``[limits]`` in rollout.toml overrides them);
#: a value outside is a warning and is left blank. Counts are never negative; a compound of
#: 20,000 households or a 500 m mast is already beyond anything in a Chinese city.
DEFAULT_LIMITS: dict[str, tuple[float, float]] = {
    "households": (0, 20_000),
    "buildings": (0, 500),
    "garage_levels": (0, 10),
    "garage_area_m2": (0, 1_000_000),
    "parking_spaces": (0, 30_000),
    "build_year": (1900, 2100),
    "complaints_12345": (0, 100_000),
    "antenna_height_m": (0, 500),
    "callable_pct_cmcc": (0, 100),
    "callable_pct_ctc": (0, 100),
    "callable_pct_cucc": (0, 100),
    "callable_pct_cbn": (0, 100),
    # SS-RSRP reporting range of 3GPP TS 38.133: a value outside is not a measurement.
    "rsrp_before_dbm": (-156, -31),
    "rsrp_after_dbm": (-156, -31),
}


@dataclass(frozen=True)
class District:
    """One district of a city configuration, with its own targets."""

    code: str
    name: str
    name_en: str
    macro_target: int
    garage_target: int


@dataclass(frozen=True)
class Config:
    """What ``rollout.toml`` says.

    A district configuration has ``[district]``; a city configuration has ``[city]`` and one
    ``[[districts]]`` entry per district. In both, ``district_code``/``district_name`` name the
    top level (the district, or the city), which is also the total row of the progress table,
    and ``macro_target``/``garage_target`` are its targets.
    """

    data_dir: Path
    district_code: str
    district_name: str
    district_name_en: str
    year: int
    start: dt.date
    deadline: dt.date
    macro_target: int
    garage_target: int
    plan_source: str = ""
    #: Weeks over which the recent weekly rate is measured, for forecasts.
    rate_weeks: int = 4
    #: A record not updated for this many weeks is "stale".
    stale_weeks: int = 4
    #: Weights for ranking compounds not yet started (see rollout.gaps.compound_priority).
    priority_weights: tuple[tuple[str, float], ...] = (("parking_spaces", 0.5), ("building_age", 0.3), ("complaints_12345", 0.2))
    #: A garage passes acceptance when every required operator's callable share reaches this.
    callable_threshold_pct: float = 90.0
    required_operators: tuple[str, ...] = ("cmcc", "ctc", "cucc")
    #: Above this many sites of a kind the maps show counted grid cells, not one marker each.
    map_aggregate_above: int = 20_000
    #: Background of the maps unless --basemap says otherwise (rollout.basemaps.BASEMAPS).
    map_basemap: str = "osm"
    #: Key for 天地图 (Tianditu) tiles, [map] tianditu_key; needed by --basemap tianditu.
    tianditu_key: str = ""
    #: The districts; one for a district configuration.
    districts: tuple[District, ...] = ()
    #: Language of labels and messages ([ui] lang), unless --lang or ROLLOUT_LANG say otherwise.
    lang: str = "zh"
    #: Plausible range of each number in site files: :data:`DEFAULT_LIMITS` with ``[limits]``.
    limits: tuple[tuple[str, float, float], ...] = tuple((k, lo, hi) for k, (lo, hi) in DEFAULT_LIMITS.items())

    @property
    def limit_map(self) -> dict[str, tuple[float, float]]:
        """column -> (lowest, highest) plausible value."""
        return {name: (low, high) for name, low, high in self.limits}

    @property
    def is_city(self) -> bool:
        """True for a configuration of several districts."""
        return len(self.districts) > 1

    @property
    def streets_table(self) -> Path:
        """The table of street-level units."""
        return self.data_dir / "boundaries" / "streets.csv"

    @property
    def boundaries_file(self) -> Path:
        """Where street polygons are kept once fetched or imported."""
        return self.data_dir / "boundaries" / f"{self.district_slug}_streets.geojson"

    @property
    def district_slug(self) -> str:
        """A file-name-safe short name of the district (``putuo``)."""
        return self.district_name_en.split()[0].lower() if self.district_name_en else self.district_code

    @property
    def targets_file(self) -> Path:
        """Per-street targets."""
        return self.data_dir / TARGETS_FILE

    @property
    def sites_dir(self) -> Path:
        """Default folder of the site files."""
        return self.data_dir / "sites"

    def district(self, lang: str) -> str:
        """The top level's name as readers of ``lang`` say it (普陀区 / Putuo District)."""
        return self.district_name if lang == "zh" else self.district_name_en

    def district_target(self, kind: str) -> int:
        """The district target for ``macro`` or ``garage``."""
        return self.macro_target if kind == "macro" else self.garage_target


def load_config(data_dir: Path | str) -> Config:
    """Read ``rollout.toml`` from ``data_dir``."""
    data_dir = Path(data_dir)
    path = data_dir / CONFIG_FILE
    if not path.is_file():
        raise ConfigError("errors.config_missing", path=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as e:
        raise ConfigError("errors.config_unreadable", path=path, detail=str(e).splitlines()[0] if str(e) else type(e).__name__) from e
    except IsADirectoryError as e:
        raise ConfigError("errors.config_unreadable", path=path, detail=e.strerror) from e
    try:
        plan = raw["plan"]
        if "districts" in raw:
            top, districts = _city(raw, path)
        else:
            district = raw["district"]
            top = {"code": str(district["code"]), "name": str(district["name"]), "name_en": str(district.get("name_en", ""))}
            top |= {"macro_target": int(plan["macro_target"]), "garage_target": int(plan["garage_target"])}
            districts = (District(top["code"], top["name"], top["name_en"], top["macro_target"], top["garage_target"]),)
        config = Config(
            data_dir=data_dir,
            district_code=top["code"],
            district_name=top["name"],
            district_name_en=top["name_en"],
            year=int(plan["year"]),
            start=_date(plan["start"]),
            deadline=_date(plan["deadline"]),
            macro_target=top["macro_target"],
            garage_target=top["garage_target"],
            plan_source=str(plan.get("source", "")),
            districts=districts,
            **_optional_sections(raw, path),
        )
    except ConfigError:
        raise
    except KeyError as e:
        raise ConfigError("errors.config_key_missing", path=path, key=e.args[0]) from e
    except (TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ConfigError("errors.config_value", path=path, detail=str(e)) from e
    if config.deadline <= config.start:
        raise ConfigError("errors.config_deadline", path=path, deadline=config.deadline, start=config.start)
    return config


def _city(raw: dict, path: Path) -> tuple[dict, tuple[District, ...]]:
    """The [city] table and its [[districts]]; the city's targets, when given, must be their sums."""
    city = raw["city"]
    districts = tuple(
        District(str(d["code"]), str(d["name"]), str(d.get("name_en", "")), int(d.get("macro_target", 0)), int(d.get("garage_target", 0)))
        for d in raw["districts"]
    )
    codes = [d.code for d in districts]
    if len(set(codes)) != len(codes):
        raise ConfigError("errors.config_district_twice", path=path, codes=", ".join(sorted({c for c in codes if codes.count(c) > 1})))
    top = {"code": str(city["code"]), "name": str(city["name"]), "name_en": str(city.get("name_en", ""))}
    for column in TARGET_COLUMNS:
        total = sum(getattr(d, column) for d in districts)
        if column in city and int(city[column]) != total:
            raise ConfigError("errors.config_city_target", path=path, column=column, given=int(city[column]), total=total)
        top[column] = total
    return top, districts


def _optional_sections(raw: dict, path: Path) -> dict:
    """Settings from the optional [gaps], [map], [acceptance] and [ui] tables."""
    gaps, acceptance = raw.get("gaps", {}), raw.get("acceptance", {})
    out: dict = {}
    if "rate_weeks" in gaps:
        out["rate_weeks"] = int(gaps["rate_weeks"])
    if "stale_weeks" in gaps:
        out["stale_weeks"] = int(gaps["stale_weeks"])
    if "priority" in gaps:
        weights = {str(k): float(v) for k, v in gaps["priority"].items()}
        known = {"parking_spaces", "building_age", "complaints_12345"}
        if unknown := set(weights) - known:
            raise ConfigError(
                "errors.config_priority_unknown", path=path, unknown=", ".join(sorted(unknown)), known=", ".join(sorted(known))
            )
        out["priority_weights"] = tuple(weights.items())
    map_table = raw.get("map", {})
    if "aggregate_above" in map_table:
        out["map_aggregate_above"] = int(map_table["aggregate_above"])
    if "basemap" in map_table:
        from rollout.basemaps import BASEMAPS

        if map_table["basemap"] not in BASEMAPS:
            raise ConfigError("errors.config_basemap", path=path, value=map_table["basemap"], allowed=", ".join(BASEMAPS))
        out["map_basemap"] = str(map_table["basemap"])
    if "tianditu_key" in map_table:
        out["tianditu_key"] = str(map_table["tianditu_key"]).strip()
    if "callable_threshold_pct" in acceptance:
        out["callable_threshold_pct"] = float(acceptance["callable_threshold_pct"])
    if "required_operators" in acceptance:
        out["required_operators"] = tuple(str(o) for o in acceptance["required_operators"])
    if out.get("rate_weeks", 1) < 1 or out.get("stale_weeks", 1) < 1:
        raise ConfigError("errors.config_weeks", path=path)
    if "limits" in raw:
        out["limits"] = _limits(raw["limits"], path)
    if "lang" in raw.get("ui", {}):
        from rollout.i18n import LanguageError, normalise_lang

        try:
            out["lang"] = normalise_lang(str(raw["ui"]["lang"]))
        except LanguageError as e:
            raise ConfigError("errors.config_lang", path=path, value=raw["ui"]["lang"]) from e
    return out


def _limits(table: object, path: Path) -> tuple[tuple[str, float, float], ...]:
    """[limits]: ``column = highest`` or ``column = [lowest, highest]``, over the defaults."""
    if not isinstance(table, dict):
        raise ConfigError("errors.config_limits", path=path, key="limits", value=table)
    limits = dict(DEFAULT_LIMITS)
    for key, value in table.items():
        if key not in DEFAULT_LIMITS:
            raise ConfigError("errors.config_limits_unknown", path=path, unknown=key, known=", ".join(DEFAULT_LIMITS))
        pair = value if isinstance(value, list) else [limits[key][0], value]
        if len(pair) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair) or pair[0] > pair[1]:
            raise ConfigError("errors.config_limits", path=path, key=key, value=value)
        limits[key] = (float(pair[0]), float(pair[1]))
    return tuple((k, lo, hi) for k, (lo, hi) in limits.items())


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def read_targets(config: Config, street_table: pd.DataFrame) -> pd.DataFrame:
    """Read per-street targets, checked against the streets (``street_table``, from
    :func:`rollout.boundaries.read_street_table`) and the district totals.

    Returns a frame indexed by ``street_code`` with ``macro_target`` and ``garage_target``.
    """
    path = config.targets_file
    street_codes = list(street_table["street_code"])
    if not path.is_file():
        raise ConfigError("errors.targets_missing", path=path)
    table = read_small_table(path, ConfigError, "errors.targets_unreadable")
    missing_cols = [c for c in ("street_code", *TARGET_COLUMNS) if c not in table.columns]
    if missing_cols:
        raise ConfigError("errors.targets_columns", path=path, columns=", ".join(missing_cols))
    table = table.set_index("street_code")
    unknown = sorted(set(table.index) - set(street_codes))
    missing = sorted(set(street_codes) - set(table.index))
    repeated = sorted(set(table.index[table.index.duplicated()]))
    if unknown or missing or repeated:
        listed = {name: ", ".join(codes) or "—" for name, codes in (("unknown", unknown), ("missing", missing), ("repeated", repeated))}
        raise ConfigError("errors.targets_codes", path=path, **listed)
    for column in TARGET_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any() or (values < 0).any() or (values > 1e9).any() or (values % 1 != 0).any():
            raise ConfigError("errors.targets_numbers", path=path, column=column)
        table[column] = values.astype(int)
    districts = street_districts(config, street_table)
    for district in config.districts:
        members = [c for c in street_codes if districts[c] == district.code]
        for column in TARGET_COLUMNS:
            total = int(table.loc[members, column].sum())
            expected = getattr(district, column)
            if total != expected:
                key = "errors.targets_sum_city" if config.is_city else "errors.targets_sum"
                raise ConfigError(key, path=path, column=column, total=total, expected=expected, district=district.name)
    return table.loc[street_codes, list(TARGET_COLUMNS)]


def read_small_table(path: Path, error: type[Exception], key: str) -> pd.DataFrame:
    """A small configuration table (targets.csv, streets.csv) as text, UTF-8 (with or without a
    BOM) or GB18030; an empty, binary or malformed file is ``error(key)`` naming it."""
    import io

    try:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        if "\x00" in text or not text.strip():
            raise ValueError("empty" if not text.strip() else "binary data")
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise error(key, path=path, detail=str(e).splitlines()[0] if str(e) else type(e).__name__) from e  # type: ignore[call-arg]
    table.columns = [str(c).strip() for c in table.columns]
    return table


def street_districts(config: Config, street_table: pd.DataFrame) -> dict[str, str]:
    """The district of each street of ``street_table``: its ``district_code``, required for a city."""
    street_codes = list(street_table["street_code"])
    if not config.is_city:
        return dict.fromkeys(street_codes, config.districts[0].code)
    if "district_code" not in street_table.columns:
        raise ConfigError("errors.district_code_column", path=config.streets_table)
    known = {d.code for d in config.districts}
    unknown = sorted(set(street_table["district_code"]) - known)
    if unknown:
        raise ConfigError("errors.district_code_unknown", path=config.streets_table, codes=", ".join(unknown))
    return dict(zip(street_codes, street_table["district_code"], strict=True))


def allocate_targets(weights: pd.Series, total: int) -> pd.Series:
    """Split ``total`` over the index of ``weights`` by the largest-remainder method.

    Ties in the remainders go to the earlier index entry, so the result is deterministic.

    >>> allocate_targets(pd.Series([1.0, 1.0, 1.0], index=list("abc")), 10).tolist()
    [4, 3, 3]
    """
    values = weights.astype(float)
    if values.isna().any() or (values < 0).any() or values.sum() <= 0:
        raise ConfigError("errors.allocation_weights")
    quotas = values / values.sum() * total
    shares = quotas.to_numpy()
    floors = np.floor(shares).astype(int)
    left = total - int(floors.sum())
    remainders = shares - floors
    order = np.lexsort((np.arange(len(values)), -remainders))
    result = floors.copy()
    result[order[:left]] += 1
    return pd.Series(result, index=weights.index, name=weights.name)
