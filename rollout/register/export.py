"""``rollout export``: the register's records (the ones that count, as known on a day) for
other tools: GeoPackage (QGIS), GeoJSON, KML/KMZ (奥维互动地图, Google Earth), XLSX and CSV.

Contact names and phone numbers are never exported. KML is written with fastkml: placemarks
styled by status, one folder per street, a popup table of the record's fields (escaped).
GDAL's LIBKML driver is not used: through pyogrio it cannot write a style table, and inline
feature styles crash its writer in the GDAL this project ships with.
"""

from __future__ import annotations

import datetime as dt
import html
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from rollout.i18n import Lang, has, t
from rollout.io import atomic_path, neutralize_formulas, write_table
from rollout.records import SiteLoad
from rollout.register.render import status_label
from rollout.schema import KINDS, OPERATORS, SOLUTIONS
from rollout.status import status_as_of
from rollout.writers import records_table

__all__ = ["EXPORT_FORMATS", "export_tables", "write_export"]

EXPORT_FORMATS = ("gpkg", "kml", "kmz", "geojson", "xlsx", "csv")
_PRIVATE = ("contact", "phone")
_LAYER = {"macro": "macro_stations", "garage": "garage_compounds"}
#: Placemark colours by status (RGB); KML wants aabbggrr.
_COLOURS = {
    "planned": "9e9e9e",
    "not_started": "9e9e9e",
    "site_secured": "64b5f6",
    "surveyed": "64b5f6",
    "plan_agreed": "1e88e5",
    "under_construction": "fb8c00",
    "on_air": "2e7d32",
    "covered": "43a047",
    "accepted": "1b5e20",
    "blocked": "e53935",
    "cancelled": "212121",
}
_ICON = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
_POPUP = {
    "macro": (
        "street_name",
        "status_as_of",
        "operator",
        "band",
        "antenna_height_m",
        "site_secured_date",
        "construction_start_date",
        "on_air_date",
        "planned_on_air_date",
        "blocker",
        "register_source",
        "register_version",
    ),
    "garage": (
        "street_name",
        "status_as_of",
        "address",
        "households",
        "parking_spaces",
        "solution",
        "lead_unit",
        "operators",
        "survey_date",
        "plan_agreed_date",
        "construction_start_date",
        "covered_date",
        "accepted_date",
        "planned_covered_date",
        "blocker",
        "register_source",
        "register_version",
    ),
}


def export_tables(loads: dict[str, SiteLoad], day: dt.date) -> dict[str, gpd.GeoDataFrame]:
    """Per kind: the records with canonical columns, ISO dates, ``status_as_of`` on ``day``,
    the register's sender and version, and no contact names or phone numbers."""
    tables = {}
    for name, load in loads.items():
        table = records_table(load).drop(columns=[c for c in _PRIVATE if c in load.records.columns])
        states = status_as_of(load.records, load.kind, day).to_numpy() if len(load.records) else []
        table.insert(5, "status_as_of", states)
        tables[name] = table.sort_values(["street_code", load.kind.id_field], kind="stable").reset_index(drop=True)
    return tables


def write_export(tables: dict[str, gpd.GeoDataFrame], path: Path | str, *, fmt: str, lang: Lang, title: str) -> list[Path]:
    """Write the export in ``fmt``; returns the files written (CSV and GeoJSON: one per kind)."""
    path = Path(path)
    if fmt == "gpkg":
        with atomic_path(path) as tmp:
            for name, table in tables.items():
                _gis_safe(table).to_file(tmp, layer=_LAYER[name], driver="GPKG")
        return [path]
    if fmt in ("kml", "kmz"):
        text = build_kml(tables, lang=lang, title=title)
        with atomic_path(path) as tmp:
            if fmt == "kml":
                tmp.write_text(text, encoding="utf-8")
            else:
                with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr(
                        zipfile.ZipInfo("doc.kml", date_time=(2000, 1, 1, 0, 0, 0)), text.encode("utf-8"), zipfile.ZIP_DEFLATED
                    )
        return [path]
    if fmt == "xlsx":
        _write_workbook(tables, path, lang=lang)
        return [path]
    written = []
    for name, table in tables.items():
        target = path if len(tables) == 1 else path.with_name(f"{path.stem}_{name}{path.suffix}")
        if fmt == "csv":
            write_table(pd.DataFrame(table.drop(columns="geometry")), target, headers=_headers(name, table.columns, lang))
        else:
            with atomic_path(target) as tmp:
                _gis_safe(table).to_file(tmp, driver="GeoJSON")
        written.append(target)
    return written


def build_kml(tables: dict[str, gpd.GeoDataFrame], *, lang: Lang, title: str) -> str:
    """The KML document: a style per kind and status, a folder per street, a placemark per record."""
    from fastkml import containers, features, kml
    from fastkml.styles import IconStyle, LabelStyle, Style, StyleUrl
    from pygeoif import Point

    style_list = []
    for kind in KINDS.values():
        for status in kind.statuses:
            colour = _COLOURS.get(status, "757575")
            kml_colour = "ff" + colour[4:6] + colour[2:4] + colour[0:2]
            style_list.append(
                Style(
                    id=f"{kind.name}-{status}",
                    styles=[
                        IconStyle(color=kml_colour, scale=1.0 if kind.name == "macro" else 1.2, icon_href=_ICON),
                        LabelStyle(scale=0.8),
                    ],
                )
            )
    streets: dict[str, list] = {}
    names: dict[str, str] = {}
    for kind_name, table in tables.items():
        kind = KINDS[kind_name]
        for row in table.itertuples(index=False):  # one placemark per record: the document is built per row
            code = str(row.street_code)
            names[code] = str(row.street_name)
            label = f"{getattr(row, kind.id_field)} {row.name}".strip()
            placemark = features.Placemark(
                name=label,
                description=_popup(row, kind_name, lang),
                style_url=StyleUrl(url=f"#{kind_name}-{row.status_as_of}"),
                geometry=Point(round(float(row.lon), 7), round(float(row.lat), 7)),
            )
            streets.setdefault(code, []).append(placemark)
    folders = [containers.Folder(name=names[code], features=streets[code]) for code in sorted(streets)]
    document = containers.Document(name=title, styles=style_list, features=folders)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + kml.KML(features=[document]).to_string(prettyprint=True) + "\n"


def _popup(row, kind_name: str, lang: Lang) -> str:
    """The placemark's balloon: a table of fields, every value escaped (text from files is untrusted)."""
    cells = []
    for name in _POPUP[kind_name]:
        value = getattr(row, name, "")
        if name in ("status_as_of",):
            value = status_label(kind_name, str(value), lang)
        elif name in ("operator", "operators"):
            value = "/".join(OPERATORS[c][0 if lang == "zh" else 1] if c in OPERATORS else c for c in str(value or "").split(";") if c)
        elif name == "solution":
            value = SOLUTIONS[value][0 if lang == "zh" else 1] if value in SOLUTIONS else value
        text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        if text:
            cells.append(f"<tr><th>{html.escape(_label(kind_name, name, lang))}</th><td>{html.escape(text)}</td></tr>")
    return f"<table>{''.join(cells)}</table>"


def _label(kind_name: str, column: str, lang: Lang) -> str:
    key = f"register.export.{column}"
    if has(key):
        return t(key, lang)
    try:
        return KINDS[kind_name].field(column).zh if lang == "zh" else column
    except KeyError:
        return column


def _headers(kind_name: str, columns, lang: Lang) -> dict[str, str] | None:
    if lang != "zh":
        return None
    return {c: _label(kind_name, c, lang) for c in columns if c != "geometry"}


def _gis_safe(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = table.copy()
    for column in out.columns:
        if str(out[column].dtype) in ("Int64", "boolean"):
            out[column] = out[column].astype("float64")
    return out


def _write_workbook(tables: dict[str, gpd.GeoDataFrame], path: Path, *, lang: Lang) -> None:
    """One sheet per kind, headers in ``lang``, frozen header row, formulas neutralised."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, table in tables.items():
        frame = neutralize_formulas(pd.DataFrame(table.drop(columns="geometry")))
        headers = _headers(name, frame.columns, lang) or {}
        sheet = book.create_sheet(t(f"register.kind.{name}", lang))
        sheet.append([headers.get(c, c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([None if (not isinstance(v, str) and pd.isna(v)) else v for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    book.properties.creator = "rollout"
    book.properties.created = book.properties.modified = dt.datetime(2000, 1, 1)
    with atomic_path(path) as tmp:
        book.save(tmp)
