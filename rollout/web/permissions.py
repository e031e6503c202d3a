"""What each role may see and change: one table and a few functions, used by every page and the API.

| role | sees | may change |
|---|---|---|
| admin, district | everything | every record's platform fields; conflicts, packs, users |
| street | its street's records | its street's garages; the blocker of its street's macro stations |
| operator | the records it operates or shares (macro ``operator``, garage ``operators`` or lead unit) | those records |
| tower | every macro station, the garages it leads or builds | those records |
| viewer | the dashboard and the weekly packs | nothing |

Contacts (property manager, contact, phone) of a garage are shown to the district, to the
street's coordinators, and to the operator (or China Tower) that leads the compound; never to
another operator. Phones are never on a map.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rollout.schema import operator_code
from rollout.web.accounts import User

__all__ = [
    "ALLOWED",
    "CONTACT_FIELDS",
    "EVIDENCE_FIELDS",
    "PLATFORM_FIELDS",
    "allowed",
    "contacts_mask",
    "editable_fields",
    "may_view",
    "sees_contacts",
    "upload_sources",
    "visible_mask",
]

_EVERYONE = frozenset({"admin", "district", "street", "operator", "tower", "viewer"})
_PARTIES = frozenset({"admin", "district", "street", "operator", "tower"})
_DISTRICT = frozenset({"admin", "district"})

#: Action -> the roles that may do it. Every page and API route names one of these.
ALLOWED: dict[str, frozenset[str]] = {
    "view_dashboard": _EVERYONE,
    "view_packs": _EVERYONE,
    "view_records": _PARTIES,
    "edit_records": _PARTIES,
    "upload": _PARTIES,
    "view_conflicts": _PARTIES,
    "resolve_conflicts": _DISTRICT,
    "publish": _DISTRICT,
    "manage_users": _DISTRICT,
    "view_audit": _DISTRICT,
}

EVIDENCE_FIELDS = (
    "callable_pct_cmcc",
    "callable_pct_ctc",
    "callable_pct_cucc",
    "callable_pct_cbn",
    "rsrp_before_dbm",
    "rsrp_after_dbm",
    "charging_piles_ok",
    "barrier_gates_ok",
)
#: Fields a record's page and ``PATCH /api/records`` may change; the rest come with the weekly files.
PLATFORM_FIELDS: dict[str, tuple[str, ...]] = {
    "macro": ("status", "status_date", "site_secured_date", "construction_start_date", "on_air_date", "planned_on_air_date", "blocker"),
    "garage": (
        "status",
        "status_date",
        "survey_date",
        "plan_agreed_date",
        "construction_start_date",
        "covered_date",
        "accepted_date",
        "planned_covered_date",
        "blocker",
        *EVIDENCE_FIELDS,
    ),
}
CONTACT_FIELDS = ("property_manager", "contact", "phone")


def allowed(user: User | None, action: str) -> bool:
    """True when ``user``'s role may do ``action`` (:data:`ALLOWED`)."""
    return user is not None and not user.disabled and user.role in ALLOWED[action]


def visible_mask(user: User, table: pd.DataFrame) -> np.ndarray:
    """Which rows of a records table (``kind``, ``street_code``, ``operator``, ``operators``,
    ``lead_unit``) ``user`` may see."""
    n = len(table)
    if user.role in _DISTRICT:
        return np.ones(n, dtype=bool)
    if user.role == "street":
        return table["street_code"].astype(str).eq(user.street_code).to_numpy()
    if user.role not in ("operator", "tower") or n == 0:
        return np.zeros(n, dtype=bool)
    code = user.operator if user.role == "operator" else "tower"
    macro = table["kind"].eq("macro").to_numpy()
    garage = ~macro
    operates = _has_code(table, "operator", code) & macro
    shares = _has_code(table, "operators", code) | (_lead_codes(table) == code)
    if user.role == "tower":
        return macro | (garage & shares)
    return operates | (garage & shares)


def may_view(user: User, record: Mapping) -> bool:
    """:func:`visible_mask` for one record (a mapping of its fields), without building a table."""
    if user.role in _DISTRICT:
        return True
    if user.role == "street":
        return str(record.get("street_code") or "") == user.street_code
    if user.role not in ("operator", "tower"):
        return False
    code = user.operator if user.role == "operator" else "tower"
    if record.get("kind") == "macro":
        return user.role == "tower" or code in _codes(record.get("operator"))
    return code in _codes(record.get("operators")) or _lead_code(record.get("lead_unit")) == code


def editable_fields(user: User, record: Mapping) -> tuple[str, ...]:
    """The fields ``user`` may change on ``record`` (empty: none, or the record is not theirs)."""
    if user.role == "viewer" or not may_view(user, record):
        return ()
    kind = str(record["kind"])
    if user.role == "street" and kind == "macro":
        return ("blocker",)
    return PLATFORM_FIELDS[kind]


def sees_contacts(user: User, record: Mapping) -> bool:
    """True when ``user`` may see the garage's property manager, contact and phone."""
    if str(record.get("kind")) != "garage" or not may_view(user, record):
        return False
    if user.role in _DISTRICT or user.role == "street":
        return True
    code = user.operator if user.role == "operator" else "tower" if user.role == "tower" else ""
    return bool(code) and _lead_code(record.get("lead_unit")) == code


def contacts_mask(user: User, table: pd.DataFrame) -> np.ndarray:
    """:func:`sees_contacts` over a records table."""
    garage = table["kind"].eq("garage").to_numpy() if len(table) else np.zeros(0, dtype=bool)
    if user.role in _DISTRICT or user.role == "street":
        return garage & visible_mask(user, table)
    if user.role not in ("operator", "tower"):
        return np.zeros(len(table), dtype=bool)
    code = user.operator if user.role == "operator" else "tower"
    return garage & (_lead_codes(table) == code)


def upload_sources(user: User, sources: Mapping) -> list[str]:
    """The senders ``user`` may upload a weekly file for (names of ``[sources]``)."""
    if user.role in _DISTRICT:
        return list(sources)
    if user.role == "street":
        return [name for name, s in sources.items() if s.street_code and s.street_code == user.street_code]
    code = user.operator if user.role == "operator" else "tower" if user.role == "tower" else ""
    return [name for name, s in sources.items() if code and s.operator == code]


def _codes(cell: object) -> list[str]:
    return str(cell).split(";") if isinstance(cell, str) and cell else []


def _lead_code(cell: object) -> str:
    return (operator_code(cell, strict=False) or "") if isinstance(cell, str) and cell else ""


def _has_code(table: pd.DataFrame, column: str, code: str) -> np.ndarray:
    if column not in table.columns:
        return np.zeros(len(table), dtype=bool)
    cells = ";" + table[column].astype(object).fillna("").astype(str) + ";"
    return cells.str.contains(f";{code};", regex=False).to_numpy()


def _lead_codes(table: pd.DataFrame) -> np.ndarray:
    if "lead_unit" not in table.columns:
        return np.full(len(table), "", dtype=object)
    leads = table["lead_unit"].astype(object).fillna("").astype(str)
    codes = {value: operator_code(value, strict=False) or "" for value in leads.unique()}
    return leads.map(codes).to_numpy()
