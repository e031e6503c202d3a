"""Reading the planning tables: MR/drive-test grids, 12345 complaints (and, through
:func:`read_points`, the existing network and candidate sites).

Files are read by :func:`rollout.io.read_raw_table` (CSV in any of the usual encodings and
delimiters, XLSX, Parquet; title rows; Chinese or English headers), then checked column by
column. Every data row ends up loaded, in ``rejects`` or in ``ignored`` (read but not counted):
problems tables of :mod:`rollout.problems` with the file, the row as Excel shows it (header =
row 1), the column as written, the value and a reason code with its parameters
(:func:`rollout.problems.with_reasons` renders them in Chinese or English); the counts reconcile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from rollout import crs as _crs
from rollout.io import read_raw_table
from rollout.join import assign_streets
from rollout.problems import IGNORED, REJECTED, concat_problems
from rollout.records import default_crs
from rollout.schema import CRS_INDEX, normalize_token
from rollout.tablekinds import COMPLAINTS, MR, TableKind
from rollout.values import parse_dates, parse_numbers, parse_vocab

__all__ = ["TableLoad", "column_header", "read_complaints", "read_mr", "read_points", "table_problems", "weak_samples"]

#: SS-RSRP reporting range of TS 38.133 (Table 10.1.6.1-1): values outside are not measurements.
RSRP_RANGE_DBM = (-156.0, -31.0)
#: Words that make a complaint one about mobile signal (in its category or text).
SIGNAL_WORDS = ("信号", "网络", "覆盖", "通话", "上网", "断线", "掉线", "无服务", "4g", "5g", "signal", "coverage", "network", "no service")


@dataclass(frozen=True)
class TableLoad:
    """A planning table: the rows kept (WGS-84 ``lon``/``lat``, ``source_row``), the rejects and
    the rows read but not counted (``ignored``, e.g. complaints not about signal), both problems
    tables (:data:`rollout.problems.PROBLEM_COLUMNS`)."""

    kind: TableKind
    path: Path
    records: pd.DataFrame
    rejects: pd.DataFrame
    ignored: pd.DataFrame
    rows: int
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> header in the file
    notes: tuple[tuple[str, dict], ...] = ()  # (code, params) said about the file as a whole

    @property
    def counts(self) -> dict[str, int]:
        """rows = loaded + rejected + ignored."""
        return {"rows": self.rows, "loaded": len(self.records), "rejected": len(self.rejects), "ignored": len(self.ignored)}

    @property
    def problems(self) -> pd.DataFrame:
        """The rejects and the rows not counted, in one problems table."""
        return concat_problems([self.rejects, self.ignored])


def read_points(path: Path | str, kind: TableKind, *, crs: str | None = None, sheet: str | None = None) -> TableLoad:
    """Read a planning table and check its coordinates; other columns are parsed as text.

    The coordinate system comes from the ``crs`` column, else from the coordinate header
    (``lon_bd09``, ``经度(百度)`` ...), else ``crs``, else WGS-84.
    """
    raw = read_raw_table(path, kind=kind, sheet=sheet)
    path = Path(path)
    cells = raw.cells
    rows = raw.rows
    problems: list[pd.DataFrame] = []

    def reject(mask: pd.Series, column: str, code: str, values: pd.Series | None = None) -> None:
        mask = mask & ~rejected
        if not mask.any():
            return
        shown = values if values is not None else cells.get(column, pd.Series("", index=cells.index))
        problems.append(table_problems(kind, path, cells.assign(source_row=rows), mask, raw.headers.get(column, column), shown, code))
        rejected[mask] = True

    rejected = pd.Series(False, index=cells.index)
    lon, lon_bad = parse_numbers(cells["lon"])
    lat, lat_bad = parse_numbers(cells["lat"])
    for column, values, bad in (("lon", lon, lon_bad), ("lat", lat, lat_bad)):
        reject(values.isna() & ~bad, column, "coord_missing")
        reject(bad, column, "coord_not_number")
    header_crs = _crs_from_header(raw.headers.get("lon", "")) or _crs_from_header(raw.headers.get("lat", ""))
    default = default_crs(crs) if crs else header_crs or "wgs84"
    crs_given, crs_bad = parse_vocab(cells["crs"].astype(str), CRS_INDEX)
    reject(crs_bad, "crs", "crs_unknown")
    names = crs_given.fillna(default)
    both = cells["lon"].astype(str) + ", " + cells["lat"].astype(str)
    outside = lon.notna() & lat.notna() & ~_crs.in_china(lon, lat)
    reject(outside, "lon", "coord_outside_china", both)
    good = ~rejected
    wgs_lon, wgs_lat = lon.copy(), lat.copy()
    if good.any():
        x, y = _crs.to_wgs84(lon[good].to_numpy(), lat[good].to_numpy(), names[good].to_numpy())
        wgs_lon[good], wgs_lat[good] = x, y
    records = cells.assign(lon=wgs_lon, lat=wgs_lat, crs_input=names, source_row=rows)
    return TableLoad(
        kind, path, records[good].reset_index(drop=True), concat_problems(problems), concat_problems([]), len(cells), dict(raw.headers)
    )


def read_mr(
    path: Path | str,
    streets: gpd.GeoDataFrame,
    *,
    threshold_dbm: float = -110.0,
    crs: str | None = None,
    sheet: str | None = None,
) -> TableLoad:
    """Read an MR (measurement report) or drive-test grid: ``lon``, ``lat``, ``rsrp_dbm``,
    ``samples`` (1 per cell when the file has no sample count), ``street_code`` and ``weak``
    (mean RSRP below ``threshold_dbm``).

    Rejected: RSRP missing, not a number or outside -156..-31 dBm; samples not a number, 0 or
    negative; cells outside the district; bad coordinates.
    """
    load = read_points(path, MR, crs=crs, sheet=sheet)
    records = load.records
    extra: list[pd.DataFrame] = []
    rsrp, rsrp_bad = parse_numbers(records["rsrp_dbm"])
    low, high = RSRP_RANGE_DBM
    bad = pd.Series(False, index=records.index)
    header = column_header(load, "rsrp_dbm")
    for mask, code in (
        (rsrp.isna() & ~rsrp_bad, "rsrp_missing"),
        (rsrp_bad, "not_number"),
        (rsrp.notna() & ((rsrp < low) | (rsrp > high)), "rsrp_out_of_range"),
    ):
        extra.append(table_problems(load.kind, load.path, records, mask & ~bad, header, records["rsrp_dbm"], code, low=low, high=high))
        bad |= mask
    has_samples = (records["samples"].astype(str).str.strip() != "").any()
    samples, samples_bad = parse_numbers(records["samples"]) if has_samples else (pd.Series(1.0, index=records.index), bad & False)
    header = column_header(load, "samples")
    for mask, code in (
        (samples_bad, "not_number"),
        (samples.isna() & ~samples_bad, "samples_missing"),
        (samples <= 0, "samples_not_positive"),
    ):
        extra.append(table_problems(load.kind, load.path, records, mask & ~bad, header, records["samples"], code))
        bad |= mask.fillna(False)
    records = records.assign(rsrp_dbm=rsrp, samples=samples.fillna(0).round().astype("int64"))
    load = _outside_district(load, records, bad, extra, streets)
    weak = load.records["rsrp_dbm"] < threshold_dbm
    notes: tuple[tuple[str, dict], ...] = () if has_samples else (("mr_no_samples", {}),)
    return replace(load, records=load.records.assign(weak=weak.to_numpy()), notes=notes)


def read_complaints(
    path: Path | str,
    streets: gpd.GeoDataFrame,
    *,
    as_of: dt.date | None = None,
    crs: str | None = None,
    sheet: str | None = None,
) -> TableLoad:
    """Read 12345 hotline complaints about mobile signal: points with ``street_code``.

    Rejected: bad coordinates, points outside the district, unreadable dates. Read but not
    counted (``ignored``): complaints whose category or text says nothing about signal (when
    the file has either column), and complaints dated after ``as_of``.
    """
    load = read_points(path, COMPLAINTS, crs=crs, sheet=sheet)
    records = load.records
    dates, dates_bad = parse_dates(records["date"])
    extra = [table_problems(load.kind, load.path, records, dates_bad, column_header(load, "date"), records["date"], "date_unreadable")]
    load = _outside_district(load, records.assign(date=dates), dates_bad, extra, streets)
    records = load.records
    ignored = []
    text = (records["category"].astype(str) + " " + records["content"].astype(str)).str.lower()
    has_text = text.str.strip() != ""
    about_signal = text.map(lambda s: any(word in s for word in SIGNAL_WORDS))
    off_topic = has_text & ~about_signal
    if off_topic.any():
        shown = records["category"].where(records["category"].astype(str).str.strip() != "", records["content"])
        ignored.append(
            table_problems(
                load.kind, load.path, records, off_topic, column_header(load, "category"), shown, "complaint_not_signal", severity=IGNORED
            )
        )
    future = pd.Series(False, index=records.index)
    if as_of is not None:
        future = ~off_topic & (records["date"] > pd.Timestamp(as_of))
        ignored.append(
            table_problems(
                load.kind,
                load.path,
                records,
                future,
                column_header(load, "date"),
                records["date"].dt.strftime("%Y-%m-%d"),
                "after_as_of",
                severity=IGNORED,
                as_of=str(as_of),
            )
        )
    kept = records[~(off_topic | future)].reset_index(drop=True)
    ids = kept["complaint_id"].astype(str).str.strip()
    kept["complaint_id"] = ids.where(ids != "", "row " + kept["source_row"].astype(str))
    return replace(load, records=kept, ignored=concat_problems([load.ignored, *ignored]))


def _outside_district(load: TableLoad, records: pd.DataFrame, bad: pd.Series, extra: list[pd.DataFrame], streets) -> TableLoad:
    """Reject the rows under ``bad`` (already in ``extra``) and the points outside every street."""
    kept = records[~bad.fillna(False).to_numpy()]
    placed = assign_streets(gpd.GeoSeries.from_xy(kept["lon"], kept["lat"], crs=4326), streets, tolerance_m=0.0)
    outside = placed["street_code"].isna()
    distance = (placed["distance_m"] / 1000).round(2)
    both = kept["lon"].round(6).astype(str) + ", " + kept["lat"].round(6).astype(str)
    outside_mask = pd.Series(outside.to_numpy(), index=kept.index)
    params = [{"km": km} for km in distance[outside]]
    extra.append(
        table_problems(load.kind, load.path, kept, outside_mask, column_header(load, "lon"), both, "point_outside_district", per_row=params)
    )
    inside = kept[~outside.to_numpy()].assign(street_code=placed.loc[~outside, "street_code"].to_numpy())
    return replace(load, records=inside.reset_index(drop=True), rejects=concat_problems([load.rejects, *extra]))


def table_problems(
    kind: TableKind,
    path: Path | str,
    records: pd.DataFrame,
    mask: pd.Series,
    column: str,
    values: pd.Series,
    code: str,
    *,
    severity: str = REJECTED,
    per_row: list[dict] | None = None,
    **params: object,
) -> pd.DataFrame:
    """A problems table for the rows of ``records`` (with ``source_row``) under ``mask``: the
    file, the row, the ``column`` as written, the value, the reason ``code`` and its ``params``
    (the same for every row, or ``per_row``)."""
    mask = mask.fillna(False).astype(bool)
    rows = records.loc[mask]
    ids = rows[kind.id_field].astype(str).str.strip() if kind.id_field in rows else pd.Series("", index=rows.index)
    return pd.DataFrame(
        {
            "file": str(path),
            "row": rows["source_row"].to_numpy(),
            "column": column,
            "value": values[mask].astype(str).to_numpy(),
            "severity": severity,
            "reason_code": code,
            "params": per_row if per_row is not None else [dict(params) for _ in range(len(rows))],
            "kind": kind.name,
            "record_id": ids.to_numpy(),
        }
    )


def column_header(load: TableLoad, column: str) -> str:
    """The header of ``column`` as written in the file (its Chinese name if the file has none)."""
    return load.headers.get(column) or load.kind.field(column).zh


def _crs_from_header(header: str) -> str | None:
    token = normalize_token(header)
    for name, words in (
        ("bd09", ("bd09", "百度", "baidu")),
        ("gcj02", ("gcj02", "高德", "火星", "gaode", "amap")),
        ("wgs84", ("wgs84", "gps")),
    ):
        if any(word in token for word in words):
            return name
    return None


def weak_samples(mr: pd.DataFrame) -> np.ndarray:
    """Samples of the weak cells (0 for the others), as demand weights."""
    return np.where(mr["weak"].to_numpy(), mr["samples"].to_numpy(dtype=float), 0.0)
