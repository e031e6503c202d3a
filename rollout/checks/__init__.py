"""Row checks: small pure functions, composed by a list.

Each check is a function ``check(columns, context) -> Outcome``: it reads the text cells (and
the values earlier checks parsed) and returns the values it parsed, the problems it found
(:class:`rollout.problems.Finding`: rows, column, reason code, parameters) and the flags it
attaches to records. It changes nothing it is given. :func:`run_checks` applies
:data:`CHECKS` in order, each seeing what the earlier ones produced and which rows they
rejected; :func:`rollout.records.check_tables` turns the result into records and a problems
table.

Adding a check is writing one function and putting it in the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rollout.problems import Finding, rejected_mask
from rollout.schema import SiteKind

__all__ = ["CHECKS", "Check", "Columns", "Context", "Outcome", "run_checks"]


@dataclass(frozen=True)
class Context:
    """What the checks need to know besides the cells: the kind of record, the files' headers and
    coordinate-header hints, the defaults and limits, and the reference day."""

    kind: SiteKind
    #: Canonical columns some file has (the others are blank everywhere: nothing to parse).
    given: frozenset[str]
    #: file -> canonical column -> header as written in the file.
    headers: Mapping[str, Mapping[str, str]]
    #: Coordinate system of rows with a blank ``crs`` cell and no header hint (``--crs``).
    default_crs: str = "wgs84"
    #: The day after which a done date is in the future.
    reference: dt.date = dt.date(2100, 1, 1)
    #: column -> (lowest, highest) plausible value (``[limits]`` in rollout.toml).
    limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    #: file -> coordinate system its coordinate headers name (``经度(百度)``).
    crs_hints: Mapping[str, str] = field(default_factory=dict)
    #: Problems found while reading the files (another number of cells than the header, ...):
    #: file, row, column, value, severity, reason_code, params.
    read_problems: pd.DataFrame | None = None

    def header(self, column: str) -> str:
        """The header a file wrote for ``column`` ("" when none has it: the reason then names the
        column in the reader's language)."""
        for headers in self.headers.values():
            if column in headers:
                return headers[column]
        return ""


@dataclass(frozen=True)
class Columns:
    """A check's input: the text cells (with ``source_file`` and ``source_row``), the values the
    earlier checks parsed, and the rows they rejected."""

    cells: pd.DataFrame
    values: Mapping[str, pd.Series] = field(default_factory=dict)
    rejected: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass(frozen=True)
class Outcome:
    """What a check produced: parsed values, problems, flags (mask and word per row) and
    problems already placed in files and rows (from reading)."""

    values: dict[str, pd.Series] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    flags: list[tuple[pd.Series, pd.Series | str]] = field(default_factory=list)
    located: list[pd.DataFrame] = field(default_factory=list)


Check = Callable[[Columns, Context], Outcome]


@dataclass(frozen=True)
class Result:
    """Everything the checks produced, in the order they ran."""

    values: dict[str, pd.Series]
    problems: list[Finding]
    flags: pd.Series
    rejected: np.ndarray
    located: list[pd.DataFrame]


def run_checks(cells: pd.DataFrame, context: Context, checks: Sequence[Check] | None = None) -> Result:
    """Apply ``checks`` (default :data:`CHECKS`) in order to ``cells``."""
    values: dict[str, pd.Series] = {}
    problems: list[Finding] = []
    flags: list[tuple[pd.Series, pd.Series | str]] = []
    located: list[pd.DataFrame] = []
    rejected = np.zeros(len(cells), dtype=bool)
    for check in CHECKS if checks is None else checks:
        outcome = check(Columns(cells, values, rejected), context)
        values = values | outcome.values
        problems = problems + outcome.problems
        flags = flags + outcome.flags
        located = located + outcome.located
        rejected = rejected | rejected_mask(outcome.problems, len(cells))
    return Result(values, problems, _joined(flags, cells.index), rejected, located)


def _joined(flags: list[tuple[pd.Series, pd.Series | str]], index: pd.Index) -> pd.Series:
    """The flag words of each row, joined by ``;`` in the order the checks set them (in pyarrow)."""
    joined = pa.array([""] * len(index), pa.large_string()) if len(index) else pa.array([], pa.large_string())
    for mask, word in flags:
        where = pa.array(np.asarray(mask, dtype=bool))
        if not pc.any(where).as_py():
            continue
        words = pa.array(word.astype(str)) if isinstance(word, pd.Series) else pa.scalar(word, pa.large_string())
        added = pc.if_else(pc.equal(joined, ""), words, pc.binary_join_element_wise(joined, words, pa.scalar(";", pa.large_string())))
        joined = pc.if_else(where, added, joined)
    return pd.Series(joined.to_pandas().array, index=index) if len(index) else pd.Series([], index=index, dtype=str)


from rollout.checks.fields import check_fields  # noqa: E402
from rollout.checks.identity import check_ids, check_reading  # noqa: E402
from rollout.checks.location import check_coordinates  # noqa: E402
from rollout.checks.progress import check_dates, check_milestones, check_status  # noqa: E402

#: The row checks, in the order they run (later checks see earlier values and rejects).
CHECKS: tuple[Check, ...] = (check_reading, check_ids, check_coordinates, check_status, check_dates, check_fields, check_milestones)
