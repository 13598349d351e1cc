"""The Messages pages (list, editor with live preview, test sends) and the Mailbox."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.background import BackgroundTask

from app.deps import CurrentUser, SessionDep, SettingsDep, get_current_user
from app.i18n import _
from app.inputs import INT32_MAX, Int32, Int64, plain_digits
from app.models import Channel, Contact
from app.routes.return_to import safe_return, with_param
from app.security_headers import EMAIL_FRAME_HEADERS
from app.services.errors import Invalid, ServiceError
from app.services.messaging import mailbox, messages
from app.services.messaging.composition import default_sender
from app.services.messaging.insert_fields import insert_menu
from app.services.messaging.messages import MessageIn
from app.services.messaging.preview import preview_message
from app.services.messaging.topics import list_topics
from app.services.messaging.unsubscribe import UnsubscribeLinks
from app.templating import is_htmx, render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
EDITOR = "messages_editor.html"
PHONE = re.compile(r"\+?[0-9][0-9 .-]{5,20}")
NEW_EMAIL_HTML = """<html>
<head>
<style>
  body { font-family: Arial, Helvetica, sans-serif; color: #1d2233; }
  h1 { color: #4f46e5; }
</style>
</head>
<body>
  <h1>%(greeting)s</h1>
  <p>%(write)s</p>
</body>
</html>
"""


def _greeting(text: str) -> str:
    """A greeting in the writer's language, with the contact's first name as a placeholder."""
    default = _("there")
    return text % {"name": f'{{{{ contact.first_name | default("{default}") }}}}'}


def new_email_html() -> str:
    """The body a new email starts with, in the words of the person writing it."""
    return NEW_EMAIL_HTML % {
        "greeting": _greeting(_("Hello %(name)s!")),
        "write": _("Write your message here."),
    }


class MessageForm:
    """The editor's fields, as posted (every field optional: the preview runs while typing)."""

    def __init__(
        self,
        key: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
        channel: Annotated[str, Form()] = "email",
        purpose: Annotated[str, Form()] = "marketing",
        subject: Annotated[str, Form()] = "",
        html: Annotated[str, Form()] = "",
        text: Annotated[str, Form()] = "",
        from_name: Annotated[str, Form()] = "",
        from_email: Annotated[str, Form()] = "",
        reply_to: Annotated[str, Form()] = "",
        topic: Annotated[str, Form()] = "",
        contact_id: Annotated[str, Form()] = "",
        is_new: Annotated[str, Form()] = "",
        test_phone: Annotated[str, Form()] = "",
        return_to: Annotated[str, Form()] = "",
    ) -> None:
        self.values = {
            "key": key,
            "name": name,
            "channel": channel,
            "purpose": purpose,
            "subject": subject,
            "html": html,
            "text": text,
            "from_name": from_name,
            "from_email": from_email,
            "reply_to": reply_to,
            "topic": topic,
        }
        # The preview's contact: ASCII digits within an id ("²" or 10**20 answered 500).
        digits = plain_digits(contact_id) and len(contact_id) <= 10
        self.contact_id = int(contact_id) if digits and int(contact_id) <= INT32_MAX else None
        self.is_new = bool(is_new)
        self.test_phone = test_phone
        # Where a new message sends its author back once saved (the canvas that asked for it).
        self.return_to = safe_return(return_to)

    def data(self) -> MessageIn:
        try:
            return MessageIn.model_validate(self.values)
        except ValidationError as exc:
            raise Invalid(
                _("Choose a channel (email or SMS) and a kind (marketing or transactional).")
            ) from exc


FormDep = Annotated[MessageForm, Depends()]


def _recent_contacts(session: Session) -> list[Contact]:
    return list(session.exec(select(Contact).order_by(col(Contact.id).desc()).limit(100)).all())


def _editor(
    request: Request,
    session: Session,
    values: dict[str, Any],
    *,
    is_new: bool,
    block: str | None = None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    context = {
        "m": values,
        "is_new": is_new,
        "contacts": _recent_contacts(session),
        "topics": list_topics(session),
        "contact_id": extra.pop("contact_id", None),
        **extra,
    }
    if block is None or not is_htmx(request):  # the whole page: the "Insert a field" menu too
        context["insert_menu"] = insert_menu(session, channel=str(values.get("channel", "")))
    return render(
        request, EDITOR, context, block=block, status_code=status_code, headers=EMAIL_FRAME_HEADERS
    )


@router.get("/messages")
def message_list(request: Request, session: SessionDep) -> HTMLResponse:
    return _message_list(request, session, {})


def _message_list(
    request: Request, session: Session, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    from app.message_templates import starters

    templates = messages.list_templates(session)
    have = {t.key for t in templates}
    missing = [s for s in starters().values() if s.key not in have]
    context = {"templates": templates, "missing_starters": missing, **context}
    return render(request, "messages.html", context, status_code=status_code)


@router.post("/messages/{key}/delete")
def delete_message(key: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The messages, with what became of this one: deleted, or refused (409) with the live
    scenarios that send it, and nothing written."""
    template = messages.get_message(session, key)
    try:
        warning = messages.delete_message(session, template)
    except ServiceError as exc:
        return _message_list(request, session, {"error": exc.message}, exc.status_code)
    return _message_list(request, session, {"deleted": template.name, "drafts_warning": warning})


@router.post("/messages/starters")
def add_starters(request: Request, session: SessionDep) -> Response:
    messages.install_starters(session, request.app.state.clock.now())
    return RedirectResponse("/messages", status_code=303)


@router.get("/messages/new")
def new_message(
    request: Request, session: SessionDep, channel: str = "email", return_to: str = ""
) -> HTMLResponse:
    sms = channel == "sms"
    values = {
        "key": "",
        "name": "",
        "channel": "sms" if sms else "email",
        "purpose": "marketing",
        "subject": "" if sms else _greeting(_("Hello %(name)s")),
        "html": "" if sms else new_email_html(),
        "text": _greeting(_("Hi %(name)s!")) + " " if sms else "",
        "from_name": "",
        "from_email": "",
        "reply_to": "",
        "topic": "",
    }
    return _editor(request, session, values, is_new=True, return_to=safe_return(return_to))


@router.get("/messages/{key}")
def edit_message(key: str, request: Request, session: SessionDep) -> HTMLResponse:
    template = messages.get_message(session, key)
    values = {name: getattr(template, name) or "" for name in MessageIn.model_fields}
    return _editor(request, session, values, is_new=False, saved_at=template.updated_at)


@router.post("/messages/preview")
def preview(
    request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> HTMLResponse:
    try:
        data = form.data()
    except Invalid as exc:
        return _editor(
            request, session, form.values, is_new=form.is_new, block="preview", error=exc.message
        )
    links = UnsubscribeLinks(settings.base_url, settings.resolved_secret_key())
    result = preview_message(
        session,
        data,
        contact_id=form.contact_id,
        default_sender=default_sender(settings.mail_from, settings.base_url),
        unsubscribe_url=links.url(None, "preview"),
        now=request.app.state.clock.now(),
    )
    return _editor(
        request, session, form.values, is_new=form.is_new, block="preview", preview=result
    )


@router.post("/messages/save")
def save(request: Request, session: SessionDep, form: FormDep) -> Response:
    now = request.app.state.clock.now()
    try:
        data = form.data()
        if form.is_new and messages.find_message(session, data.key.strip()) is not None:
            raise Invalid(
                _("A message with the key “%(key)s” already exists: choose another key.")
                % {"key": data.key.strip()}
            )
        template, created = messages.save_message(session, data, now)
    except ServiceError as exc:
        if is_htmx(request):
            return _editor(
                request,
                session,
                form.values,
                is_new=form.is_new,
                block="save_status",
                status_code=422,
                save_error=exc.message,
            )
        return _editor(
            request,
            session,
            form.values,
            is_new=form.is_new,
            status_code=422,
            save_error=exc.message,
            contact_id=form.contact_id,
            return_to=form.return_to,
        )
    if created or not is_htmx(request):
        target = f"/messages/{template.key}"
        if created and form.return_to:
            # Back to the block that asked for a new message, which selects it.
            target = with_param(form.return_to, "message", template.key)
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    return _editor(request, session, form.values, is_new=False, block="save_status", saved_at=now)


@router.post("/messages/test")
def send_test(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, form: FormDep
) -> HTMLResponse:
    try:
        data = form.data()
        to = user.email
        if data.channel == Channel.sms:
            to = form.test_phone.strip()
            if not PHONE.fullmatch(to):
                raise Invalid(
                    _("Enter your mobile number (e.g. +33612345678) to receive the test SMS.")
                )
        messages.queue_test_send(
            session, data, to=to, contact_id=form.contact_id, now=request.app.state.clock.now()
        )
    except ServiceError as exc:
        return _editor(
            request,
            session,
            form.values,
            is_new=form.is_new,
            block="test_status",
            status_code=422,
            test_error=exc.message,
        )
    response = _editor(
        request,
        session,
        form.values,
        is_new=form.is_new,
        block="test_status",
        test_sent_to=to,
        smtp_configured=bool(settings.smtp_url),
    )
    response.background = BackgroundTask(request.app.state.queue.kick, "deliver_outbox")
    return response


@router.get("/mailbox")
def mailbox_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    channel: str | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Int32 = 1,
) -> HTMLResponse:
    found = mailbox.mailbox_page(session, channel=channel or None, search=q, page=page)
    context = {
        "mails": found.mails,
        "total": found.total,
        "page": found.page,
        "pages": found.pages,
        "channel": channel or "",
        "q": q.strip(),
        "counts": mailbox.send_counts(session),
        "problems": mailbox.recent_problems(session),
        "smtp_configured": bool(settings.smtp_url),
    }
    return render(request, "mailbox.html", context)


@router.get("/mailbox/{mail_id}")
def mailbox_message(mail_id: Int64, request: Request, session: SessionDep) -> HTMLResponse:
    mail = mailbox.get_mail(session, mail_id)
    return render(request, "mailbox_message.html", {"mail": mail}, headers=EMAIL_FRAME_HEADERS)
