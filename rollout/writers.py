"""Writing loaded records and problem reports for people and for GIS."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout import settings
from rollout.boundaries import APPROXIMATE_NOTE
from rollout.errors import InputFileError
from rollout.io import atomic_path, write_table
from rollout.progress import COLUMN_LABELS, PACE_LABELS
from rollout.records import REJECTED, SiteLoad

__all__ = ["records_table", "write_problems", "write_progress", "write_records"]

PROBLEM_HEADERS_ZH = {
    "file": "文件",
    "row": "行号",
    "column": "列",
    "value": "值",
    "severity": "级别",
    "reason_code": "原因代码",
    "reason": "原因及处理",
    "kind": "类型",
    "record_id": "编码",
}
_LAYER = {"macro": "macro_stations", "garage": "garage_compounds"}


def write_problems(problems: pd.DataFrame, path: Path | str) -> Path:
    """Write rejects and warnings as CSV or XLSX (Chinese headers when the language is zh)."""
    table = problems.copy()
    if settings.language == "zh":
        table["severity"] = table["severity"].map({REJECTED: "拒收", "warning": "警告"})
        table["kind"] = table["kind"].map({"macro": "宏站", "garage": "车库"})
        return write_table(table, path, headers=PROBLEM_HEADERS_ZH, sheet_name="问题清单")
    return write_table(table, path, sheet_name="problems")


def records_table(load: SiteLoad) -> gpd.GeoDataFrame:
    """Loaded records with canonical English columns, ISO dates and rounded WGS-84 coordinates."""
    records = load.records.copy()
    for name in load.kind.date_fields():
        records[name] = records[name].dt.strftime("%Y-%m-%d").fillna("")
    records["lon"] = records["lon"].round(7)
    records["lat"] = records["lat"].round(7)
    first = [load.kind.id_field, "name", "street_code", "street_name", "status", "lon", "lat"]
    ordered = first + [c for c in records.columns if c not in first and c != "geometry"]
    return gpd.GeoDataFrame(records[ordered], geometry=records.geometry, crs=4326)


def write_records(loads: Sequence[SiteLoad], path: Path | str) -> list[Path]:
    """Write loaded records as CSV, GeoJSON or GeoPackage, by ``path``'s extension.

    A GeoPackage holds one layer per kind. CSV and GeoJSON hold one kind per file: with two
    kinds the kind's name is added to the file name (``clean_macro.csv``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".geojson", ".json", ".gpkg"):
        msg = f"{path}: write records as .csv, .geojson or .gpkg."
        raise InputFileError(msg)
    written = []
    if suffix == ".gpkg":
        with atomic_path(path) as tmp:
            for load in loads:
                _text_safe(records_table(load)).to_file(tmp, layer=_LAYER[load.kind.name], driver="GPKG")
        return [path]
    for load in loads:
        target = path if len(loads) == 1 else path.with_name(f"{path.stem}_{load.kind.name}{path.suffix}")
        table = records_table(load)
        if suffix == ".csv":
            write_table(pd.DataFrame(table.drop(columns="geometry")), target)
        else:
            with atomic_path(target) as tmp:
                _text_safe(table).to_file(tmp, driver="GeoJSON")
        written.append(target)
    return written


def _text_safe(records: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """GIS formats keep types: make nullable integers plain floats so every driver accepts them."""
    out = records.copy()
    for column in out.columns:
        if str(out[column].dtype) == "Int64":
            out[column] = out[column].astype("float64")
    return out


def write_progress(table: pd.DataFrame, path: Path | str, *, approximate: bool = False) -> Path:
    """Write a progress table as CSV (English columns), JSON or XLSX (labels in the current
    language, frozen header, percentages formatted), by ``path``'s extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    lang = settings.language
    note = APPROXIMATE_NOTE[lang] if approximate else ""
    if suffix == ".csv":
        return write_table(table, path)
    if suffix == ".json":
        payload = {
            "as_of": table["as_of"].iloc[0],
            "district_code": table["street_code"].iloc[-1],
            "street_zones": table["street_zones"].iloc[0] if "street_zones" in table else "",
            "rows": json.loads(table.to_json(orient="records", force_ascii=False)),
        }
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path
    if suffix == ".xlsx":
        shown = table.copy()
        pct = [c for c in shown.columns if c.endswith("_pct")]
        shown[pct] = shown[pct] / 100
        index = 0 if lang == "zh" else 1
        for column in ("macro_pace", "garage_pace"):
            shown[column] = shown[column].map(lambda v: PACE_LABELS[v][index])
        headers = {c: COLUMN_LABELS.get(c, (c, c))[index] for c in shown.columns}
        return write_table(
            shown,
            path,
            headers=headers,
            sheet_name="进度" if lang == "zh" else "progress",
            percent_columns=tuple(pct),
            notes=(note,) if note else (),
        )
    msg = f"{path}: write progress as .csv, .json or .xlsx."
    raise InputFileError(msg)
