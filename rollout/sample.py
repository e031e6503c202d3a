"""A deterministic generator of synthetic site records, the project's bundled sample.

The sample imitates what operators and streets send: Chinese headers, a GB18030-encoded
macro file and a UTF-8-with-BOM garage file, coordinates partly copied from Gaode (GCJ-02)
and Baidu (BD-09), dates typed in several ways, statuses in Chinese and English, a handful
of blockers, and two deliberately broken rows so that the rejects report has something to
show. Every record is marked synthetic in its 备注 (note) column.

The state of the sample is that of ``SNAPSHOT``: no milestone date lies after it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rollout import crs as _crs
from rollout.boundaries import read_street_table
from rollout.config import Config, read_targets
from rollout.sample_plans import add_plan_columns
from rollout.writers import atomic_path

__all__ = ["SNAPSHOT", "generate_sample", "write_sample"]

SNAPSHOT = dt.date(2024, 12, 27)
SYNTHETIC_NOTE = "合成示例数据 synthetic sample"
_START = np.datetime64("2024-01-02")
_SNAP = np.datetime64(SNAPSHOT)

# Road names of Putuo District (public facts), used to make plausible synthetic names.
_ROADS = (
    "曹杨路",
    "真北路",
    "中山北路",
    "武宁路",
    "金沙江路",
    "长寿路",
    "光新路",
    "铜川路",
    "真华路",
    "交通路",
    "岚皋路",
    "桃浦路",
    "祁连山路",
    "真南路",
    "大渡河路",
    "梅川路",
    "枣阳路",
    "兰溪路",
    "宜川路",
    "甘泉路",
    "志丹路",
    "新村路",
    "石泉路",
    "白玉路",
    "西康路",
    "常德路",
    "澳门路",
    "云岭东路",
    "同普路",
    "绥德路",
    "泸定路",
    "怒江北路",
    "丹巴路",
    "白丽路",
    "万镇路",
    "真金路",
    "富平路",
    "真如路",
    "杏山路",
    "芝川路",
)
_COMPOUND_WORDS = (
    "曹杨",
    "梅岭",
    "金沙",
    "真光",
    "桃浦",
    "中环",
    "武宁",
    "兰溪",
    "岚皋",
    "宜川",
    "甘泉",
    "石泉",
    "光新",
    "铜川",
    "绥德",
    "枣阳",
    "梅川",
    "清涧",
    "阳光",
    "同普",
)
_COMPOUND_SUFFIX = ("新村", "花园", "苑", "公寓", "小区", "家园", "雅苑", "名邸", "佳苑", "大厦")
_MACRO_BLOCKERS = ("业主不同意进场", "居民担忧辐射投诉", "电力引入困难", "屋顶承重不足", "物业阻挠施工", "规划审批未通过")
_GARAGE_BLOCKERS = ("物业不配合", "业委会未同意", "车库无弱电井", "施工期间车位占用协调难")
_CANCEL_REASONS = ("站址调整合并", "地块拆迁", "改用室分覆盖")
_CRS_WORDS = {"wgs84": ("WGS84", "wgs-84", ""), "gcj02": ("GCJ-02", "高德"), "bd09": ("BD-09", "百度")}


def generate_sample(config: Config, streets: gpd.GeoDataFrame, *, seed: int = 2024) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (macro stations, garage compounds) as frames with Chinese headers, ready to write."""
    rng = np.random.default_rng(seed)
    targets = read_targets(config, read_street_table(config)).reindex(streets["street_code"])
    macro = _macro(rng, streets, targets)
    garage = _garage(rng, streets, targets)
    # The worksheet columns come from a stream of their own, so the columns above never change.
    garage = add_plan_columns(garage, np.random.default_rng([seed, 1]))
    return macro, garage


def write_sample(config: Config, streets: gpd.GeoDataFrame, out_dir: Path | str, *, seed: int = 2024) -> list[Path]:
    """Write the sample site files (macro: GB18030 CSV; garage: UTF-8 CSV with BOM)."""
    macro, garage = generate_sample(config, streets, seed=seed)
    out_dir = Path(out_dir)
    paths = []
    for frame, name, encoding in ((macro, "macro_stations.csv", "gb18030"), (garage, "garage_compounds.csv", "utf-8-sig")):
        path = out_dir / name
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, encoding=encoding, lineterminator="\r\n")
        paths.append(path)
    return paths


def _points_in(rng: np.random.Generator, polygon: shapely.Geometry, n: int) -> np.ndarray:
    """``n`` random points inside ``polygon`` by rejection sampling, drawn in batches."""
    xmin, ymin, xmax, ymax = polygon.bounds
    shapely.prepare(polygon)
    found = np.empty((0, 2))
    while len(found) < n:
        xy = np.column_stack([rng.uniform(xmin, xmax, 4 * n), rng.uniform(ymin, ymax, 4 * n)])
        inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        found = np.vstack([found, xy[inside]])
    return found[:n]


def _dates_text(rng: np.random.Generator, dates: np.ndarray) -> list[str]:
    """Format dates the way different people type them."""
    styles = rng.choice(4, size=len(dates), p=[0.55, 0.2, 0.15, 0.1])
    out = []
    for date, style in zip(dates, styles, strict=True):
        if np.isnat(date):
            out.append("")
            continue
        d = pd.Timestamp(date)
        out.append(
            (
                f"{d:%Y-%m-%d}",
                f"{d.year}/{d.month}/{d.day}",
                f"{d.year}年{d.month}月{d.day}日",
                f"{d:%Y%m%d}",
            )[style]
        )
    return out


def _days(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    return rng.integers(low, high, n).astype("timedelta64[D]")


def _place(rng: np.random.Generator, streets: gpd.GeoDataFrame, counts: pd.Series) -> pd.DataFrame:
    rows = []
    for code, n in counts.items():
        polygon = streets.set_index("street_code").geometry[code]
        xy = _points_in(rng, polygon, int(n))
        rows.append(pd.DataFrame({"street_code": code, "lon": xy[:, 0], "lat": xy[:, 1]}))
    return pd.concat(rows, ignore_index=True)


def _coordinates(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """Express each WGS-84 point in the coordinate system its sender would have used."""
    systems = rng.choice(["wgs84", "gcj02", "bd09"], size=len(frame), p=[0.7, 0.18, 0.12])
    lon, lat = frame["lon"].to_numpy().copy(), frame["lat"].to_numpy().copy()
    words = []
    for name in ("gcj02", "bd09"):
        mask = systems == name
        lon[mask], lat[mask] = _crs.from_wgs84(lon[mask], lat[mask], name)
    for name in systems:
        choices = _CRS_WORDS[name]
        words.append(choices[int(rng.integers(len(choices)))])
    return pd.DataFrame({"lon": np.round(lon, 6), "lat": np.round(lat, 6), "crs": words})


def _macro(rng: np.random.Generator, streets: gpd.GeoDataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    counts = targets["macro_target"].copy()
    extras = rng.multinomial(30, counts / counts.sum())
    counts = counts + extras
    sites = _place(rng, streets, counts)
    n = len(sites)
    # Final states at the snapshot: most on air, some late, 14 blocked, 10 cancelled, 6 not new.
    status = np.array(["on_air"] * n, dtype=object)
    order = rng.permutation(n)
    status[order[:14]] = "blocked"
    status[order[14:24]] = "cancelled"
    status[order[24:33]] = "under_construction"
    status[order[33:38]] = "site_secured"
    counts_toward = np.ones(n, dtype=bool)
    counts_toward[order[38:44]] = False
    # Some streets run late: push their on-air dates later in the year.
    lateness = dict(zip(streets["street_code"], rng.uniform(0.0, 1.0, len(streets)), strict=True))
    late = sites["street_code"].map(lateness).to_numpy()
    on_air = _START + (rng.beta(1.0 + 1.2 * late, 1.2, n) * (_SNAP - _START).astype(int)).astype("timedelta64[D]")
    construction = on_air - _days(rng, 20, 60, n)
    secured = construction - _days(rng, 10, 45, n)
    secured = np.maximum(secured, _START)
    construction = np.maximum(construction, secured + np.timedelta64(1, "D"))
    on_air = np.maximum(on_air, construction + np.timedelta64(7, "D"))
    on_air_shown = np.where(status == "on_air", on_air, np.datetime64("NaT"))
    construction_shown = np.where(np.isin(status, ["on_air", "under_construction"]), np.minimum(construction, _SNAP), np.datetime64("NaT"))
    secured_shown = np.where(status != "cancelled", np.minimum(secured, _SNAP - np.timedelta64(20, "D")), secured)
    status_date = np.where(
        np.isin(status, ["blocked", "cancelled"]), np.minimum(secured + _days(rng, 15, 90, n), _SNAP), np.datetime64("NaT")
    )
    planned = np.where(status != "on_air", _SNAP + _days(rng, 20, 120, n), on_air - _days(rng, -10, 20, n))
    blocker = np.full(n, "", dtype=object)
    blocked = status == "blocked"
    blocker[blocked] = rng.choice(_MACRO_BLOCKERS, blocked.sum())
    cancelled = status == "cancelled"
    blocker[cancelled] = rng.choice(_CANCEL_REASONS, cancelled.sum())
    operator = rng.choice(
        ["移动", "电信/联通", "联通/电信", "移动/广电", "电信", "联通", "铁塔"], n, p=[0.3, 0.25, 0.05, 0.12, 0.12, 0.1, 0.06]
    )
    band = np.where(
        np.char.find(operator.astype(str), "移动") >= 0,
        rng.choice(["n41", "n28", "N79"], n, p=[0.75, 0.2, 0.05]),
        rng.choice(["n78", "3.5G"], n, p=[0.85, 0.15]),
    )
    band = np.where(operator == "移动/广电", "n28", band)
    roads = rng.choice(_ROADS, n)
    numbers = rng.integers(1, 2000, n)
    street_names = streets.set_index("street_code")["name"]
    declared = sites["street_code"].map(street_names).to_numpy().copy()
    short = rng.random(n) < 0.2
    declared[short] = [name.removesuffix("街道").removesuffix("新村") for name in declared[short]]
    coords = _coordinates(rng, sites)
    statuses_zh = {"on_air": "已开通", "under_construction": "在建", "site_secured": "已落点", "blocked": "受阻", "cancelled": "取消"}
    status_text = np.array([statuses_zh[s] for s in status], dtype=object)
    english = rng.random(n) < 0.05
    status_text[english & (status == "on_air")] = "On Air"
    frame = pd.DataFrame(
        {
            "站址编码": [f"PT-5G-{i + 1:04d}" for i in range(n)],
            "站名": [f"普陀{r}{k}号5G宏站" for r, k in zip(roads, numbers, strict=True)],
            "运营商": operator,
            "经度": coords["lon"],
            "纬度": coords["lat"],
            "坐标系": coords["crs"],
            "地址": [f"上海市普陀区{r}{k}号" for r, k in zip(roads, numbers, strict=True)],
            "所属街道": declared,
            "频段": band,
            "挂高": rng.integers(18, 46, n).astype(str).astype(object),
            "状态": status_text,
            "状态日期": _dates_text(rng, status_date),
            "受阻原因": blocker,
            "落点日期": _dates_text(rng, secured_shown),
            "开工日期": _dates_text(rng, construction_shown),
            "开通日期": _dates_text(rng, on_air_shown),
            "计划开通日期": _dates_text(rng, planned),
            "计入目标": np.where(counts_toward, "是", "否"),
            "备注": np.where(counts_toward, SYNTHETIC_NOTE, SYNTHETIC_NOTE + "; 4G升级站, 不计入新建目标"),
        }
    )
    # Full-width digits, as pasted from some Chinese input methods.
    frame.loc[3, "挂高"] = "３０"
    # Two broken rows, as found in real exports: a pasted copy and an impossible date.
    copy = frame.iloc[[10]].copy()
    broken = frame.iloc[[11]].copy()
    broken["站址编码"] = f"PT-5G-{n + 1:04d}"
    broken["开通日期"] = "2024-13-45"
    broken["状态"] = "已开通"
    return pd.concat([frame, copy, broken], ignore_index=True)


def _garage(rng: np.random.Generator, streets: gpd.GeoDataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    counts = targets["garage_target"].copy()
    counts = counts + rng.multinomial(10, counts / counts.sum())
    sites = _place(rng, streets, counts)
    n = len(sites)
    status = np.array(["accepted"] * n, dtype=object)
    order = rng.permutation(n)
    plan = (
        ["covered"] * 12
        + ["under_construction"] * 4
        + ["plan_agreed"] * 3
        + ["surveyed"] * 3
        + ["not_started"] * 4
        + ["blocked"] * 3
        + ["cancelled"]
    )
    status[order[: len(plan)]] = plan
    rank = {
        "not_started": 0,
        "surveyed": 1,
        "plan_agreed": 2,
        "under_construction": 3,
        "covered": 4,
        "accepted": 5,
        "blocked": 2,
        "cancelled": 1,
    }
    reached = np.array([rank[s] for s in status])
    accepted = _START + (rng.beta(2.2, 1.2, n) * (_SNAP - _START).astype(int)).astype("timedelta64[D]")
    covered = accepted - _days(rng, 7, 30, n)
    construction = covered - _days(rng, 15, 45, n)
    agreed = construction - _days(rng, 10, 40, n)
    survey = agreed - _days(rng, 7, 30, n)
    milestones = [survey, agreed, construction, covered, accepted]
    base = np.maximum(survey, _START) - survey
    milestones = [np.minimum(m + base, _SNAP) for m in milestones]
    shown = [np.where(reached >= i + 1, m, np.datetime64("NaT")) for i, m in enumerate(milestones)]
    status_date = np.where(
        np.isin(status, ["blocked", "cancelled"]), np.minimum(milestones[1] + _days(rng, 10, 60, n), _SNAP), np.datetime64("NaT")
    )
    blocker = np.full(n, "", dtype=object)
    blocker[status == "blocked"] = rng.choice(_GARAGE_BLOCKERS, (status == "blocked").sum())
    blocker[status == "cancelled"] = "小区整体改造, 明年再议"
    households = rng.integers(300, 3000, n)
    parking = (households * rng.uniform(0.3, 0.7, n)).astype(int)
    words = rng.choice(_COMPOUND_WORDS, n)
    suffixes = rng.choice(_COMPOUND_SUFFIX, n)
    names = [f"{w}{s}" for w, s in zip(words, suffixes, strict=True)]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[i] = f"{name}{'一二三四五六七八九'[seen[name] - 2]}期"
    roads = rng.choice(_ROADS, n)
    street_names = streets.set_index("street_code")["name"]
    coords = _coordinates(rng, sites)
    statuses_zh = {
        "not_started": "未启动",
        "surveyed": "已勘察",
        "plan_agreed": "方案确定",
        "under_construction": "施工中",
        "covered": "已覆盖",
        "accepted": "已验收",
        "blocked": "受阻",
        "cancelled": "取消",
    }
    surnames = "张王李赵刘陈杨黄周吴"
    frame = pd.DataFrame(
        {
            "小区编码": [f"PT-GA-{i + 1:03d}" for i in range(n)],
            "小区名称": names,
            "地址": [f"上海市普陀区{r}{k}弄" for r, k in zip(roads, rng.integers(1, 1500, n), strict=True)],
            "经度": coords["lon"],
            "纬度": coords["lat"],
            "坐标系": coords["crs"],
            "所属街道": sites["street_code"].map(street_names).to_numpy(),
            "户数": households,
            "楼栋数": np.maximum(households // rng.integers(40, 120, n), 2),
            "地下层数": rng.choice([1, 2, 3], n, p=[0.55, 0.4, 0.05]),
            "车库面积": (parking * rng.uniform(28, 38, n)).round(-1).astype(int),
            "车位数": parking,
            "覆盖方案": rng.choice(["室分", "皮站", "漏缆", "直放站"], n, p=[0.45, 0.3, 0.15, 0.1]),
            "牵头单位": rng.choice(["中国铁塔", "中国移动", "中国电信", "中国联通"], n, p=[0.55, 0.2, 0.15, 0.1]),
            "覆盖运营商": rng.choice(["移动/电信/联通", "移动、电信、联通、广电", "移动/联通"], n, p=[0.7, 0.2, 0.1]),
            "物业": [f"{w}物业管理有限公司" for w in rng.choice(_COMPOUND_WORDS, n)],
            "联系人": [f"{surnames[int(i)]}经理" for i in rng.integers(0, len(surnames), n)],
            "联系电话": [f"1390000{int(k):04d}" for k in rng.integers(0, 10000, n)],
            "状态": [statuses_zh[s] for s in status],
            "状态日期": _dates_text(rng, status_date),
            "受阻原因": blocker,
            "勘察日期": _dates_text(rng, shown[0]),
            "方案确定日期": _dates_text(rng, shown[1]),
            "开工日期": _dates_text(rng, shown[2]),
            "覆盖日期": _dates_text(rng, shown[3]),
            "验收日期": _dates_text(rng, shown[4]),
            "计划覆盖日期": _dates_text(rng, np.where(reached < 4, _SNAP + _days(rng, 30, 150, n), milestones[3])),
            "备注": SYNTHETIC_NOTE,
        }
    )
    # Ranking inputs and acceptance evidence ("one acceptance, one report"), drawn last so that
    # the columns above stay as they were.
    frame["建成年份"] = rng.integers(1985, 2016, n)
    frame["12345投诉数"] = rng.poisson(0.8, n)
    tested = np.isin(status, ["covered", "accepted"])
    for operator in ("移动", "电信", "联通"):
        frame[f"{operator}可通话率"] = np.where(tested, rng.uniform(91, 99.5, n).round(1), np.nan)
    frame["广电可通话率"] = np.where(tested & (rng.random(n) < 0.5), rng.uniform(85, 99, n).round(1), np.nan)
    frame["覆盖前信号强度"] = np.where(tested, rng.uniform(-118, -105, n).round(1), np.nan)
    frame["覆盖后信号强度"] = np.where(tested, rng.uniform(-88, -72, n).round(1), np.nan)
    frame["充电桩在线"] = np.where(tested, "是", "")
    frame["道闸在线"] = np.where(tested, "是", "")
    # Two accepted compounds whose evidence does not pass: the tool must flag them.
    accepted = np.flatnonzero(status == "accepted")
    frame.loc[accepted[0], "联通可通话率"] = 82.5
    frame.loc[accepted[1], "道闸在线"] = "否"
    return frame
