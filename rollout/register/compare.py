"""What changed between a submission and the register's records from the same sender.

:func:`compare_submission` classifies, column by column (no loop over rows):

- ``new``: an id this sender never reported;
- ``status``: the status moved (up the ladder, or to/from blocked);
- ``regressed``: the status moved down the ladder, to cancelled, out of a done status, or a
  done date (on air, covered, accepted) was withdrawn;
- ``moved``: the position moved ``moved_m`` metres or more;
- ``changed``: any other field (name, operator, band, planned dates, blocker, ...), one row per
  field; a record the sender left out before and reports again has a ``changed`` row for the
  field ``reported``;
- ``missing``: reported before by this sender, not in this file (kept, flagged 未报送);
- ``conflict``: another sender reports the same id with another status, or ``moved_m`` or more away;
- ``rename``: a new id with the same name as a record now missing, within ``rename_m`` metres:
  probably the same site under a new code (both stay in the register; the pair is listed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rollout.register.schema import field_columns
from rollout.schema import SiteKind

__all__ = [
    "CHANGE_CLASSES",
    "CHANGE_COLUMNS",
    "CONFLICT_DAYS",
    "Comparison",
    "as_text",
    "comparable",
    "compare_submission",
    "differs",
    "distance_m",
]

CHANGE_CLASSES = ("new", "status", "regressed", "moved", "changed", "missing", "conflict", "rename")
CHANGE_COLUMNS = ["record_id", "change", "field", "old", "new"]
#: Two senders' reports disagree (a conflict) when reported within this many days of each other.
CONFLICT_DAYS = 6
#: Fields never compared: the id, the position (``moved``), the status (``status``/``regressed``)
#: and where the values came from.
_NOT_COMPARED = {"lon", "lat", "crs", "status"}


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a submission with the register."""

    changes: pd.DataFrame  # record_id, change, field, old, new
    new_ids: pd.Index  # ids to add (first version)
    updated_ids: pd.Index  # ids reported before whose data changed, or that came back
    missing_ids: pd.Index  # ids reported before and left out now

    @property
    def unchanged(self) -> bool:
        """True when applying the submission would change nothing."""
        return not (len(self.new_ids) or len(self.updated_ids) or len(self.missing_ids))

    def classes_by_record(self) -> pd.Series:
        """The change classes of each record, joined by commas (for the version rows)."""
        if self.changes.empty:
            return pd.Series(dtype=object)
        return self.changes.drop_duplicates(["record_id", "change"]).groupby("record_id", sort=False)["change"].agg(",".join)


def compare_submission(
    incoming: pd.DataFrame,
    current: pd.DataFrame,
    others: pd.DataFrame,
    kind: SiteKind,
    *,
    moved_m: float = 50.0,
    rename_m: float = 10.0,
    reported_on=None,
) -> Comparison:
    """Compare checked rows (``incoming``, one per ``record_id``) with this sender's current
    records (``current``: ``record_id``, ``state`` and the fields) and other senders' current
    records of the same ids (``others``: also ``source`` and ``confirmed_on``).

    Conflicts are looked for among other senders' reports of the same week (reported at most
    ``CONFLICT_DAYS`` days before ``reported_on``, by the day of their latest list): an older report that differs is a sender
    behind, not a disagreement (``rollout submissions`` flags senders who fall silent).
    """
    if reported_on is not None and len(others) and "confirmed_on" in others.columns:
        since = pd.Timestamp(reported_on) - pd.Timedelta(days=CONFLICT_DAYS)
        others = others[pd.to_datetime(others["confirmed_on"]).to_numpy() >= since.to_datetime64()]
    incoming = incoming.set_index("record_id", drop=False).rename_axis(None)
    current = current.set_index("record_id", drop=False).rename_axis(None)
    new_ids = incoming.index.difference(current.index, sort=False)
    both = incoming.index.intersection(current.index, sort=False)
    gone = current.index.difference(incoming.index, sort=False)
    missing_ids = gone[current.loc[gone, "state"].eq("reported").to_numpy()] if len(gone) else gone
    frames = [_rows(new_ids, "new", "", "", incoming.loc[new_ids, "status"] if len(new_ids) else [])]
    frames.append(_rows(missing_ids, "missing", "", current.loc[missing_ids, "status"] if len(missing_ids) else [], ""))
    old, new = current.loc[both], incoming.loc[both]
    frames += _status_changes(old, new, kind)
    frames.append(_moves(old, new, moved_m, "moved"))
    frames += _field_changes(old, new, kind)
    returned = old.index[old["state"].eq("missing").to_numpy()]
    frames.append(_rows(returned, "changed", "reported", "missing", "reported"))
    changes = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else _empty()
    updated = pd.Index(changes.loc[changes["record_id"].isin(both), "record_id"].unique(), name="record_id")
    changes = pd.concat([changes, _conflicts(incoming, others, moved_m), _renames(incoming.loc[new_ids], current, missing_ids, rename_m)])
    return Comparison(changes=_ordered(changes), new_ids=new_ids, updated_ids=updated, missing_ids=missing_ids)


def comparable(values: pd.Series, sql_type: str) -> pd.Series:
    """Values normalised so that equal values compare equal (blanks are missing values).

    >>> comparable(pd.Series([1.0, None, 2.50000001]), "Float").tolist()
    [1.0, nan, 2.5]
    """
    if sql_type == "Date":
        return pd.to_datetime(values, errors="coerce")
    if sql_type in ("Float", "Integer"):
        return pd.to_numeric(values, errors="coerce").astype("float64").round(6 if sql_type == "Float" else 0)
    if sql_type == "Boolean":
        return values.astype(object).map({True: 1.0, False: 0.0}).astype("float64")
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def differs(old: pd.Series, new: pd.Series) -> pd.Series:
    """True where two normalised columns hold different values (two blanks are equal)."""
    return ~((old == new) | (old.isna() & new.isna()))


def as_text(values: pd.Series, sql_type: str) -> pd.Series:
    """Normalised values as the text shown in change tables ('' for blanks)."""
    if sql_type == "Date":
        return values.dt.strftime("%Y-%m-%d").fillna("").astype(object)
    if sql_type == "Boolean":
        return values.map({1.0: "true", 0.0: "false"}).fillna("").astype(object)
    if sql_type in ("Float", "Integer"):
        return values.map(lambda v: "" if pd.isna(v) else f"{v:g}").astype(object)  # only rows that differ
    return values.astype(object)


def distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres (haversine), vectorised.

    >>> round(float(distance_m(121.4, 31.2, 121.4, 31.2009)[()]))
    100
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})


def _rows(ids, change: str, field: str, old, new) -> pd.DataFrame:
    if not len(ids):
        return _empty()
    return pd.DataFrame(
        {
            "record_id": np.asarray(ids, dtype=object),
            "change": change,
            "field": field,
            "old": np.asarray(old, dtype=object) if not isinstance(old, str) else old,
            "new": np.asarray(new, dtype=object) if not isinstance(new, str) else new,
        }
    )


def _status_changes(old: pd.DataFrame, new: pd.DataFrame, kind: SiteKind) -> list[pd.DataFrame]:
    rank = {status: i for i, (status, _) in enumerate(kind.ladder)}
    before, after = old["status"].astype(str), new["status"].astype(str)
    differ = before.ne(after)
    old_rank, new_rank = before.map(rank), after.map(rank)
    down = old_rank.notna() & new_rank.notna() & (new_rank < old_rank)
    undone = before.isin(kind.done) & ~after.isin(kind.done)
    regressed = differ & (down | undone | after.eq("cancelled"))
    frames = [
        _rows(before.index[regressed], "regressed", "status", before[regressed], after[regressed]),
        _rows(before.index[differ & ~regressed], "status", "status", before[differ & ~regressed], after[differ & ~regressed]),
    ]
    for milestone in kind.done_dates:
        was, now = comparable(old[milestone], "Date"), comparable(new[milestone], "Date")
        withdrawn = was.notna() & now.isna()
        frames.append(_rows(was.index[withdrawn], "regressed", milestone, as_text(was[withdrawn], "Date"), ""))
    return frames


def _moves(old: pd.DataFrame, new: pd.DataFrame, moved_m: float, change: str) -> pd.DataFrame:
    metres = distance_m(old["lon"], old["lat"], new["lon"], new["lat"])
    far = np.nan_to_num(metres) >= moved_m
    return _rows(old.index[far], change, "position", _position(old[far]), _position(new[far]))


def _position(frame: pd.DataFrame, lon: str = "lon", lat: str = "lat") -> pd.Series:
    xs, ys = frame[lon].to_numpy(dtype="float64"), frame[lat].to_numpy(dtype="float64")
    return pd.Series([f"{x:.6f},{y:.6f}" for x, y in zip(xs, ys, strict=True)], index=frame.index, dtype=object)  # moved rows only


def _field_changes(old: pd.DataFrame, new: pd.DataFrame, kind: SiteKind) -> list[pd.DataFrame]:
    types = field_columns()
    frames = []
    for name in kind.field_names:
        if name in _NOT_COMPARED or name == kind.id_field:
            continue
        sql_type = types[name]
        was, now = comparable(old[name], sql_type), comparable(new[name], sql_type)
        differ = differs(was, now)
        if name in kind.done_dates:
            differ &= now.notna()  # a withdrawn done date is a regression, listed above
        if differ.any():
            frames.append(_rows(was.index[differ], "changed", name, as_text(was[differ], sql_type), as_text(now[differ], sql_type)))
    return frames


def _conflicts(incoming: pd.DataFrame, others: pd.DataFrame, moved_m: float) -> pd.DataFrame:
    if others.empty:
        return _empty()
    pairs = others.merge(incoming[["record_id", "status", "lon", "lat"]], on="record_id", suffixes=("_other", ""))
    status = pairs[pairs["status_other"].astype(str).ne(pairs["status"].astype(str))]
    metres = distance_m(pairs["lon_other"], pairs["lat_other"], pairs["lon"], pairs["lat"])
    far = pairs[np.nan_to_num(metres) >= moved_m]
    frames = [
        _rows(status["record_id"], "conflict", "status", status["source"] + ":" + status["status_other"].astype(str), status["status"]),
        _rows(
            far["record_id"],
            "conflict",
            "position",
            far["source"] + ":" + _position(far, "lon_other", "lat_other"),
            _position(far),
        ),
    ]
    return pd.concat(frames, ignore_index=True)


def _renames(added: pd.DataFrame, current: pd.DataFrame, missing_ids: pd.Index, rename_m: float) -> pd.DataFrame:
    gone = current[current["state"].eq("missing") | current.index.isin(missing_ids)]
    if added.empty or gone.empty:
        return _empty()
    left = added[["record_id", "lon", "lat"]].assign(key=comparable(added["name"], "Text").str.casefold().to_numpy())
    right = gone[["record_id", "lon", "lat"]].assign(key=comparable(gone["name"], "Text").str.casefold().to_numpy())
    pairs = left[left["key"] != ""].merge(right.reset_index(drop=True), on="key", suffixes=("", "_old"))
    near = pairs[distance_m(pairs["lon"], pairs["lat"], pairs["lon_old"], pairs["lat_old"]) <= rename_m]
    return _rows(near["record_id"], "rename", "record_id", near["record_id_old"], near["record_id"])


#: Order of change rows: what needs a look first.
REVIEW_ORDER = ("conflict", "regressed", "missing", "rename", "moved", "status", "changed", "new")


def _ordered(changes: pd.DataFrame) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(REVIEW_ORDER)}
    out = changes.assign(_order=changes["change"].map(order)).sort_values(["_order", "record_id", "field"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)[CHANGE_COLUMNS].astype(str)
