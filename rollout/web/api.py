"""The JSON API for the operators' own systems: Bearer tokens (``rollout users token``), the pages' permissions.

- ``GET /api/records?kind=&street=&status=&limit=&offset=``: a JSON list of the records the
  caller may see (``X-Total-Count`` and a ``Link: rel="next"`` header page through them).
- ``GET /api/records/{kind}/{id}``: one record, always current.
- ``PATCH /api/records/{kind}/{id}``: change status, milestone dates, blocker, acceptance
  evidence; ``version`` makes it optimistic (409 when stale); 422 with the row checks' problems.
- ``GET /api/progress?as_of=``: progress by street and for the district on a day.

Errors are ``{"error": {"code", "message", ...}}`` in the caller's language (``?lang=en`` or
``Accept-Language``; Chinese by default): 401 without a valid token, 403 outside the caller's
records or fields, 404 for no such record, 409 for a stale version, 422 for bad values.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from rollout.i18n import t
from rollout.problems import with_reasons
from rollout.register.errors import EditRejected, StaleVersionError
from rollout.schema import KINDS
from rollout.web.accounts import User
from rollout.web.api_shapes import RecordChange, record_lines
from rollout.web.app import api_lang
from rollout.web.auth import api_user, client_ip, platform
from rollout.web.changes import ChangeRefused, change_record
from rollout.web.permissions import CONTACT_FIELDS, may_view, sees_contacts
from rollout.web.responses import error_answer, json_error

router = APIRouter(prefix="/api", tags=["records"])
MAX_LIMIT = 5000


@router.get("/records", summary="Records the caller may see")
def list_records(
    request: Request,
    user: User = Depends(api_user("view_records")),
    kind: str | None = Query(None, description="macro or garage"),
    street: str | None = Query(None, description="street code or name"),
    status: str | None = Query(None, description="status today (a code: on_air, blocked, ...)"),
    limit: int = Query(500, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> Response:
    """A JSON list of records, ordered by kind and id."""
    state = platform(request)
    view = state.records()  # at most refresh_seconds behind; one record (below) is always current
    table = view.table
    scope = view.scope(user)
    rows = scope.rows
    if kind is not None:
        if kind not in KINDS:
            return _invalid(request, "kind", kind)
        rows = rows[table["kind"].to_numpy()[rows] == kind]
    if street:
        code = _street_code(state, street)
        if code is None:
            return _invalid(request, "street", street)
        rows = rows[table["street_code"].to_numpy()[rows] == code]
    if status:
        rows = rows[table["status_as_of"].to_numpy()[rows] == status]
    lines = [view.line(i, contacts=bool(scope.contacts[i])) for i in rows[offset : offset + limit]]
    headers = {"X-Total-Count": str(len(rows))}
    if offset + limit < len(rows):
        query = dict(request.query_params) | {"offset": str(offset + limit), "limit": str(limit)}
        headers["Link"] = f'<{request.url.path}?{"&".join(f"{k}={v}" for k, v in query.items())}>; rel="next"'
    return Response("[" + ",".join(lines) + "]", media_type="application/json", headers=headers)


@router.get("/records/{kind}/{record_id}", summary="One record")
def get_record(request: Request, kind: str, record_id: str, user: User = Depends(api_user("view_records"))) -> Response:
    """The record as the register has it now (403 when it is not among the caller's)."""
    state = platform(request)
    view = state.records()
    position = view.position(kind, record_id)
    if position is not None and view.revision == state.revision():  # the view is current: its JSON is the answer
        scope = {c: view.table.at[position, c] for c in ("kind", "street_code", "operator", "operators", "lead_unit")}
        if may_view(user, scope):
            return Response(view.line(position, contacts=sees_contacts(user, scope)), media_type="application/json")
    row = _record(request, user, kind, record_id)
    if isinstance(row, JSONResponse):
        return row
    return Response(_one(user, row), media_type="application/json")


@router.patch("/records/{kind}/{record_id}", summary="Change a record")
def patch_record(
    request: Request, kind: str, record_id: str, change: RecordChange, user: User = Depends(api_user("edit_records"))
) -> Response:
    """Change fields of a record: a new version in the register with the caller as author."""
    lang = api_lang(request)
    state = platform(request)
    try:
        result = change_record(
            state,
            user,
            kind,
            record_id,
            change.fields(),
            version=change.version,
            day_text=change.reported_on,
            note=change.note or "",
            ip=client_ip(request),
            channel="api",
            day_required=False,
        )
    except ChangeRefused as e:
        return json_error(e.status, _CODES.get(e.status, "refused"), t(e.key, lang, **e.params))
    except StaleVersionError as e:
        return json_error(409, "stale_version", e.message(lang), current_version=e.current_version)
    except EditRejected as e:
        problems = with_reasons(e.problems, lang)[["column", "value", "reason_code", "reason"]].to_dict("records")
        return json_error(422, "rejected", e.message(lang), problems=problems)
    row = state.record(kind, record_id, reader=user.id)
    body = json.loads(_one(user, row)) if row is not None else {}
    changes = result.changes[["change", "field", "old", "new"]].to_dict("records") if len(result.changes) else []
    hidden = () if row is not None and sees_contacts(user, row) else CONTACT_FIELDS
    body["changed"] = result.submission_id is not None
    body["changes"] = [c for c in changes if c["field"] not in hidden]
    return JSONResponse(body)


@router.get("/progress", summary="Progress by street", tags=["progress"])
def progress(
    request: Request, user: User = Depends(api_user("view_dashboard")), as_of: str | None = Query(None, description="a day (default today)")
) -> Response:
    """Targets, done, % of target, expected on the linear plan and pace, per street and for the district."""
    from rollout.pipeline import load_project
    from rollout.register.clock import shanghai_today
    from rollout.values import as_date

    state = platform(request)
    today = shanghai_today()
    try:
        day = as_date(as_of) if as_of else today
    except ValueError:
        day = None
    if day is None or day > today:
        return _invalid(request, "as_of", as_of or "")
    if day == today:
        project = state.project()
    else:
        source = state.records()
        project = state.derived(("progress", day), source, lambda: load_project(state.config.data_dir, db=state.db, as_of=day))

    def build() -> bytes:
        table = project.progress().drop(columns=["street_zones"], errors="ignore")
        body = {"as_of": day.isoformat(), "streets": json.loads(table.to_json(orient="records", force_ascii=False))}
        return bytes(JSONResponse(body).body)

    return Response(state.derived(("progress_json", day), project, build), media_type="application/json")


def validation_answer(request: Request, error: RequestValidationError) -> JSONResponse | HTMLResponse:
    """Malformed JSON, unknown fields and wrong types: 422 with what was wrong, in the caller's language."""
    lang = api_lang(request)
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        kind = item.get("type", "")
        if kind == "json_invalid":
            problems.append(t("web.api.json_invalid", lang))
        elif kind == "extra_forbidden":
            problems.append(t("web.api.unknown_field", lang, field=where))
        elif kind == "missing":
            problems.append(t("web.api.missing", lang, field=where or "body"))
        else:
            problems.append(t("web.api.bad_value", lang, field=where, detail=item.get("msg", "")))
    message = t("web.api.invalid", lang, problems="; ".join(problems))
    if not request.url.path.startswith("/api/"):
        return error_answer(request, 422, message=message)  # type: ignore[return-value]
    return json_error(422, "invalid", message, problems=problems)


_CODES = {403: "forbidden", 404: "not_found", 409: "stale_version", 422: "invalid"}


def _record(request: Request, user: User, kind: str, record_id: str):
    lang = api_lang(request)
    row = platform(request).record(kind, record_id, reader=user.id) if kind in KINDS else None
    if row is None:
        return json_error(404, "not_found", t("web.error.no_record", lang, kind=kind, id=record_id))
    if not may_view(user, row):
        return json_error(403, "forbidden", t("web.error.not_yours", lang, kind=kind, id=record_id))
    return row


def _one(user: User, row: dict) -> str:
    import pandas as pd

    frame = pd.DataFrame([row])
    drop = () if sees_contacts(user, row) else CONTACT_FIELDS
    return str(record_lines(frame, drop=drop)[0])


def _street_code(state, street: str) -> str | None:
    import pandas as pd

    from rollout.boundaries import match_streets

    code = match_streets(pd.Series([street]), state.street_table).iloc[0]
    return code if isinstance(code, str) else None


def _invalid(request: Request, name: str, value: str) -> JSONResponse:
    lang = api_lang(request)
    return json_error(422, "invalid", t("web.api.bad_parameter", lang, name=name, value=str(value)[:60]))


__all__ = ["router", "validation_answer"]
