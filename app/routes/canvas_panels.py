"""What the canvas templates need: a card's words and a panel's fields and choices."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session, col, select

from app.graph import Document, IssueCode, RefNames, check_draft
from app.graph.issues import block_label
from app.i18n import _
from app.models import MessageTemplate
from app.routes.canvas_forms import UNIT_CHOICES, UNIT_NAMES, WEEKDAY_CHOICES, form_values
from app.routes.condition_builder import builder_context, builder_tree
from app.services.scenarios.block_catalog import BlockInfo, block_info, ports_of, shown_as
from app.services.scenarios.scenarios import known_refs

# Settings the parser had to drop: what was typed cannot be kept, so the panel refuses it.
UNREADABLE = frozenset({IssueCode.invalid_field, IssueCode.unknown_field})
# Problems of one block's own settings (not of how it is wired).
SETTING_CODES = UNREADABLE | {
    IssueCode.missing_config,
    IssueCode.invalid_config,
    IssueCode.unknown_message,
    IssueCode.wrong_channel,
    IssueCode.unknown_list,
    IssueCode.unknown_segment,
}


@dataclass(frozen=True)
class Problem:
    field: str  # the setting, without the "config." prefix ("" for the whole block)
    message: str
    severity: str = "error"
    unreadable: bool = False


@dataclass(frozen=True)
class Card:
    id: str
    type: str
    kind: str
    x: float
    y: float
    name: str
    icon: str
    summary: str
    takes_input: bool
    ports: tuple[tuple[str, str], ...]  # (port, label)


def summaries_of(document: Document | None, names: RefNames | None = None) -> dict[str, str]:
    """Each block's summary, naming templates, lists and segments by ``names``."""
    if document is None:
        return {}
    return {node.id: node.summary(names) for node in document.nodes}


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def card_context(node: dict[str, Any], summary: str | None) -> Card:
    block_type, kind = str(node.get("type")), str(node.get("kind"))
    info = block_info(block_type, kind)
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    look = shown_as(block_type, kind, config or {})
    if summary is None:
        summary = (
            info.hint
            if info
            else _("“%(block)s” is not a block Parcours knows") % {"block": f"{block_type}.{kind}"}
        )
    return Card(
        id=str(node.get("id")),
        type=block_type,
        kind=kind,
        x=_number(node.get("x")),
        y=_number(node.get("y")),
        name=look.name if look else _("Unknown block"),
        icon=look.icon if look else "alert",
        summary=summary,
        takes_input=info.takes_input if info else True,
        ports=ports_of(block_type, kind, config or {}),
    )


def block_problems(session: Session, node: dict[str, Any]) -> list[Problem]:
    """What is wrong with one block's settings, without the words naming the block."""
    # The panel shows the block's own settings problems: the linter's database questions
    # (templates, the share of contacts with a field) would be asked for nothing.
    known = replace(known_refs(session), message_facts=None, attribute_shares=None)
    _document, issues = check_draft({"schema": 1, "nodes": [node], "edges": []}, known)
    title = known.block_titles.get((str(node.get("type")), str(node.get("kind"))))
    label = block_label(str(node["id"]), title)
    return [
        Problem(
            field=(issue.field or "").removeprefix("config."),
            message=_sentence(without_name(issue.message, label)),
            severity=issue.severity,
            unreadable=issue.code in UNREADABLE,
        )
        for issue in issues
        if issue.node == node["id"] and issue.code in SETTING_CODES
    ]


def without_name(message: str, name: str) -> str:
    """``"Block 'x': no email chosen"`` -> ``"no email chosen"``: the panel already names the
    block. Any spacing before the colon ("Bloc « x » : …" in French)."""
    if not message.startswith(name):
        return message
    rest = message[len(name) :].lstrip()
    return rest[1:].lstrip() if rest.startswith(":") else message


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def canvas_choices(session: Session) -> dict[str, Any]:
    """What the condition builder and the suggestions of any panel need."""
    return {
        **builder_context(session),
        "units": UNIT_CHOICES,
        "unit_names": {unit: _(name) for unit, name in UNIT_NAMES.items()},
    }


def panel_context(
    session: Session,
    node: dict[str, Any],
    problems: list[Problem],
) -> dict[str, Any]:
    block_type, kind = str(node["type"]), str(node["kind"])
    info: BlockInfo | None = block_info(block_type, kind)
    config = node.get("config") or {}
    messages = session.exec(
        select(MessageTemplate.key, MessageTemplate.name, MessageTemplate.channel).order_by(
            col(MessageTemplate.name)
        )
    ).all()
    return {
        **canvas_choices(session),
        "node": node,
        "info": info,
        "v": form_values(block_type, kind, config),
        "config_json": config,
        "problems": problems,
        "problem_fields": {p.field for p in problems if p.severity == "error"},
        "messages": messages,
        "emails": [(key, name) for key, name, channel in messages if channel == "email"],
        "sms": [(key, name) for key, name, channel in messages if channel == "sms"],
        "weekdays": [(key, _(label)) for key, label in WEEKDAY_CHOICES],
        "panel_template": f"canvas/panels/{block_type}_{kind}.html",
        "if_tree": builder_tree(config.get("if")),
        "where_tree": builder_tree(config.get("where")),
    }
