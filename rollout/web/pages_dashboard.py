"""The dashboard: progress by street, the map, the burn-up chart and this week's changes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from rollout import labels
from rollout.i18n import Lang, t
from rollout.web.accounts import User
from rollout.web.app import request_lang
from rollout.web.auth import page_user, platform
from rollout.web.permissions import CONTACT_FIELDS
from rollout.web.responses import page
from rollout.web.state import Platform

router = APIRouter(include_in_schema=False)
_CHANGES_SHOWN = 40


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: User = Depends(page_user("view_dashboard"))):
    """Progress by street and for the district, the map, the burn-up, this week's changes."""
    lang = request_lang(request)
    state = platform(request)
    project = state.project(reader=user.id)
    view = state.records(reader=user.id)

    def build() -> dict:
        conflicts = project.register.conflicts if project.register is not None else pd.DataFrame()
        return {
            "title": t("web.dashboard.title", lang, district=project.config.district(lang)),
            "as_of": project.as_of.isoformat(),
            "rows": [_progress_row(row, lang) for row in project.progress().to_dict("records")],
            "approximate": labels.approximate_note(lang) if project.approximate else "",
            "week": this_week_changes(state, user, lang=lang),
            "conflicts": int(conflicts[["kind", "record_id"]].drop_duplicates().shape[0]) if len(conflicts) else 0,
        }

    context = state.derived(("dashboard", lang, user.role, user.street_code, user.operator), (project, view), build)
    return page(request, "dashboard.html.j2", **context)


@router.get("/map", response_class=HTMLResponse)
def district_map(request: Request, user: User = Depends(page_user("view_dashboard"))):
    """The interactive map of today (the weekly pack's map, rendered in memory), shown in the dashboard's frame."""
    lang = request_lang(request)
    state = platform(request)
    project = state.project(reader=user.id)
    html = state.derived(("map", lang), project, lambda: _map_html(project, lang))
    return HTMLResponse(with_nonce(html, request))


@router.get("/burnup.png")
def burnup(request: Request, user: User = Depends(page_user("view_dashboard"))):
    """The burn-up chart of today."""
    from rollout.weekly import burnup_chart

    lang = request_lang(request)
    state = platform(request)
    project = state.project(reader=user.id)
    png = state.derived(("burnup", lang), project, lambda: burnup_chart(project, lang=lang))
    return Response(png, media_type="image/png")


def this_week_changes(state: Platform, user: User, *, lang: Lang) -> dict:
    """The changes found by the submissions of the latest submission's week: counts per class,
    and the rows (contact fields never; a link only to records the user may open)."""
    from rollout.register.compare import CHANGE_CLASSES
    from rollout.register.queries import changes_between, latest_reported_on
    from rollout.register.render import change_label, field_label, value_label

    def build() -> tuple[dt.date | None, pd.DataFrame]:
        latest = latest_reported_on(state.register)
        if latest is None:
            return None, pd.DataFrame(columns=["record_id", "kind", "source", "change", "field", "old", "new", "reported_on"])
        start = latest - dt.timedelta(days=latest.weekday())
        return start, changes_between(state.register, start, start + dt.timedelta(days=6))

    start, changes = state.cached("week_changes", build)
    changes = changes[~changes["field"].isin(CONTACT_FIELDS)]
    openable = openable_records(state, user)
    counts = changes.drop_duplicates(["kind", "record_id", "change"])["change"].value_counts()
    rows = [
        {
            "kind": labels.kind(r.kind, lang),
            "record_id": r.record_id,
            "href": f"/records/{r.kind}/{r.record_id}" if (r.kind, r.record_id) in openable else "",
            "source": r.source,
            "change": change_label(r.change, lang),
            "field": field_label(r.kind, r.field, lang),
            "old": value_label(r.kind, r.field, str(r.old), lang),
            "new": value_label(r.kind, r.field, str(r.new), lang),
            "reported_on": r.reported_on,
        }
        for r in changes.tail(_CHANGES_SHOWN).iloc[::-1].itertuples(index=False)
    ]
    return {
        "start": start.isoformat() if start else "",
        "end": (start + dt.timedelta(days=6)).isoformat() if start else "",
        "counts": [(change_label(c, lang), int(counts.get(c, 0))) for c in CHANGE_CLASSES],
        "rows": rows,
        "more": max(0, len(changes) - _CHANGES_SHOWN),
    }


def openable_records(state: Platform, user: User) -> set[tuple[str, str]]:
    """(kind, id) of the records whose page ``user`` may open."""
    view = state.records(reader=user.id)
    if user.role == "viewer":
        return set()
    scope = view.scope(user)

    def build() -> set[tuple[str, str]]:
        shown = view.table.iloc[scope.rows]
        return set(zip(shown["kind"], shown["record_id"], strict=True))

    return view.memo(("openable", user.role, user.street_code, user.operator), build)


def with_nonce(html: str, request: Request) -> str:
    """Give every ``<script`` tag of a page we built the response's CSP nonce (site text in
    such pages is JSON-escaped, so it holds no ``<script``)."""
    nonce = request.scope.get("state", {}).get("nonce", "")
    return html.replace("<script", f'<script nonce="{nonce}"')


def _map_html(project, lang: Lang) -> str:
    from rollout.maps import build_project_map, render_map
    from rollout.weekly import status_changes

    previous = project.as_of - dt.timedelta(days=7)
    changed = {
        load.kind.name: set(status_changes(load.records, load.kind, previous, project.as_of)["record_id"])
        for load in (project.macro, project.garage)
    }
    layers = []
    if project.register is not None:
        from rollout.register.weekly import conflict_layers

        layers = conflict_layers(project.register.conflicts, basemap="none", lang=lang)
    title = t("weekly.map_title", lang, district=project.config.district(lang))
    return render_map(build_project_map(project, title=title, changed=changed, basemap="none", layers=layers, lang=lang))


def _progress_row(row: dict, lang: Lang) -> dict:
    name = row["street_name"] if lang == "zh" else row["street_name_en"]
    out = {"name": name, "level": row["level"], "code": row["street_code"]}
    for kind in ("macro", "garage"):
        out[kind] = {
            "target": int(row[f"{kind}_target"]),
            "done": int(row[f"{kind}_done"]),
            "pct": float(row[f"{kind}_pct"]),
            "expected": float(row[f"{kind}_expected"]),
            "pace": labels.pace(str(row[f"{kind}_pace"]), lang),
            "pace_code": str(row[f"{kind}_pace"]),
            "blocked": int(row.get(f"{kind}_blocked", 0)),
        }
    return out


__all__ = ["openable_records", "router", "this_week_changes", "with_nonce"]
