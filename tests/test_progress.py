"""Status on a day and progress per street, checked against hand-computed numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_text

from rollout.config import allocate_targets, load_config
from rollout.errors import ConfigError
from rollout.pipeline import load_project
from rollout.progress import expected_share, total_row
from rollout.schema import GARAGE
from rollout.status import status_as_of

CHANGSHOU = (121.4290, 31.2462)
TAOPU = (121.3775, 31.2829)


def _write_fixture(data_dir: Path) -> None:
    cs, tp = "{},{}".format(*CHANGSHOU), "{},{}".format(*TAOPU)
    macro = [
        "站址编码,经度,纬度,状态,状态日期,受阻原因,落点日期,开工日期,开通日期,计入目标",
        f"M1,{cs},已开通,,,2024-01-10,2024-02-01,2024-03-01,是",  # on air from 03-01
        f"M2,{cs},已开通,,,2024-01-10,2024-04-01,2024-06-15,是",  # on air from 06-15
        f"M3,{cs},在建,,,2024-02-01,2024-05-01,,是",
        f"M4,{cs},受阻,2024-04-10,业主不同意,2024-02-01,,,是",  # blocked from 04-10
        f"M5,{cs},已开通,,,,,2024-02-01,否",  # does not count toward the target
        f"M6,{tp},已开通,,,,,2024-05-20,是",
        f"M7,{tp},取消,,站址调整,2024-01-05,,,是",  # cancelled, no date: applies from today
        f"M8,{tp},已开通,,,,2024-03-01,,是",  # on air without a date: from today
    ]
    garage = [
        "小区编码,经度,纬度,状态,勘察日期,方案确定日期,开工日期,覆盖日期,验收日期",
        f"G1,{cs},已验收,2024-01-15,2024-02-01,2024-03-01,2024-04-01,2024-05-01",
        f"G2,{cs},已覆盖,2024-01-15,2024-02-01,2024-03-01,2024-07-01,",
        f"G3,{tp},方案确定,2024-03-15,2024-04-01,,,",
    ]
    write_text(data_dir / "sites" / "macro_stations.csv", "\n".join(macro) + "\n")
    write_text(data_dir / "sites" / "garage_compounds.csv", "\n".join(garage) + "\n")


def test_expected_share_is_linear_over_the_plan(data_dir: Path) -> None:
    config = load_config(data_dir)
    assert expected_share(config, dt.date(2023, 12, 1)) == 0.0
    assert expected_share(config, dt.date(2024, 6, 30)) == pytest.approx(182 / 366)
    assert expected_share(config, dt.date(2024, 12, 31)) == 1.0
    assert expected_share(config, dt.date(2026, 1, 1)) == 1.0


def test_progress_matches_hand_counts(data_dir: Path) -> None:
    _write_fixture(data_dir)
    project = load_project(data_dir, as_of=dt.date(2024, 6, 30))
    table = project.progress().set_index("street_code")
    changshou, taopu, total = table.loc["310107015000"], table.loc["310107103000"], table.loc["310107"]
    # 长寿路: M1, M2 on air by 06-30; M3 under construction; M4 blocked; M5 not counted.
    assert changshou[
        ["macro_target", "macro_done", "macro_on_air", "macro_under_construction", "macro_blocked", "macro_not_counted"]
    ].tolist() == [16, 2, 2, 1, 1, 1]
    assert changshou["macro_expected"] == round(16 * 182 / 366, 1)
    assert changshou["macro_pct"] == 12.5
    assert changshou["macro_remaining"] == 14
    assert changshou["macro_pace"] == "behind"
    # 桃浦: M6 on air; M7 cancelled and M8 on air only from today (2026): on 06-30 they stand
    # at their last dated milestone (site secured, under construction).
    assert taopu[["macro_done", "macro_cancelled", "macro_planned", "macro_site_secured", "macro_under_construction"]].tolist() == [
        1,
        0,
        0,
        1,
        1,
    ]
    assert changshou[["garage_done", "garage_accepted", "garage_under_construction"]].tolist() == [1, 1, 1]
    assert taopu[["garage_plan_agreed", "garage_done"]].tolist() == [1, 0]
    assert total["street_name"] == "普陀区"
    assert total[["macro_target", "macro_done", "garage_target", "garage_done"]].tolist() == [200, 3, 50, 1]
    assert total["macro_remaining"] == 197
    # Every street row plus the total: counts add up.
    streets = table.drop(index="310107")
    assert streets["macro_done"].sum() == total["macro_done"]
    assert len(streets) == 10


def test_status_today_uses_the_declared_status(data_dir: Path) -> None:
    _write_fixture(data_dir)
    project = load_project(data_dir, as_of=dt.date(2026, 11, 26))
    table = project.progress().set_index("street_code")
    assert table.loc["310107103000", ["macro_done", "macro_cancelled"]].tolist() == [2, 1]
    assert table.loc["310107015000", "garage_done"] == 2


def test_garage_state_walks_the_ladder() -> None:
    dates = pd.to_datetime(["2024-01-15", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"])
    records = pd.DataFrame(
        {"status": ["accepted"]} | {m: [d] for (_, m), d in zip(GARAGE.ladder[1:], dates, strict=True)} | {"status_date": [pd.NaT]}
    )
    seen = [
        status_as_of(records, GARAGE, day, today=dt.date(2026, 1, 1)).iloc[0] for day in [dt.date(2024, 1, 1), *(d.date() for d in dates)]
    ]
    assert seen == [s for s, _ in GARAGE.ladder]


def test_largest_remainder_allocation_sums_and_is_stable() -> None:
    weights = pd.Series([5.8, 3.98, 2.34, 3.53, 6.09, 3.3, 7.5, 20.0], index=list("abcdefgh"))
    result = allocate_targets(weights, 200)
    assert result.sum() == 200
    assert result.tolist() == allocate_targets(weights, 200).tolist()
    assert (abs(result - weights / weights.sum() * 200) < 1).all()
    with pytest.raises(ConfigError):
        allocate_targets(pd.Series([0.0, 0.0]), 10)


def test_targets_must_sum_to_the_district_target(data_dir: Path) -> None:
    _write_fixture(data_dir)
    targets = pd.read_csv(data_dir / "targets.csv", dtype={"street_code": str})
    targets.loc[0, "macro_target"] += 1
    targets.to_csv(data_dir / "targets.csv", index=False)
    with pytest.raises(ConfigError, match=r"macro_target sums to 201 but the district target in rollout\.toml is 200"):
        load_project(data_dir, as_of=dt.date(2024, 6, 30)).progress()


def test_done_counts_agree_with_the_status_on_each_day() -> None:
    """The one-pass weekly counts give, every day, what status_as_of gives for that day."""
    import numpy as np

    from rollout.schema import MACRO
    from rollout.status import done_counts

    rng = np.random.default_rng(7)
    n = 400
    base = pd.Timestamp("2024-01-01")

    def dates(p: float) -> pd.Series:
        values = base + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
        return pd.Series(values).where(rng.random(n) < p)

    records = pd.DataFrame(
        {
            "street_code": rng.choice(["a", "b", "c"], n),
            "status": rng.choice(list(MACRO.statuses), n),
            "site_secured_date": dates(0.7),
            "construction_start_date": dates(0.6),
            "on_air_date": dates(0.5),
            "status_date": dates(0.5),
        }
    )
    today = dt.date(2024, 9, 1)
    days = [d.date() for d in pd.date_range("2023-12-25", "2025-03-01", freq="W-SUN")]
    counted = done_counts(records, MACRO, days, ["a", "b", "c"], today=today)
    for day in days:
        done = status_as_of(records, MACRO, day, today=today).isin(MACRO.done)
        expected = records[done.to_numpy()].groupby("street_code").size().reindex(["a", "b", "c"], fill_value=0)
        assert counted.loc[day].tolist() == expected.tolist(), day


def test_a_past_day_shows_only_what_was_known_then(sample_data_dir: Path) -> None:
    day = dt.date(2024, 6, 30)
    now = load_project(sample_data_dir, as_of=dt.date(2026, 11, 26))
    then = load_project(sample_data_dir, as_of=day)
    for kind in ("macro", "garage"):
        records, full = getattr(then, kind).records, getattr(now, kind).records
        site_kind = getattr(then, kind).kind
        actual = [c for c in site_kind.date_fields() if not c.startswith("planned_")]
        assert not (records[actual] > pd.Timestamp(day)).any().any()
        # The full records do have later actual dates, and planned dates after the day stay.
        assert (full[actual] > pd.Timestamp(day)).any().any()
        planned = [c for c in site_kind.date_fields() if c.startswith("planned_")]
        assert (records[planned] > pd.Timestamp(day)).any().any()
        by_id = full.set_index(site_kind.id_field)
        expected = status_as_of(by_id, site_kind, day).reindex(records[site_kind.id_field])
        assert records["status"].tolist() == expected.tolist()
    garage = then.garage.records
    not_covered = garage["covered_date"].isna()
    assert not_covered.any() and garage.loc[not_covered, "callable_pct_cmcc"].isna().all()
    # Masking changes nothing that is counted: the total is what the full records say for the day.
    full = now.macro.records
    on_air = status_as_of(full, now.macro.kind, day).eq("on_air") & full["counts_toward_target"].astype(bool)
    assert total_row(then.progress())["macro_done"] == int(on_air.sum()) == 81
