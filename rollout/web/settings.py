"""The platform's settings: ``[web]`` in rollout.toml, each with its default.

::

    [web]
    packs = "maps"            # folder of the weekly packs (relative to the working folder)
    session_hours = 12        # a login lasts a working day
    lockout_after = 5         # failed logins in a row before the account is locked ...
    lockout_minutes = 15      # ... for this long
    ip_attempts = 20          # failed logins from one address within ip_window_minutes before it must wait
    ip_window_minutes = 10
    token_days = 90           # lifetime of an API token
    upload_max_mb = 20        # largest weekly file accepted
    refresh_seconds = 2       # the dashboard, progress and "my open records" are rebuilt at most this often after a change
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from rollout.config import CONFIG_FILE, Config
from rollout.errors import ConfigError

__all__ = ["WebSettings", "load_web_settings"]


@dataclass(frozen=True)
class WebSettings:
    """What ``[web]`` of rollout.toml says (defaults in the module docstring)."""

    packs: Path = Path("maps")
    session_hours: float = 12.0
    lockout_after: int = 5
    lockout_minutes: float = 15.0
    ip_attempts: int = 20
    ip_window_minutes: float = 10.0
    token_days: int = 90
    upload_max_mb: float = 20.0
    refresh_seconds: float = 2.0

    @property
    def upload_max_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.upload_max_mb * 1024 * 1024)


def load_web_settings(config: Config, *, packs: Path | None = None) -> WebSettings:
    """``[web]`` of the project's rollout.toml; ``packs`` (``--packs``) overrides the folder."""
    path = config.data_dir / CONFIG_FILE
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("web", {}) if path.is_file() else {}
    known = {f.name: f for f in fields(WebSettings)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError("web.config_unknown", path=path, keys=", ".join(unknown), known=", ".join(known))
    values: dict[str, object] = {}
    for name, value in raw.items():
        try:
            values[name] = Path(str(value)) if name == "packs" else type(getattr(WebSettings, name))(value)
        except (TypeError, ValueError) as e:
            raise ConfigError("web.config_value", path=path, key=name, value=value) from e
        if name != "packs" and values[name] <= 0:  # type: ignore[operator]
            raise ConfigError("web.config_value", path=path, key=name, value=value)
    if packs is not None:
        values["packs"] = packs
    return WebSettings(**values)  # type: ignore[arg-type]
