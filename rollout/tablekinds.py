"""Field tables of the planning inputs that are not site records: MR/drive-test grids, 12345
complaints, the existing network and candidate sites.

Each is a :class:`TableKind`: canonical columns with their Chinese header and the variants
people write, matched after :func:`rollout.schema.normalize_token` like the site files'.
:func:`rollout.io.read_raw_table` reads any of them (``kind=MR``), with the same decoding,
delimiter, title-row and XLSX handling as for site files.
"""

from __future__ import annotations

from rollout.schema import Field, TableSchema

__all__ = ["CANDIDATES", "COMPLAINTS", "EXISTING", "MR", "TableKind"]


class TableKind(TableSchema):
    """A kind of planning table: its columns and their header aliases. Its name in words is
    :func:`rollout.labels.kind_title` of ``name``."""


_LON = ("longitude", "lng", "long", "x", "东经", "中心经度", "栅格中心经度", "lon_wgs84", "lon_gcj02", "lon_bd09", "经度wgs84")
_LAT = ("latitude", "y", "北纬", "中心纬度", "栅格中心纬度", "lat_wgs84", "lat_gcj02", "lat_bd09", "纬度wgs84")
_CRS = ("坐标系统", "坐标类型", "coordinate system", "coordsys", "srs")

MR = TableKind(
    "mr",
    "grid_id",
    (
        Field("grid_id", "栅格编号", "text", ("栅格id", "栅格号", "grid id", "grid", "编号")),
        Field("lon", "经度", "float", _LON, required=True),
        Field("lat", "纬度", "float", _LAT, required=True),
        Field("crs", "坐标系", "crs", _CRS),
        Field(
            "rsrp_dbm",
            "平均RSRP",
            "float",
            (
                "rsrp均值",
                "平均电平",
                "rsrp",
                "ssrsrp",
                "平均ssrsrp",
                "avg rsrp",
                "mean rsrp",
                "rsrp avg",
                "rsrp_mean",
                "电平均值",
                "平均rsrpdbm",
            ),
            required=True,
        ),
        Field(
            "samples",
            "采样点数",
            "int",
            ("采样点", "样本数", "mr数", "mr采样点数", "测量报告数", "mr条数", "sample count", "samples", "count"),
        ),
        Field("operator", "运营商", "operators", ("operator",)),
        Field("band", "频段", "band", ("nr band",)),
    ),
)

COMPLAINTS = TableKind(
    "complaints",
    "complaint_id",
    (
        Field("complaint_id", "工单编号", "text", ("工单号", "投诉编号", "编号", "ticket", "ticket id", "id")),
        Field("lon", "经度", "float", _LON, required=True),
        Field("lat", "纬度", "float", _LAT, required=True),
        Field("crs", "坐标系", "crs", _CRS),
        Field("date", "投诉日期", "date", ("投诉时间", "受理时间", "受理日期", "日期", "时间", "date", "created")),
        Field("category", "投诉类别", "text", ("问题类型", "类别", "分类", "诉求类型", "问题分类", "category", "type")),
        Field("content", "投诉内容", "text", ("诉求内容", "内容", "问题描述", "描述", "content", "description")),
        Field("address", "地址", "text", ("详细地址", "投诉地址", "address")),
    ),
)

EXISTING = TableKind(
    "existing",
    "site_id",
    (
        Field(
            "site_id",
            "站址编码",
            "id",
            ("站址编号", "基站编号", "基站编码", "站点编号", "站号", "bs_id", "bsid", "gnodeb id", "enodeb id", "编码", "site id", "id"),
        ),
        Field("name", "站名", "text", ("站点名称", "基站名称", "名称", "site name")),
        Field("operator", "运营商", "operators", ("operator", "operators")),
        Field("lon", "经度", "float", _LON, required=True),
        Field("lat", "纬度", "float", _LAT, required=True),
        Field("crs", "坐标系", "crs", _CRS),
        Field("band", "频段", "band", ("频率", "frequency band", "nr band")),
        Field("antenna_height_m", "挂高", "float", ("天线挂高", "天线高度", "antenna height", "height")),
        Field("downtilt_deg", "下倾角", "float", ("总下倾角", "总下倾", "电子下倾角", "downtilt", "tilt")),
        Field("status", "状态", "text", ("建设状态", "当前状态", "state", "status")),
    ),
)

CANDIDATES = TableKind(
    "candidates",
    "candidate_id",
    (
        Field("candidate_id", "候选编码", "id", ("候选站址编码", "候选编号", "站址编码", "编码", "编号", "candidate id", "id")),
        Field("name", "名称", "text", ("候选名称", "站址名称", "site name")),
        Field("type", "类型", "text", ("站址类型", "资源类型", "载体类型", "杆塔类型", "type", "kind")),
        Field("lon", "经度", "float", _LON, required=True),
        Field("lat", "纬度", "float", _LAT, required=True),
        Field("crs", "坐标系", "crs", _CRS),
        Field("antenna_height_m", "挂高", "float", ("天线挂高", "可用挂高", "天线高度", "antenna height", "height")),
        Field("address", "地址", "text", ("详细地址", "address")),
    ),
)
