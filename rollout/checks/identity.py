"""Checks of a row's shape and its id: problems found while reading, missing and invisible ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rollout.checks import Columns, Context, Outcome
from rollout.problems import PROBLEM_COLUMNS, REJECTED, WARNING, Finding
from rollout.values import invisible_characters, normalize_text, strip_invisible

__all__ = ["check_ids", "check_reading"]


def check_reading(columns: Columns, context: Context) -> Outcome:
    """The problems the reader found in rows (another number of cells than the header, a stray
    quote, a formula without a stored value), reported with the row's other problems; rows it
    rejected are rejected here. Notes about a file as a whole are placed on the row they name."""
    found = context.read_problems
    if found is None or found.empty:
        return Outcome()
    cells = columns.cells
    keys = pd.MultiIndex.from_arrays([cells["source_file"], cells["source_row"].astype("int64")])
    problems: list[Finding] = []
    located: list[pd.DataFrame] = []
    for (code, severity, column), group in found.groupby(["reason_code", "severity", "column"], sort=False):
        wanted = pd.MultiIndex.from_arrays([group["file"], group["row"].astype("int64")])
        here = keys.isin(wanted)
        position = pd.Series(np.arange(len(group)), index=wanted)
        if here.any():
            order = position.reindex(keys[here]).to_numpy()
            params = {name: _spread(group, here, order, name) for name in _param_names(group)}
            value = pd.Series("", index=cells.index, dtype=object)
            value[here] = group["value"].to_numpy()[order]
            problems.append(Finding(pd.Series(here, index=cells.index), str(column), str(code), str(severity), value, params))
        elsewhere = ~wanted.isin(keys)
        if elsewhere.any():  # a note on a row of another part of the file (or on the header row)
            rest = group[elsewhere]
            located.append(rest.assign(kind=context.kind.name, record_id="")[PROBLEM_COLUMNS])
    return Outcome(problems=problems, located=located)


def _param_names(group: pd.DataFrame) -> list[str]:
    names: dict[str, None] = {}
    for params in group["params"]:
        names |= dict.fromkeys(params or {})
    return list(names)


def _spread(group: pd.DataFrame, here: np.ndarray, order: np.ndarray, name: str) -> pd.Series:
    values = np.array([(p or {}).get(name) for p in group["params"]], dtype=object)
    out = np.full(len(here), None, dtype=object)
    out[here] = values[order]
    return pd.Series(out)


def check_ids(columns: Columns, context: Context) -> Outcome:
    """Ids as people mean them: invisible format characters (zero-width spaces, BOMs: Unicode
    Cf) removed with a warning, NFKC-normalised and trimmed; a missing id is a reject."""
    id_field = context.kind.id_field
    raw = columns.cells[id_field]
    visible, changed = strip_invisible(raw)
    ids = normalize_text(visible)
    missing = ids == ""
    chars = pd.Series("", index=raw.index, dtype=object)
    if changed.any():
        chars[changed] = raw[changed].map(invisible_characters)
    problems = [
        Finding(missing, id_field, "id_missing", REJECTED),
        Finding(changed & ~missing, id_field, "id_invisible", WARNING, params={"chars": chars, "id": ids}),
    ]
    return Outcome(values={id_field: ids}, problems=problems)
