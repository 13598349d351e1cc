"""The scenario settings panel (DESIGN §3 ``settings``), both ways, in a marketer's words.

"Can a contact go through this scenario again?" is ``reentry`` (with an optional cooldown in
human units, like the wait block), and "Goal — take contacts out as soon as…" is
``exit_when``: never, an event (``{"event": NAME}``) or a condition from the builder.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData

from app.graph import IssueCode, check_draft
from app.i18n import N_, _
from app.routes.canvas_forms import FormReader, PanelErrors, split_duration
from app.routes.canvas_panels import Problem, canvas_choices, without_name
from app.routes.condition_builder import builder_tree
from app.services.scenarios.scenarios import known_refs

# English, marked for the catalog; settings_context translates them.
REENTRY_CHOICES: tuple[tuple[str, str], ...] = (
    ("once", N_("Only once")),
    ("after_exit", N_("Again after their journey ended")),
    ("always", N_("Every time it is triggered")),
)
GOAL_CHOICES: tuple[tuple[str, str], ...] = (
    ("never", N_("Never")),
    ("event", N_("They do an event")),
    ("condition", N_("They match a condition")),
)
QUIET_HOURS_CHOICES: tuple[tuple[str, str], ...] = (
    ("follow", N_("Wait until quiet hours end")),
    ("ignore", N_("Send anyway, even during quiet hours")),
)
# How the graph's messages name the settings (the panel already says it).
SETTINGS_NAME = N_("Scenario settings")


def goal_kind(exit_when: object) -> str:
    if not isinstance(exit_when, dict) or not exit_when:
        return "never"
    return "event" if set(exit_when) == {"event"} else "condition"


def settings_values(settings: dict[str, Any]) -> dict[str, Any]:
    """The panel's field values for saved settings (the inverse of :func:`settings_from_form`)."""
    exit_when = settings.get("exit_when")
    goal = goal_kind(exit_when)
    amount, unit = split_duration(settings.get("cooldown_seconds"))
    return {
        "reentry": settings.get("reentry") or "once",
        "cooldown_amount": amount,
        "cooldown_unit": unit,
        "goal": goal,
        "goal_event": exit_when.get("event")
        if goal == "event" and isinstance(exit_when, dict)
        else None,
        "exit_when": exit_when if goal == "condition" else None,
        "exit_tree": builder_tree(exit_when if goal == "condition" else None),
        "quiet_hours": "ignore" if settings.get("quiet_hours") == "ignore" else "follow",
    }


def settings_from_form(form: FormData) -> dict[str, Any]:
    """The scenario's settings from the submitted panel; raises :class:`PanelErrors`."""
    reader = FormReader(form)
    reentry = str(form.get("reentry") or "once")
    if reentry not in dict(REENTRY_CHOICES):
        reader.errors["reentry"] = _("choose how often a contact may go through")
    cooldown = reader.duration("cooldown_amount", "cooldown_unit", _("The pause between two times"))
    if cooldown is not None and cooldown < 0:
        reader.errors["cooldown_amount"] = _("The pause between two times can't be negative")
    settings: dict[str, Any] = {"reentry": reentry, "exit_when": None}
    if cooldown and reentry != "once":
        settings["cooldown_seconds"] = cooldown
    goal = form.get("goal") or "never"
    if goal == "event":
        event = reader.text("goal_event")
        if event is None:
            reader.errors["goal_event"] = _("type the event that takes contacts out, e.g. purchase")
        settings["exit_when"] = {"event": event}
    elif goal == "condition":
        condition = reader.condition("exit_when")
        if condition is None and "exit_when" not in reader.errors:
            reader.errors["exit_when"] = _("add a test to the condition, or choose another goal")
        settings["exit_when"] = condition
    elif goal != "never":
        reader.errors["goal"] = _("choose when contacts are taken out")
    quiet = str(form.get("quiet_hours") or "follow")
    if quiet not in dict(QUIET_HOURS_CHOICES):
        reader.errors["quiet_hours"] = _("choose whether quiet hours hold this scenario's messages")
    elif quiet == "ignore":  # "follow" is the default, and stays out of the document
        settings["quiet_hours"] = quiet
    if reader.errors:
        raise PanelErrors(reader.errors)
    return settings


def settings_problems(session: Session, settings: dict[str, Any]) -> list[Problem]:
    """What the graph's checks say about these settings (field without "settings.")."""
    document = {"schema": 1, "nodes": [], "edges": [], "settings": settings}
    _document, issues = check_draft(document, known_refs(session))
    problems = []
    for issue in issues:
        if issue.node is not None or not (issue.field or "").startswith("settings"):
            continue
        message = without_name(issue.message, _(SETTINGS_NAME))
        message = message.replace("'exit_when' is not valid: ", _("the goal's condition: "))
        problems.append(
            Problem(
                field=(issue.field or "").removeprefix("settings").removeprefix("."),
                message=message[:1].upper() + message[1:],
                severity=issue.severity,
                # A setting the parser had to drop cannot be kept as typed: refused.
                unreadable=issue.code == IssueCode.invalid_settings and issue.severity == "error",
            )
        )
    return problems


def settings_context(session: Session, settings: dict[str, Any]) -> dict[str, Any]:
    problems = settings_problems(session, settings)
    return {
        **canvas_choices(session),
        "v": settings_values(settings),
        "settings_json": settings,
        "problems": problems,
        "problem_fields": {p.field for p in problems if p.severity == "error"},
        "reentry_choices": [(key, _(label)) for key, label in REENTRY_CHOICES],
        "goal_choices": [(key, _(label)) for key, label in GOAL_CHOICES],
        "quiet_hours_choices": [(key, _(label)) for key, label in QUIET_HOURS_CHOICES],
    }
