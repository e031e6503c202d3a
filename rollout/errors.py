"""Errors raised by rollout.

Every error derives from :class:`RolloutError`, mixed with the matching built-in, so
that callers can catch either. Messages name the file (and where it helps the row and
column), what was expected, what came, and what to do.
"""

from __future__ import annotations

__all__ = [
    "BoundaryError",
    "ConfigError",
    "InputFileError",
    "RolloutError",
]


class RolloutError(Exception):
    """Base class of every error rollout raises on purpose."""


class InputFileError(RolloutError, ValueError):
    """A site or table file cannot be read as a whole (missing, empty, wrong format)."""


class BoundaryError(RolloutError, ValueError):
    """Street boundaries are missing, unmatched or invalid."""


class ConfigError(RolloutError, ValueError):
    """The project configuration (rollout.toml, targets.csv) is missing or inconsistent."""
