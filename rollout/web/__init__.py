"""The multi-party platform (``rollout serve``): a web application over the register.

Each party works on the register directly: a street coordinator chases the street's open
records, an operator updates its stations and garages, China Tower its construction, the
district reviews, settles conflicts and publishes the week, leaders read the dashboard.
Modules, each one concern:

- :mod:`~rollout.web.accounts`, :mod:`~rollout.web.logins`, :mod:`~rollout.web.audit`: users,
  tokens, sessions, login checks, the audit log (in the register, schema version 3);
- :mod:`~rollout.web.permissions`: what each role may see and change (one table);
- :mod:`~rollout.web.state`: the register opened once, read through caches;
- :mod:`~rollout.web.app`, :mod:`~rollout.web.auth`, :mod:`~rollout.web.responses`: the
  application, who is asking, pages and errors;
- pages: :mod:`~rollout.web.pages_auth`, ``pages_dashboard``, ``pages_records``, ``uploads``,
  ``pages_admin``, ``packs``; the API: :mod:`~rollout.web.api`.

FastAPI, uvicorn and argon2 are imported only when the platform runs.
"""

from __future__ import annotations

__all__ = ["open_platform"]


def open_platform(config, db: str | None = None, *, packs=None):
    """The register of ``config`` (created when there is none yet) as a
    :class:`~rollout.web.state.Platform`, and the first admin's one-time password on the first run."""
    from rollout.register.store import open_register
    from rollout.web.accounts import ensure_admin
    from rollout.web.settings import load_web_settings
    from rollout.web.state import Platform

    settings = load_web_settings(config, packs=packs)
    register = open_register(config, db, create=True)
    try:
        password = ensure_admin(register)
        return Platform(config, register, settings, db=db), password
    except Exception:
        register.close()
        raise
