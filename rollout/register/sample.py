"""Synthetic weekly submissions made from the bundled sample, for the README's weekly routine.

Several senders over three weeks, each file the sender's list as it stood that day (statuses
and milestone dates as of the day): China Tower's full macro list every week, China Mobile's
stations (an XLSX), China Telecom once (then silent: overdue), and two streets' garage lists.
Week 26 holds one of each change class: stations turned on air (status), a station moved
80 m, one regressed (its on-air date withdrawn), one left out (missing), one re-coded under a
new id at the same place (a possible rename), changed planned dates and blockers, and a
station that China Mobile reports blocked while China Tower reports it on air (a conflict).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from rollout.schema import KINDS, SiteKind
from rollout.status import status_as_of
from rollout.writers import write_bytes, write_table

__all__ = ["SUBMISSION_DAYS", "write_submissions"]

#: Reported days of the sample submissions (Sundays of ISO weeks 24-26 of 2024).
SUBMISSION_DAYS = {"2024-W24": dt.date(2024, 6, 16), "2024-W25": dt.date(2024, 6, 23), "2024-W26": dt.date(2024, 6, 30)}
_NOTE = "合成示例数据 synthetic sample"


def write_submissions(project, out_dir: Path | str) -> list[Path]:
    """Write the sample submissions under ``out_dir/<week>/``; returns the files written."""
    out_dir = Path(out_dir)
    macro, garage = project.macro.records, project.garage.records
    written = []
    for week, day in SUBMISSION_DAYS.items():
        stations = _as_of(macro, KINDS["macro"], day)
        compounds = _as_of(garage, KINDS["garage"], day)
        if week == "2024-W24":
            ctc = stations[stations["operator"].str.contains("ctc", na=False)]
            written.append(_write(ctc, KINDS["macro"], out_dir / week / "电信_宏站_0616.csv", "utf-8-sig"))
            continue
        cmcc = stations[stations["operator"].str.contains("cmcc", na=False)].copy()
        if week == "2024-W26":
            stations = _week26(stations)
        written.append(_write(stations, KINDS["macro"], out_dir / week / f"铁塔_宏站_{day:%m%d}.csv", "gb18030"))
        if week == "2024-W26":
            on_air = cmcc.index[cmcc["status"].eq("on_air")]
            if len(on_air):  # China Mobile says blocked what China Tower says is on air
                cmcc.loc[on_air[0], "status"] = "blocked"
                cmcc.loc[on_air[0], "on_air_date"] = pd.NaT
                cmcc.loc[on_air[0], "blocker"] = "传输未通（移动核实）"
                cmcc.loc[on_air[0], "status_date"] = pd.Timestamp(day)
        written.append(_write(cmcc, KINDS["macro"], out_dir / week / f"移动_宏站_{day:%m%d}.xlsx", ""))
        for street, name in (("310107015000", "长寿路街道"), ("310107021000", "真如镇街道")):
            if week == "2024-W25" and street == "310107021000":
                continue
            mine = compounds[compounds["street_code"].eq(street)]
            written.append(_write(mine, KINDS["garage"], out_dir / week / f"{name}_车库_{day:%m%d}.csv", "utf-8-sig"))
    return written


def _as_of(records: pd.DataFrame, kind: SiteKind, day: dt.date) -> pd.DataFrame:
    """The records as their senders would have listed them on ``day``."""
    known = records.copy()
    for name in kind.date_fields():
        if name.startswith("planned"):
            continue
        known[name] = known[name].where(known[name] <= pd.Timestamp(day))
    known["status"] = status_as_of(records, kind, day).to_numpy()
    started = (
        pd.concat([known[d] for d in kind.date_fields() if not d.startswith("planned") and d != "updated_date"], axis=1).notna().any(axis=1)
    )
    cancelled = records["status"].isin(["cancelled", "blocked"]) & records["status_date"].le(pd.Timestamp(day))
    keep = started | cancelled | known["status"].isin(["planned", "not_started"])
    return known[keep.to_numpy()].sort_values(kind.id_field).reset_index(drop=True)


def _week26(stations: pd.DataFrame) -> pd.DataFrame:
    """China Tower's week-26 list with one example of each change class."""
    out = stations.copy()
    on_air = out.index[out["status"].eq("on_air")]
    building = out.index[out["status"].eq("under_construction")]
    regressed, moved = on_air[1], on_air[2]
    out.loc[regressed, "status"] = "under_construction"
    out.loc[regressed, "on_air_date"] = pd.NaT
    out.loc[moved, "lon"] = out.loc[moved, "lon"] + 80 / (111_320 * np.cos(np.radians(out.loc[moved, "lat"])))
    if len(building):
        out.loc[building[0], "planned_on_air_date"] = pd.Timestamp("2024-09-30")
        out.loc[building[-1], "blocker"] = "业主不同意进场"
    missing = out.index[-1]
    renamed = out.loc[[out.index[-2]]].copy()
    renamed[KINDS["macro"].id_field] = renamed[KINDS["macro"].id_field].str.replace("PT-5G-", "PT-5G-R", regex=False)
    out = pd.concat([out.drop(index=[missing, out.index[-2]]), renamed], ignore_index=True)
    return out


def _write(records: pd.DataFrame, kind: SiteKind, path: Path, encoding: str) -> Path:
    """A submission file with Chinese headers, ISO dates and WGS-84 coordinates."""
    columns = [f.name for f in kind.fields if f.name in records.columns and f.name not in ("crs",)]
    table = records[columns].copy()
    for name in kind.date_fields():
        if name in table:
            table[name] = table[name].dt.strftime("%Y-%m-%d").fillna("")
    table["lon"], table["lat"] = table["lon"].round(6), table["lat"].round(6)
    table["note"] = _NOTE
    headers = {f.name: f.zh for f in kind.fields}
    if path.suffix == ".xlsx":
        return write_table(table, path, headers=headers, sheet_name="宏站")
    # As senders' exports are: their encoding, Windows line ends (input for the register, not an output).
    return write_bytes(path, table.rename(columns=headers).to_csv(index=False, lineterminator="\r\n").encode(encoding))
