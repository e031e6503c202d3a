"""Writing any artefact to a file by its extension: tables, layers, workbooks, figures, text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollout.errors import InputFileError
from rollout.writers.atomic import atomic_path, write_bytes
from rollout.writers.neutral import neutralize_formulas
from rollout.writers.xlsx import new_workbook, put_rows, put_table, workbook_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GeoLayers", "Table", "write_file", "write_geo", "write_table"]


@dataclass(frozen=True)
class Table:
    """A table for people: written as CSV (UTF-8 with BOM, for Excel), XLSX or JSON.

    ``headers`` renames columns (e.g. to Chinese) in CSV and XLSX; in XLSX, ``percent_columns``
    (shares, 0.405) show as 40.5%, ``date_columns`` are dates, and ``notes`` follow the table.
    """

    frame: pd.DataFrame
    headers: Mapping[str, str] | None = None
    sheet_name: str = "Sheet1"
    percent_columns: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: JSON output: the document written instead of the rows (e.g. rows with metadata).
    json: Any = None


@dataclass(frozen=True)
class GeoLayers:
    """Named layers of features (WGS-84): a GeoPackage holds them all, GeoJSON the one layer."""

    layers: Mapping[str, Any] = field(default_factory=dict)


def write_file(path: Path | str, artefact: Any) -> Path:
    """Write ``artefact`` to ``path`` atomically, in the format its extension names."""
    path = Path(path)
    if isinstance(artefact, bytes):
        return write_bytes(path, artefact)
    if isinstance(artefact, str):
        return write_bytes(path, artefact.encode("utf-8"))
    if isinstance(artefact, Table):
        return write_bytes(path, table_bytes(artefact, path))
    if isinstance(artefact, GeoLayers):
        return write_geo(path, artefact.layers)
    if hasattr(artefact, "worksheets"):  # an openpyxl Workbook
        return write_bytes(path, workbook_bytes(artefact))
    msg = f"cannot write {type(artefact).__name__} to {path}"
    raise TypeError(msg)


def write_table(
    frame: pd.DataFrame,
    path: Path | str,
    *,
    headers: Mapping[str, str] | None = None,
    sheet_name: str = "Sheet1",
    percent_columns: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
) -> Path:
    """Write a table as CSV (UTF-8 with BOM, for Excel), XLSX or JSON, by the file's extension."""
    return write_file(path, Table(frame, headers=headers, sheet_name=sheet_name, percent_columns=percent_columns, notes=notes))


def table_bytes(table: Table, path: Path) -> bytes:
    """The bytes of ``table`` in the format ``path``'s extension names."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        shown = neutralize_formulas(table.frame.rename(columns=dict(table.headers or {})))
        return shown.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    if suffix == ".json":
        if table.json is not None:
            import json

            return (json.dumps(table.json, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        return (table.frame.to_json(orient="records", force_ascii=False, indent=2) + "\n").encode("utf-8")
    if suffix == ".xlsx":
        book = new_workbook(table.sheet_name)
        sheet = book.active
        row = put_table(sheet, table.frame, headers=table.headers, percent_columns=table.percent_columns, date_columns=table.date_columns)
        sheet.freeze_panes = "A2"
        if table.notes:
            put_rows(sheet, row + 1, [[note] for note in table.notes])
        return workbook_bytes(book)
    raise InputFileError("errors.table_format", path=path, suffix=suffix or "—")


#: The date every GeoPackage layer carries (``gpkg_contents.last_change``).
_GPKG_DATE = "2000-01-01T00:00:00.000Z"


def write_geo(path: Path | str, layers: Mapping[str, Any]) -> Path:
    """Write layers as a GeoPackage (every layer) or GeoJSON (one layer), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gpkg", ".geojson", ".json"):
        raise InputFileError("errors.geo_format", path=path)
    if suffix != ".gpkg" and len(layers) != 1:
        msg = f"{path}: GeoJSON holds one layer, not {len(layers)}"
        raise ValueError(msg)
    if suffix == ".gpkg":
        import pyogrio

        # GeoPackages record when each layer was written: a fixed date keeps the bytes the same.
        # The file is written under a temporary name and renamed once complete, as every output
        # is: SQLite's own syncs after each layer (a third of the time) add nothing to that.
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE, "OGR_SQLITE_SYNCHRONOUS": "OFF"})
    with atomic_path(path) as tmp:
        for name, layer in layers.items():
            frame = _gis_safe(layer)
            if suffix == ".gpkg":
                frame.to_file(tmp, layer=name, driver="GPKG")
            else:  # named, or the driver names the layer after the temporary file (the bytes would differ each run)
                frame.to_file(tmp, driver="GeoJSON", layer=name)
    return path


def _gis_safe(frame: Any) -> Any:
    """GIS formats keep types: nullable integers and booleans become floats so every driver accepts them."""
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype) in ("Int64", "boolean"):
            out[column] = out[column].astype("float64")
    return out
