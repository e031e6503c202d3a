"""Link budgets against hand-computed values, clutter, height and tilt, and ``coverage --explain``."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rollout.cli import cli
from rollout.config import load_config
from rollout.coverage_settings import load_coverage_settings
from rollout.errors import ConfigError
from rollout.linkbudget import BANDS, CLUTTER, Receiver, budget_lines, mapl, range_table
from rollout.propagation import cell_range_m, o2i_penetration_db, total_loss, uma_38901, vertical_attenuation_db


def test_n78_dense_urban_budget_by_hand() -> None:
    lines = {(line.link, line.code): line.value for line in budget_lines(BANDS["n78"], CLUTTER["dense_urban"], Receiver())}
    # Downlink: 200 W = 53.010 dBm over 273 PRB x 12 = 3,276 RE (35.153 dB) = 17.857 dBm per RE;
    # + 17 dBi SSB beam = 34.857 dBm EIRP per RE; - 3 body - 8 shadowing - 3 dense-urban clutter
    # and a -105 dBm threshold: 34.857 - 3 - 8 - 3 + 105 = 125.857 dB.
    assert lines["dl", "power_per_re"] == pytest.approx(53.0103 - 35.1534, abs=1e-3)
    assert lines["dl", "eirp_per_re"] == pytest.approx(34.857, abs=1e-3)
    assert lines["dl", "mapl"] == pytest.approx(125.857, abs=1e-3)
    # Uplink: 26 dBm (power class 2) - 3 body = 23 dBm; 20 PRB x 12 x 30 kHz = 7.2 MHz, so
    # noise = -174 + 68.573 = -105.427 dBm; + 3.5 NF + 2 dB SINR = -99.927 dBm sensitivity;
    # 23 + 24 rx gain - 3 interference margin + 99.927 - 8 - 3 = 132.927 dB.
    assert lines["ul", "thermal_noise"] == pytest.approx(-105.427, abs=1e-3)
    assert lines["ul", "sensitivity"] == pytest.approx(-99.927, abs=1e-3)
    assert lines["ul", "mapl"] == pytest.approx(132.927, abs=1e-3)
    # The traffic beam (24 dBi) is shown but not used for SS-RSRP.
    traffic = replace(BANDS["n78"], traffic_gain_dbi=30.0)
    assert mapl(traffic, CLUTTER["dense_urban"], Receiver()) == mapl(BANDS["n78"], CLUTTER["dense_urban"], Receiver())


def test_default_n78_dense_urban_outdoor_range_is_250_to_500_m() -> None:
    table = range_table(BANDS, CLUTTER, Receiver()).set_index(["band", "clutter", "service"])
    row = table.loc["n78", "dense_urban", "outdoor"]
    assert row["limit"] == "dl" and row["mapl_db"] == pytest.approx(125.9, abs=0.05)
    assert 250 <= row["range_m"] <= 500
    # At that distance, path loss + vertical pattern = the MAPL: UMa NLOS is
    # 13.54 + 39.08 log10(d3D) + 20 log10(3.5) with d3D = sqrt(d² + 28.5²), plus 12 ((6° - θ)/6°)².
    d = float(row["range_m"])
    theta = math.degrees(math.atan2(28.5, d))
    by_hand = 13.54 + 39.08 * math.log10(math.hypot(d, 28.5)) + 20 * math.log10(3.5) + 12 * ((6 - theta) / 6) ** 2
    assert by_hand == pytest.approx(125.857, abs=0.1)
    # Without the pattern the same budget reaches 393 m: 10^((125.857 - 13.54 - 10.881) / 39.08) = 394.2 m in 3D.
    assert float(cell_range_m("uma_nlos", 3500, 30, 125.857)) == pytest.approx(math.sqrt(394.2**2 - 28.5**2), abs=1.0)
    # Lower bands reach farther, indoor is shorter, open land longer than dense urban.
    assert table.loc["n28", "dense_urban", "outdoor"]["range_m"] > row["range_m"] > table.loc["n79", "dense_urban", "outdoor"]["range_m"]
    assert table.loc["n78", "dense_urban", "indoor"]["range_m"] < row["range_m"] < table.loc["n78", "open", "outdoor"]["range_m"]


def test_o2i_penetration_by_hand() -> None:
    # TR 38.901 7.4.3 at 3.5 GHz: glass 2 + 0.2 x 3.5 = 2.7 dB, concrete 5 + 4 x 3.5 = 19 dB,
    # IRR glass 23 + 0.3 x 3.5 = 24.05 dB. Low loss: 5 - 10 log10(0.3 x 10^-0.27 + 0.7 x 10^-1.9) = 12.70;
    # high loss: 5 - 10 log10(0.7 x 10^-2.405 + 0.3 x 10^-1.9) = 26.85; indoor 0.5 x 25/3 = 4.17 dB.
    assert o2i_penetration_db(3500, 0.0) == pytest.approx(12.70 + 4.17, abs=0.01)
    assert o2i_penetration_db(3500, 1.0) == pytest.approx(26.85 + 4.17, abs=0.01)
    assert o2i_penetration_db(3500, 0.5) == pytest.approx((12.70 + 26.85) / 2 + 4.17, abs=0.01)
    indoor = budget_lines(BANDS["n78"], CLUTTER["dense_urban"], Receiver(), indoor=True)
    assert next(line.value for line in indoor if line.code == "penetration") == pytest.approx(-23.94, abs=0.01)


def test_height_and_downtilt_change_the_range() -> None:
    budget = 125.857
    ranges = [float(cell_range_m("uma_nlos", 3500, h, budget, tilt_deg=6, beamwidth_deg=6)) for h in (20, 30, 45)]
    assert ranges[0] < ranges[1] < ranges[2]  # a higher mast puts the beam's ground point farther out
    tilts = [float(cell_range_m("uma_nlos", 3500, 30, budget, tilt_deg=t, beamwidth_deg=6)) for t in (3, 6, 10)]
    assert tilts[0] > tilts[1] > tilts[2]  # more downtilt, a shorter cell
    hata = [float(cell_range_m("cost231_urban", 3500, h, 135.0)) for h in (20, 30, 45)]
    assert hata[0] < hata[1] < hata[2]
    # The pattern is 0 up to the beam's ground point and grows beyond it, so the loss grows with distance.
    d = np.geomspace(20, 5000, 300)
    assert (np.diff(total_loss("uma_nlos", 3500, d, 30, 8, 6)) >= 0).all()
    assert vertical_attenuation_db(28.5 / math.tan(math.radians(6)), 30, 6, 6) == pytest.approx(0, abs=1e-9)
    # 12 ((6 - 1.633) / 6)² = 6.36 dB at 1 km.
    assert vertical_attenuation_db(1000, 30, 6, 6) == pytest.approx(12 * ((6 - math.degrees(math.atan(28.5 / 1000))) / 6) ** 2)
    # LOS: a higher mast moves the breakpoint (4 h_BS' h_UT' f / c: 560 m at 25 m, 1,027 m at 45 m) beyond 1 km.
    assert uma_38901(3.5, 1000, 45, los=True) < uma_38901(3.5, 1000, 25, los=True) - 4


def test_a_weak_uplink_limits_the_range() -> None:
    weak = {"n78": replace(BANDS["n78"], ue_power_dbm=13.0)}
    table = range_table(weak, CLUTTER, Receiver()).set_index(["clutter", "service"])
    row = table.loc["dense_urban", "outdoor"]
    assert row["limit"] == "ul" and row["ul_mapl_db"] == pytest.approx(132.927 - 13, abs=0.05)
    strong = range_table(BANDS, CLUTTER, Receiver()).set_index(["band", "clutter", "service"]).loc["n78", "dense_urban", "outdoor"]
    assert row["range_m"] < strong["range_m"]


def test_rollout_toml_overrides_and_refuses_unknown_keys(data_dir: Path) -> None:
    toml = data_dir / "rollout.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace(
            "total_power_w = 200         # 64T64R AAU\nssb_gain_dbi = 17\ntraffic_gain_dbi = 24\nfeeder_loss_db = 0\nue_power_dbm = 26           # power class 2\nrx_gain_dbi = 24\nnoise_figure_db = 3.5\nul_prb = 20\npusch_sinr_db = 2.0\ncell_capacity_mbps = 500\nsectors = 3\nheight_m = 30\ndowntilt_deg = 6\nvertical_beamwidth_deg = 6\n\n[coverage.bands.n79]",
            "total_power_w = 100\nssb_gain_dbi = 17\n\n[coverage.bands.n79]",
        ),
        encoding="utf-8",
    )
    settings = load_coverage_settings(load_config(data_dir))
    assert settings.bands["n78"].total_power_w == 100
    dl, _ = mapl(settings.bands["n78"], settings.clutters["dense_urban"], settings.receiver)
    assert dl == pytest.approx(125.857 - 10 * math.log10(2), abs=1e-3)
    toml.write_text(text.replace("[coverage.bands.n28]\n", "[coverage.bands.n28]\ntx_powr = 1\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"coverage\]\.bands\.n28: unknown key\(s\) tx_powr; known: .*total_power_w"):
        load_coverage_settings(load_config(data_dir))


def test_explain_prints_the_budget_per_band(data_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--data", str(data_dir), "coverage", "--explain"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    for band in ("n28", "n41", "n78", "n79"):
        assert f"{band}：" in out
    assert "SSB 波束增益" in out and "业务波束 24 dBi，不用于 SS-RSRP" in out and "PUSCH 所需 SINR" in out
    assert "受限链路：下行，最大允许路损 125.9 dB，覆盖半径 373 m" in out
    assert "n78 室外" in out and "密集市区" in out
    english = runner.invoke(cli, ["--data", str(data_dir), "--lang", "en", "coverage", "--explain", "suburban", "--service", "indoor"])
    assert english.exit_code == 0 and "suburban, indoor" in english.output and "building penetration" in english.output
    assert not (data_dir.parent / "coverage").exists()  # --explain writes nothing
