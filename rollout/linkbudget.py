"""Link budgets per band and clutter class: downlink SS-RSRP, uplink PUSCH, and the cell range.

Downlink: the UE measures SS-RSRP on the synchronisation-signal block, which a massive-MIMO
AAU sends on broad *SSB beams*, not on the narrow *traffic beams* that carry data; so the
coverage edge uses the SSB beam gain (the traffic-beam gain is shown for comparison).

    EIRP per RE  = 10 log10(P_total / 1 mW) - 10 log10(PRB x 12) + G_SSB - L_feeder
    MAPL_DL      = EIRP per RE + G_UE - L_body - M_shadow - L_clutter - L_O2I - RSRP_threshold

Uplink: the UE's power over the bandwidth it gets at the cell edge, against the gNB's
sensitivity for the PUSCH SINR that the edge rate needs:

    sensitivity  = -174 dBm/Hz + 10 log10(PRB_UE x 12 x SCS) + NF_gNB + SINR_PUSCH
    MAPL_UL      = P_UE + G_UE - L_body + G_gNB - L_feeder - M_interference - sensitivity
                   - M_shadow - L_clutter - L_O2I

The cell range is where the path loss plus the antenna's vertical-pattern loss reaches the
smaller of the two (:func:`rollout.propagation.cell_range_m`). The defaults and their sources
are in ``data/rollout.toml`` ([coverage]) and the README's coverage model section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rollout.propagation import cell_range_m, o2i_penetration_db

__all__ = ["BANDS", "CLUTTER", "CLUTTER_CODES", "Band", "BudgetLine", "Clutter", "Receiver", "budget_lines", "mapl", "range_table"]

THERMAL_NOISE_DBM_HZ = -174.0
CLUTTER_CODES = ("dense_urban", "urban", "suburban", "open")


@dataclass(frozen=True)
class Band:
    """One NR band's transmitter, receiver and antenna, as in an operator's link budget."""

    name: str
    f_mhz: float
    duplex: str  # TDD or FDD
    bandwidth_mhz: float
    scs_khz: float
    prb: int  # resource blocks of the carrier (TS 38.104 Table 5.3.2-1)
    total_power_w: float
    ssb_gain_dbi: float  # broadcast (SSB) beam gain: what SS-RSRP sees
    traffic_gain_dbi: float  # traffic (PDSCH) beam gain, for comparison
    feeder_loss_db: float
    ue_power_dbm: float
    rx_gain_dbi: float  # gNB receive gain, combining included
    noise_figure_db: float  # gNB
    ul_prb: int  # resource blocks a cell-edge UE gets
    pusch_sinr_db: float  # SINR the edge rate needs
    cell_capacity_mbps: float  # average busy-hour downlink throughput of one cell
    sectors: int = 3
    height_m: float = 30.0
    downtilt_deg: float = 6.0
    vertical_beamwidth_deg: float = 6.0

    @property
    def resource_elements(self) -> int:
        """Resource elements per OFDM symbol over the carrier."""
        return self.prb * 12

    @property
    def power_per_re_dbm(self) -> float:
        """Total power spread evenly over the carrier's resource elements."""
        return 10 * math.log10(self.total_power_w * 1000) - 10 * math.log10(self.resource_elements)

    @property
    def ssb_eirp_dbm_per_re(self) -> float:
        """EIRP per resource element of the SSB beam."""
        return self.power_per_re_dbm + self.ssb_gain_dbi - self.feeder_loss_db

    @property
    def ul_bandwidth_hz(self) -> float:
        """Bandwidth a cell-edge UE transmits on."""
        return self.ul_prb * 12 * self.scs_khz * 1000

    @property
    def sensitivity_dbm(self) -> float:
        """gNB sensitivity for the edge UE's PUSCH."""
        return THERMAL_NOISE_DBM_HZ + 10 * math.log10(self.ul_bandwidth_hz) + self.noise_figure_db + self.pusch_sinr_db


@dataclass(frozen=True)
class Clutter:
    """A clutter class: extra loss over the path-loss model's urban reference, and its buildings."""

    code: str
    loss_db: float
    high_loss_share: float  # share of TR 38.901 high-loss buildings (IRR glass, concrete)


@dataclass(frozen=True)
class Receiver:
    """The UE side and the margins shared by all bands."""

    rsrp_threshold_dbm: float = -105.0
    ue_gain_dbi: float = 0.0
    body_loss_db: float = 3.0
    shadow_margin_db: float = 8.0
    ul_interference_margin_db: float = 3.0
    ue_height_m: float = 1.5
    model: str = "uma_nlos"
    indoor_depth_m: float = 25.0 / 3.0


#: Defaults (sources in data/rollout.toml and the README): 100 MHz TDD carriers on 64T64R AAUs
#: of 200 W for n41/n78 (32T32R, 160 W for n79) and a 30 MHz FDD carrier on a 4T4R RRU for n28.
BANDS: dict[str, Band] = {
    "n28": Band(
        "n28",
        773.0,
        "FDD",
        30,
        15,
        160,
        160,
        15.0,
        15.0,
        0.5,
        23,
        15.0,
        3.5,
        10,
        -1.0,
        75,
        height_m=30,
        downtilt_deg=4,
        vertical_beamwidth_deg=10,
    ),
    "n41": Band("n41", 2600.0, "TDD", 100, 30, 273, 200, 17.0, 24.0, 0.0, 26, 24.0, 3.5, 20, 2.0, 500),
    "n78": Band("n78", 3500.0, "TDD", 100, 30, 273, 200, 17.0, 24.0, 0.0, 26, 24.0, 3.5, 20, 2.0, 500),
    "n79": Band("n79", 4900.0, "TDD", 100, 30, 273, 160, 15.0, 22.0, 0.0, 26, 22.0, 3.5, 20, 2.0, 400),
}

#: Clutter corrections relative to the UMa (urban) reference and building mixes.
CLUTTER: dict[str, Clutter] = {
    "dense_urban": Clutter("dense_urban", 3.0, 0.5),
    "urban": Clutter("urban", 0.0, 0.3),
    "suburban": Clutter("suburban", -8.0, 0.0),
    "open": Clutter("open", -15.0, 0.0),
}


@dataclass(frozen=True)
class BudgetLine:
    """One line of a link budget: which link, what, the value and its unit; ``detail`` says how."""

    link: str  # dl or ul
    code: str
    value: float
    unit: str
    detail: str = ""


def penetration_db(band: Band, clutter: Clutter, receiver: Receiver) -> float:
    """Mean outdoor-to-indoor loss for ``band`` into ``clutter``'s buildings."""
    return float(o2i_penetration_db(band.f_mhz, clutter.high_loss_share, indoor_depth_m=receiver.indoor_depth_m))


def budget_lines(band: Band, clutter: Clutter, receiver: Receiver, *, indoor: bool = False) -> list[BudgetLine]:
    """The downlink and uplink budgets line by line, ending with each link's MAPL.

    >>> lines = budget_lines(BANDS["n78"], CLUTTER["dense_urban"], Receiver())
    >>> [(line.code, round(line.value, 1)) for line in lines if line.code == "mapl"]
    [('mapl', 125.9), ('mapl', 132.9)]
    """
    pen = penetration_db(band, clutter, receiver) if indoor else 0.0
    r = receiver
    margins = [
        ("shadow_margin", -r.shadow_margin_db, "dB", ""),
        ("clutter_loss", -clutter.loss_db, "dB", clutter.code),
        ("penetration", -pen, "dB", f"{clutter.high_loss_share:.0%}" if indoor else ""),
    ]
    dl_mapl = band.ssb_eirp_dbm_per_re + r.ue_gain_dbi - r.body_loss_db - r.shadow_margin_db - clutter.loss_db - pen - r.rsrp_threshold_dbm
    dl = [
        ("tx_power", 10 * math.log10(band.total_power_w * 1000), "dBm", f"{band.total_power_w:g} W"),
        ("per_re", -10 * math.log10(band.resource_elements), "dB", f"{band.prb} x 12 = {band.resource_elements:,}"),
        ("power_per_re", band.power_per_re_dbm, "dBm", ""),
        ("ssb_gain", band.ssb_gain_dbi, "dBi", f"{band.traffic_gain_dbi:g}"),
        ("feeder_loss", -band.feeder_loss_db, "dB", ""),
        ("eirp_per_re", band.ssb_eirp_dbm_per_re, "dBm", ""),
        ("ue_gain", r.ue_gain_dbi, "dBi", ""),
        ("body_loss", -r.body_loss_db, "dB", ""),
        *margins,
        ("rsrp_threshold", r.rsrp_threshold_dbm, "dBm", ""),
        ("mapl", dl_mapl, "dB", ""),
    ]
    ue_eirp = band.ue_power_dbm + r.ue_gain_dbi - r.body_loss_db
    noise = THERMAL_NOISE_DBM_HZ + 10 * math.log10(band.ul_bandwidth_hz)
    ul_mapl = (
        ue_eirp
        + band.rx_gain_dbi
        - band.feeder_loss_db
        - r.ul_interference_margin_db
        - band.sensitivity_dbm
        - r.shadow_margin_db
        - clutter.loss_db
        - pen
    )
    ul = [
        ("ue_power", band.ue_power_dbm, "dBm", ""),
        ("ue_gain", r.ue_gain_dbi, "dBi", ""),
        ("body_loss", -r.body_loss_db, "dB", ""),
        ("ue_eirp", ue_eirp, "dBm", ""),
        ("ul_bandwidth", band.ul_bandwidth_hz / 1e6, "MHz", f"{band.ul_prb} x 12 x {band.scs_khz:g} kHz"),
        ("thermal_noise", noise, "dBm", ""),
        ("noise_figure", band.noise_figure_db, "dB", ""),
        ("pusch_sinr", band.pusch_sinr_db, "dB", ""),
        ("sensitivity", band.sensitivity_dbm, "dBm", ""),
        ("rx_gain", band.rx_gain_dbi, "dBi", ""),
        ("feeder_loss", -band.feeder_loss_db, "dB", ""),
        ("interference_margin", -r.ul_interference_margin_db, "dB", ""),
        *margins,
        ("mapl", ul_mapl, "dB", ""),
    ]
    return [BudgetLine("dl", *line) for line in dl] + [BudgetLine("ul", *line) for line in ul]


def mapl(band: Band, clutter: Clutter, receiver: Receiver, *, indoor: bool = False) -> tuple[float, float]:
    """Maximum allowed path loss (dB) of the downlink and of the uplink."""
    dl, ul = (line.value for line in budget_lines(band, clutter, receiver, indoor=indoor) if line.code == "mapl")
    return dl, ul


def range_table(bands: dict[str, Band], clutters: dict[str, Clutter], receiver: Receiver, *, height_m: float | None = None) -> pd.DataFrame:
    """Cell range per band, clutter class and service (outdoor, indoor), and which link limits it.

    Columns: ``band``, ``clutter``, ``service``, ``dl_mapl_db``, ``ul_mapl_db``, ``limit``
    (``dl`` or ``ul``), ``range_m``; heights and tilts are the bands' defaults unless
    ``height_m`` is given.
    """
    rows = []
    for band in bands.values():
        for clutter in clutters.values():
            for service in ("outdoor", "indoor"):
                dl, ul = mapl(band, clutter, receiver, indoor=service == "indoor")
                rows.append(
                    {
                        "band": band.name,
                        "clutter": clutter.code,
                        "service": service,
                        "dl_mapl_db": round(dl, 1),
                        "ul_mapl_db": round(ul, 1),
                        "limit": "dl" if dl <= ul else "ul",
                        "mapl_db": min(dl, ul),
                        "f_mhz": band.f_mhz,
                        "height_m": band.height_m if height_m is None else height_m,
                        "tilt": band.downtilt_deg,
                        "width": band.vertical_beamwidth_deg,
                    }
                )
    table = pd.DataFrame(rows)
    ranges = cell_range_m(
        receiver.model,
        table["f_mhz"].to_numpy(),
        table["height_m"].to_numpy(),
        table["mapl_db"].to_numpy(),
        tilt_deg=table["tilt"].to_numpy(),
        beamwidth_deg=table["width"].to_numpy(),
        h_ut_m=receiver.ue_height_m,
    )
    table["range_m"] = np.round(ranges).astype(int)
    table["mapl_db"] = table["mapl_db"].round(1)
    return table.drop(columns=["f_mhz", "tilt", "width"])
