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
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from rollout import labels
from rollout.exports import LAYERS, records_table
from rollout.i18n import Lang, has, t
from rollout.map_data import GARAGE_FIELDS, MACRO_FIELDS
from rollout.records import SiteLoad
from rollout.schema import KINDS
from rollout.status import status_as_of
from rollout.writers import GeoLayers, Table, new_workbook, put_table, write_file
from rollout.writers.xlsx import sheet_title

__all__ = ["EXPORT_FORMATS", "export_files", "export_tables", "write_export"]

EXPORT_FORMATS = ("gpkg", "kml", "kmz", "geojson", "xlsx", "csv")
_PRIVATE = ("contact", "phone")
#: Zip entries carry this date, so that the same records give the same KMZ.
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
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
#: The placemark popup: the fields the map's popups show, the status on the day, and where the record came from.
_REGISTER_FIELDS = ("register_source", "register_version")
_POPUP = {
    "macro": ("status_as_of", *MACRO_FIELDS, *_REGISTER_FIELDS),
    "garage": ("status_as_of", *GARAGE_FIELDS, "lead_unit", *_REGISTER_FIELDS),
}


def export_tables(loads: dict[str, SiteLoad], day: dt.date) -> dict[str, gpd.GeoDataFrame]:
    """Per kind: the records with canonical columns, ISO dates, ``status_as_of`` on ``day``,
    the register's sender and version, and no contact names or phone numbers."""
    tables = {}
    for name, load in loads.items():
        table = records_table(load).drop(columns=[c for c in _PRIVATE if c in load.records.columns])
        states = status_as_of(load.records, load.kind, day).to_numpy() if len(load.records) else np.array([], dtype=object)
        table.insert(5, "status_as_of", states)
        tables[name] = table.sort_values(["street_code", load.kind.id_field], kind="stable").reset_index(drop=True)
    return tables


def export_files(tables: dict[str, gpd.GeoDataFrame], path: Path | str, *, fmt: str, lang: Lang, title: str) -> dict[Path, object]:
    """The export in ``fmt`` as artefacts by target file (CSV and GeoJSON: one file per kind)."""
    path = Path(path)
    if fmt == "gpkg":
        return {path: GeoLayers({LAYERS[name]: table for name, table in tables.items()})}
    if fmt in ("kml", "kmz"):
        text = build_kml(tables, lang=lang, title=title)
        return {path: text if fmt == "kml" else _kmz(text)}
    if fmt == "xlsx":
        return {path: _workbook(tables, lang=lang)}
    out: dict[Path, object] = {}
    for name, table in tables.items():
        target = path if len(tables) == 1 else path.with_name(f"{path.stem}_{name}{path.suffix}")
        if fmt == "csv":
            out[target] = Table(pd.DataFrame(table.drop(columns="geometry")), headers=_headers(name, table.columns, lang))
        else:
            out[target] = GeoLayers({LAYERS[name]: table})
    return out


def write_export(tables: dict[str, gpd.GeoDataFrame], path: Path | str, *, fmt: str, lang: Lang, title: str) -> list[Path]:
    """Write the export in ``fmt`` (see :func:`export_files`); returns the files written."""
    return [write_file(target, artefact) for target, artefact in export_files(tables, path, fmt=fmt, lang=lang, title=title).items()]


def _kmz(text: str) -> bytes:
    """A KMZ: the KML document zipped as ``doc.kml``, with a fixed date."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("doc.kml", date_time=_ZIP_DATE), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


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
            value = labels.status(kind_name, str(value), lang)
        elif name in ("operator", "operators"):
            value = labels.operators(value, lang)
        elif name == "solution":
            value = labels.solution(value, lang)
        text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        if text:
            cells.append(f"<tr><th>{html.escape(_label(kind_name, name, lang))}</th><td>{html.escape(text)}</td></tr>")
    return f"<table>{''.join(cells)}</table>"


def _label(kind_name: str, column: str, lang: Lang) -> str:
    key = f"register.export.{column}"
    return t(key, lang) if has(key) else labels.field(kind_name, column, lang)


def _headers(kind_name: str, columns, lang: Lang) -> dict[str, str] | None:
    if lang != "zh":
        return None
    return {c: _label(kind_name, c, lang) for c in columns if c != "geometry"}


def _workbook(tables: dict[str, gpd.GeoDataFrame], *, lang: Lang):
    """One sheet per kind, headers in ``lang`` (the writers store numbers as numbers and neutralise formulas)."""
    book = None
    for name, table in tables.items():
        if book is None:
            book = new_workbook(labels.kind(name, lang))
            sheet = book.active
        else:
            sheet = book.create_sheet(sheet_title(labels.kind(name, lang)))
        frame = pd.DataFrame(table.drop(columns="geometry"))
        put_table(sheet, frame, headers=_headers(name, frame.columns, lang))
        sheet.freeze_panes = "A2"
    return book
