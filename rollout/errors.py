"""Errors raised by rollout.

Every error derives from :class:`RolloutError`, mixed with the matching built-in, so
that callers can catch either. Messages name the file (and where it helps the row and
column), what was expected, what came, and what to do.

An error carries a catalogue key and its parameters, not words: :meth:`RolloutError.message`
renders it in the reader's language (the CLI does, in one place), and ``str(error)`` gives
the English text for logs and tracebacks::

    raise InputFileError("errors.file_empty", path=path)

A plain sentence instead of a key is accepted too (it is shown as written in every language).
"""

from __future__ import annotations

from typing import Any

from rollout.i18n import Lang, has, t

__all__ = [
    "BoundaryError",
    "ConfigError",
    "InputFileError",
    "InvalidValueError",
    "OutputError",
    "RolloutError",
]


class RolloutError(Exception):
    """Base class of every error rollout raises on purpose."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, lang: Lang) -> str:
        """The message in ``lang``."""
        if has(self.key):
            return t(self.key, lang, **self.params)
        return self.key

    def __str__(self) -> str:
        return self.message("en")

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors travel between dask workers and the client: rebuild them with their parameters.
        return (_rebuild, (type(self), self.key, self.params))


def _rebuild(cls: type[RolloutError], key: str, params: dict[str, Any]) -> RolloutError:
    return cls(key, **params)


class InputFileError(RolloutError, ValueError):
    """A site or table file cannot be read as a whole (missing, empty, wrong format)."""


class BoundaryError(RolloutError, ValueError):
    """Street boundaries are missing, unmatched or invalid."""


class ConfigError(RolloutError, ValueError):
    """The project configuration (rollout.toml, targets.csv) is missing or inconsistent."""


class InvalidValueError(RolloutError, ValueError):
    """A value given to a function or on the command line (a date, a week, a basemap) is not understood."""


class OutputError(RolloutError, OSError):
    """An output cannot be written (a full or read-only disk, a name the file system refuses);
    the previous outputs are left as they were."""
