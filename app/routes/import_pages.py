"""CSV import pages: upload, map the columns with a preview, follow the progress, get the report.

Registered before the contact pages so /contacts/import is not read as a contact id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from app.deps import CurrentUser, SessionDep, SettingsDep, get_current_user
from app.inputs import Int32
from app.models import ImportStatus
from app.services.account.tracking_keys import site_keys
from app.services.contacts import import_ as service
from app.services.contacts.lists import all_lists
from app.services.errors import ServiceError
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
NAV = {"nav": "contacts"}


@router.get("/contacts/import")
def import_start(request: Request, session: SessionDep) -> HTMLResponse:
    context = {"imports": service.recent_imports(session), **NAV}
    return render(request, "contacts_import.html", context)


@router.post("/contacts/import")
async def upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    raw = await file.read(settings.import_max_bytes + 1) if file is not None else b""
    try:
        created = service.create_import(
            session,
            filename=(file.filename if file else None) or "contacts.csv",
            raw=raw,
            max_bytes=settings.import_max_bytes,
            created_by_id=user.id,
            now=request.app.state.clock.now(),
        )
    except ServiceError as error:
        context = {"imports": service.recent_imports(session), "error": error.message, **NAV}
        return render(request, "contacts_import.html", context, status_code=error.status_code)
    return Response(status_code=303, headers={"Location": f"/contacts/imports/{created.id}"})


@router.get("/contacts/imports/{import_id}")
def import_page(request: Request, session: SessionDep, import_id: Int32) -> HTMLResponse:
    upload = service.get_import(session, import_id)
    return _page(request, session, upload)


def _page(
    request: Request,
    session: SessionDep,
    upload: service.ContactImport,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, object] = {"upload": upload, "error": error, **NAV}
    if upload.status == ImportStatus.mapping:
        context.update(
            preview=service.preview(upload),
            fields=service.FIELDS,
            types=service.TYPES,
            lists=all_lists(session),
        )
    return render(request, "contacts_import_job.html", context, status_code=status)


@router.post("/contacts/imports/{import_id}/start")
async def start(request: Request, session: SessionDep, import_id: Int32) -> Response:
    upload = service.get_import(session, import_id)
    form = await request.form()
    mapping = {}
    for index, column in enumerate(upload.columns):
        choice = {"field": str(form.get(f"field_{index}", "ignore"))}
        if choice["field"] == "attribute":
            choice["name"] = str(form.get(f"name_{index}", "")).strip()
            choice["type"] = str(form.get(f"type_{index}", "text"))
        mapping[column] = choice
    try:
        service.set_mapping(
            session,
            upload,
            mapping,
            list_key=str(form.get("list_key", "")) or None,
            consent_source=str(form.get("consent_source", "")),
        )
    except ServiceError as error:
        upload.mapping = mapping  # show the marketer's choices again, not the guesses
        return _page(request, session, upload, error=error.message, status=error.status_code)
    session.commit()  # the worker must see the queued import
    await request.app.state.queue.enqueue(
        "import_contacts", upload.id, 0, job_id=f"import:{upload.id}:0"
    )
    return Response(status_code=303, headers={"Location": f"/contacts/imports/{upload.id}"})


@router.get("/contacts/imports/{import_id}/progress")
def progress(request: Request, session: SessionDep, import_id: Int32) -> HTMLResponse:
    upload = service.get_import(session, import_id, with_file=False)
    return render(request, "contacts_import_job.html", {"upload": upload}, block="progress")


@router.get("/contacts/imports/{import_id}/rejected.csv")
def rejected_rows(session: SessionDep, import_id: Int32) -> Response:
    upload = service.get_import(session, import_id, with_file=False)
    report = "".join(service.rejection_report(session, upload))
    name = upload.filename.rsplit(".", 1)[0] or "import"
    return StreamingResponse(
        iter([report]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-rejected-rows.csv"'},
    )


@router.get("/contacts/tracking")
def tracking_help(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    context = {"site_keys": site_keys(session, settings), "base_url": settings.base_url, **NAV}
    return render(request, "contacts_tracking.html", context)
