"""The sample garage file's worksheet columns (一小区一方案): plan, equipment, schedule, test.

Drawn from a random stream of their own (seeded from the sample's seed), after every other
column, so that adding them left the sample's other columns exactly as they were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["add_plan_columns"]

_SIGNAL = {
    "室分": "新建RRU，经合路器接入室分系统",
    "皮站": "新建BBU+pRRU（BBU置于小区弱电机房）",
    "漏缆": "新建RRU，接入漏缆",
    "直放站": "周边室外宏站经直放站引入",
}
_BANDS = {"移动": "5G n41、n28；4G F/D", "电信": "5G n78（电联共享）；4G 1.8G", "联通": "5G n78（电联共享）；4G 2.1G", "广电": "5G n28"}
_POWER = ("物业低压配电箱取电，独立电表计量", "小区配电房新设专用回路，独立电表", "弱电间就近取电，加装UPS后备电源")
_TRANSMISSION = ("弱电井至小区光交箱，三家共享光缆", "利旧小区机房光缆接入运营商光交", "新建管道至路边光交箱，共享光缆")
_TESTERS = ("铁塔普陀区分公司优化组", "第三方测试单位（上海某通信技术公司）", "运营商网络优化中心")
_STEPS = ("勘察日期", "方案确定日期", "开工日期", "覆盖日期", "验收日期")


def add_plan_columns(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """``frame`` (the sample garage file, Chinese headers) with the worksheet columns added."""
    out = frame.copy()
    n = len(out)
    dates = {name: pd.to_datetime(out[name].map(_iso), errors="coerce") for name in (*_STEPS, "计划覆盖日期")}
    planned_agreed = dates["方案确定日期"].notna() | out["状态"].isin(["施工中", "已覆盖", "已验收"])
    solution = out["覆盖方案"].astype(str)
    area = out["车库面积"].astype(float).to_numpy()
    levels = out["地下层数"].astype(int).to_numpy()
    operators = out["覆盖运营商"].astype(str).str.replace("、", "/").str.split("/")
    lead = out["牵头单位"].astype(str)
    out["建设方式"] = np.where(lead.eq("中国铁塔"), "铁塔统建", lead.str.removeprefix("中国") + "自建")
    out["共享运营商"] = operators.map("/".join)
    for operator, code in (("移动", "移动"), ("电信", "电信"), ("联通", "联通"), ("广电", "广电")):
        joined = operators.map(lambda ops, op=operator: op in ops)
        out[f"{code}信源"] = np.where(joined & planned_agreed, solution.map(_SIGNAL), "")
        out[f"{code}频段"] = np.where(joined & planned_agreed, _BANDS[operator], "")
    draw = rng.uniform(0.8, 1.2, (6, n))

    def count(values: np.ndarray, applies: np.ndarray) -> pd.Series:
        cells = [int(max(v, 1)) if a else "" for v, a in zip(np.round(values), applies & planned_agreed.to_numpy(), strict=True)]
        return pd.Series(cells, index=out.index, dtype=object)

    out["RRU数量"] = count(levels * 2 * draw[0], solution.isin(["室分", "漏缆", "直放站"]).to_numpy())
    out["pRRU数量"] = count(area / 900 * draw[1], solution.eq("皮站").to_numpy())
    out["合路器数量"] = count(levels * 2 * draw[2], solution.isin(["室分", "漏缆"]).to_numpy())
    out["天线数量"] = count(area / 350 * draw[3], solution.isin(["室分", "直放站"]).to_numpy())
    out["漏缆长度"] = count(area / 12 * draw[4], solution.eq("漏缆").to_numpy())
    out["电源设备数量"] = count(levels * draw[5], np.ones(n, dtype=bool))
    out["供电方式"] = np.where(planned_agreed, rng.choice(_POWER, n), "")
    out["传输路由"] = np.where(planned_agreed, rng.choice(_TRANSMISSION, n), "")
    covered = dates["计划覆盖日期"]
    offsets = rng.integers(0, 12, (4, n))
    construction = covered - pd.to_timedelta(30 + offsets[0], unit="D")
    agreed = construction - pd.to_timedelta(20 + offsets[1], unit="D")
    survey = agreed - pd.to_timedelta(14 + offsets[2], unit="D")
    accepted = covered + pd.to_timedelta(14 + offsets[3], unit="D")
    for name, planned in (
        ("计划勘察日期", survey),
        ("计划方案确定日期", agreed),
        ("计划开工日期", construction),
        ("计划验收日期", accepted),
    ):
        out[name] = planned.dt.strftime("%Y-%m-%d").fillna("")
    tested = dates["覆盖日期"].notna().to_numpy()
    test_day = dates["覆盖日期"] + pd.to_timedelta(rng.integers(1, 7, n), unit="D")
    test_day = test_day.where(dates["验收日期"].isna() | (test_day <= dates["验收日期"]), dates["验收日期"])
    out["测试方法"] = np.where(tested, "各层车位按网格抽样，CQT拨打测试（每点3次）并记录RSRP", "")
    points = np.maximum(out["车位数"].astype(int).to_numpy() // 10, 20)
    out["测试点数"] = [int(p) if t else "" for p, t in zip(points, tested, strict=True)]
    out["测试人"] = np.where(tested, rng.choice(_TESTERS, n), "")
    out["测试日期"] = np.where(tested, test_day.dt.strftime("%Y-%m-%d").fillna(""), "")
    return out


def _iso(text: object) -> str:
    """The sample's typed dates (2024-03-05, 2024/3/5, 2024年3月5日, 20240305) as ISO text."""
    value = str(text or "").strip()
    if not value:
        return ""
    for old, new in (("年", "-"), ("月", "-"), ("日", ""), ("/", "-")):
        value = value.replace(old, new)
    if value.isdigit() and len(value) == 8:
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    year, month, day = value.split("-")
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
