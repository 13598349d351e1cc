"""The Forms section: the list of signup forms, the form builder, and the consent proofs shown
on a contact's page (loaded into it by ``contacts/_consent_proofs.html``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from app.deps import SessionDep, get_current_user
from app.i18n import LANGUAGES
from app.inputs import Int32
from app.models import Channel, MessagePurpose, SignupForm
from app.services.capture import forms as service
from app.services.capture.forms import BUILTIN_FIELDS, FormFieldIn, FormIn, field_label
from app.services.capture.optin import confirmation_key
from app.services.capture.optin_proofs import proofs_of
from app.services.contacts.lists import all_lists
from app.services.errors import ServiceError
from app.services.messaging.messages import find_message
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
NAV = {"nav": "forms"}
OPTIONAL_FIELDS = [name for name in BUILTIN_FIELDS if name != "email"]
ATTRIBUTE_ROWS = 3  # empty rows offered for custom attributes


@router.get("/forms")
def form_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "forms/list.html", {"forms": service.all_forms(session), **NAV})


@router.get("/forms/new")
def new_form(request: Request, session: SessionDep) -> HTMLResponse:
    return _editor(request, session, None, _blank())


@router.post("/forms/new")
async def create_form(request: Request, session: SessionDep) -> Response:
    posted = await _posted(request)
    try:
        form = service.create_form(session, _form_in(posted), request.app.state.clock.now())
    except (ServiceError, ValidationError) as error:
        return _refused(request, session, None, posted, error)
    return RedirectResponse(f"/forms/{form.key}?saved=1", status_code=303)


@router.get("/forms/{key}")
def edit_form(request: Request, session: SessionDep, key: str, saved: str = "") -> HTMLResponse:
    form = service.get_form(session, key)
    return _editor(request, session, form, _from_form(form), saved=bool(saved))


@router.post("/forms/{key}")
async def update_form(request: Request, session: SessionDep, key: str) -> Response:
    form = service.get_form(session, key)
    posted = await _posted(request)
    try:
        service.update_form(session, form, _form_in(posted), request.app.state.clock.now())
    except (ServiceError, ValidationError) as error:  # refused before anything was changed
        return _refused(request, session, form, posted, error)
    return RedirectResponse(f"/forms/{form.key}?saved=1", status_code=303)


@router.post("/forms/{key}/delete")
def delete_form(request: Request, session: SessionDep, key: str) -> Response:
    service.delete_form(session, service.get_form(session, key))
    return RedirectResponse("/forms", status_code=303)


@router.get("/contacts/{contact_id}/consent-proofs")
def consent_proofs(request: Request, session: SessionDep, contact_id: Int32) -> HTMLResponse:
    proofs = proofs_of(session, contact_id)
    return render(request, "forms/_proofs.html", {"proofs": proofs})


async def _posted(request: Request) -> dict[str, Any]:
    data = await request.form()
    posted: dict[str, Any] = {k: v for k, v in data.items() if isinstance(v, str)}
    posted["lists"] = [v for v in data.getlist("lists") if isinstance(v, str)]
    return posted


def _form_in(posted: dict[str, Any]) -> FormIn:
    """The builder's rows as the API's body: one row per built-in field, then attributes."""
    fields = [FormFieldIn(name="email", label=posted.get("label_email", ""), required=True)]
    for name in OPTIONAL_FIELDS:
        if posted.get(f"ask_{name}"):
            label = posted.get(f"label_{name}", "")
            required = bool(posted.get(f"required_{name}"))
            fields.append(FormFieldIn(name=name, label=label, required=required))
    for index in range(_attribute_count(posted)):
        name = posted.get(f"attr_name_{index}", "").strip()
        if name:
            label = posted.get(f"attr_label_{index}", "")
            required = bool(posted.get(f"attr_required_{index}"))
            fields.append(FormFieldIn(name=name, label=label, required=required))
    return FormIn(
        key=posted.get("key", ""),
        name=posted.get("name", ""),
        fields=fields,
        lists=posted["lists"],
        double_opt_in=bool(posted.get("double_opt_in")),
        consent_text=posted.get("consent_text", ""),
        thank_you=posted.get("thank_you", ""),
        redirect_url=posted.get("redirect_url") or None,
        language=posted.get("language") or None,
    )


def _attribute_count(posted: dict[str, Any]) -> int:
    return min(sum(1 for name in posted if name.startswith("attr_name_")), service.MAX_FIELDS)


def _blank() -> dict[str, Any]:
    return {"double_opt_in": "1", "lists": [], "attributes": [{} for _ in range(ATTRIBUTE_ROWS)]}


def _from_form(form: SignupForm) -> dict[str, Any]:
    """The builder's values for a saved form."""
    values: dict[str, Any] = {
        "key": form.key,
        "name": form.name,
        "consent_text": form.consent_text,
        "thank_you": form.thank_you,
        "redirect_url": form.redirect_url or "",
        "language": form.language or "",
        "double_opt_in": "1" if form.double_opt_in else "",
        "lists": form.lists,
        "attributes": [],
    }
    for field in form.fields:
        name = field["name"]
        if name == "email":
            values["label_email"] = field["label"]
        elif name in BUILTIN_FIELDS:
            values[f"ask_{name}"] = "1"
            values[f"label_{name}"] = field["label"]
            values[f"required_{name}"] = "1" if field["required"] else ""
        else:
            values["attributes"].append(field)
    values["attributes"] += [{} for _ in range(ATTRIBUTE_ROWS)]
    return values


def _refused(
    request: Request,
    session: Session,
    form: SignupForm | None,
    posted: dict[str, Any],
    error: ServiceError | ValidationError,
) -> HTMLResponse:
    """The builder again, with what was typed and why it was refused; nothing was written."""
    values = dict(posted)
    values["attributes"] = [
        {
            "name": posted.get(f"attr_name_{i}", ""),
            "label": posted.get(f"attr_label_{i}", ""),
            "required": bool(posted.get(f"attr_required_{i}")),
        }
        for i in range(_attribute_count(posted))
    ] or [{} for _ in range(ATTRIBUTE_ROWS)]
    if isinstance(error, ServiceError):
        message, status = error.message, error.status_code
    else:
        message, status = "; ".join(e["msg"] for e in error.errors()), 422
    return _editor(request, session, form, values, error=message, status=status)


def _editor(
    request: Request,
    session: Session,
    form: SignupForm | None,
    values: dict[str, Any],
    *,
    saved: bool = False,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    base_url = request.app.state.settings.base_url
    context = {
        "form": form,
        "values": values,
        "lists": all_lists(session),
        "optional_fields": [(name, field_label({"name": name})) for name in OPTIONAL_FIELDS],
        "email_label": field_label({"name": "email"}),
        "redirect_example": "https://shop.example/thanks",
        "languages": LANGUAGES,
        "saved": saved,
        "error": error,
        "url": service.hosted_url(base_url, form) if form else None,
        "snippet": service.embed_snippet(base_url, form) if form else None,
        "confirmations": _confirmations(session, form),
        **NAV,
    }
    return render(request, "forms/editor.html", context, status_code=status)


def _confirmations(session: Session, form: SignupForm | None) -> list[tuple[str, str, bool]]:
    """(language, message key, fit to send): a confirmation email the marketer turned into a
    marketing one (or an SMS) would never reach people who have not agreed yet."""
    found = []
    for language in service.confirmation_languages(form) if form else []:
        key = confirmation_key(language)
        message = find_message(session, key)
        fit = (
            message is not None
            and message.channel == Channel.email
            and message.purpose == MessagePurpose.transactional
        )
        found.append((LANGUAGES[language], key, fit))
    return found
