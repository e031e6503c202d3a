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

from rollout.register.edits import EditResult, apply_edit, resolve_conflict
from rollout.register.errors import EditRejected, EmptyRegisterError, RegisterError, StaleVersionError, UnknownSourceError
from rollout.register.importer import ImportResult, import_files
from rollout.register.loads import register_site_loads, register_source
from rollout.register.queries import changes_between, overdue_senders, record_history, submissions_between
from rollout.register.store import Register, find_register, open_register
from rollout.register.views import read_record, visible_records

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
