"""Uploading a weekly file: the same import as ``rollout import``, with its preview and a confirm step.

1. ``POST /upload``: the file (at most ``upload_max_mb``, checked by its content: CSV or XLSX),
   the sender (one the user may send for), the day it describes. The import runs as a dry run
   (:func:`rollout.register.import_files` with ``dry_run=True``): rows checked as ``validate``
   does, compared with the sender's last list; the page shows the counts, the rejects and the
   changes. A street, operator or China Tower user's file may only hold records of their own
   (their street; the records they operate, share or build): any other row blocks the upload.
2. ``POST /upload/{key}/confirm`` imports it for real, with the user as author; or ``.../cancel``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from rollout import labels
from rollout.i18n import Lang, t
from rollout.problems import with_reasons
from rollout.register.clock import shanghai_today
from rollout.register.compare import CHANGE_CLASSES
from rollout.web.accounts import User
from rollout.web.app import request_lang
from rollout.web.audit import audit
from rollout.web.auth import check_csrf, client_ip, page_user, platform
from rollout.web.permissions import upload_sources, visible_mask
from rollout.web.responses import page, redirect
from rollout.web.staging import drop_staged, sniff, stage, staged, staged_file

router = APIRouter(include_in_schema=False)
_SHOWN = 200
_FORM_OVERHEAD = 64 * 1024


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, user: User = Depends(page_user("upload"))):
    """The upload form."""
    return _form_page(request, user)


@router.post("/upload", response_class=HTMLResponse)
async def upload(request: Request, user: User = Depends(page_user("upload"))):
    """Check an uploaded file and show what importing it would change."""
    from rollout.web.changes import ChangeRefused, parse_day

    state = platform(request)
    limit = state.settings.upload_max_bytes
    lang = request_lang(request)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + _FORM_OVERHEAD:
        return _form_page(request, user, status=413, message=t("web.upload.too_large", lang, mb=f"{state.settings.upload_max_mb:g}"))
    form = await request.form(max_files=1, max_fields=10, max_part_size=limit + _FORM_OVERHEAD)
    check_csrf(request, form)
    file = form.get("file")
    if file is None or isinstance(file, str):
        return _form_page(request, user, status=422, message=t("web.upload.no_file", lang))
    data = await file.read(limit + 1)
    if len(data) > limit:
        return _form_page(request, user, status=413, message=t("web.upload.too_large", lang, mb=f"{state.settings.upload_max_mb:g}"))
    suffix = sniff(data)
    name = str(file.filename or "upload")[:200]
    if suffix is None:
        audit(state.register, user.name, "upload_preview", ip=client_ip(request), detail={"file": name, "refused": "content"})
        return _form_page(request, user, status=415, message=t("web.upload.wrong_kind", lang, file=name))
    source, kind = str(form.get("source", "")), str(form.get("kind", ""))
    if source not in upload_sources(user, state.register.settings.sources):
        return _form_page(request, user, status=403, message=t("web.upload.source_refused", lang, source=source[:40]))
    if kind not in ("", "macro", "garage"):
        return _form_page(request, user, status=422, message=t("web.upload.kind_unknown", lang))
    try:
        day = parse_day(str(form.get("as_of", "")), latest=None, required=True)
    except ChangeRefused as e:
        return _form_page(request, user, status=e.status, message=t(e.key, lang, **e.params))
    key = stage(state.register, user_id=user.id, file_name=name, suffix=suffix, data=data, source=source, kind=kind, reported_on=day)
    audit(state.register, user.name, "upload_preview", target=source, ip=client_ip(request), detail={"file": name, "bytes": len(data)})
    return _preview(request, user, key)


@router.post("/upload/{key}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, key: str, user: User = Depends(page_user("upload"))):
    """Import a previewed upload for real."""
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    state = platform(request)
    upload = staged(state.register, key, user_id=user.id)
    if upload is None:
        raise HTTPException(404, "web.upload.gone")
    results, outside = _import(state, user, upload, dry_run=True)
    if outside:
        raise HTTPException(403, "web.upload.outside_scope_short")
    results, _ = _import(state, user, upload, dry_run=False)
    drop_staged(state.register, key)
    detail = {
        "file": upload.file_name,
        "source": upload.source,
        "submissions": [r.submission_id for r in results],
        "outcomes": [r.outcome for r in results],
        "rows": [int(r.load.summary()["rows"].sum()) for r in results],
    }
    audit(state.register, user.name, "upload", target=upload.source, ip=client_ip(request), detail=detail)
    state.wrote(user.id)
    applied = any(r.outcome == "applied" for r in results)
    return redirect("/upload", done="upload_applied" if applied else "upload_unchanged")


@router.post("/upload/{key}/cancel")
async def cancel(request: Request, key: str, user: User = Depends(page_user("upload"))):
    """Forget a previewed upload."""
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, form)
    state = platform(request)
    if staged(state.register, key, user_id=user.id) is not None:
        drop_staged(state.register, key)
    return redirect("/upload", done="upload_cancelled")


def _preview(request: Request, user: User, key: str) -> HTMLResponse:
    from rollout.errors import RolloutError

    state = platform(request)
    lang = request_lang(request)
    upload = staged(state.register, key, user_id=user.id)
    if upload is None:
        raise HTTPException(404, "web.upload.gone")
    try:
        results, outside = _import(state, user, upload, dry_run=True)
    except RolloutError as e:
        drop_staged(state.register, key)
        return _form_page(request, user, status=422, message=e.message(lang))
    parts = [_result_part(r, lang) for r in results]
    can_apply = not outside and any(r.outcome == "dry_run" for r in results)
    status = 403 if outside else 200
    message = t("web.upload.outside_scope", lang, count=len(outside), ids=", ".join(outside[:20])) if outside else ""
    return page(
        request,
        "upload_preview.html.j2",
        status_code=status,
        title=t("web.upload.preview_title", lang),
        key=key,
        file_name=upload.file_name,
        source=upload.source,
        day=upload.reported_on.isoformat(),
        parts=parts,
        can_apply=can_apply,
        message=message,
    )


def _import(state, user: User, upload, *, dry_run: bool):
    """Run the import of an upload; the ids outside the user's scope (always none for the district)."""
    import pandas as pd

    from rollout.register.importer import import_files

    with staged_file(upload) as path:
        results = import_files(
            [path],
            state.config,
            state.streets,
            source=upload.source,
            kind=upload.kind or None,
            as_of=upload.reported_on,
            dry_run=dry_run,
            db=state.db,
            author=user.author,
        )
    outside: list[str] = []
    for result in results:
        records = pd.DataFrame(result.load.records.drop(columns="geometry", errors="ignore")).assign(kind=result.kind.name)
        if len(records):
            mask = visible_mask(user, records)
            outside += records.loc[~mask, result.kind.id_field].astype(str).tolist()
    return results, sorted(outside)


def _result_part(result, lang: Lang) -> dict:
    from rollout.register.render import change_label, localised

    summary = result.load.summary()
    problems = with_reasons(result.load.problems, lang)
    changes = result.comparison.changes
    counts = changes.drop_duplicates(["record_id", "change"])["change"].value_counts()
    table = changes.assign(kind=result.kind.name)[["change", "record_id", "kind", "field", "old", "new"]]
    shown = localised(table.head(_SHOWN), lang).drop(columns=t("register.column.kind", lang))
    return {
        "kind": labels.kind_title(result.kind.name, lang),
        "rows": int(summary["rows"].sum()),
        "loaded": int(summary["loaded"].sum()),
        "rejected": int(summary["rejected"].sum()),
        "warnings": int(summary["warnings"].sum()),
        "problems": problems.head(_SHOWN)[["row", "column", "value", "severity", "reason"]].to_dict("records"),
        "problems_more": max(0, len(problems) - _SHOWN),
        "counts": [(change_label(c, lang), int(counts.get(c, 0))) for c in CHANGE_CLASSES],
        "columns": list(shown.columns),
        "changes": shown.to_dict("records"),
        "changes_more": max(0, len(changes) - _SHOWN),
        "outcome": t(f"web.upload.outcome.{result.outcome}", lang),
        "outcome_code": result.outcome,
    }


def _form_page(request: Request, user: User, *, status: int = 200, message: str = "") -> HTMLResponse:
    state = platform(request)
    lang = request_lang(request)
    sources = state.register.settings.sources
    choices = [(name, sources[name].label(lang)) for name in upload_sources(user, sources)]
    return page(
        request,
        "upload.html.j2",
        status_code=status,
        title=t("web.upload.title", lang),
        sources=choices,
        today=shanghai_today().isoformat(),
        max_mb=f"{state.settings.upload_max_mb:g}",
        message=message,
    )
