"""Path-loss models and the link budget, vectorised over numpy arrays.

Models
------
- :func:`uma_38901`: 3GPP TR 38.901 (v17) Urban Macro, LOS and NLOS, 0.5-100 GHz, with the
  breakpoint distance ``d'_BP = 4 h'_BS h'_UT f_c / c`` (effective environment height 1 m).
- :func:`cost231_hata`: COST-231 Hata (urban; dense urban adds the 3 dB metropolitan
  correction). Its published range is 1500-2000 MHz. The tool extends it: below 1500 MHz it
  uses the original Okumura-Hata urban formula it was derived from (valid from 150 MHz), and
  above 2000 MHz it adds free-space frequency scaling, ``20 log10(f / 2000 MHz)``, to the
  2000 MHz value. Both joins are continuous in frequency; the extension above 2 GHz is an
  engineering assumption, so prefer 38.901 UMa there (the default).

The link budget turns a band's EIRP per resource element, gains, losses and an RSRP threshold
into a maximum allowed path loss, and :func:`cell_range_m` solves the model for the distance
at which it is reached, for many stations at once (bisection, vectorised).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BANDS", "Band", "LinkBudget", "cell_range_m", "cost231_hata", "path_loss", "uma_38901"]

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


@dataclass(frozen=True)
class Band:
    """One NR band's link-budget inputs.

    ``eirp_dbm_per_re`` is the EIRP per resource element, i.e. what RSRP is measured against:
    total power over the carrier's resource elements plus the antenna (beamforming) gain.
    """

    name: str
    f_mhz: float
    eirp_dbm_per_re: float
    penetration_loss_db: float
    default_height_m: float = 30.0


#: Defaults: total power and bandwidth typical of Chinese operators' 5G macro deployments,
#: spread over the carrier's resource elements (e.g. 200 W over 3,276 REs of 100 MHz at 30 kHz
#: = 17.8 dBm/RE), plus antenna gain (64T64R ~24 dBi, 32T32R ~22 dBi, 4T4R ~15 dBi).
#: Indoor penetration: 3GPP TR 38.901 O2I low-loss model at the band's frequency, rounded.
BANDS: dict[str, Band] = {
    "n28": Band("n28", 760.0, 33.0, 12.0),
    "n41": Band("n41", 2600.0, 41.8, 16.0),
    "n78": Band("n78", 3500.0, 41.8, 18.0),
    "n79": Band("n79", 4900.0, 38.8, 20.0),
}


@dataclass(frozen=True)
class LinkBudget:
    """Receiver side and margins shared by all bands."""

    rsrp_threshold_dbm: float = -105.0
    ue_gain_dbi: float = 0.0
    body_loss_db: float = 3.0
    shadow_margin_db: float = 8.0
    ue_height_m: float = 1.5
    model: str = "uma_nlos"

    def max_path_loss(self, band: Band, *, indoor: bool = False) -> float:
        """Maximum allowed path loss (dB) for ``band``, outdoor or indoor service."""
        losses = self.body_loss_db + self.shadow_margin_db + (band.penetration_loss_db if indoor else 0.0)
        return band.eirp_dbm_per_re + self.ue_gain_dbi - losses - self.rsrp_threshold_dbm


def cell_range_m(
    model: str,
    f_mhz: npt.ArrayLike,
    h_bs_m: npt.ArrayLike,
    max_path_loss_db: npt.ArrayLike,
    *,
    h_ut_m: float = 1.5,
    d_min_m: float = 10.0,
    d_max_m: float = 30_000.0,
) -> np.ndarray:
    """Distance at which each station's path loss reaches its maximum allowed path loss.

    Solved by bisection on log-distance for all stations at once; path loss grows with
    distance in every model, so the root is unique. Stations that cannot reach ``d_min_m``
    get 0; ones beyond ``d_max_m`` get ``d_max_m``.

    >>> r = cell_range_m("uma_nlos", 3500, 25, 103.04)
    >>> round(float(r))
    100
    """
    f, h, mapl = np.broadcast_arrays(
        np.asarray(f_mhz, dtype=float), np.asarray(h_bs_m, dtype=float), np.asarray(max_path_loss_db, dtype=float)
    )
    low = np.full(f.shape, math.log(d_min_m))
    high = np.full(f.shape, math.log(d_max_m))
    for _ in range(50):
        mid = (low + high) / 2.0
        over = path_loss(model, f, np.exp(mid), h, h_ut_m) > mapl
        high = np.where(over, mid, high)
        low = np.where(over, low, mid)
    result = np.exp((low + high) / 2.0)
    result = np.where(path_loss(model, f, np.full(f.shape, d_min_m), h, h_ut_m) > mapl, 0.0, result)
    return result
