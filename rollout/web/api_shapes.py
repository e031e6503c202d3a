"""What the JSON API sends and accepts: records as flat JSON objects, and the body of a change.

A record: ``kind``, ``id``, ``version`` (pass it back as ``version`` to change the record),
``source`` (the sender whose record counts), ``state`` (``reported``/``missing``),
``street_code``, ``street_name``, ``status_as_of`` (the status today), then the record's
fields with their canonical names (dates as ``YYYY-MM-DD``, blanks as ``null``). Contact
fields are left out for callers who may not see them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from rollout.schema import KINDS

__all__ = ["RecordChange", "record_lines"]

_HEAD = {
    "kind": "kind",
    "record_id": "id",
    "register_version": "version",
    "register_source": "source",
    "register_state": "state",
    "street_code": "street_code",
    "street_name": "street_name",
    "status_as_of": "status_as_of",
}
_LEFT_OUT = {"crs"}


def record_lines(table: pd.DataFrame, *, drop: tuple[str, ...] = ()) -> np.ndarray:
    """Each row of a visible-records table as one JSON object (text), in the table's order."""
    out = np.empty(len(table), dtype=object)
    for name, kind in KINDS.items():
        mine = table["kind"].eq(name).to_numpy()
        if not mine.any():
            continue
        fields = [f.name for f in kind.fields if f.name != kind.id_field and f.name not in _LEFT_OUT and f.name not in drop]
        part = table.loc[mine, [*_HEAD, *[f for f in fields if f in table.columns], "flags"]].rename(columns=_HEAD)
        for f in kind.fields:
            if f.name not in part.columns:
                continue
            if f.type == "date":
                dates = pd.to_datetime(part[f.name], errors="coerce")
                part[f.name] = dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None)
            elif f.type == "int":
                part[f.name] = pd.to_numeric(part[f.name], errors="coerce").round().astype("Int64")
        part["version"] = pd.to_numeric(part["version"], errors="coerce").astype("Int64")
        part["flags"] = part["flags"].fillna("").astype(str).str.split(";").map(lambda f: [x for x in f if x])
        out[mine] = part.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    return out


class RecordChange(BaseModel):
    """A change to one record (``PATCH /api/records/{kind}/{id}``): any of the fields below.

    Values are written as in the weekly files (status in Chinese or English, dates as
    ``2024-07-02`` or ``2024/7/2``, yes/no as 是/否) and checked with the same row checks.
    """

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, description="The record's version you read; a newer one answers 409 and changes nothing.")
    reported_on: str | None = Field(None, description="The day the change describes (default today, Asia/Shanghai).")
    note: str | None = Field(None, max_length=500, description="Why: kept with the change in the record's history.")
    status: str | None = Field(None, description="planned / site_secured / ... or 规划 / 已落点 / ...")
    status_date: str | None = Field(None, description="Since when a blocked or cancelled status holds.")
    blocker: str | None = Field(None, max_length=500)
    site_secured_date: str | None = None
    construction_start_date: str | None = None
    on_air_date: str | None = None
    planned_on_air_date: str | None = None
    survey_date: str | None = None
    plan_agreed_date: str | None = None
    covered_date: str | None = None
    accepted_date: str | None = None
    planned_covered_date: str | None = None
    callable_pct_cmcc: float | str | None = None
    callable_pct_ctc: float | str | None = None
    callable_pct_cucc: float | str | None = None
    callable_pct_cbn: float | str | None = None
    rsrp_before_dbm: float | str | None = None
    rsrp_after_dbm: float | str | None = None
    charging_piles_ok: bool | str | None = None
    barrier_gates_ok: bool | str | None = None

    def fields(self) -> dict[str, object]:
        """The record fields given (everything but ``version``, ``reported_on`` and ``note``)."""
        given = self.model_dump(exclude_unset=True)
        return {k: v for k, v in given.items() if k not in ("version", "reported_on", "note")}
