"""Path-loss models, the antenna's vertical pattern and outdoor-to-indoor loss, vectorised over numpy arrays.

Models
------
- :func:`uma_38901`: 3GPP TR 38.901 (v17) Urban Macro, LOS and NLOS, 0.5-100 GHz, with the
  breakpoint distance ``d'_BP = 4 h'_BS h'_UT f_c / c`` (effective environment height 1 m).
  The antenna height enters through the 3D distance and (LOS) the breakpoint.
- :func:`cost231_hata`: COST-231 Hata (urban; dense urban adds the 3 dB metropolitan
  correction). Its published range is 1500-2000 MHz. The tool extends it: below 1500 MHz it
  uses the original Okumura-Hata urban formula it was derived from (valid from 150 MHz), and
  above 2000 MHz it adds free-space frequency scaling, ``20 log10(f / 2000 MHz)``, to the
  2000 MHz value. Both joins are continuous in frequency; the extension above 2 GHz is an
  engineering assumption, so prefer 38.901 UMa there (the default). The antenna height
  enters through ``-13.82 log10(h_BS)`` and the distance slope.
- :func:`vertical_attenuation_db`: the 3GPP vertical antenna pattern (TR 38.901 Table 7.3-1,
  ``-min(12 ((theta - tilt) / theta_3dB)^2, SLA_V)``) applied beyond the point where the
  main beam meets the ground; nearer the mast the lower side lobes and the null fill of real
  macro antennas keep the signal up, so no pattern loss is applied there (an engineering
  assumption that keeps the loss growing with distance). This is how downtilt and height
  shorten or lengthen a cell, whatever the path-loss model.
- :func:`o2i_penetration_db`: TR 38.901 section 7.4.3 outdoor-to-indoor loss: the low-loss
  (standard glass, concrete) and high-loss (IRR glass, concrete) building models mixed by
  the share of high-loss buildings, plus the indoor loss ``0.5 d_2D-in``.

:func:`cell_range_m` solves ``path loss + pattern loss = maximum allowed path loss`` for the
distance, for many stations at once (bisection on log-distance, vectorised); the link budgets
themselves are in :mod:`rollout.linkbudget`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "MODELS",
    "cell_range_m",
    "cost231_hata",
    "o2i_penetration_db",
    "path_loss",
    "total_loss",
    "uma_38901",
    "vertical_attenuation_db",
]

SPEED_OF_LIGHT = 299_792_458.0


def uma_38901(
    fc_ghz: npt.ArrayLike, d2d_m: npt.ArrayLike, h_bs_m: npt.ArrayLike = 25.0, h_ut_m: npt.ArrayLike = 1.5, *, los: bool = False
) -> np.ndarray:
    """3GPP TR 38.901 Table 7.4.1-1 UMa path loss in dB.

    >>> round(float(uma_38901(3.5, 100, 25, 1.5, los=True)), 2), round(float(uma_38901(3.5, 100, 25, 1.5)), 2)
    (83.14, 103.04)
    """
    fc = np.asarray(fc_ghz, dtype=float)
    d2d = np.maximum(np.asarray(d2d_m, dtype=float), 10.0)  # the model starts at 10 m
    h_bs = np.asarray(h_bs_m, dtype=float)
    h_ut = np.asarray(h_ut_m, dtype=float)
    d3d = np.sqrt(d2d**2 + (h_bs - h_ut) ** 2)
    h_e = 1.0
    d_bp = 4.0 * (h_bs - h_e) * (h_ut - h_e) * fc * 1e9 / SPEED_OF_LIGHT
    pl1 = 28.0 + 22.0 * np.log10(d3d) + 20.0 * np.log10(fc)
    pl2 = 28.0 + 40.0 * np.log10(d3d) + 20.0 * np.log10(fc) - 9.0 * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
    pl_los = np.where(d2d <= d_bp, pl1, pl2)
    if los:
        return pl_los
    pl_nlos = 13.54 + 39.08 * np.log10(d3d) + 20.0 * np.log10(fc) - 0.6 * (h_ut - 1.5)
    return np.maximum(pl_los, pl_nlos)


def _hata_a(f_mhz: np.ndarray, h_ut: np.ndarray) -> np.ndarray:
    """Mobile antenna correction for a medium-sized city."""
    return (1.1 * np.log10(f_mhz) - 0.7) * h_ut - (1.56 * np.log10(f_mhz) - 0.8)


def _cost231_core(f_mhz: np.ndarray, d_km: np.ndarray, h_bs: np.ndarray, h_ut: np.ndarray, c_m: float) -> np.ndarray:
    return (
        46.3
        + 33.9 * np.log10(f_mhz)
        - 13.82 * np.log10(h_bs)
        - _hata_a(f_mhz, h_ut)
        + (44.9 - 6.55 * np.log10(h_bs)) * np.log10(d_km)
        + c_m
    )


def _okumura_hata(f_mhz: np.ndarray, d_km: np.ndarray, h_bs: np.ndarray, h_ut: np.ndarray) -> np.ndarray:
    return 69.55 + 26.16 * np.log10(f_mhz) - 13.82 * np.log10(h_bs) - _hata_a(f_mhz, h_ut) + (44.9 - 6.55 * np.log10(h_bs)) * np.log10(d_km)


def cost231_hata(
    f_mhz: npt.ArrayLike,
    d_m: npt.ArrayLike,
    h_bs_m: npt.ArrayLike = 30.0,
    h_ut_m: npt.ArrayLike = 1.5,
    *,
    environment: str = "urban",
) -> np.ndarray:
    """COST-231 Hata path loss in dB (``environment``: ``urban`` or ``dense_urban``), extended as
    described in the module docstring.

    >>> round(float(cost231_hata(1800, 1000, 30, 1.5)), 2)
    136.2
    """
    if environment not in ("urban", "dense_urban"):
        msg = f"environment {environment!r}: use urban or dense_urban"
        raise ValueError(msg)
    c_m = 3.0 if environment == "dense_urban" else 0.0
    f = np.asarray(f_mhz, dtype=float)
    d_km = np.maximum(np.asarray(d_m, dtype=float), 20.0) / 1000.0
    h_bs = np.asarray(h_bs_m, dtype=float)
    h_ut = np.asarray(h_ut_m, dtype=float)
    inside = _cost231_core(np.clip(f, 1500.0, 2000.0), d_km, h_bs, h_ut, c_m)
    below = _okumura_hata(np.minimum(f, 1500.0), d_km, h_bs, h_ut) + (
        _cost231_core(np.full_like(f, 1500.0), d_km, h_bs, h_ut, c_m) - _okumura_hata(np.full_like(f, 1500.0), d_km, h_bs, h_ut)
    )
    above = _cost231_core(np.full_like(f, 2000.0), d_km, h_bs, h_ut, c_m) + 20.0 * np.log10(np.maximum(f, 2000.0) / 2000.0)
    return np.where(f < 1500.0, below, np.where(f > 2000.0, above, inside))


MODELS = ("uma_nlos", "uma_los", "cost231_urban", "cost231_dense_urban")


def path_loss(model: str, f_mhz: npt.ArrayLike, d_m: npt.ArrayLike, h_bs_m: npt.ArrayLike, h_ut_m: float = 1.5) -> np.ndarray:
    """Path loss in dB by model name (see ``MODELS``)."""
    if model == "uma_nlos":
        return uma_38901(np.asarray(f_mhz, dtype=float) / 1000.0, d_m, h_bs_m, h_ut_m)
    if model == "uma_los":
        return uma_38901(np.asarray(f_mhz, dtype=float) / 1000.0, d_m, h_bs_m, h_ut_m, los=True)
    if model in ("cost231_urban", "cost231_dense_urban"):
        return cost231_hata(f_mhz, d_m, h_bs_m, h_ut_m, environment=model.removeprefix("cost231_"))
    msg = f"path-loss model {model!r}: use one of {', '.join(MODELS)}"
    raise ValueError(msg)


def vertical_attenuation_db(
    d2d_m: npt.ArrayLike,
    h_bs_m: npt.ArrayLike,
    tilt_deg: npt.ArrayLike,
    beamwidth_deg: npt.ArrayLike,
    *,
    h_ut_m: float = 1.5,
    sla_db: float = 30.0,
) -> np.ndarray:
    """Loss (dB, >= 0) of the antenna's vertical pattern towards a ground point ``d2d_m`` away.

    ``theta`` is the angle below the horizon; beyond the main beam's ground point
    (``theta < tilt``) the loss is ``min(12 ((tilt - theta) / beamwidth)^2, sla_db)``, nearer
    the mast it is 0 (see the module docstring).

    >>> # 30 m mast, 6 degrees down, 6 degree beam: at 1 km theta = 1.63 degrees
    >>> round(float(vertical_attenuation_db(1000, 30, 6, 6)), 2)
    6.36
    >>> float(vertical_attenuation_db(100, 30, 6, 6))
    0.0
    """
    d = np.maximum(np.asarray(d2d_m, dtype=float), 1.0)
    h = np.asarray(h_bs_m, dtype=float) - h_ut_m
    theta = np.degrees(np.arctan2(h, d))
    above = np.maximum(np.asarray(tilt_deg, dtype=float) - theta, 0.0)
    return np.minimum(12.0 * (above / np.asarray(beamwidth_deg, dtype=float)) ** 2, sla_db)


def total_loss(
    model: str,
    f_mhz: npt.ArrayLike,
    d_m: npt.ArrayLike,
    h_bs_m: npt.ArrayLike,
    tilt_deg: npt.ArrayLike,
    beamwidth_deg: npt.ArrayLike,
    h_ut_m: float = 1.5,
) -> np.ndarray:
    """Path loss plus the vertical pattern's loss, in dB."""
    return path_loss(model, f_mhz, d_m, h_bs_m, h_ut_m) + vertical_attenuation_db(d_m, h_bs_m, tilt_deg, beamwidth_deg, h_ut_m=h_ut_m)


def o2i_penetration_db(f_mhz: npt.ArrayLike, high_loss_share: npt.ArrayLike, *, indoor_depth_m: float = 25.0 / 3.0) -> np.ndarray:
    """Outdoor-to-indoor loss in dB (TR 38.901 section 7.4.3, mean values without the spread).

    ``PL_tw`` of the low-loss model (30 % standard glass, 70 % concrete) and of the high-loss
    model (70 % IRR glass, 30 % concrete), mixed in dB by ``high_loss_share``, plus
    ``0.5 d_2D-in``; the default depth, 25/3 m, is the mean of the UMa indoor distance
    ``min(U(0, 25), U(0, 25))``.

    >>> round(float(o2i_penetration_db(3500, 0.0)), 2), round(float(o2i_penetration_db(3500, 1.0)), 2)
    (16.86, 31.02)
    """
    f = np.asarray(f_mhz, dtype=float) / 1000.0
    glass, irr_glass, concrete = 2.0 + 0.2 * f, 23.0 + 0.3 * f, 5.0 + 4.0 * f
    low = 5.0 - 10.0 * np.log10(0.3 * 10 ** (-glass / 10) + 0.7 * 10 ** (-concrete / 10))
    high = 5.0 - 10.0 * np.log10(0.7 * 10 ** (-irr_glass / 10) + 0.3 * 10 ** (-concrete / 10))
    share = np.clip(np.asarray(high_loss_share, dtype=float), 0.0, 1.0)
    return share * high + (1.0 - share) * low + 0.5 * indoor_depth_m


def cell_range_m(
    model: str,
    f_mhz: npt.ArrayLike,
    h_bs_m: npt.ArrayLike,
    max_path_loss_db: npt.ArrayLike,
    *,
    tilt_deg: npt.ArrayLike = 0.0,
    beamwidth_deg: npt.ArrayLike = 6.0,
    h_ut_m: float = 1.5,
    d_min_m: float = 10.0,
    d_max_m: float = 30_000.0,
) -> np.ndarray:
    """Distance at which each station's loss (path loss + vertical pattern) reaches its maximum
    allowed path loss.

    Solved by bisection on log-distance for all stations at once; the loss grows with distance
    in every model (the pattern loss is 0 up to the main beam's ground point, then grows), so
    the root is unique. Stations that cannot reach ``d_min_m`` get 0; ones beyond ``d_max_m``
    get ``d_max_m``. ``tilt_deg = 0`` leaves the pattern out.

    >>> r = cell_range_m("uma_nlos", 3500, 25, 103.04)
    >>> round(float(r))
    100
    """
    f, h, mapl, tilt, width = np.broadcast_arrays(
        np.asarray(f_mhz, dtype=float),
        np.asarray(h_bs_m, dtype=float),
        np.asarray(max_path_loss_db, dtype=float),
        np.asarray(tilt_deg, dtype=float),
        np.asarray(beamwidth_deg, dtype=float),
    )
    low = np.full(f.shape, math.log(d_min_m))
    high = np.full(f.shape, math.log(d_max_m))
    for _ in range(50):
        mid = (low + high) / 2.0
        over = total_loss(model, f, np.exp(mid), h, tilt, width, h_ut_m) > mapl
        high = np.where(over, mid, high)
        low = np.where(over, low, mid)
    result = np.exp((low + high) / 2.0)
    return np.where(total_loss(model, f, np.full(f.shape, d_min_m), h, tilt, width, h_ut_m) > mapl, 0.0, result)
