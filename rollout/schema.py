"""The vocabulary of site files: canonical columns, header aliases, status ladders.

Everything a person may type in a header or a cell is matched after :func:`normalize_token`
(NFKC, lower case, no spaces, underscores, hyphens or bracketed units), so ``"经度 (°)"``,
``"Longitude"`` and ``"LNG"`` all mean ``lon``. The coordinate system a coordinate header names
(``经度(百度)``) is read by :mod:`rollout.header_crs`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from rollout.header_crs import HEADER_CRS_WORDS, HeaderHint, coordinate_header

__all__ = [
    "BANDS",
    "GARAGE",
    "HEADER_CRS_WORDS",
    "KINDS",
    "MACRO",
    "OPERATORS",
    "SOLUTIONS",
    "Field",
    "HeaderHint",
    "SiteKind",
    "TableSchema",
    "coordinate_header",
    "normalize_token",
    "operator_code",
]

_BRACKETED = re.compile(r"[(\[（【].*?[)\]）】]")
_SEPARATORS = re.compile(r"[\s_\-—–·./:：]+")


def normalize_token(text: object) -> str:
    """Return ``text`` folded for matching: NFKC, lower case, no brackets or separators.

    >>> normalize_token(" 经度（WGS84） ")
    '经度'
    >>> normalize_token("Site_ID")
    'siteid'
    """
    return _folded(str(text))


@functools.lru_cache(maxsize=1 << 16)
def _folded(text: str) -> str:
    # Cached: headers and the cells of a file's head are folded many times over (finding the
    # header row tries every delimiter), statuses and operators once per file.
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    folded = _BRACKETED.sub("", folded)
    return _SEPARATORS.sub("", folded)


@dataclass(frozen=True)
class Field:
    """One canonical column: its English name, Chinese header, value type and aliases."""

    name: str
    zh: str
    type: str = "text"  # text, id, float, int, date, crs, status, operators, band, bool, solution
    aliases: tuple[str, ...] = ()
    required: bool = False
    #: A milestone date column before which this value cannot have been known (acceptance test
    #: results are known once the garage is covered): replaying an earlier day blanks it.
    known_after: str | None = None

    def names(self) -> tuple[str, ...]:
        """Return every header that means this column, normalised."""
        return tuple(normalize_token(a) for a in (self.name, self.zh, *self.aliases))


@dataclass(frozen=True)
class TableSchema:
    """The columns of a kind of table people send, and the headers that mean each one
    (``header_index``: normalised header -> canonical column)."""

    name: str
    id_field: str
    fields: tuple[Field, ...]
    header_index: dict[str, str] = field(default_factory=dict, compare=False, kw_only=True)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for f in self.fields:
            for alias in f.names():
                index.setdefault(alias, f.name)
        object.__setattr__(self, "header_index", index)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Canonical column names in order."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class SiteKind(TableSchema):
    """A kind of site record (macro stations or garage compounds) and its rules."""

    #: Status ladder from first to last, each with the milestone date that reaches it.
    ladder: tuple[tuple[str, str | None], ...]
    done: frozenset[str]
    status_aliases: dict[str, tuple[str, ...]]
    file_stems: tuple[str, ...]
    #: Milestone that marks the record as done, for "date in the future" checks.
    done_dates: tuple[str, ...] = ()

    def date_fields(self) -> tuple[str, ...]:
        """Names of the date columns."""
        return tuple(f.name for f in self.fields if f.type == "date")

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every canonical status: the ladder, then blocked and cancelled."""
        return (*(s for s, _ in self.ladder), "blocked", "cancelled")

    def parse_status(self, text: object) -> str | None:
        """Return the canonical status for a cell, or None when it is not recognised."""
        token = normalize_token(text)
        for status, aliases in self.status_aliases.items():
            if token in aliases:
                return status
        return None


def _aliases(**statuses: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {status: tuple(normalize_token(a) for a in (status, *words)) for status, words in statuses.items()}


_LOCATION = (
    Field("lon", "经度", "float", ("longitude", "lng", "long", "x", "东经"), required=True),
    Field("lat", "纬度", "float", ("latitude", "y", "北纬"), required=True),
    Field("crs", "坐标系", "crs", ("坐标系统", "坐标类型", "coordinate system", "coordsys", "srs")),
    Field("address", "地址", "text", ("详细地址", "站址地址", "小区地址", "addr")),
    Field("street", "所属街道", "text", ("街道", "街镇", "街道镇", "所属街镇", "subdistrict", "town")),
)
_PROGRESS = (
    Field("status", "状态", "status", ("建设状态", "进度", "当前状态", "state", "stage"), required=True),
    Field("status_date", "状态日期", "date", ("状态更新日期", "受阻日期", "status since")),
    Field("blocker", "受阻原因", "text", ("阻碍原因", "难点", "问题", "blocked reason", "reason")),
    Field("updated_date", "更新日期", "date", ("最后更新", "last updated", "updated")),
    Field("note", "备注", "text", ("说明", "数据来源", "remark", "remarks", "notes", "data source")),
)
_BLOCKED_CANCELLED = {
    "blocked": ("受阻", "阻塞", "暂停", "停滞", "blocked", "on hold"),
    "cancelled": ("取消", "已取消", "撤销", "作废", "cancelled", "canceled"),
}

MACRO = SiteKind(
    name="macro",
    id_field="site_id",
    fields=(
        Field(
            "site_id", "站址编码", "id", ("站址编号", "站点编码", "站点编号", "基站编码", "站号", "编码", "site code", "id"), required=True
        ),
        Field("name", "站名", "text", ("站点名称", "基站名称", "站址名称", "名称", "site name")),
        Field("operator", "运营商", "operators", ("运营商名称", "共享运营商", "operators")),
        *_LOCATION,
        Field("band", "频段", "band", ("频率", "frequency band", "nr band")),
        Field("antenna_height_m", "挂高", "float", ("天线挂高", "天线高度", "挂高m", "antenna height", "height")),
        *_PROGRESS,
        Field("site_secured_date", "落点日期", "date", ("站址落实日期", "site secured")),
        Field("construction_start_date", "开工日期", "date", ("开始施工日期", "施工日期", "construction start")),
        Field("on_air_date", "开通日期", "date", ("入网日期", "on air", "on-air date")),
        Field("planned_on_air_date", "计划开通日期", "date", ("预计开通日期", "planned on air")),
        Field("counts_toward_target", "计入目标", "bool", ("是否计入目标", "计入任务", "counts toward target")),
    ),
    ladder=(
        ("planned", None),
        ("site_secured", "site_secured_date"),
        ("under_construction", "construction_start_date"),
        ("on_air", "on_air_date"),
    ),
    done=frozenset({"on_air"}),
    done_dates=("on_air_date",),
    status_aliases=_aliases(
        planned=("规划", "计划", "待建", "未开工", "规划中", "plan"),
        site_secured=("已落点", "落点", "站址已落实", "已选址", "secured"),
        under_construction=("在建", "施工中", "建设中", "已开工", "construction", "building"),
        on_air=("已开通", "开通", "在网", "已入网", "已建成", "onair", "live"),
        **_BLOCKED_CANCELLED,
    ),
    file_stems=("macro_stations",),
)

#: Optional garage columns for the worksheet (一小区一方案): per-operator signal source and band,
#: the equipment list, who builds and who shares, power and transmission, planned dates of each
#: step, and how the acceptance test was made.
_WORKSHEET_FIELDS = (
    Field("signal_source_cmcc", "移动信源", "text", ("移动信号源", "移动信源方式", "signal source cmcc")),
    Field("signal_source_ctc", "电信信源", "text", ("电信信号源", "电信信源方式", "signal source ctc")),
    Field("signal_source_cucc", "联通信源", "text", ("联通信号源", "联通信源方式", "signal source cucc")),
    Field("signal_source_cbn", "广电信源", "text", ("广电信号源", "广电信源方式", "signal source cbn")),
    Field("band_cmcc", "移动频段", "text", ("移动制式频段", "band cmcc")),
    Field("band_ctc", "电信频段", "text", ("电信制式频段", "band ctc")),
    Field("band_cucc", "联通频段", "text", ("联通制式频段", "band cucc")),
    Field("band_cbn", "广电频段", "text", ("广电制式频段", "band cbn")),
    Field("rru_count", "RRU数量", "int", ("rru", "射频拉远单元数量", "rru count")),
    Field("prru_count", "pRRU数量", "int", ("prru", "皮站数量", "prru count")),
    Field("combiner_count", "合路器数量", "int", ("合路器", "多系统合路器数量", "poi数量", "combiners")),
    Field("antenna_count", "天线数量", "int", ("天线", "吸顶天线数量", "antennas")),
    Field("leaky_cable_m", "漏缆长度", "float", ("漏缆米数", "泄漏电缆长度", "漏缆长度m", "leaky cable m")),
    Field("power_units", "电源设备数量", "int", ("电源模块数量", "电源设备", "power units")),
    Field("builder", "建设方式", "text", ("建设单位", "建设主体", "统建自建", "builder")),
    Field("sharing_operators", "共享运营商", "operators", ("共享单位", "共建共享运营商", "sharing operators")),
    Field("power_source", "供电方式", "text", ("电源引入", "取电方式", "供电", "power source")),
    Field("transmission_route", "传输路由", "text", ("传输方式", "光缆路由", "传输", "transmission route")),
    Field("planned_survey_date", "计划勘察日期", "date", ("预计勘察日期", "planned survey")),
    Field("planned_plan_agreed_date", "计划方案确定日期", "date", ("预计方案确定日期", "planned plan agreed")),
    Field("planned_construction_start_date", "计划开工日期", "date", ("预计开工日期", "planned construction start")),
    Field("planned_accepted_date", "计划验收日期", "date", ("预计验收日期", "planned accepted")),
    Field("test_method", "测试方法", "text", ("验收测试方法", "测试方式", "test method"), known_after="covered_date"),
    Field("test_points", "测试点数", "int", ("抽测点数", "测试点位数", "test points"), known_after="covered_date"),
    Field("tester", "测试人", "text", ("测试人员", "测试单位", "tester"), known_after="covered_date"),
    Field("test_date", "测试日期", "date", ("验收测试日期", "test date"), known_after="covered_date"),
)

GARAGE = SiteKind(
    name="garage",
    id_field="compound_id",
    fields=(
        Field("compound_id", "小区编码", "id", ("小区编号", "编码", "编号", "compound code", "id"), required=True),
        Field("name", "小区名称", "text", ("小区", "小区名", "名称", "compound name", "compound")),
        *_LOCATION,
        Field("households", "户数", "int", ("住户数", "总户数", "居民户数")),
        Field("buildings", "楼栋数", "int", ("栋数", "楼栋", "building count")),
        Field("garage_levels", "地下层数", "int", ("车库层数", "地下车库层数", "levels")),
        Field("garage_area_m2", "车库面积", "float", ("地下车库面积", "车库面积m2", "面积", "garage area")),
        Field("parking_spaces", "车位数", "int", ("停车位", "停车位数", "车位", "parking")),
        Field("solution", "覆盖方案", "solution", ("方案", "技术方案", "coverage solution")),
        Field("lead_unit", "牵头单位", "text", ("牵头", "lead")),
        Field("operators", "覆盖运营商", "operators", ("运营商", "参与运营商", "operator")),
        Field("property_manager", "物业", "text", ("物业公司", "物业单位", "property management")),
        Field("contact", "联系人", "text", ("联系人姓名", "contact person")),
        Field("phone", "联系电话", "text", ("电话", "手机", "联系方式", "telephone", "tel", "mobile")),
        *_PROGRESS,
        Field("survey_date", "勘察日期", "date", ("勘查日期", "survey")),
        Field("plan_agreed_date", "方案确定日期", "date", ("方案日期", "plan agreed")),
        Field("construction_start_date", "开工日期", "date", ("施工日期", "开始施工日期", "construction start")),
        Field("covered_date", "覆盖日期", "date", ("完成覆盖日期", "covered")),
        Field("accepted_date", "验收日期", "date", ("accepted",)),
        Field("planned_covered_date", "计划覆盖日期", "date", ("预计覆盖日期", "planned covered")),
        Field("build_year", "建成年份", "int", ("建成年代", "竣工年份", "小区建成年份", "year built")),
        Field("complaints_12345", "12345投诉数", "int", ("12345投诉", "投诉数", "hotline complaints")),
        Field("callable_pct_cmcc", "移动可通话率", "float", ("移动通话率", "移动接通率", "callable cmcc"), known_after="covered_date"),
        Field("callable_pct_ctc", "电信可通话率", "float", ("电信通话率", "电信接通率", "callable ctc"), known_after="covered_date"),
        Field("callable_pct_cucc", "联通可通话率", "float", ("联通通话率", "联通接通率", "callable cucc"), known_after="covered_date"),
        Field("callable_pct_cbn", "广电可通话率", "float", ("广电通话率", "广电接通率", "callable cbn"), known_after="covered_date"),
        Field("rsrp_before_dbm", "覆盖前信号强度", "float", ("覆盖前rsrp", "改造前信号", "rsrp before"), known_after="survey_date"),
        Field("rsrp_after_dbm", "覆盖后信号强度", "float", ("覆盖后rsrp", "改造后信号", "rsrp after"), known_after="covered_date"),
        Field("charging_piles_ok", "充电桩在线", "flag", ("充电桩正常", "充电桩联网", "charging piles online"), known_after="covered_date"),
        Field("barrier_gates_ok", "道闸在线", "flag", ("道闸正常", "道闸联网", "barrier gates online"), known_after="covered_date"),
        *_WORKSHEET_FIELDS,
    ),
    ladder=(
        ("not_started", None),
        ("surveyed", "survey_date"),
        ("plan_agreed", "plan_agreed_date"),
        ("under_construction", "construction_start_date"),
        ("covered", "covered_date"),
        ("accepted", "accepted_date"),
    ),
    done=frozenset({"covered", "accepted"}),
    done_dates=("covered_date", "accepted_date"),
    status_aliases=_aliases(
        not_started=("未启动", "未开始", "未开展", "待启动", "not started", "new"),
        surveyed=("已勘察", "勘察", "勘察完成", "已勘查", "survey done"),
        plan_agreed=("方案确定", "方案已确定", "已定方案", "方案通过", "plan agreed", "agreed"),
        under_construction=("施工中", "在建", "建设中", "已开工", "construction"),
        covered=("已覆盖", "覆盖", "覆盖完成", "已完成", "covered"),
        accepted=("已验收", "验收", "验收通过", "accepted"),
        **_BLOCKED_CANCELLED,
    ),
    file_stems=("garage_compounds",),
)

KINDS: dict[str, SiteKind] = {MACRO.name: MACRO, GARAGE.name: GARAGE}

#: Operators: canonical code -> what people write for it (names in words: rollout.labels).
OPERATORS: dict[str, tuple[str, ...]] = {
    "tower": ("铁塔", "China Tower", "中国铁塔", "铁塔公司", "tower", "ct tower", "chinatower"),
    "cmcc": ("移动", "China Mobile", "中国移动", "移动公司", "cmcc", "mobile", "chinamobile", "cm"),
    "ctc": ("电信", "China Telecom", "中国电信", "电信公司", "ctc", "telecom", "chinatelecom", "ct"),
    "cucc": ("联通", "China Unicom", "中国联通", "联通公司", "cucc", "unicom", "chinaunicom", "cu"),
    "cbn": ("广电", "China Broadnet", "中国广电", "广电公司", "cbn", "broadnet", "chinabroadnet"),
}

#: NR bands: canonical -> aliases (frequencies as people write them).
BANDS: dict[str, tuple[str, ...]] = {
    "n28": ("n28", "700m", "700mhz", "700"),
    "n41": ("n41", "2.6g", "2.6ghz", "2600", "2600mhz", "2.6"),
    "n78": ("n78", "3.5g", "3.5ghz", "3500", "3500mhz", "3.5", "3.3g", "3.4g"),
    "n79": ("n79", "4.9g", "4.9ghz", "4900", "4900mhz", "4.9"),
}

#: Garage coverage solutions: canonical -> what people write for it (the first is the Chinese name).
SOLUTIONS: dict[str, tuple[str, ...]] = {
    "das": ("室分", "indoor distributed antenna system", "室分系统", "室内分布", "室内分布系统", "das"),
    "pico": ("皮站", "pico cells", "皮基站", "微站", "pico", "picocell"),
    "leaky_feeder": ("漏缆", "leaky feeder", "泄漏电缆", "漏泄电缆", "leaky cable", "leakyfeeder"),
    "repeater": ("直放站", "repeater", "中继", "repeater"),
}

#: Coordinate system names: canonical -> aliases.
CRS_ALIASES: dict[str, tuple[str, ...]] = {
    "wgs84": ("wgs84", "wgs-84", "wgs 84", "epsg:4326", "4326", "gps", "cgcs2000", "epsg:4490", "天地图", "国际"),
    "gcj02": ("gcj02", "gcj-02", "gcj", "高德", "高德地图", "腾讯", "腾讯地图", "火星", "火星坐标", "amap", "gaode", "tencent", "国测局"),
    "bd09": ("bd09", "bd-09", "bd09ll", "百度", "百度地图", "baidu"),
}


def _index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalize_token(alias): key for key, aliases in table.items() for alias in (key, *aliases)}


CRS_INDEX = _index(CRS_ALIASES)
BAND_INDEX = _index(BANDS)
OPERATOR_INDEX = _index(OPERATORS)
SOLUTION_INDEX = _index(SOLUTIONS)


def operator_code(text: object, *, strict: bool = True) -> str | None:
    """The operator code of a name as people write it (移动, 中国移动, China Mobile, cmcc); an
    unknown name raises :class:`rollout.errors.InvalidValueError`, or gives None if not ``strict``.

    >>> operator_code("中国电信"), operator_code("铁塔"), operator_code("物业", strict=False)
    ('ctc', 'tower', None)
    """
    code = OPERATOR_INDEX.get(normalize_token(text))
    if code is None and strict:
        from rollout.errors import InvalidValueError

        raise InvalidValueError("errors.operator_unknown", value=str(text))
    return code


TRUE_WORDS = frozenset(normalize_token(w) for w in ("yes", "y", "true", "t", "1", "是", "计入", "√", "✓"))
FALSE_WORDS = frozenset(normalize_token(w) for w in ("no", "n", "false", "f", "0", "否", "不计入", "×", "✗"))
