"""Records as the register knew them: now, or on any past day; which one counts; open conflicts.

A record version is known on day D when its submission's reported date (the import's
``--as-of``) is on or before D and the submission that replaced it (if any) was reported
after D. Several senders may report the same id: :func:`counted` keeps one per id by the
winner rule of ``[register.winner]`` (a conflict resolution overrides it), so records are
never counted twice.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from rollout.register.compare import CONFLICT_DAYS, distance_m
from rollout.register.config import RegisterConfig
from rollout.register.schema import field_columns
from rollout.schema import KINDS

__all__ = ["counted", "open_conflicts", "read_resolutions", "read_versions"]


def read_versions(
    conn,
    tables,
    *,
    kind: str | None = None,
    as_of: dt.date | None = None,
    source: str | None = None,
    exclude_source: str | None = None,
    columns: list[str] | None = None,
    full: bool = True,
    record_id: str | None = None,
    record_ids: list[str] | None = None,
    after: int | None = None,
) -> pd.DataFrame:
    """Record versions current now (``as_of`` None) or as known on ``as_of``.

    Columns: ``version_id``, ``record``, ``kind``, ``record_id``, ``source``, ``version``,
    ``state``, ``valid_from``, ``valid_to``, ``reported_on`` (of ``valid_from``), ``confirmed_on``
    (the day of the sender's latest list that still holds the record), ``changes``,
    ``author`` (schema 2) and the field columns (all, or ``columns``). Without ``kind``, each
    kind is read with its own fields only (the other kind's columns are blank). ``full`` False
    leaves out ``version_id``, ``record``, ``valid_to``, ``changes`` and ``author`` (reading sites
    does not need them). ``record_id`` / ``record_ids`` keep those records; ``after`` keeps the
    versions written by a submission after that one (a snapshot's delta).
    """
    kinds = [kind] if kind is not None else list(KINDS)
    if kind is None and (record_id is not None or record_ids is not None):  # a few records: only the kinds they are of
        kinds = _kinds_of(conn, tables, [record_id] if record_id is not None else list(record_ids or [])) or kinds[:1]
    frames = []
    for name in kinds:
        wanted = columns if columns is not None else [*KINDS[name].field_names, "crs_input", "source_file", "source_row", "flags", "extra"]
        frames.append(
            _read_kind(
                conn,
                tables,
                name,
                wanted,
                as_of=as_of,
                source=source,
                exclude_source=exclude_source,
                full=full,
                record_ids=[record_id] if record_id is not None else record_ids,
                after=after,
            )
        )
    frame = frames[0] if len(frames) == 1 else pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    return with_confirmed_days(conn, tables, frame, as_of)


def _kinds_of(conn, tables, record_ids: list[str]) -> list[str]:
    """The kinds (in :data:`KINDS` order) of the records with these ids."""
    import sqlalchemy as sa

    records = tables["records"]
    found = set(conn.execute(sa.select(records.c.kind).where(records.c.record_id.in_(record_ids)).distinct()).scalars())
    return [name for name in KINDS if name in found]


def with_confirmed_days(conn, tables, frame: pd.DataFrame, as_of: dt.date | None) -> pd.DataFrame:
    """``frame`` with ``reported_on`` as dates and ``confirmed_on``: the day of the sender's latest
    list (on or before ``as_of``) that still holds the record, or of the record's own edit."""
    frame = frame.copy()
    reported_on = pd.to_datetime(frame["reported_on"])
    frame["reported_on"] = reported_on.dt.date
    latest = _latest_lists(conn, tables, as_of)
    lists = {(source, kind): day for source, kind, day in latest.itertuples(index=False)}  # one per sender and kind
    keys = (
        pd.Series(list(zip(frame["source"], frame["kind"], strict=True)), index=frame.index, dtype=object)
        if len(frame)
        else frame["source"]
    )
    # A record still on its sender's list is confirmed as of that list's day (or its own edit's).
    confirmed = pd.to_datetime(keys.map(lists)).where(frame["state"].eq("reported"))
    frame["confirmed_on"] = pd.concat([confirmed, reported_on], axis=1).max(axis=1).dt.date
    return frame


def _read_kind(
    conn, tables, kind: str, wanted: list[str], *, as_of, source, exclude_source, full: bool, record_ids=None, after=None
) -> pd.DataFrame:
    """One kind's versions; rows are fetched from the driver's cursor and typed column by column
    (vectorised), which is several times faster than letting each value through SQLAlchemy."""
    import sqlalchemy as sa

    versions, records, submissions = tables["record_versions"], tables["records"], tables["submissions"]
    present = {c.name for c in versions.columns}
    fields = [c for c in dict.fromkeys(wanted) if c in present]
    start, end = submissions.alias("start"), submissions.alias("end")
    extra = [versions.c.id.label("version_id"), versions.c.record, versions.c.valid_to, versions.c.changes]
    if full:
        extra.append(versions.c.author if "author" in present else sa.literal("").label("author"))
    selected = [
        records.c.kind,
        records.c.record_id,
        records.c.source,
        versions.c.version,
        versions.c.state,
        versions.c.valid_from,
        start.c.reported_on,
        *[versions.c[c] for c in fields],
        *(extra if full else []),
    ]
    query = sa.select(*selected).join(records, versions.c.record == records.c.id).join(start, versions.c.valid_from == start.c.id)
    if as_of is None:
        query = query.where(versions.c.valid_to.is_(None))
    else:
        query = query.outerjoin(end, versions.c.valid_to == end.c.id).where(
            start.c.reported_on <= as_of, sa.or_(versions.c.valid_to.is_(None), end.c.reported_on > as_of)
        )
    query = query.where(records.c.kind == kind)
    if source is not None:
        query = query.where(records.c.source == source)
    if exclude_source is not None:
        query = query.where(records.c.source != exclude_source)
    if record_ids is not None:
        ids = list(record_ids)
        query = query.where(records.c.record_id == ids[0] if len(ids) == 1 else records.c.record_id.in_(ids) if ids else sa.false())
    if after is not None:
        query = query.where(versions.c.valid_from > after)
    result = conn.execute(query.order_by(records.c.record_id, records.c.source))
    names = list(result.keys())
    rows = result.cursor.fetchall()
    values = np.array(rows, dtype=object).reshape(len(rows), len(names))
    frame = pd.DataFrame(values, columns=names, dtype=object)  # no per-column type inference
    types = field_columns()
    for name in frame.columns:
        kind_of = types.get(name)
        if kind_of == "Date":
            frame[name] = pd.to_datetime(frame[name], errors="coerce", format="ISO8601")
        elif kind_of in ("Float", "Integer") or name in ("version_id", "record", "version", "valid_from", "valid_to", "source_row"):
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
        elif kind_of == "Boolean":
            frame[name] = frame[name].map({True: True, False: False}, na_action="ignore")  # 1/0 from SQLite match too
    for name in wanted:
        if name not in frame.columns:
            frame[name] = None
    return frame


def _latest_lists(conn, tables, as_of: dt.date | None) -> pd.DataFrame:
    """Each sender's latest file submission per kind (on or before ``as_of``)."""
    import sqlalchemy as sa

    submissions = tables["submissions"]
    query = sa.select(submissions.c.source, submissions.c.kind, sa.func.max(submissions.c.reported_on).label("latest_list")).where(
        submissions.c.channel == "file"
    )
    if as_of is not None:
        query = query.where(submissions.c.reported_on <= as_of)
    return pd.read_sql(query.group_by(submissions.c.source, submissions.c.kind), conn)


def read_resolutions(conn, tables) -> pd.DataFrame:
    """The latest conflict resolution per record: kind, record_id, keep_source, after_submission."""
    import sqlalchemy as sa

    if "conflict_resolutions" not in sa.inspect(conn).get_table_names():
        return pd.DataFrame(columns=["kind", "record_id", "keep_source", "after_submission", "resolved_by", "resolved_at", "note"])
    table = tables["conflict_resolutions"]
    frame = pd.read_sql(sa.select(table).order_by(table.c.id), conn)
    return frame.drop_duplicates(["kind", "record_id"], keep="last").drop(columns="id").reset_index(drop=True)


def counted(versions: pd.DataFrame, settings: RegisterConfig, resolutions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One version per (kind, record_id): the one that counts.

    Order: the source a resolution keeps; sources still reporting the record before those
    that left it out; the winner rule of the kind; the latest reported; the source's name.
    """
    if versions.empty:
        return versions
    shared = versions.duplicated(["kind", "record_id"], keep=False).to_numpy()
    if not shared.all():  # only ids reported by several senders need ranking
        alone = versions[~shared]
        ranked = _ranked(versions[shared], settings, resolutions) if shared.any() else alone.iloc[:0]
        both = pd.concat([alone, ranked]) if len(ranked) else alone
        return both.sort_values(["kind", "record_id"], kind="stable").reset_index(drop=True)
    return _ranked(versions, settings, resolutions)


def _ranked(versions: pd.DataFrame, settings: RegisterConfig, resolutions: pd.DataFrame | None) -> pd.DataFrame:
    rank = pd.Series(0.0, index=versions.index)
    if resolutions is not None and len(resolutions):
        keep = versions[["kind", "record_id"]].merge(resolutions[["kind", "record_id", "keep_source"]], how="left")["keep_source"]
        rank -= (keep.to_numpy() == versions["source"].to_numpy()) * 1000
    rank += versions["state"].ne("reported").to_numpy() * 100
    rank += _rule_rank(versions, settings)
    ordered = versions.assign(_rank=rank.to_numpy(), _day=pd.to_datetime(versions["reported_on"]))
    ordered = ordered.sort_values(
        ["kind", "record_id", "_rank", "_day", "source"], ascending=[True, True, True, False, True], kind="stable"
    )
    return ordered.drop_duplicates(["kind", "record_id"]).drop(columns=["_rank", "_day"]).reset_index(drop=True)


def _rule_rank(versions: pd.DataFrame, settings: RegisterConfig) -> np.ndarray:
    """Position of each version's source in its kind's winner rule (len(rule) when absent)."""
    out = np.full(len(versions), 50.0)
    operator_of = {name: s.operator for name, s in settings.sources.items()}
    for kind, rule in settings.winner.items():
        mine = versions["kind"].eq(kind).to_numpy()
        if not mine.any():
            continue
        subset = versions[mine]
        position = np.full(len(subset), float(len(rule)))
        for i, word in reversed(list(enumerate(rule))):
            if word == "operator":
                hit = _source_among_operators(subset, operator_of)
            elif word == "lead_unit":
                hit = (settings.match(subset["lead_unit"].fillna("")) == subset["source"]).to_numpy()
            else:
                hit = subset["source"].eq(word).to_numpy()
            position = np.where(hit, i, position)
        out[mine] = position
    return out


def _source_among_operators(subset: pd.DataFrame, operator_of: dict[str, str]) -> np.ndarray:
    column = "operator" if subset["kind"].iloc[0] == "macro" else "operators"
    codes = subset[column].fillna("").astype(str).str.split(";").explode()
    source_code = subset["source"].map(operator_of).fillna("")
    hit = (codes != "") & (codes == source_code.reindex(codes.index))
    return hit.groupby(level=0).any().reindex(subset.index, fill_value=False).to_numpy()


def open_conflicts(versions: pd.DataFrame, winners: pd.DataFrame, resolutions: pd.DataFrame, *, moved_m: float) -> pd.DataFrame:
    """Records that senders report differently in the same week (status, or ``moved_m`` apart), not yet resolved.

    One row per record and other sender: kind, record_id, name, counted_source, counted_status,
    other_source, other_status, distance_m, fields (status/position), since (reported date of the
    newest version involved), lon, lat (of the record that counts).
    """
    columns = [
        "kind",
        "record_id",
        "name",
        "counted_source",
        "counted_status",
        "other_source",
        "other_status",
        "distance_m",
        "fields",
        "since",
        "lon",
        "lat",
    ]
    shared = versions.duplicated(["kind", "record_id"], keep=False).to_numpy()  # only these can disagree
    reported = versions[shared & versions["state"].eq("reported").to_numpy()]
    if reported.empty or winners.empty:
        return pd.DataFrame(columns=columns)
    winners = winners[winners["record_id"].isin(reported["record_id"])]
    lead = winners[["kind", "record_id", "source", "status", "lon", "lat", "name", "valid_from", "reported_on", "confirmed_on"]]
    pairs = reported[["kind", "record_id", "source", "status", "lon", "lat", "valid_from", "reported_on", "confirmed_on"]].merge(
        lead, on=["kind", "record_id"], suffixes=("", "_counted")
    )
    pairs = pairs[pairs["source"] != pairs["source_counted"]]
    apart = (pd.to_datetime(pairs["confirmed_on"]) - pd.to_datetime(pairs["confirmed_on_counted"])).dt.days.abs()
    pairs = pairs[(apart <= CONFLICT_DAYS).to_numpy()]  # an older report is a sender behind, not a disagreement
    metres = distance_m(pairs["lon"], pairs["lat"], pairs["lon_counted"], pairs["lat_counted"])
    status_differs = pairs["status"].astype(str).ne(pairs["status_counted"].astype(str)).to_numpy()
    far = np.nan_to_num(metres) >= moved_m
    pairs = pairs.assign(distance_m=np.round(metres, 1), _status=status_differs, _far=far)[status_differs | far]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    newest = pairs[["valid_from", "valid_from_counted"]].max(axis=1)
    if len(resolutions):
        after = pairs[["kind", "record_id"]].merge(resolutions[["kind", "record_id", "after_submission"]], how="left")["after_submission"]
        pairs = pairs[~(after.fillna(-1).to_numpy() >= newest.to_numpy())]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    fields = np.where(pairs["_status"] & pairs["_far"], "status,position", np.where(pairs["_status"], "status", "position"))
    since = pairs[["reported_on", "reported_on_counted"]].max(axis=1)
    table = pd.DataFrame(
        {
            "kind": pairs["kind"],
            "record_id": pairs["record_id"],
            "name": pairs["name"].fillna(""),
            "counted_source": pairs["source_counted"],
            "counted_status": pairs["status_counted"],
            "other_source": pairs["source"],
            "other_status": pairs["status"],
            "distance_m": pairs["distance_m"],
            "fields": fields,
            "since": since,
            "lon": pairs["lon_counted"],
            "lat": pairs["lat_counted"],
        }
    )
    return table.sort_values(["kind", "record_id", "other_source"], kind="stable").reset_index(drop=True)[columns]
