"""Errors of the register, each a :class:`~rollout.errors.RolloutError` with a catalogue key
(``rollout/locale/register.toml``): the command line shows them as one line in the reader's
language and exits 2, and the register is left as it was."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rollout.errors import RolloutError
from rollout.i18n import Lang, t

__all__ = ["EditRejected", "EmptyRegisterError", "RegisterError", "StaleVersionError", "UnknownSourceError"]


class RegisterError(RolloutError, RuntimeError):
    """The register cannot be opened, read or written (not a register, newer schema, locked,
    read-only, unreachable server)."""


class EmptyRegisterError(RegisterError):
    """There is no register there yet (no file, or an empty database)."""


class UnknownSourceError(RolloutError, ValueError):
    """A sender that is not in ``[sources]`` of rollout.toml (nor a default one)."""


class StaleVersionError(RegisterError):
    """An edit was based on a version of the record that is no longer current."""

    def __init__(self, key: str, /, *, current_version: int, **params: Any) -> None:
        super().__init__(key, current_version=current_version, current=current_version, **params)  # {current} in the message
        self.current_version = current_version


class EditRejected(RolloutError, ValueError):
    """An edit whose values fail the row checks; ``problems`` lists them as a problems table
    (:data:`rollout.problems.PROBLEM_COLUMNS`; :func:`rollout.problems.with_reasons` renders them)."""

    def __init__(self, key: str = "register.edit_rejected", /, *, problems: pd.DataFrame, **params: Any) -> None:
        super().__init__(key, problems=problems, **params)
        self.problems = problems

    def message(self, lang: Lang) -> str:
        """The message in ``lang``, each problem with its column, value and reason."""
        from rollout import labels
        from rollout.problems import with_reasons

        listing = t("register.change_separator", lang).join(
            t("register.edit_problem", lang, column=labels.field(p["kind"], p["column"], lang), value=p["value"], reason=p["reason"])
            for p in with_reasons(self.problems, lang).to_dict("records")
        )
        return t(self.key, lang, listing=listing)
