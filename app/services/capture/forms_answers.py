"""What a visitor typed into a hosted form: checked field by field, in the visitor's words.

Every built-in field goes through the same normalisers as the API and the CSV import
(``app/services/contacts/fields.py``), so an email or a phone typed here means what it means
everywhere. A custom attribute is kept as the text typed. Problems are per field, so the
page can show each one beside its input with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.i18n import _
from app.models import SignupForm
from app.services.contacts.fields import (
    BUILTIN_NORMALIZERS,
    MAX_TEXT_VALUE,
    ContactData,
    FieldProblem,
    check_attribute_value,
    split_attributes,
)

HONEYPOT = "website"
CONSENT = "consent"
MAX_TYPED = MAX_TEXT_VALUE


@dataclass
class Answers:
    typed: dict[str, str]  # by field name, as typed (shown again on a refused page)
    consent: bool
    problems: dict[str, str] = field(default_factory=dict)  # field name (or "consent") → why
    # The values to store, JSON-ready (a birthday as its ISO date): kept with a pending
    # confirmation and read again by ``contact_data`` when the link is followed.
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def email(self) -> str:
        return str(self.values.get("email", ""))


def read_answers(form: SignupForm, raw: Mapping[str, str]) -> Answers:
    typed = {f["name"]: str(raw.get(f["name"], ""))[:MAX_TYPED] for f in form.fields}
    answers = Answers(typed=typed, consent=raw.get(CONSENT, "") in {"1", "on", "yes"})
    for spec in form.fields:
        name = spec["name"]
        text = typed[name].strip()
        if not text:
            if spec.get("required"):
                answers.problems[name] = _("Please fill this in.")
            continue
        try:
            answers.values[name] = _value(name, text)
        except FieldProblem as problem:
            answers.problems[name] = _sentence(str(problem))
    if not answers.consent:
        answers.problems[CONSENT] = _("Please tick the box to agree: we need it to subscribe you.")
    return answers


def _value(name: str, text: str) -> Any:
    normalize = BUILTIN_NORMALIZERS.get(name)
    if normalize is None:
        return check_attribute_value(name, text)
    value = normalize(text)
    return value.isoformat() if isinstance(value, date) else value


def _sentence(problem: str) -> str:
    """The normalisers' words ("the birthday is in the future") as a sentence on its own."""
    problem = problem.strip()
    return (problem[:1].upper() + problem[1:]).rstrip(".") + "." if problem else problem


def contact_data(values: Mapping[str, Any]) -> ContactData:
    """The stored values as a contact intake (built-ins to columns, the rest attributes)."""
    problems: list[str] = []
    data = split_attributes(dict(values), problems)
    if problems:  # only values this module checked are stored; a change of rules since
        raise FieldProblem("; ".join(problems))
    return data
