"""Signup forms as a marketer builds them: what they ask, the lists they join, the consent
they show, and where the visitor goes afterwards (DESIGN §12.2).

The same checks serve the API and the form builder, so a form saved either way is one the
hosted page can show and the public POST can take.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from app.graph.names import has_control_characters, has_surrogates, is_attribute_name
from app.i18n import LANGUAGES, N_, _
from app.models import SignupForm
from app.services.contacts.lists import lists_by_keys
from app.services.errors import Conflict, Invalid, NotFound
from app.services.keys import key_or_derived
from app.services.unique_rows import add_unique

# The built-in fields a form may ask, with the words the hosted page shows when the marketer
# gave no label; any other name is a custom attribute, kept as the text typed.
BUILTIN_FIELDS: dict[str, str] = {
    "email": N_("Email"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "phone": N_("Phone"),
    "birthday": N_("Birthday"),
}
# Built-in columns a visitor must never set through a form;
# ``website`` and ``consent`` name the honeypot and the consent box of the hosted page.
NOT_ASKABLE = frozenset(
    {"timezone", "language", "score", "created_at", "external_id", "website", "consent"}
)
MAX_FIELDS = 20
RESERVED_KEYS = frozenset({"new"})
MAX_LISTS = 20
MAX_LABEL = 200
MAX_CONSENT = 2000
MAX_THANK_YOU = 2000
MAX_URL = 2000
HOST_RE = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


class FormFieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["first_name"], description="A built-in field or an attribute")
    label: str = Field(default="", description="Shown as written; empty: a default label")
    required: bool = False


class FormIn(BaseModel):
    """A form as the API and the form builder send it (CONTRACTS-2 §E)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(default="", description="Stable; left out, derived from the name")
    name: str = Field(examples=["Newsletter signup"])
    fields: list[FormFieldIn] = Field(
        default_factory=list, description="`email` is always asked (and required)"
    )
    lists: list[str] = Field(default_factory=list, description="List keys joined on consent")
    double_opt_in: bool = True
    consent_text: str = Field(examples=["I agree to receive the newsletter."])
    thank_you: str = Field(default="", description="Shown after the form is sent")
    redirect_url: str | None = Field(default=None, description="http(s): sent there instead")
    language: str | None = Field(default=None, description="en, fr; null: the visitor's")


def _text(value: str, limit: int, what: str, problems: list[str]) -> str:
    """``value`` trimmed; a problem about ``what`` ("The name") when it cannot be kept.
    Line breaks and tabs are allowed (a consent wording may have paragraphs)."""
    value = value.strip()
    if has_control_characters(value.replace("\n", "").replace("\r", "").replace("\t", "")):
        problems.append(_("%(what)s holds invisible control characters.") % {"what": what})
    elif has_surrogates(value):
        problems.append(_("%(what)s holds characters that cannot be stored.") % {"what": what})
    elif len(value) > limit:
        words = {"what": what, "max": limit}
        problems.append(_("%(what)s is longer than %(max)s characters.") % words)
    return value


def check_redirect(raw: str | None, problems: list[str]) -> str | None:
    """An absolute http(s) address, or None: ``javascript:``, ``data:`` and relative paths
    would run or go somewhere the marketer did not mean."""
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if (
        redirect_origin(url) is None
        or len(url) > MAX_URL
        or any(char.isspace() or ord(char) < 32 for char in url)
    ):
        problems.append(
            _("The redirect address must start with https:// or http://, e.g. %(example)s.")
            % {"example": "https://shop.example/thanks"}
        )
        return None
    return url


def redirect_origin(url: str) -> str | None:
    """``https://shop.example:8443`` for an http(s) address with a plain host name, else None.
    The origin goes into the form page's ``form-action``: nothing but a host (no ``;``, no
    quote) may reach that header."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() not in {"http", "https"} or not HOST_RE.fullmatch(host):
        return None
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def _fields(raw: Sequence[FormFieldIn], problems: list[str]) -> list[dict[str, Any]]:
    """The fields, email first and always required; each name once."""
    if len(raw) > MAX_FIELDS:
        problems.append(_("A form asks at most %(max)s fields.") % {"max": MAX_FIELDS})
        return []
    checked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in raw:
        name = item.name.strip()
        if name in seen:
            problems.append(_("The field %(name)s is asked twice.") % {"name": repr(name)})
            continue
        if name in NOT_ASKABLE or not (name in BUILTIN_FIELDS or is_attribute_name(name)):
            problems.append(
                _(
                    "%(name)s cannot be asked: use email, first_name, last_name, phone, "
                    "birthday or an attribute name (letters, digits, _ - .)."
                )
                % {"name": repr(name)}
            )
            continue
        seen.add(name)
        label = _text(item.label, MAX_LABEL, _("A label"), problems)
        checked.append({"name": name, "label": label, "required": item.required})
    email = next((f for f in checked if f["name"] == "email"), None)
    if email is None:
        email = {"name": "email", "label": "", "required": True}
    else:
        checked.remove(email)
    email["required"] = True
    return [email, *checked]


def checked_form(session: Session, data: FormIn) -> dict[str, Any]:
    """The form's columns, tidied; Invalid naming every problem at once."""
    problems: list[str] = []
    name = _text(data.name, 200, _("The name"), problems)
    if not name:
        problems.append(_("Give the form a name, e.g. Newsletter signup."))
    consent = _text(data.consent_text, MAX_CONSENT, _("The consent wording"), problems)
    if not consent:
        problems.append(
            _("Write the consent wording the visitor agrees to, e.g. %(example)s.")
            % {"example": _("I agree to receive the newsletter by email.")}
        )
    thank_you = _text(data.thank_you, MAX_THANK_YOU, _("The thank-you message"), problems)
    redirect = check_redirect(data.redirect_url, problems)
    language = (data.language or "").strip() or None
    if language is not None and language not in LANGUAGES:
        problems.append(
            _("The form's language must be one of %(languages)s, or empty for the visitor's.")
            % {"languages": ", ".join(sorted(LANGUAGES))}
        )
    fields = _fields(data.fields, problems)
    list_keys = sorted({key.strip() for key in data.lists if key.strip()})
    if len(list_keys) > MAX_LISTS:
        problems.append(_("A form joins at most %(max)s lists.") % {"max": MAX_LISTS})
    elif list_keys:
        try:
            lists_by_keys(session, list_keys)
        except Invalid as error:
            problems.append(error.message)
    if problems:
        raise Invalid(" ".join(problems))
    return {
        "name": name,
        "fields": fields,
        "lists": list_keys,
        "double_opt_in": data.double_opt_in,
        "consent_text": consent,
        "thank_you": thank_you,
        "redirect_url": redirect,
        "language": language,
    }


def create_form(session: Session, data: FormIn, now: datetime) -> SignupForm:
    values = checked_form(session, data)
    key = key_or_derived(session, col(SignupForm.key), data.key, values["name"])
    if key in RESERVED_KEYS:  # /forms/new is the builder's own page
        if data.key.strip():
            raise Invalid(_("%(key)s cannot be a form's key: choose another.") % {"key": repr(key)})
        key = key_or_derived(session, col(SignupForm.key), "", values["name"] + " form")
    taken = Conflict(_("A form with the key %(key)s already exists.") % {"key": repr(key)})
    if find_form(session, key) is not None:
        raise taken
    form = SignupForm(key=key, created_at=now, updated_at=now, **values)
    if not add_unique(session, form):
        raise taken
    install_confirmations(session, form, now)
    return form


def confirmation_languages(form: SignupForm) -> list[str]:
    """The languages its confirmation email may be written in: the form's, else any."""
    return [form.language] if form.language else sorted(LANGUAGES)


def install_confirmations(session: Session, form: SignupForm, now: datetime) -> None:
    """With double opt-in, its confirmation emails exist from the start, so the marketer can
    read and change their words in Messages before anyone signs up."""
    from app.services.capture.optin import ensure_confirmation_message

    if form.double_opt_in:
        for language in confirmation_languages(form):
            ensure_confirmation_message(session, language, now)


def update_form(session: Session, form: SignupForm, data: FormIn, now: datetime) -> SignupForm:
    """Everything but the key, which the embedded snippets and links hold."""
    for name, value in checked_form(session, data).items():
        setattr(form, name, value)
    form.updated_at = now
    session.add(form)
    session.flush()
    install_confirmations(session, form, now)
    return form


def delete_form(session: Session, form: SignupForm) -> None:
    """Its pending confirmations go with it; the proofs it gave stay (their form is NULL)."""
    session.delete(form)
    session.flush()


def find_form(session: Session, key: str) -> SignupForm | None:
    return session.exec(select(SignupForm).where(col(SignupForm.key) == key)).first()


def get_form(session: Session, key: str) -> SignupForm:
    form = find_form(session, key)
    if form is None:
        raise NotFound(_("There is no form with the key %(key)s.") % {"key": repr(key)})
    return form


def all_forms(session: Session) -> Sequence[SignupForm]:
    return session.exec(select(SignupForm).order_by(col(SignupForm.name))).all()


def form_json(form: SignupForm) -> dict[str, Any]:
    return {
        "key": form.key,
        "name": form.name,
        "fields": form.fields,
        "lists": form.lists,
        "double_opt_in": form.double_opt_in,
        "consent_text": form.consent_text,
        "thank_you": form.thank_you,
        "redirect_url": form.redirect_url,
        "language": form.language,
        "created_at": form.created_at.isoformat(),
        "updated_at": form.updated_at.isoformat(),
    }


def field_label(field: dict[str, Any]) -> str:
    """The marketer's label as written, else the built-in field's own words (or the name)."""
    if field.get("label"):
        return str(field["label"])
    default = BUILTIN_FIELDS.get(str(field.get("name")))
    return _(default) if default else str(field.get("name"))


def hosted_url(base_url: str, form: SignupForm) -> str:
    return f"{base_url.rstrip('/')}/f/{form.key}"


def embed_snippet(base_url: str, form: SignupForm) -> str:
    """The HTML a marketer pastes into their site: the hosted form in a frame. No script, so
    no site has to trust ours; the frame's height fits the fields asked."""
    height = 260 + 86 * len(form.fields)
    title = form.name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return (
        f'<iframe src="{hosted_url(base_url, form)}" title="{title}" width="100%" '
        f'height="{height}" style="border:0;max-width:520px" loading="lazy"></iframe>'
    )
