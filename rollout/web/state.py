"""The platform's view of the register: opened once, read through caches keyed by its revision.

Reading every record (``visible_records``) or loading the project for the dashboard takes
a few tenths of a second on a register of 10,000 records, far too long for every request.
The platform keeps each view with the register's revision (the newest submission and conflict
resolution) and rebuilds it when the revision has moved: at most every ``refresh_seconds``
for the dashboard and the map (meanwhile the previous view is served, so one change does not
stall everyone), and at once for whoever asks ``fresh`` (the person who just made the change).
The records view is brought up to date at once when only a few records changed (edits): only
those records are read again and their rows replaced (:meth:`RecordsView.updated`), a few
milliseconds instead of reading all of them. A single record is always read current: from the
view when the view is current, else from the register itself.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rollout.config import Config
from rollout.register.clock import shanghai_today
from rollout.register.store import Register
from rollout.web.settings import WebSettings

__all__ = ["Platform", "RecordsView"]

#: Views made from others (record maps, worksheets, ...) kept at most.
_DERIVED_KEPT = 200
#: Changed records up to which the records view is updated in place rather than read again.
_UPDATED_AT_MOST = 200
#: The register's revision is asked at most this often (seconds): a busy server answers hundreds of
#: requests a second, and each asking is a database round trip. A change made in this process is seen
#: at once (:meth:`Platform.wrote`); one made elsewhere (another worker, an import) within this time.
REVISION_SECONDS = 0.05


@dataclass
class _Entry:
    revision: tuple[int, int]
    built: float
    value: Any


@dataclass(frozen=True)
class Scope:
    """What one kind of user (role, street, operator) sees of a view: row positions, and where contacts show."""

    rows: np.ndarray
    contacts: np.ndarray
    visible: np.ndarray  # one flag per row of the view (``rows`` are where it is set)


@dataclass(frozen=True)
class RecordsView:
    """Every record that counts (one row per kind and id) and each row as JSON, with and without contacts.
    What each kind of user sees of it, and tables made from that, are kept with it (:meth:`scope`, :meth:`memo`)."""

    table: pd.DataFrame
    json_full: np.ndarray
    json_public: np.ndarray
    as_of: dt.date
    revision: tuple[int, int]
    index: dict[tuple[str, str], int] = field(repr=False)
    #: The revision each record last changed at, for those changed since the view was read whole (``read``).
    stamps: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict, repr=False)
    read: tuple[int, int] | None = None
    _memo: dict = field(default_factory=dict, repr=False, compare=False)
    #: The scopes of the view this one was updated from, and the rows changed since (only those are judged again).
    _carried: dict = field(default_factory=dict, repr=False, compare=False)
    _changed: np.ndarray | None = field(default=None, repr=False, compare=False)

    def stamp(self, kind: str, record_id: str) -> tuple[int, int]:
        """The revision at which the record last changed, as far as this view knows (what is made
        from one record, such as its history, is kept until this moves)."""
        return self.stamps.get((kind, record_id), self.read or self.revision)

    def position(self, kind: str, record_id: str) -> int | None:
        """The row of a record, or None."""
        return self.index.get((kind, record_id))

    def scope(self, user) -> Scope:
        """The rows ``user`` may see and the rows whose contacts they may see."""
        from rollout.web.permissions import contacts_mask, visible_mask

        key = ("scope", user.role, user.street_code, user.operator)

        def build() -> Scope:
            carried = self._carried.get(key)
            if carried is None or self._changed is None:
                visible, contacts = visible_mask(user, self.table), contacts_mask(user, self.table)
            else:  # the rules look at each row alone: only the changed rows are judged again
                part = self.table.iloc[self._changed]
                visible, contacts = carried.visible.copy(), carried.contacts.copy()
                visible[self._changed], contacts[self._changed] = visible_mask(user, part), contacts_mask(user, part)
            return Scope(np.flatnonzero(visible), contacts, visible)

        return self.memo(key, build)

    def memo(self, key, build: Callable[[], Any]) -> Any:
        """A value made from this view, made once."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def _scopes(self) -> dict:
        """The scopes made from this view so far (carried to the view updated from it)."""
        return {key: value for key, value in self._memo.items() if isinstance(key, tuple) and key[:1] == ("scope",)}

    def line(self, position: int, *, contacts: bool) -> str:
        """A row as the API's JSON object."""
        return str((self.json_full if contacts else self.json_public)[position])

    def updated(self, rows: pd.DataFrame, revision: tuple[int, int]) -> RecordsView | None:
        """This view with ``rows`` (records already in it, as :func:`~rollout.register.visible_records`
        gives them) in place of its own, at ``revision``; None when a row is not in the view."""
        found = [self.index.get(key, -1) for key in zip(rows["kind"], rows["record_id"], strict=True)]
        if -1 in found or len(set(found)) != len(found):
            return None
        order = np.argsort(found, kind="stable")
        positions = np.asarray(found, dtype="int64")[order]
        rows = rows.iloc[order].reset_index(drop=True)
        table = self.table.copy(deep=False)  # copy on write: only the columns set below are copied
        for name in table.columns:
            # A column the rows have not (the other kind's, a file's extra column) is missing in them, as reading all would have it.
            values = _like(rows[name] if name in rows.columns else pd.Series(np.nan, index=rows.index), table[name].dtype)
            before = table[name].iloc[positions]
            if before.reset_index(drop=True).equals(values.reset_index(drop=True)):
                continue
            column = table[name]
            column.iloc[positions] = values.to_numpy()
            table[name] = column
        full, public = record_json(table.iloc[positions])
        json_full, json_public = self.json_full.copy(), self.json_public.copy()
        json_full[positions], json_public[positions] = full, public
        stamps = self.stamps | {key: revision for key in zip(rows["kind"], rows["record_id"], strict=True)}
        carried = self._scopes()
        return RecordsView(table, json_full, json_public, self.as_of, revision, self.index, stamps, self.read, {}, carried, positions)


class Platform:
    """The open register, the project's configuration and streets, and the cached views."""

    def __init__(self, config: Config, register: Register, settings: WebSettings, *, db: str | None = None) -> None:
        from rollout.boundaries import read_street_table, read_streets

        self.config = config
        self.register = register
        self.settings = settings
        self.db = db
        self.street_table = read_street_table(config)
        self.streets = read_streets(config, street_table=self.street_table)
        self._entries: dict[Any, _Entry] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()
        self._derived: dict[Any, tuple[Any, Any]] = {}
        #: The revision each user last wrote in this process (they see their own change at once).
        self.written: dict[int, tuple[int, int]] = {}
        self._revision: tuple[float, tuple[int, int]] | None = None

    def revision(self) -> tuple[int, int]:
        """The register's revision: the newest submission id and conflict resolution id (asked of the
        register at most every :data:`REVISION_SECONDS`, and at once after a change made here)."""
        kept = self._revision
        now = time.monotonic()
        if kept is not None and now - kept[0] < REVISION_SECONDS:
            return kept[1]
        return self._noted(self._read_revision(), now)

    def _noted(self, revision: tuple[int, int], now: float) -> tuple[int, int]:
        """Keep ``revision`` as the latest known (both numbers only grow: a thread that read it
        earlier must not put an older one back) and return the latest."""
        with self._guard:
            latest = self._revision
            if latest is not None:
                revision = (max(revision[0], latest[1][0]), max(revision[1], latest[1][1]))
            self._revision = (now, revision)
        return revision

    def _read_revision(self) -> tuple[int, int]:
        import sqlalchemy as sa

        tables = self.register.tables
        query = sa.select(
            sa.select(sa.func.coalesce(sa.func.max(tables["submissions"].c.id), 0)).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.max(tables["conflict_resolutions"].c.id), 0)).scalar_subquery(),
        )
        with self.register.read_statement() as conn:
            row = conn.execute(query).one()
        return int(row[0]), int(row[1])

    def cached(
        self, key: Any, build: Callable[[], Any], *, at_least: tuple[int, int] | None = None, revision: tuple[int, int] | None = None
    ) -> Any:
        """The view ``key``, rebuilt with ``build`` when the register has changed (see the module
        docstring); ``at_least``: a revision the view must have reached (the reader's own change)."""
        current = revision or self.revision()
        entry = self._entries.get(key)
        if entry is not None and _reached(entry.revision, current):
            return entry.value
        fresh = at_least is not None and (entry is None or not _reached(entry.revision, at_least))
        recent = entry is not None and time.monotonic() - entry.built < self.settings.refresh_seconds
        lock = self._lock(key)
        if entry is not None and not fresh and (recent or not lock.acquire(blocking=False)):
            return entry.value  # someone is rebuilding it, or it was rebuilt a moment ago
        if entry is None or fresh:
            lock.acquire()
        try:  # whoever held the lock may have brought the view this far already (or further: the register moved on)
            entry = self._entries.get(key)
            if entry is not None and _reached(entry.revision, current):
                return entry.value
            value = build()
            self._entries[key] = _Entry(current, time.monotonic(), value)
            return value
        finally:
            lock.release()

    def wrote(self, user_id: int) -> None:
        """Note that ``user_id`` has just changed the register: their next views include the change."""
        self.written[user_id] = self._noted(self._read_revision(), time.monotonic())

    def records(self, *, reader: int | None = None) -> RecordsView:
        """Every record that counts, today (see :func:`rollout.register.visible_records`): up to date
        at once after edits of a few records, else at most ``refresh_seconds`` behind."""
        revision = self.revision()
        entry = self._entries.get("records")
        previous = entry.value if entry is not None and not _reached(entry.revision, revision) else None
        changed = self._changed(previous.revision, previous.as_of, revision) if previous is not None else None
        at_least = revision if changed is not None else self.written.get(reader or 0)
        return self.cached("records", lambda: self._records_view(revision, previous, changed), at_least=at_least, revision=revision)

    def record(self, kind: str, record_id: str, *, reader: int | None = None) -> dict | None:
        """One record that counts, as a row of the records view, always current (None: no such record)."""
        from rollout.register.errors import RegisterError
        from rollout.register.views import read_record

        revision = self.revision()
        view = self.records(reader=reader)
        position = view.position(kind, record_id)
        if view.revision == revision:
            return None if position is None else view.table.iloc[position].to_dict()
        if position is None:  # a record newer than the view: bring the view up to date
            view = self.cached("records", lambda: self._records_view(revision, None, None), at_least=revision, revision=revision)
            position = view.position(kind, record_id)
            return None if position is None else view.table.iloc[position].to_dict()
        try:
            fresh = read_record(self.register, kind, record_id)
        except RegisterError:
            return None
        return _merged(view.table.iloc[position].to_dict(), fresh, view.as_of)

    def project(self, *, reader: int | None = None):
        """The project read from the register for today (progress, map, burn-up, worksheets): at
        most ``refresh_seconds`` behind, at once for whoever just changed it; after edits of a few
        records only those are read again (:func:`rollout.register.refresh.refreshed`)."""
        from rollout.pipeline import load_project
        from rollout.register.refresh import refreshed

        revision = self.revision()
        entry = self._entries.get("project")

        def build():
            if entry is not None and not _reached(entry.revision, revision):
                changed = self._changed(entry.revision, entry.value.as_of, revision)
                if changed is not None:
                    loads, snapshot = self._reread(changed)
                    return refreshed(entry.value, changed, loads, snapshot)
            return load_project(self.config.data_dir, db=self.db, as_of=shanghai_today())

        return self.cached("project", build, at_least=self.written.get(reader or 0), revision=revision)

    def derived(self, key: Any, source: Any, build: Callable[[], Any]) -> Any:
        """A view made from others (a map or chart from the project): rebuilt when ``source`` (an object,
        a revision, or a tuple of them) is another."""
        entry = self._derived.get(key)
        if entry is not None and _same(entry[0], source):
            return entry[1]
        with self._lock(("derived", key)):
            entry = self._derived.get(key)
            if entry is not None and _same(entry[0], source):
                return entry[1]
            value = build()
            with self._guard:
                self._derived[key] = (source, value)
                while len(self._derived) > _DERIVED_KEPT:  # the least recently built go first
                    self._derived.pop(next(iter(self._derived)))
            return value

    def _lock(self, key: Any) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _changed(self, then: tuple[int, int], day: dt.date, revision: tuple[int, int]) -> list[tuple[str, str]] | None:
        """The records changed between revisions ``then`` and ``revision`` of a view made on ``day``,
        when they are few and nothing else moved (no conflict settled, the same day); else None
        (the view is read again)."""
        from rollout.register.queries import records_changed_after

        if then[1] != revision[1] or day != shanghai_today() or then[0] > revision[0]:
            return None
        return records_changed_after(self.register, then[0], limit=_UPDATED_AT_MOST)

    def _reread(self, changed: list[tuple[str, str]]):
        """The ``changed`` records as the register has them now, placed, and their open conflicts."""
        from rollout.register.loads import site_loads_from

        ids = sorted({record_id for _, record_id in changed})
        return site_loads_from(
            self.register, self.config, self.streets, as_of=shanghai_today(), record_ids=ids, street_table=self.street_table
        )

    def _records_view(self, revision: tuple[int, int], previous: RecordsView | None, changed: list[tuple[str, str]] | None) -> RecordsView:
        from rollout.register.views import records_table, visible_records

        day = shanghai_today()
        if previous is not None and changed is not None:
            if not changed:
                same = (previous.table, previous.json_full, previous.json_public, day, revision, previous.index, previous.stamps)
                return RecordsView(*same, previous.read, {}, previous._scopes(), np.zeros(0, dtype="int64"))
            rows = records_table(self._reread(changed)[0], day)
            rows = rows[pd.Series(list(zip(rows["kind"], rows["record_id"], strict=True)), dtype=object).isin(changed).to_numpy()]
            view = previous.updated(rows, revision) if len(rows) == len(changed) else None
            if view is not None:
                return view
        table = visible_records(self.register, self.config, self.streets, as_of=day)
        if table.empty:
            table = pd.DataFrame(columns=["kind", "record_id", "street_code", "street_name", "status_as_of", "register_version"])
        table = table.sort_values(["kind", "record_id"], kind="stable").reset_index(drop=True)
        full, public = record_json(table)
        index = {(k, r): i for i, (k, r) in enumerate(zip(table["kind"], table["record_id"], strict=True))}
        return RecordsView(table, full, public, day, revision, index, {}, revision)


def _reached(revision: tuple[int, int], needed: tuple[int, int]) -> bool:
    """A view at ``revision`` is as new as one at ``needed`` or newer (both numbers only grow)."""
    return revision[0] >= needed[0] and revision[1] >= needed[1]


def _like(values: pd.Series, dtype) -> pd.Series:
    """``values`` as ``dtype`` when they can be (new rows in a view's columns)."""
    if values.dtype == dtype:
        return values
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values.astype(object)


def _same(kept: Any, source: Any) -> bool:
    """The same source: the same objects (a view, a project), or equal revisions (tuples of numbers)."""
    if type(kept) is tuple and type(source) is tuple and len(kept) == len(source):
        return all(a is b or (type(a) is tuple and a == b) for a, b in zip(kept, source, strict=True))
    return kept is source


def _merged(row: dict, fresh: dict, as_of: dt.date) -> dict:
    """A view's row updated with the record as the register has it now (its status today recomputed)."""
    from rollout.schema import KINDS
    from rollout.status import status_as_of

    kind = KINDS[row["kind"]]
    row = {**row, **fresh["fields"]}
    row.update(register_version=fresh["version"], register_source=fresh["source"], register_state=fresh["state"])
    frame = pd.DataFrame([row])
    for name in (*kind.date_fields(), "reported_on"):
        if name in frame.columns:
            frame[name] = pd.to_datetime(frame[name], errors="coerce")
    frame["reported_on"] = pd.to_datetime(pd.Series([fresh.get("reported_on")]), errors="coerce")
    row["status_as_of"] = status_as_of(frame, kind, as_of).iloc[0]
    for name in kind.date_fields():
        row[name] = frame[name].iloc[0]
    return row


def record_json(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row as the API's JSON object, with and without the contact fields."""
    from rollout.web.api_shapes import record_lines
    from rollout.web.permissions import CONTACT_FIELDS

    if table.empty:
        return np.array([], dtype=object), np.array([], dtype=object)
    return record_lines(table), record_lines(table, drop=CONTACT_FIELDS)
