"""Tables people and GIS read: progress, problems and normalised records, built in memory.

Each function returns an artefact (:class:`rollout.writers.Table`, :class:`~rollout.writers.GeoLayers`
or text) for :func:`rollout.writers.write_file`; the ``write_*`` helpers do both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from rollout import labels
from rollout.errors import InputFileError
from rollout.i18n import Lang, t
from rollout.problems import with_reasons
from rollout.progress import total_row
from rollout.records import SiteLoad

if TYPE_CHECKING:
    from rollout.writers import Table

# The writers are imported by the functions that build or write files: a progress table shown on
# the terminal needs none of them.

__all__ = [
    "PROGRESS_FORMATS",
    "problems_table",
    "progress_json",
    "progress_table",
    "progress_text",
    "records_artefacts",
    "records_table",
    "write_problems",
    "write_progress",
    "write_records",
]

PROGRESS_FORMATS = ("csv", "json", "xlsx")
LAYERS = {"macro": "macro_stations", "garage": "garage_compounds"}
#: Columns of the terminal progress table.
TERMINAL_COLUMNS = [
    "street_name",
    "macro_target", "macro_done", "macro_pct", "macro_remaining", "macro_expected", "macro_pace",
    "garage_target", "garage_done", "garage_pct", "garage_remaining", "garage_expected", "garage_pace",
]  # fmt: skip


def problems_table(problems: pd.DataFrame, *, lang: Lang) -> Table:
    """The problems report: one line per problem with its reason in ``lang``; Chinese headers,
    severities and kinds under ``zh``, the canonical English ones under ``en``."""
    from rollout.writers import Table

    table = with_reasons(problems, lang)
    table["severity"] = table["severity"].map(lambda s: t(f"labels.severity.{s}", lang))
    table["kind"] = table["kind"].map(lambda k: labels.kind(k, lang))
    headers = labels.headers(table.columns, lang, family="problem_column")
    return Table(table, headers=headers, sheet_name=t("labels.sheet.problems", lang))


def write_problems(problems: pd.DataFrame, path: Path | str, *, lang: Lang) -> Path:
    """Write the problems report as CSV or XLSX."""
    from rollout.writers import write_file

    return write_file(path, problems_table(problems, lang=lang))


def progress_table(table: pd.DataFrame, *, fmt: str, lang: Lang, approximate: bool = False, district: str | None = None) -> Any:
    """A progress table as CSV (English columns, codes: a :class:`Table`), JSON (rows with the
    day, the total's code and the street zones) or XLSX (a workbook for people, see
    :func:`rollout.progress_xlsx.progress_workbook`, with the machine columns on a second sheet)."""
    from rollout.writers import Table

    if fmt == "csv":
        return Table(table)
    if fmt == "json":
        return Table(table, json=progress_json(table))
    if fmt == "xlsx":
        from rollout.progress_xlsx import progress_workbook

        return progress_workbook(table, lang=lang, district=district, approximate=approximate)
    raise InputFileError("errors.progress_format", path=f"*.{fmt}")


def progress_json(table: pd.DataFrame) -> dict:
    """The JSON document of a progress table."""
    return {
        "as_of": str(table["as_of"].iloc[0]),
        "district_code": str(total_row(table)["street_code"]),
        "street_zones": str(table["street_zones"].iloc[0]) if "street_zones" in table else "",
        "rows": json.loads(table.to_json(orient="records", force_ascii=False)),
    }


def write_progress(table: pd.DataFrame, path: Path | str, *, lang: Lang, approximate: bool = False) -> Path:
    """Write a progress table by ``path``'s extension (.csv, .json or .xlsx)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PROGRESS_FORMATS:
        raise InputFileError("errors.progress_format", path=path)
    from rollout.writers import write_file

    return write_file(path, progress_table(table, fmt=fmt, lang=lang, approximate=approximate))


def progress_text(table: pd.DataFrame, *, lang: Lang, approximate: bool = False) -> str:
    """The progress table as text for a terminal, with the day and the approximation note."""
    shown = labels.render_codes(table[TERMINAL_COLUMNS], lang)
    shown["street_name"] = table[labels.street_name_column(lang)]
    for column in ("macro_pct", "garage_pct"):
        shown[column] = shown[column].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}%")
    shown.columns = [labels.column(c, lang) for c in TERMINAL_COLUMNS]
    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 250, "display.max_columns", 50):
        text = t("labels.as_of_title", lang, date=table["as_of"].iloc[0]) + "\n" + shown.to_string(index=False)
    if approximate:
        text += "\n" + t("labels.note", lang, text=labels.approximate_note(lang))
    return text


def records_table(load: SiteLoad) -> gpd.GeoDataFrame:
    """Loaded records with canonical English columns, ISO dates and rounded WGS-84 coordinates."""
    records = load.records.copy()
    points = gpd.points_from_xy(records["lon"], records["lat"])  # where the records are, before rounding
    for name in load.kind.date_fields():
        records[name] = records[name].dt.strftime("%Y-%m-%d").fillna("")
    records["lon"] = records["lon"].round(7)
    records["lat"] = records["lat"].round(7)
    first = [load.kind.id_field, "name", "street_code", "street_name", "status", "lon", "lat"]
    ordered = first + [c for c in records.columns if c not in first and c != "geometry"]
    return gpd.GeoDataFrame(records[ordered], geometry=points, crs=4326)


def records_artefacts(loads: Sequence[SiteLoad], path: Path | str) -> dict[Path, object]:
    """Loaded records as files by ``path``'s extension: CSV, GeoJSON or GeoPackage.

    A GeoPackage holds one layer per kind. CSV and GeoJSON hold one kind per file: with two
    kinds the kind's name is added to the file name (``clean_macro.csv``).
    """
    from rollout.writers import GeoLayers, Table

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".geojson", ".json", ".gpkg"):
        raise InputFileError("errors.records_format", path=path)
    if suffix == ".gpkg":
        return {path: GeoLayers({LAYERS[load.kind.name]: records_table(load) for load in loads})}
    out: dict[Path, object] = {}
    for load in loads:
        target = path if len(loads) == 1 else path.with_name(f"{path.stem}_{load.kind.name}{path.suffix}")
        table = records_table(load)
        out[target] = (
            Table(pd.DataFrame(table.drop(columns="geometry"))) if suffix == ".csv" else GeoLayers({LAYERS[load.kind.name]: table})
        )
    return out


def write_records(loads: Sequence[SiteLoad], path: Path | str) -> list[Path]:
    """Write loaded records (see :func:`records_artefacts`); returns the files written."""
    from rollout.writers import write_file

    return [write_file(target, artefact) for target, artefact in records_artefacts(loads, path).items()]
