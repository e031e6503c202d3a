"""Cell parsers: dates, numbers, vocabularies."""

from __future__ import annotations

import pandas as pd
import pytest

from rollout.schema import OPERATOR_INDEX
from rollout.values import as_date, parse_bools, parse_dates, parse_multi, parse_numbers


@pytest.mark.parametrize(
    "text",
    ["2024-03-05", "2024/3/5", "2024.3.5", "2024年3月5日", "20240305", "45356", "2024-03-05 00:00:00", "２０２４-０３-０５", " 2024-3-5 "],
)
def test_dates_as_people_type_them(text: str) -> None:
    parsed, bad = parse_dates(pd.Series([text]))
    assert not bad.iloc[0]
    assert parsed.iloc[0] == pd.Timestamp("2024-03-05")


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01", "05/03/2024", "next week", "2024-3", "1899-01-01", "3024-01-01"])
def test_impossible_or_ambiguous_dates_are_bad(text: str) -> None:
    parsed, bad = parse_dates(pd.Series([text]))
    assert bad.iloc[0]
    assert pd.isna(parsed.iloc[0])


def test_blank_dates_are_missing_not_bad() -> None:
    parsed, bad = parse_dates(pd.Series(["", "  ", None]))
    assert parsed.isna().all()
    assert not bad.any()


def test_numbers_with_units_full_width_and_junk() -> None:
    parsed, bad = parse_numbers(pd.Series(["121.43", "１２１.４３", "31.25°", "35m", "1,200", "abc", "", "nan", "inf"]))
    assert parsed.iloc[:5].tolist() == [121.43, 121.43, 31.25, 35.0, 1200.0]
    assert bad.tolist() == [False, False, False, False, False, True, False, True, True]


def test_operators_several_per_cell_in_stable_order() -> None:
    parsed, bad = parse_multi(pd.Series(["电信/联通", "联通、电信", "中国移动, 中国广电", "CMCC", "移动/小灵通", ""]), OPERATOR_INDEX)
    assert parsed.tolist()[:4] == ["ctc;cucc", "ctc;cucc", "cmcc;cbn", "cmcc"]
    assert bad.tolist() == [False, False, False, False, True, False]


def test_yes_no_with_default() -> None:
    parsed, bad = parse_bools(pd.Series(["是", "否", "", "N", "maybe"]), default=True)
    assert parsed.tolist() == [True, False, True, False, True]
    assert bad.tolist() == [False, False, False, False, True]


def test_as_date_rejects_nonsense() -> None:
    assert str(as_date("2024年6月30日")) == "2024-06-30"
    with pytest.raises(ValueError, match="2024-06-30"):
        as_date("yesterday")
