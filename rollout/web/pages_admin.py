"""The district's pages: open conflicts (and settling them), users and their tokens, the audit log."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from rollout import labels
from rollout.i18n import t
from rollout.register.errors import RegisterError
from rollout.web.accounts import (
    ROLES,
    AccountError,
    User,
    add_user,
    find_user,
    issue_token,
    list_users,
    reset_password,
    revoke_tokens,
    set_disabled,
)
from rollout.web.app import request_lang
from rollout.web.audit import ACTIONS, audit, audit_entries
from rollout.web.auth import check_csrf, client_ip, page_user, platform
from rollout.web.pages_dashboard import openable_records
from rollout.web.permissions import allowed
from rollout.web.responses import page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/conflicts", response_class=HTMLResponse)
def conflicts(request: Request, user: User = Depends(page_user("view_conflicts"))):
    """Records that senders report differently (among those the user may see); the district settles them."""
    lang = request_lang(request)
    state = platform(request)
    project = state.project(reader=user.id)
    table = project.register.conflicts if project.register is not None else None
    rows = []
    if table is not None and len(table):
        openable = openable_records(state, user)
        table = table[[(k, r) in openable for k, r in zip(table["kind"], table["record_id"], strict=True)]]
        for r in table.to_dict("records"):
            rows.append(
                {
                    "kind": r["kind"],
                    "kind_label": labels.kind(r["kind"], lang),
                    "record_id": r["record_id"],
                    "name": r["name"],
                    "counted_source": r["counted_source"],
                    "counted_status": labels.status(r["kind"], str(r["counted_status"]), lang),
                    "other_source": r["other_source"],
                    "other_status": labels.status(r["kind"], str(r["other_status"]), lang),
                    "distance_m": f"{r['distance_m']:.0f}" if pd.notna(r["distance_m"]) else "",
                    "since": str(r["since"])[:10],
                }
            )
    return page(
        request,
        "conflicts.html.j2",
        title=t("web.conflicts.title", lang),
        rows=rows,
        can_resolve=allowed(user, "resolve_conflicts"),
    )


@router.post("/conflicts/{kind}/{record_id}/resolve")
async def resolve(request: Request, kind: str, record_id: str, user: User = Depends(page_user("resolve_conflicts"))):
    """Keep one sender's record for the counts (until a sender reports it differently again)."""
    from rollout.register.edits import resolve_conflict

    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    state = platform(request)
    if kind not in ("macro", "garage"):
        raise HTTPException(404, "web.error.no_record_page")
    keep, note = str(form.get("keep", ""))[:60], str(form.get("note", "")).strip()[:500]
    try:
        resolve_conflict(state.register, kind, record_id, keep, author=user.author, note=note)
    except RegisterError as e:
        raise HTTPException(422, e.key) from e
    audit(state.register, user.name, "resolve", target=f"{kind}/{record_id}", ip=client_ip(request), detail={"keep": keep, "note": note})
    state.wrote(user.id)
    return redirect("/conflicts", done="resolved")


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, user: User = Depends(page_user("manage_users"))):
    """Every user, and the form to add one."""
    return _users_page(request, user)


@router.post("/users", response_class=HTMLResponse)
async def user_add(request: Request, user: User = Depends(page_user("manage_users"))):
    """Add a user; the one-time password is shown once."""
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    state = platform(request)
    lang = request_lang(request)
    role = str(form.get("role", ""))
    if role == "admin" and user.role != "admin":
        return _users_page(request, user, status=403, message=t("web.users.admin_only", lang))
    try:
        made, password = add_user(
            state.register,
            state.config,
            str(form.get("name", ""))[:64],
            role,
            street=str(form.get("street", ""))[:60],
            operator=str(form.get("operator", ""))[:30],
            created_by=user.name,
        )
    except AccountError as e:
        return _users_page(request, user, status=422, message=e.message(lang))
    audit(state.register, user.name, "user_added", target=made.name, ip=client_ip(request), detail={"role": made.role})
    return _users_page(request, user, secret=(made.name, password or "", "password"))


@router.post("/users/{name}/{action}", response_class=HTMLResponse)
async def user_action(request: Request, name: str, action: str, user: User = Depends(page_user("manage_users"))):
    """Disable, enable, reset the password, issue or revoke the API tokens of a user."""
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    state = platform(request)
    lang = request_lang(request)
    try:
        target = find_user(state.register, name)
    except AccountError as e:
        raise HTTPException(404, e.key) from e
    if target.role == "admin" and user.role != "admin":
        return _users_page(request, user, status=403, message=t("web.users.admin_only", lang))
    if action in ("disable", "reset") and target.id == user.id:
        return _users_page(request, user, status=422, message=t("web.users.not_yourself", lang))
    ip = client_ip(request)
    if action == "disable":
        set_disabled(state.register, name, True)
        audit(state.register, user.name, "user_disabled", target=name, ip=ip)
    elif action == "enable":
        set_disabled(state.register, name, False)
        audit(state.register, user.name, "user_enabled", target=name, ip=ip)
    elif action == "reset":
        password = reset_password(state.register, name) or ""
        audit(state.register, user.name, "password_reset", target=name, ip=ip)
        return _users_page(request, user, secret=(name, password, "password"))
    elif action == "token":
        token, expires = issue_token(state.register, name, days=state.settings.token_days)
        audit(state.register, user.name, "token_issued", target=name, ip=ip, detail={"expires": expires.isoformat()})
        return _users_page(request, user, secret=(name, token, "token"))
    elif action == "revoke":
        count = revoke_tokens(state.register, name)
        audit(state.register, user.name, "token_revoked", target=name, ip=ip, detail={"count": count})
    else:
        raise HTTPException(404)
    return redirect("/users", done=f"user_{action}")


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, user: User = Depends(page_user("view_audit")), action: str = "", who: str = ""):
    """The latest entries of the audit log."""
    lang = request_lang(request)
    state = platform(request)
    entries = audit_entries(state.register, limit=300, action=action if action in ACTIONS else None, user_name=who.strip() or None)
    rows = entries.assign(action=entries["action"].map(lambda a: t(f"web.audit.action.{a}", lang))).to_dict("records")
    return page(
        request,
        "audit.html.j2",
        title=t("web.audit.title", lang),
        rows=rows,
        actions=[(a, t(f"web.audit.action.{a}", lang)) for a in ACTIONS],
        action=action,
        who=who,
    )


def _users_page(request: Request, user: User, *, status: int = 200, message: str = "", secret: tuple[str, str, str] | None = None):
    state = platform(request)
    lang = request_lang(request)
    table = list_users(state.register)
    names = dict(zip(state.street_table["street_code"], state.street_table["name" if lang == "zh" else "name_en"], strict=True))
    rows = [
        {
            **r,
            "role_label": t(f"web.role.{r['role']}", lang),
            "organisation": names.get(r["street_code"], "") or (labels.operator(r["operator"], lang) if r["operator"] else ""),
            "locked": bool(pd.notna(r["locked_until"])),
            "buttons": [
                {"action": a, "label": t(f"web.users.do_{a}", lang), "confirm": t(f"web.users.confirm_{a}", lang, name=r["name"])}
                for a in ("enable" if r["disabled"] else "disable", "reset", "token", "revoke")
                if not (r["name"] == user.name and a in ("disable", "reset"))
            ],
        }
        for r in table.to_dict("records")
    ]
    streets = [(c, n) for c, n in names.items()]
    operators = [(c, labels.operator(c, lang)) for c in ("cmcc", "ctc", "cucc", "cbn")]
    return page(
        request,
        "users.html.j2",
        status_code=status,
        title=t("web.users.title", lang),
        rows=rows,
        roles=[(r, t(f"web.role.{r}", lang)) for r in ROLES if r != "admin" or user.role == "admin"],
        streets=streets,
        operators=operators,
        message=message,
        secret={"label": t(f"web.users.secret_{secret[2]}", lang, name=secret[0]), "value": secret[1]} if secret else None,
    )
