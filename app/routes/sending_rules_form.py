"""The Settings page's sending rules, both ways, in a marketer's words (CONTRACTS-2 §D).

The page asks for one cap per channel ("At most [3] marketing emails per [7] days"); other
caps written over the API are kept as they are. Priorities are asked for every scenario
still in use; ``lifecycle`` is the default and is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from babel import dates
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from app.i18n import N_, _, current
from app.inputs import plain_digits
from app.models import Scenario
from app.services.messaging import sending_rules as service
from app.services.messaging.sending_rules import DEFAULT_PRIORITY, SendingRulesIn

CHANNELS = ("email", "sms")
DAYS = {str(day) for day in range(7)}
PRIORITY_WORDS = {
    "transactional": N_("Transactional — always sent, ignores quiet hours and caps"),
    "lifecycle": N_("Lifecycle — sent before promotions when a cap is reached"),
    "promotional": N_("Promotional — the first to wait when a cap is reached"),
}
DEFAULT_QUIET = {"start": "21:00", "end": "08:00"}


class FormProblems(Exception):
    def __init__(self, problems: list[str], values: dict[str, Any]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.values = values


@dataclass
class ScenarioPriority:
    id: int
    name: str
    priority: str


@dataclass
class RulesForm:
    quiet_on: bool = False
    quiet_start: str = DEFAULT_QUIET["start"]
    quiet_end: str = DEFAULT_QUIET["end"]
    weekdays: list[int] = field(default_factory=lambda: list(range(7)))
    caps: dict[str, dict[str, Any]] = field(default_factory=dict)
    priorities: list[ScenarioPriority] = field(default_factory=list)


def _scenarios(session: Session) -> list[tuple[int, str]]:
    rows = session.exec(
        select(Scenario.id, Scenario.name)
        .where(col(Scenario.archived_at).is_(None))
        .order_by(col(Scenario.name), col(Scenario.id))
    ).all()
    return [(sid, name) for sid, name in rows if sid is not None]


def form_values(session: Session, stored: SendingRulesIn | None = None) -> RulesForm:
    """What the form shows for the stored rules."""
    rules = stored or service.read(session)
    form = RulesForm()
    if rules.quiet_hours is not None:
        form.quiet_on = True
        form.quiet_start, form.quiet_end = rules.quiet_hours.start, rules.quiet_hours.end
        form.weekdays = list(rules.quiet_hours.weekdays or range(7))
    for channel in CHANNELS:
        first = next((c for c in rules.caps if c.channel == channel), None)
        form.caps[channel] = {
            "on": first is not None,
            "max": first.max if first else 3 if channel == "email" else 1,
            "per_days": first.per_days if first else 7,
        }
    form.priorities = [
        ScenarioPriority(sid, name, rules.priority.get(str(sid), DEFAULT_PRIORITY))
        for sid, name in _scenarios(session)
    ]
    return form


def weekday_names() -> list[tuple[int, str]]:
    """Monday first, in the reader's language ("lun.", "Mon")."""
    names = dates.get_day_names("abbreviated", locale=current().language)
    return [(day, str(names[day])) for day in range(7)]


def priority_choices() -> list[tuple[str, str]]:
    return [(key, _(words)) for key, words in PRIORITY_WORDS.items()]


def _number(form: FormData, name: str, words: str, low: int, high: int, problems: list[str]) -> int:
    raw = str(form.get(name) or "").strip()
    if not plain_digits(raw) or not low <= int(raw) <= high:
        problems.append(
            _("%(what)s must be a whole number from %(low)s to %(high)s.")
            % {"what": words, "low": low, "high": high}
        )
        return low
    return int(raw)


def rules_from_form(session: Session, form: FormData) -> SendingRulesIn:
    """The rules the submitted form asks for; raises :class:`FormProblems` in plain words."""
    stored = service.read(session)
    problems: list[str] = []
    body: dict[str, Any] = {"quiet_hours": None, "caps": [], "priority": {}}
    shown = form_values(session, stored)
    if form.get("quiet_on"):
        days = sorted({int(str(d)) for d in form.getlist("weekdays") if str(d) in DAYS})
        start, end = str(form.get("quiet_start") or ""), str(form.get("quiet_end") or "")
        if not days:
            problems.append(_("Choose at least one night for quiet hours, or turn them off."))
        if not service.is_clock(start) or not service.is_clock(end):
            problems.append(_("Give quiet hours a start and an end, e.g. 21:00 and 08:00."))
        elif start == end:
            problems.append(_("Quiet hours must end at another time than they start."))
        body["quiet_hours"] = {
            "start": start,
            "end": end,
            "weekdays": None if len(days) == 7 else days,
        }
        shown.quiet_on, shown.quiet_start, shown.quiet_end = True, start, end
        shown.weekdays = days
    else:
        shown.quiet_on = False
    for channel in CHANNELS:
        noun = _("marketing emails") if channel == "email" else _("marketing SMS")
        on = bool(form.get(f"{channel}_cap_on"))
        most = per_days = 1
        if on:
            what = _("The number of %(what)s") % {"what": noun}
            most = _number(form, f"{channel}_max", what, 1, 1000, problems)
            per_days = _number(form, f"{channel}_days", _("The number of days"), 1, 90, problems)
            body["caps"].append({"channel": channel, "max": most, "per_days": per_days})
        shown.caps[channel] = {
            "on": on,
            "max": form.get(f"{channel}_max") or "",
            "per_days": form.get(f"{channel}_days") or "",
        }
        # Further caps of the channel, written over the API, stay as they are.
        more = [c for c in stored.caps if c.channel == channel][1:]
        body["caps"] += [c.model_dump() for c in more if not on or c.per_days != per_days]
    known = {sid for sid, _name in _scenarios(session)}
    # Scenarios not on the page (archived) keep their class.
    body["priority"] = {k: v for k, v in stored.priority.items() if int(k) not in known}
    for item in shown.priorities:
        chosen = str(form.get(f"priority_{item.id}") or DEFAULT_PRIORITY)
        if chosen not in PRIORITY_WORDS:
            problems.append(_("Choose a priority for “%(name)s”.") % {"name": item.name})
            continue
        item.priority = chosen
        if chosen != DEFAULT_PRIORITY:
            body["priority"][str(item.id)] = chosen
    if not problems:
        try:
            return SendingRulesIn.model_validate(body)
        except ValidationError:
            problems.append(_("These sending rules cannot be saved; check each value."))
    raise FormProblems(problems, {"form": shown})
