"""Records: "my open records", a record's page (facts, map, history, worksheet) and its edit form."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from rollout import labels
from rollout.i18n import Lang, t
from rollout.open_records import open_records
from rollout.problems import with_reasons
from rollout.register.errors import EditRejected, StaleVersionError
from rollout.render import render_page
from rollout.schema import KINDS
from rollout.web.accounts import User
from rollout.web.app import request_lang
from rollout.web.auth import check_csrf, client_ip, page_user, platform
from rollout.web.changes import ChangeRefused, change_record
from rollout.web.pages_dashboard import with_nonce
from rollout.web.permissions import CONTACT_FIELDS, editable_fields, may_view, sees_contacts
from rollout.web.responses import page, redirect
from rollout.web.words import field_name, field_value, input_value
from rollout.web.worklist import WITH_DAYS, open_records_for

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
_HISTORY_SHOWN = ("version", "source", "state", "status", "reported_on", "channel", "author", "imported_at", "what", "note")
_LISTED = ("record_id", "name", "street_name", "status_as_of", "operator", "operators", "blocker", "register_source")


@router.get("/records", response_class=HTMLResponse)
def record_list(
    request: Request,
    user: User = Depends(page_user("view_records")),
    kind: str = "",
    status: str = "",
    street: str = "",
    q: str = "",
    show: str = "open",
    page_number: int = 1,
):
    """The records the user may see: open ones most urgent first (default), or all of them."""
    lang = request_lang(request)
    state = platform(request)
    view = state.records(reader=user.id)
    scope = view.scope(user)
    who = (user.role, user.street_code, user.operator)
    if show != "all":
        show = "open"
        project = state.project(reader=user.id)
        chase = state.derived("open_records", project, lambda: open_records(project))
        table = state.derived(("open", *who), (chase, view), lambda: open_records_for(chase, view.table.iloc[scope.rows]))
    else:
        table = view.memo(
            ("all", *who),
            lambda: (
                view.table.iloc[scope.rows]
                .sort_values(["kind", "street_code", "record_id"], kind="stable")
                .assign(urgency="", days=0, planned=pd.Series(pd.NaT, index=scope.rows))
            ),
        )
    filters = {"kind": kind, "status": status, "street": street, "q": q, "show": show}

    def table_html() -> Markup:  # the same for everyone with this table, filters and language
        chosen = table
        if kind in KINDS:
            chosen = chosen[chosen["kind"].eq(kind)]
        if street:
            chosen = chosen[chosen["street_code"].astype(str).eq(street)]
        if status:
            chosen = chosen[chosen["status_as_of"].eq(status)]
        if q.strip():
            needle = q.strip().lower()
            text = chosen["record_id"].astype(str).str.lower() + " " + chosen["name"].fillna("").astype(str).str.lower()
            chosen = chosen[text.str.contains(needle, regex=False).to_numpy()]
        total = len(chosen)
        pages = max(1, -(-total // PAGE_SIZE))
        number = min(max(1, page_number), pages)
        shown = chosen.iloc[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        columns = list(dict.fromkeys(c for c in ("kind", "record_id", *_LISTED, "urgency", "days", "planned") if c in shown.columns))
        context = {
            "rows": [_list_row(r, lang) for r in shown[columns].to_dict("records")],
            "total": total,
            "page_number": number,
            "pages": pages,
            "filters": filters,
            "as_of": view.as_of.isoformat(),
        }
        return Markup(render_page("web/records_table.html.j2", lang=lang, **context))

    if q.strip():  # searches are not kept: their text is anyone's
        html = table_html()
    else:  # kept while the table (the view, and for open records the project) is the same
        html = state.derived(("records_table", kind, status, street, show, page_number, lang, *who), (table,), table_html)
    streets, statuses = state.derived(("record_filters", lang), (), lambda: _filter_choices(state.street_table, lang))
    return page(
        request,
        "records.html.j2",
        title=t("web.records.title_open" if show == "open" else "web.records.title_all", lang),
        table_html=html,
        filters=filters,
        streets=streets if user.role in ("admin", "district", "operator", "tower") else [],
        statuses=statuses,
    )


def _filter_choices(street_table: pd.DataFrame, lang: Lang) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The choices of the street and status filters: (code, name) pairs."""
    streets = [(c, n if lang == "zh" else e) for c, n, e in street_table[["street_code", "name", "name_en"]].itertuples(index=False)]
    pairs = sorted({(k, s) for k in KINDS for s in KINDS[k].statuses}, key=lambda x: (x[0], KINDS[x[0]].statuses.index(x[1])))
    return streets, [(s, labels.kind(k, lang) + " · " + labels.status(k, s, lang)) for k, s in pairs]


@router.get("/records/{kind}/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, kind: str, record_id: str, user: User = Depends(page_user("view_records"))):
    """A record: facts, map, history with authors, the worksheet (garages) and the edit form."""
    row = _visible_record(request, user, kind, record_id)
    return _record_page(request, user, row)


@router.post("/records/{kind}/{record_id}", response_class=HTMLResponse)
async def record_edit(request: Request, kind: str, record_id: str, user: User = Depends(page_user("edit_records"))):
    """Save the edit form: every change checked as a file's row would be; 409 when someone else was first."""
    form = await request.form(max_files=0, max_fields=60)
    check_csrf(request, form)
    lang = request_lang(request)
    state = platform(request)
    row = _visible_record(request, user, kind, record_id)
    sent = {name: str(form.get(name, "")).strip()[:500] for name in form if name in KINDS[kind].field_names}
    changed: dict[str, object] = {name: value for name, value in sent.items() if value != input_value(kind, name, row.get(name))}
    note = str(form.get("change_note", "")).strip()[:500]
    version_text = str(form.get("version", ""))
    version = int(version_text) if version_text.isdigit() else None
    try:
        if not note:
            raise ChangeRefused(422, "web.edit.note_missing", {})
        if not changed:
            return redirect(f"/records/{kind}/{record_id}", done="edit_unchanged")
        result = change_record(
            state,
            user,
            kind,
            record_id,
            changed,
            version=version,
            day_text=str(form.get("change_day", "")),
            note=note,
            ip=client_ip(request),
            channel="page",
        )
    except ChangeRefused as e:
        return _record_page(request, user, row, status=e.status, message=t(e.key, lang, **e.params), sent=sent, form=form)
    except EditRejected as e:
        problems = with_reasons(e.problems, lang).to_dict("records")
        message = t("web.edit.rejected", lang)
        return _record_page(request, user, row, status=422, message=message, problems=problems, sent=sent, form=form)
    except StaleVersionError as e:
        fresh = state.record(kind, record_id, reader=user.id) or row
        message = t("web.edit.stale", lang, version=e.current_version)
        return _record_page(request, user, fresh, status=409, message=message, sent=sent, form=form, stale=True)
    return redirect(f"/records/{kind}/{record_id}", done="edit_saved" if result.submission_id else "edit_unchanged")


@router.get("/records/{kind}/{record_id}/map", response_class=HTMLResponse)
def record_map(request: Request, kind: str, record_id: str, user: User = Depends(page_user("view_records"))):
    """The record on the district map (no phone numbers: maps never carry them)."""
    from rollout.maps import build_map, render_map

    row = _visible_record(request, user, kind, record_id)
    lang = request_lang(request)
    state = platform(request)
    project = state.project(reader=user.id)

    def build() -> str:
        frames = {k: project.loads[k].gather().records for k in KINDS}
        mine = {k: f[f[KINDS[k].id_field].astype(str).eq(record_id)] if k == kind else f.iloc[:0] for k, f in frames.items()}
        title = f"{row.get('name') or record_id} · {labels.kind(kind, lang)}"
        fmap = build_map(
            project.streets,
            project.progress(),
            mine["macro"],
            mine["garage"],
            as_of=project.as_of,
            title=title,
            subtitle=record_id,
            basemap="none",
            approximate=project.approximate,
            lang=lang,
        )
        return render_map(fmap)

    html = state.derived(("record_map", kind, record_id, lang), project, build)
    return HTMLResponse(with_nonce(html, request))


@router.get("/records/garage/{record_id}/worksheet")
def worksheet(request: Request, record_id: str, user: User = Depends(page_user("view_records")), format: str = "html"):
    """The compound's worksheet ("one compound, one plan"): HTML to print, or PDF / XLSX to download.
    Contacts only for those who may see them."""
    from dataclasses import replace

    from rollout.worksheets import build_worksheets, worksheet_files
    from rollout.writers import safe_filename, workbook_bytes

    row = _visible_record(request, user, "garage", record_id)
    if format not in ("html", "pdf", "xlsx"):
        raise HTTPException(404)
    lang = request_lang(request)
    state = platform(request)
    project = state.project(reader=user.id)
    contacts = sees_contacts(user, row)

    def build():
        sheet = build_worksheets(project, compound_ids=[record_id], lang=lang)[0]
        if not contacts:
            hidden = t("web.record.contacts_hidden", lang)
            people = ("contact", "phone")  # the property company is not a personal contact
            sheet = replace(sheet, contacts=[(name, label, hidden if name in people else value) for name, label, value in sheet.contacts])
        return worksheet_files(project, [sheet], formats=[format], lang=lang), sheet.file_stem

    files, stem = state.derived(("worksheet", record_id, lang, format, contacts), project, build)
    body = files[f"{stem}.{format}"]
    if format == "html":
        return HTMLResponse(body)
    data = workbook_bytes(body) if format == "xlsx" else body
    media = "application/pdf" if format == "pdf" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = safe_filename(stem) + f".{format}"
    from urllib.parse import quote

    return Response(data, media_type=media, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _visible_record(request: Request, user: User, kind: str, record_id: str) -> dict:
    """The record: 404 when there is none, 403 when it is not among the user's."""
    state = platform(request)
    row = state.record(kind, record_id, reader=user.id) if kind in KINDS else None
    if row is None:
        raise HTTPException(404, "web.error.no_record_page")
    if not may_view(user, row):
        raise HTTPException(403, "web.error.not_yours_page")
    return row


def _record_page(request: Request, user: User, row: dict, *, status: int = 200, message: str = "", **form_state) -> HTMLResponse:
    lang = request_lang(request)
    state = platform(request)
    kind, record_id = str(row["kind"]), str(row["record_id"])
    contacts = sees_contacts(user, row)
    site_kind = KINDS[kind]
    facts = [
        (field_name(kind, f.name, lang), field_value(kind, f.name, row.get(f.name), lang))
        for f in site_kind.fields
        if f.name != site_kind.id_field and (contacts or f.name not in CONTACT_FIELDS)
    ]
    view = state.records(reader=user.id)
    stamp = view.stamp(kind, record_id) if view.revision == state.revision() else state.revision()  # kept while the record is unchanged
    history_columns, history_rows = state.derived(
        ("history", kind, record_id, lang), (stamp,), lambda: _history(state, kind, record_id, lang)
    )
    sent = form_state.get("sent") or {}
    editable = editable_fields(user, row)
    inputs = [
        {
            "name": name,
            "label": field_name(kind, name, lang),
            "value": sent.get(name, input_value(kind, name, row.get(name))),
            "current": input_value(kind, name, row.get(name)),
            "type": _input_type(site_kind.field(name).type),
            "choices": [(s, labels.status(kind, s, lang)) for s in site_kind.statuses] if name == "status" else [],
        }
        for name in editable
    ]
    form = form_state.get("form")
    return page(
        request,
        "record.html.j2",
        status_code=status,
        title=f"{row.get('name') or record_id} · {labels.kind(kind, lang)}",
        kind=kind,
        kind_label=labels.kind_title(kind, lang),
        record_id=record_id,
        name=row.get("name") or "",
        street=row.get("street_name") or "",
        status=labels.status(kind, str(row.get("status_as_of")), lang),
        version=int(row["register_version"]),
        source=row.get("register_source", ""),
        facts=facts,
        history=history_rows,
        history_columns=history_columns,
        inputs=inputs,
        message=message,
        problems=form_state.get("problems", []),
        stale=form_state.get("stale", False),
        change_day=str(form.get("change_day", "")) if form is not None else "",
        change_note=str(form.get("change_note", "")) if form is not None else "",
        today=view.as_of.isoformat(),
    )


def _history(state, kind: str, record_id: str, lang: Lang) -> tuple[list[str], list[dict]]:
    """A record's history as the page shows it, newest first: its column names and rows in words
    (kept with the record's revision, so the page is made from it until the record changes)."""
    from rollout.register.queries import history_rows
    from rollout.register.render import cell_label, column_label

    rows = history_rows(state.register, record_id, kind=kind, lang=lang)
    headers = {c: column_label(c, lang) for c in _HISTORY_SHOWN}
    shown = [{headers[c]: cell_label(c, kind, row[c], lang) for c in _HISTORY_SHOWN} for row in reversed(rows)]
    return list(headers.values()), shown


def _input_type(field_type: str) -> str:
    return {"date": "date", "bool": "yesno", "flag": "yesno", "float": "number", "int": "number"}.get(field_type, "text")


def _list_row(row: dict, lang: Lang) -> dict:
    kind = str(row["kind"])
    return {
        "kind": labels.kind(kind, lang),
        "href": f"/records/{kind}/{row['record_id']}",
        **{name: field_value(kind, name, row.get(name), lang) for name in _LISTED},
        "urgency": _urgency(row.get("urgency"), row.get("days"), lang),
        "urgency_code": row.get("urgency") or "",
        "planned": field_value(kind, "planned", row.get("planned"), lang) if pd.notna(row.get("planned")) else "",
    }


def _urgency(code, days, lang: Lang) -> str:
    """Why a record is on the list, in words: with its days (受阻 12 天), or the list's word (按计划)."""
    if not code:
        return ""
    if code in WITH_DAYS:
        return t(f"web.urgency.{code}", lang, days=int(days or 0))
    return t(f"gaps.urgency.{code}", lang)
