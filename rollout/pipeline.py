"""The whole flow from files to a progress table, as the CLI and notebooks use it.

files -> :func:`~rollout.records.read_sites` -> :func:`~rollout.join.place_sites`
-> :func:`~rollout.progress.street_progress`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout import settings
from rollout.boundaries import is_approximate, read_street_table, read_streets
from rollout.config import Config, load_config, read_targets
from rollout.errors import InputFileError
from rollout.join import place_sites
from rollout.progress import street_progress
from rollout.records import SiteLoad, _concat_problems, read_sites
from rollout.schema import KINDS, SiteKind

__all__ = ["Project", "default_site_file", "load_project"]

log = logging.getLogger(__name__)
_SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class Project:
    """Configuration, streets and the loaded records of both kinds."""

    config: Config
    streets: gpd.GeoDataFrame
    macro: SiteLoad
    garage: SiteLoad
    as_of: dt.date
    #: Where the records came from when they came from the register (None: the site files).
    register: object | None = None

    @property
    def approximate(self) -> bool:
        """True when the street polygons are the offline approximation."""
        return is_approximate(self.streets)

    @property
    def problems(self) -> pd.DataFrame:
        """Rejects and warnings of both kinds."""
        return _concat_problems([self.macro.problems, self.garage.problems])

    def progress(self) -> pd.DataFrame:
        """Per-street progress on ``as_of`` with a district total row."""
        table = read_street_table(self.config)
        targets = read_targets(self.config, list(table["street_code"]))
        result = street_progress(self.macro.records, self.garage.records, table, targets, self.config, as_of=self.as_of)
        result["street_zones"] = self.streets["source"].iloc[0] if len(self.streets) else ""
        return result


def default_site_file(config: Config, kind: SiteKind) -> Path | None:
    """The site file of ``kind`` in ``data/sites``, or None when there is none."""
    found = [config.sites_dir / f"{stem}{suffix}" for stem in kind.file_stems for suffix in _SUFFIXES]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        msg = f"both {found[0]} and {found[1]} exist; keep one so that it is clear which is current."
        raise InputFileError(msg)
    return found[0] if found else None


def load_project(
    data_dir: Path | str | None = None,
    *,
    macro: Sequence[Path | str] | None = None,
    garage: Sequence[Path | str] | None = None,
    as_of: dt.date | None = None,
    crs: str | None = None,
    sheet: str | None = None,
    boundaries: Path | str | None = None,
    db: str | None = None,
    use_register: bool | None = None,
    lang: str = "zh",
) -> Project:
    """Read the configuration, the streets and both kinds of site files, and place the sites.

    Site files default (``None``) to ``data/sites/macro_stations.csv|xlsx`` and
    ``data/sites/garage_compounds.csv|xlsx``; an empty list reads none of that kind. A kind
    with no file loads no records; at least one kind must have a file.

    The register (``db``, else ``[register] url``, else ``data/register.sqlite``) is read
    instead of ``data/sites`` when one exists and no files are named; ``use_register`` False
    reads the files, True requires the register. ``lang`` is the language of its errors.
    """
    config = load_config(settings.data_dir if data_dir is None else data_dir)
    as_of = settings.today() if as_of is None else as_of
    streets = read_streets(config, path=boundaries)
    register = _register_records(config, streets, db, use_register, as_of, lang) if macro is None and garage is None else None
    if register is not None:
        loads, snapshot = register
        return Project(config=config, streets=streets, macro=loads["macro"], garage=loads["garage"], as_of=as_of, register=snapshot)
    loads = {}
    for kind, paths in ((KINDS["macro"], macro), (KINDS["garage"], garage)):
        if paths is None:
            default = default_site_file(config, kind)
            if default is None:
                log.warning("no %s file in %s; counting none", kind.name, config.sites_dir)
            paths = [default] if default else []
        if paths:
            loads[kind.name] = place_sites(read_sites(paths, kind=kind.name, crs=crs, sheet=sheet, as_of=as_of), streets, config)
        else:
            loads[kind.name] = empty_load(kind)
    if not any(len(load.files) for load in loads.values()):
        msg = f"{config.sites_dir}: no site files (macro_stations.csv|xlsx, garage_compounds.csv|xlsx)."
        raise InputFileError(msg)
    return Project(config=config, streets=streets, macro=loads["macro"], garage=loads["garage"], as_of=as_of)


def _register_records(config: Config, streets, db: str | None, use_register: bool | None, as_of: dt.date, lang: str):
    """The register's loads and snapshot when the register is the source, else None."""
    if use_register is False:
        return None
    from rollout.register.loads import register_site_loads
    from rollout.register.store import find_register

    if use_register or find_register(config, db) is not None:
        return register_site_loads(config, streets, db=db, as_of=as_of, lang=lang)
    return None


def empty_load(kind: SiteKind) -> SiteLoad:
    """A load with no files and no records."""
    columns = [*kind.field_names, "street_code", "street_name", "source_file", "source_row", "flags"]
    records = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    for name in kind.date_fields():
        records[name] = pd.Series(dtype="datetime64[ns]")
    if "counts_toward_target" in records.columns:
        records["counts_toward_target"] = pd.Series(dtype=bool)
    files = pd.DataFrame(columns=["file", "rows", "blank_rows", "encoding", "sheet", "extra_columns"])
    return SiteLoad(kind=kind, records=records, problems=_concat_problems([]), files=files)
