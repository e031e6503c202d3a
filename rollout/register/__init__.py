"""The register: every weekly submission imported, compared with the sender's last one, and kept
with its history (SQLite by default, PostgreSQL/PostGIS for a shared team).

The public API, for the command line and the web platform::

    register = open_register(config, db)
    import_files(paths, config, streets, source="铁塔", as_of=day)
    visible_records(register, config, streets, kind="macro", street="长寿路")
    read_record(register, "macro", "PT-5G-0001")
    apply_edit(register, config, streets, "macro", "PT-5G-0001", {"status": "已开通"}, author="web:zhang", expected_version=3)
    resolve_conflict(register, "macro", "PT-5G-0001", "移动", author="web:li")

Errors are :class:`~rollout.errors.RolloutError` keys (``error.message(lang)`` renders them);
SQLAlchemy is imported only by the functions that talk to a database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rollout.register.edits import EditResult, apply_edit, resolve_conflict
    from rollout.register.errors import EditRejected, EmptyRegisterError, RegisterError, StaleVersionError, UnknownSourceError
    from rollout.register.importer import ImportResult, import_files
    from rollout.register.loads import register_site_loads, register_source
    from rollout.register.queries import changes_between, overdue_senders, record_history, submissions_between
    from rollout.register.store import Register, find_register, open_register
    from rollout.register.views import read_record, visible_records

#: Public name -> module that defines it: imported on first use, so that a command that only
#: asks whether there is a register (every command that reads sites) does not import the
#: importer, the edits and the queries.
_EXPORTS = {
    "EditResult": "edits",
    "apply_edit": "edits",
    "resolve_conflict": "edits",
    "EditRejected": "errors",
    "EmptyRegisterError": "errors",
    "RegisterError": "errors",
    "StaleVersionError": "errors",
    "UnknownSourceError": "errors",
    "ImportResult": "importer",
    "import_files": "importer",
    "register_site_loads": "loads",
    "register_source": "loads",
    "changes_between": "queries",
    "overdue_senders": "queries",
    "record_history": "queries",
    "submissions_between": "queries",
    "Register": "store",
    "find_register": "store",
    "open_register": "store",
    "read_record": "views",
    "visible_records": "views",
}

__all__ = [
    "EditRejected",
    "EditResult",
    "EmptyRegisterError",
    "ImportResult",
    "Register",
    "RegisterError",
    "StaleVersionError",
    "UnknownSourceError",
    "apply_edit",
    "changes_between",
    "find_register",
    "import_files",
    "open_register",
    "overdue_senders",
    "read_record",
    "record_history",
    "register_site_loads",
    "register_source",
    "resolve_conflict",
    "submissions_between",
    "visible_records",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'rollout.register' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"rollout.register.{module}"), name)
    globals()[name] = value
    return value
