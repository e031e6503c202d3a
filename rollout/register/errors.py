"""Errors of the register, each a :class:`~rollout.errors.RolloutError`.

They carry ``exit_code = 2``: the command line shows them as one line and exits 2, and the
register is left as it was.
"""

from __future__ import annotations

from rollout.errors import RolloutError

__all__ = ["EditRejected", "EmptyRegisterError", "RegisterError", "StaleVersionError", "UnknownSourceError"]


class RegisterError(RolloutError, RuntimeError):
    """The register cannot be opened, read or written (not a register, newer schema, locked,
    read-only, unreachable server)."""

    exit_code = 2


class EmptyRegisterError(RegisterError):
    """There is no register there yet (no file, or an empty database)."""


class UnknownSourceError(RolloutError, ValueError):
    """A sender that is not in ``[sources]`` of rollout.toml (nor a default one)."""

    exit_code = 2


class StaleVersionError(RegisterError):
    """An edit was based on a version of the record that is no longer current."""

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class EditRejected(RolloutError, ValueError):
    """An edit whose values fail the row checks; ``problems`` lists them (file, column, value, reason)."""

    exit_code = 2

    def __init__(self, message: str, problems) -> None:
        super().__init__(message)
        self.problems = problems
