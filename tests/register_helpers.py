"""Small submission files for the register tests (the register_db fixture is in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from conftest import INSIDE, write_text

MACRO_HEADER = "站址编码,站名,运营商,经度,纬度,状态,落点日期,开工日期,开通日期,计划开通日期,受阻原因"
GARAGE_HEADER = "小区编码,小区名称,经度,纬度,牵头单位,覆盖运营商,户数,联系人,联系电话,状态,勘察日期,覆盖日期"


def macro_file(folder: Path, name: str, rows: list[str]) -> Path:
    """A macro station submission (UTF-8 CSV) with the given data rows."""
    return write_text(folder / name, "\n".join([MACRO_HEADER, *rows]) + "\n")


def garage_file(folder: Path, name: str, rows: list[str]) -> Path:
    """A garage submission (UTF-8 CSV) with the given data rows."""
    return write_text(folder / name, "\n".join([GARAGE_HEADER, *rows]) + "\n")


def macro_row(
    site: str,
    status: str = "在建",
    *,
    name: str | None = None,
    operator: str = "移动",
    at: str = "changshou",
    dx: float = 0.0,
    on_air: str = "",
    blocker: str = "",
    planned: str = "2024-12-31",
) -> str:
    """One macro row inside a street; ``dx`` shifts the longitude (0.001 deg is about 95 m)."""
    lon, lat = INSIDE[at]
    dates = {
        "规划": ("", ""),
        "已落点": ("2024-03-01", ""),
        "在建": ("2024-03-01", "2024-04-01"),
        "已开通": ("2024-03-01", "2024-04-01"),
        "受阻": ("2024-03-01", ""),
    }
    secured, started = dates.get(status, ("", ""))
    return f"{site},{name or site + '站'},{operator},{lon + dx:.6f},{lat:.6f},{status},{secured},{started},{on_air},{planned},{blocker}"
