"""Acceptance evidence ("one acceptance, one report", 一验收一报告): does a garage's test pass?

A garage passes when every required operator's callable share reaches the threshold
(``[acceptance]`` in rollout.toml) and its charging piles and barrier gates work online.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from rollout import labels, settings
from rollout.i18n import Lang, t
from rollout.schema import GARAGE
from rollout.status import status_as_of

__all__ = ["OPERATOR_COLUMNS", "acceptance_check", "evidence_text"]

OPERATOR_COLUMNS = {"cmcc": "callable_pct_cmcc", "ctc": "callable_pct_ctc", "cucc": "callable_pct_cucc", "cbn": "callable_pct_cbn"}
_DEVICES = ("charging_piles_ok", "barrier_gates_ok")


def acceptance_check(records: pd.DataFrame, *, threshold: float, required: tuple[str, ...], as_of: dt.date | None = None) -> pd.DataFrame:
    """Acceptance evidence per compound: callable shares, whether all required operators pass,
    whether charging piles and barrier gates work, and whether the evidence passes overall.

    ``operators_passing`` and ``operators_failing`` hold ``;``-joined operator codes; ``problems``
    a list of ``{"code": ..., params}`` (see :func:`evidence_text`).
    """
    columns = [
        "street_code",
        "street_name",
        "compound_id",
        "name",
        "status_as_of",
        "operators_passing",
        "operators_failing",
        "charging_piles_ok",
        "barrier_gates_ok",
        "evidence_passes",
        "problems",
    ]
    if records.empty:
        return pd.DataFrame(columns=columns)
    as_of = as_of or settings.today()
    rows = []
    status = status_as_of(records, GARAGE, as_of)
    for (_, record), state in zip(records.iterrows(), status, strict=True):
        passing: list[str] = []
        failing: list[str] = []
        problems: list[dict[str, Any]] = []
        for operator in required:
            value = record.get(OPERATOR_COLUMNS[operator])
            if value is None or pd.isna(value):
                failing.append(operator)
                problems.append({"code": "no_test", "operator": operator})
            elif value < threshold:
                failing.append(operator)
                problems.append({"code": "callable_low", "operator": operator, "value": float(value), "threshold": float(threshold)})
            else:
                passing.append(operator)
        for column in _DEVICES:
            value = record.get(column)
            if value is not None and value is not pd.NA and not pd.isna(value) and not bool(value):
                problems.append({"code": "offline", "device": column})
        rows.append(
            {
                "street_code": record["street_code"],
                "street_name": record["street_name"],
                "compound_id": str(record["compound_id"]),
                "name": str(record.get("name", "")),
                "status_as_of": state,
                "operators_passing": ";".join(passing),
                "operators_failing": ";".join(failing),
                "charging_piles_ok": record.get("charging_piles_ok"),
                "barrier_gates_ok": record.get("barrier_gates_ok"),
                "evidence_passes": not problems,
                "problems": problems,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def evidence_text(problems: Sequence[dict[str, Any]], lang: Lang) -> str:
    """Acceptance evidence problems (from :func:`acceptance_check`) in words."""
    parts = []
    for problem in problems or ():
        code = problem["code"]
        if code == "offline":
            parts.append(t(f"gaps.evidence.offline.{problem['device']}", lang))
        else:
            params = {k: v for k, v in problem.items() if k != "code"}
            params["operator"] = labels.operator(problem["operator"], lang)
            parts.append(t(f"gaps.evidence.{code}", lang, **params))
    return t("labels.clause_separator", lang).join(parts)
