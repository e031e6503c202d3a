"""Messages shown to people, in Chinese (default) and English.

Each message is a template keyed by a short code; :func:`say` fills it in the language of
``rollout.settings.language``. Codes are stable and go into reports as ``reason_code``.
"""

from __future__ import annotations

from rollout import settings

__all__ = ["MESSAGES", "say"]

MESSAGES: dict[str, tuple[str, str]] = {
    # rejects
    "id_missing": ("编码为空：请为每行填写唯一编码", "the id is empty: give every row a unique id"),
    "id_duplicate": (
        "编码重复，首次出现在 {first}：请删除重复行或改用新编码",
        "duplicate id, first seen at {first}: delete the copy or give it a new id",
    ),
    "coord_missing": (
        "缺少坐标：请填写十进制度经纬度（如 121.43, 31.25）",
        "coordinate missing: fill in decimal degrees (e.g. 121.43, 31.25)",
    ),
    "coord_not_number": ("不是数字：请用十进制度（如 121.43）", "not a number: use decimal degrees such as 121.43"),
    "coord_outside_china": (
        "坐标不在中国境内：请核对经纬度是否填错",
        "the point lies outside China: check the longitude and latitude",
    ),
    "crs_unknown": (
        "无法识别的坐标系：应为 WGS84、GCJ02（高德/腾讯）或 BD09（百度）",
        "unknown coordinate system: use WGS84, GCJ02 (Gaode/Tencent) or BD09 (Baidu)",
    ),
    "status_missing": ("状态为空：可用 {allowed}", "the status is empty: use one of {allowed}"),
    "status_unknown": ("无法识别的状态：可用 {allowed}", "unknown status: use one of {allowed}"),
    "date_unreadable": ("无法识别的日期：请写成 2024-03-05", "cannot read the date: write it as 2024-03-05"),
    "date_order": (
        "日期顺序不可能：{later} 早于 {other}（{other_value}），请核对",
        "impossible dates: {later} is before {other} ({other_value}); check both",
    ),
    "done_in_future": (
        "标记为“{status}”，但日期晚于 {reference}：请核对状态或日期",
        "marked {status} but the date is after {reference}: check the status or the date",
    ),
    "outside_district": (
        "位于{where}，距{district}边界 {distance}：请核对坐标及坐标系",
        "lies {where}, {distance} outside {district}: check the coordinates and their coordinate system",
    ),
    "too_many_cells": (
        "本行有 {cells} 个单元格，表头只有 {header} 列：值中的逗号需加引号",
        "the row has {cells} cells but the header has {header}: quote values that contain the delimiter",
    ),
    # warnings
    "coords_swapped": ("经纬度填反，已自动交换", "longitude and latitude were swapped; corrected"),
    "number_unreadable": ("不是数字，已忽略该值", "not a number; the value is ignored"),
    "vocab_unknown": ("无法识别，已原样保留；可用 {allowed}", "not recognised, kept as written; known values: {allowed}"),
    "bool_unreadable": ("无法识别，按“{default}”处理；请填 是/否", "not recognised, taken as {default}; write yes or no"),
    "done_without_date": ("标记为“{status}”但没有{milestone}", "marked {status} without {milestone}"),
    "blocked_without_reason": ("状态为受阻但未填写受阻原因", "blocked, but no reason given in the blocker column"),
    "status_behind_dates": (
        "状态为“{status}”，但已填写{milestone}：按状态统计",
        "the status says {status} but {milestone} is filled in: counted by the status",
    ),
    "street_mismatch": ("填报街道为{declared}，坐标位于{located}", "declared street is {declared}, but the point lies in {located}"),
    "street_unknown": ("无法识别的街道名称，以坐标定位为准", "unknown street name; the street is taken from the coordinates"),
    "snapped": (
        "位于区界外 {distance} 米，已归入最近的{street}",
        "{distance} m outside the district; assigned to the nearest street, {street}",
    ),
}


def say(code: str, **values: object) -> str:
    """Return the message ``code`` filled with ``values`` in the current language."""
    zh, en = MESSAGES[code]
    template = zh if settings.language == "zh" else en
    return template.format(**values)
