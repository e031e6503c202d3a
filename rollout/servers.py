"""Stations as the radio model sees them, and the best server of every point.

:func:`station_table` turns site records (the project's, an existing-network file's, or
candidates) into one row per station with its band's link-budget terms, height, tilt and
capacity, in a metric CRS. :func:`serve` finds, for every receiver point, the strongest SSB
(best server) and whether any station closes both links there, given the point's clutter
class. Everything is vectorised: station-point pairs come from a spatial index within the largest
range, losses are computed per pair with numpy, and the best server per point by a sort.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
import shapely

from rollout.coverage_settings import CoverageSettings
from rollout.crs import metric_transformer
from rollout.linkbudget import CLUTTER_CODES, penetration_db
from rollout.propagation import cell_range_m, total_loss
from rollout.schema import MACRO, operator_code
from rollout.status import status_as_of

__all__ = ["STATION_COLUMNS", "Served", "clutter_index", "link_pairs", "serve", "station_table"]

STATION_COLUMNS = [
    "site_id",
    "source",
    "x",
    "y",
    "band",
    "f_mhz",
    "dl_budget_dbm",
    "ul_budget_db",
    "height_m",
    "tilt_deg",
    "beamwidth_deg",
    "capacity_mbps",
]


def station_table(
    records: pd.DataFrame,
    settings: CoverageSettings,
    crs: pyproj.CRS,
    *,
    as_of: dt.date | None = None,
    operator: str | None = None,
    source: str = "project",
) -> pd.DataFrame:
    """One row per station with what the model needs, coordinates in ``crs``.

    With ``as_of`` only records on air that day are kept (site records); without it every
    record is taken as on air (an existing network, candidates). ``operator`` keeps stations
    shared by that operator. Records without a known band or height get the defaults.
    """
    if records.empty:
        return pd.DataFrame(columns=STATION_COLUMNS)
    stations = records[status_as_of(records, MACRO, as_of).eq("on_air").to_numpy()] if as_of is not None else records
    if operator:
        code = operator_code(operator)
        if "operator" in stations:
            stations = stations[stations["operator"].fillna("").astype(str).str.split(";").map(lambda codes: code in codes)]
    bands = stations["band"].where(stations["band"].isin(list(settings.bands)), settings.default_band) if "band" in stations else None
    bands = bands if bands is not None else pd.Series(settings.default_band, index=stations.index)
    chosen = [settings.bands[b] for b in bands]
    height = _number(stations, "antenna_height_m")
    tilt = _number(stations, "downtilt_deg")
    x, y = metric_transformer(crs).transform(stations["lon"].to_numpy(), stations["lat"].to_numpy())
    r = settings.receiver
    return pd.DataFrame(
        {
            "site_id": stations["site_id"].astype(str).to_numpy(),
            "source": source,
            "x": np.asarray(x, dtype=float),
            "y": np.asarray(y, dtype=float),
            "band": bands.to_numpy(),
            "f_mhz": [b.f_mhz for b in chosen],
            "dl_budget_dbm": [b.ssb_eirp_dbm_per_re + r.ue_gain_dbi - r.body_loss_db - r.shadow_margin_db for b in chosen],
            "ul_budget_db": [
                b.ue_power_dbm
                + r.ue_gain_dbi
                - r.body_loss_db
                + b.rx_gain_dbi
                - b.feeder_loss_db
                - r.ul_interference_margin_db
                - b.sensitivity_dbm
                - r.shadow_margin_db
                for b in chosen
            ],
            "height_m": height.fillna(pd.Series([b.height_m for b in chosen], index=stations.index)).clip(lower=5.0).to_numpy(),
            "tilt_deg": tilt.fillna(pd.Series([b.downtilt_deg for b in chosen], index=stations.index)).to_numpy(),
            "beamwidth_deg": [b.vertical_beamwidth_deg for b in chosen],
            "capacity_mbps": [b.cell_capacity_mbps * b.sectors for b in chosen],
        },
        columns=STATION_COLUMNS,
    )


def clutter_index(codes: np.ndarray) -> np.ndarray:
    """Clutter class codes as indices into :data:`rollout.linkbudget.CLUTTER_CODES`."""
    index = pd.Index(CLUTTER_CODES).get_indexer(pd.Index(np.asarray(codes, dtype=object)))
    if (index < 0).any():
        raise KeyError(np.asarray(codes, dtype=object)[index < 0][0])
    return index.astype(np.int64)


@dataclass(frozen=True)
class Served:
    """Per point: the best server's SS-RSRP (dBm, -inf where none reaches), its index (-1 for
    none), and whether some station closes both the downlink and the uplink there."""

    rsrp: np.ndarray
    best: np.ndarray
    covered: np.ndarray


def extra_loss_table(stations: pd.DataFrame, settings: CoverageSettings, *, indoor: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per station band and clutter class: clutter loss plus (indoor) penetration, and each
    station's row in that table."""
    bands = sorted(set(stations["band"]))
    table = np.array(
        [
            [
                settings.clutters[c].loss_db
                + (penetration_db(settings.bands[b], settings.clutters[c], settings.receiver) if indoor else 0.0)
                for c in CLUTTER_CODES
            ]
            for b in bands
        ]
    ).reshape(len(bands), len(CLUTTER_CODES))
    rows = np.array([bands.index(b) for b in stations["band"]], dtype=np.int64)
    return table, rows


def link_pairs(
    stations: pd.DataFrame, x: np.ndarray, y: np.ndarray, clutter: np.ndarray, settings: CoverageSettings, *, indoor: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, station) pair within the station's reach: point index, station index,
    SS-RSRP (dBm) and whether the station closes both links there."""
    empty = np.zeros(0, dtype=np.int64)
    if stations.empty or not len(x):
        return empty, empty, np.zeros(0), np.zeros(0, dtype=bool)
    r = settings.receiver
    table, rows = extra_loss_table(stations, settings, indoor=indoor)
    eirp = stations["dl_budget_dbm"].to_numpy(float)
    ul = stations["ul_budget_db"].to_numpy(float)
    f, h = stations["f_mhz"].to_numpy(float), stations["height_m"].to_numpy(float)
    tilt, width = stations["tilt_deg"].to_numpy(float), stations["beamwidth_deg"].to_numpy(float)
    # No station reaches farther than its range in the least lossy class present, whichever
    # link: pairs beyond it cannot matter (for the best server either, as RSRP is below the
    # threshold there and such points are uncovered anyway).
    least = table[rows][:, np.unique(clutter)].min(axis=1)
    mapl = np.maximum(eirp - r.rsrp_threshold_dbm, ul) - least
    reach = cell_range_m(r.model, f, h, mapl, tilt_deg=tilt, beamwidth_deg=width, h_ut_m=r.ue_height_m)
    if reach.max() <= 0:
        return empty, empty, np.zeros(0), np.zeros(0, dtype=bool)
    point, station, distance = _pairs_within(x, y, stations["x"].to_numpy(float), stations["y"].to_numpy(float), float(reach.max()))
    keep = distance <= reach[station]
    point, station, distance = point[keep], station[keep], distance[keep]
    loss = (
        total_loss(r.model, f[station], distance, h[station], tilt[station], width[station], r.ue_height_m)
        + table[rows[station], clutter[point]]
    )
    value = eirp[station] - loss
    closes = (value >= r.rsrp_threshold_dbm) & (ul[station] - loss >= 0)
    return point.astype(np.int64), station.astype(np.int64), value, closes


def _pairs_within(x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, station) pair at most ``reach`` apart, with its distance: the squares of side
    2 x ``reach`` around the stations in an STRtree (shapely's, already loaded; SciPy's KD-tree
    would cost a third of a second to import) give the candidates, the distances computed here
    (as a KD-tree computes them) decide."""
    tree = shapely.STRtree(shapely.box(sx - reach, sy - reach, sx + reach, sy + reach))
    point, station = tree.query(shapely.points(x, y))
    dx, dy = x[point] - sx[station], y[point] - sy[station]
    distance = np.sqrt(dx * dx + dy * dy)
    keep = distance <= reach
    return point[keep], station[keep], distance[keep]


def serve(
    stations: pd.DataFrame, x: np.ndarray, y: np.ndarray, clutter: np.ndarray, settings: CoverageSettings, *, indoor: bool = False
) -> Served:
    """Best server and coverage of every point ``(x, y)`` with clutter indices ``clutter``."""
    n = len(x)
    rsrp = np.full(n, -np.inf)
    best = np.full(n, -1, dtype=np.int64)
    covered = np.zeros(n, dtype=bool)
    point, station, value, closes = link_pairs(stations, x, y, clutter, settings, indoor=indoor)
    if not len(point):
        return Served(rsrp, best, covered)
    covered[point[closes]] = True
    points, top, station_at_top = _best_per_point(point, station, value)
    rsrp[points] = top
    best[points] = station_at_top
    return Served(rsrp, best, covered)


def _best_per_point(point: np.ndarray, station: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point of the pairs: the highest value (NaN ignored) and its station, the lowest
    station index on a tie; by reductions over runs of the same point (the pairs come grouped by
    point from the spatial index, sorted here otherwise), a tenth of the cost of a full sort."""
    if len(point) > 1 and (point[1:] < point[:-1]).any():
        order = np.argsort(point, kind="stable")
        point, station, value = point[order], station[order], value[order]
    starts = np.flatnonzero(np.r_[True, point[1:] != point[:-1]])
    top = np.fmax.reduceat(value, starts)
    at_top = np.repeat(top, np.diff(np.r_[starts, len(point)]))
    candidates = (value == at_top) | np.isnan(at_top)
    chosen = np.minimum.reduceat(np.where(candidates, station, np.iinfo(np.int64).max), starts)
    return point[starts], top, chosen


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce")
