"""What only the database knows, for the linter's warnings (``app/graph/lint.py``).

Given to the graph package as functions in ``KnownRefs``, called only for what the scenario
uses: the message templates it sends (one query), the share of contacts that have the fields
those messages show (one query over ``contacts``, with the conditions' own rule of what
"set" means), and the webhook address policy the sender applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import UTC, datetime

from jinja2 import TemplateSyntaxError, nodes
from sqlalchemy import case, func
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from app.config import get_settings
from app.graph import MessageFacts
from app.graph.conditions import AttributeCondition
from app.models import BUILTIN_ATTRIBUTES, MessageTemplate
from app.services.contacts.condition_sql import CONTACTS, ConditionSql
from app.services.errors import Invalid
from app.services.messaging.rendering import (
    SAMPLE_CONTACT,
    SAMPLE_EVENT,
    MessageParts,
    RenderContext,
    RenderError,
    check_template,
    contact_context,
    event_context,
    render_parts,
)
from app.services.messaging.sandbox import TEXT_ENV
from app.services.messaging.sms_count import count_sms
from app.services.messaging.webhook_address import AllowList, refusal_without_lookup

# Built-in fields a contact may well lack; the others (email, score, time zone, creation
# date) are set for nearly everyone, or have a value of their own.
OPTIONAL_BUILTINS = frozenset({"first_name", "last_name", "phone", "birthday"})
# What ``contact.x`` names without being a field of the contact.
NOT_FIELDS = frozenset({"name", "lists", "attributes"})
FALLBACK_FILTERS = frozenset({"default", "d"})


def webhook_refusal(url: str) -> str | None:
    return refusal_without_lookup(url, AllowList.parse(get_settings().webhook_allow))


def message_facts(session: Session, keys: Set[str]) -> dict[str, MessageFacts]:
    templates = session.exec(
        select(MessageTemplate).where(col(MessageTemplate.key).in_(sorted(keys)))
    ).all()
    found: dict[str, MessageFacts] = {}
    for template in templates:
        # Built here, not with messages.parts_of: that module needs this package loaded.
        parts = MessageParts(
            channel=str(template.channel),
            subject=template.subject,
            html=template.html,
            text=template.text,
            key=template.key,
            name=template.name,
        )
        sources = [item.source for item in parts.fields()]
        segments = _sms_segments(parts) if template.channel == "sms" else None
        found[template.key] = MessageFacts(sms_segments=segments, fields=unguarded_fields(sources))
    return found


def _sms_segments(parts: MessageParts) -> int | None:
    """The segments of the SMS as the preview shows it for the sample contact; None when it
    cannot be rendered (that is an error of its own)."""
    context = RenderContext(
        contact=contact_context(SAMPLE_CONTACT, ["Newsletter", "Customers"]),
        event=event_context(SAMPLE_EVENT),
        now=datetime.now(UTC),
    )
    try:
        for item in parts.fields():
            check_template(item)
        rendered = render_parts(parts, context)
    except (Invalid, RenderError):
        return None
    return count_sms(rendered.text).segments


def unguarded_fields(sources: Iterable[str]) -> frozenset[str]:
    """The contact fields the templates show with no fallback: not through ``default``, and
    not tested by an ``{% if %}`` (or ``… if … else …``) anywhere in the same template."""
    shown: set[str] = set()
    for source in sources:
        try:
            tree = TEXT_ENV.parse(source)
        except TemplateSyntaxError:
            continue
        used = {
            name for node in tree.find_all((nodes.Getattr, nodes.Getitem)) if (name := _field(node))
        }
        guarded: set[str] = set()
        for guard in _guards(tree):
            guarded.update(
                name
                for node in guard.find_all((nodes.Getattr, nodes.Getitem))
                if (name := _field(node))
            )
            if (name := _field(guard)) is not None:
                guarded.add(name)
        shown |= used - guarded
    return frozenset(
        name for name in shown if name in OPTIONAL_BUILTINS or name not in BUILTIN_ATTRIBUTES
    )


def _guards(tree: nodes.Template) -> Iterable[nodes.Node]:
    for node in tree.find_all((nodes.If, nodes.CondExpr, nodes.Filter)):
        if isinstance(node, nodes.If | nodes.CondExpr):
            yield node.test
        elif isinstance(node, nodes.Filter) and node.name in FALLBACK_FILTERS and node.node:
            yield node.node


def _field(node: nodes.Node) -> str | None:
    """``contact.plan``, ``contact.attributes.plan``, ``contact.attributes["plan"]`` -> plan."""
    if isinstance(node, nodes.Getattr):
        owner, name = node.node, node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        owner, name = node.node, node.arg.value
    else:
        return None
    if not isinstance(name, str) or name.startswith("_"):
        return None
    if isinstance(owner, nodes.Name) and owner.name == "contact":
        return None if name in NOT_FIELDS else name
    if (
        isinstance(owner, nodes.Getattr)
        and owner.attr == "attributes"
        and isinstance(owner.node, nodes.Name)
        and owner.node.name == "contact"
    ):
        return name
    return None


def attribute_shares(session: Session, names: Set[str]) -> dict[str, float]:
    """Each field's share of contacts that have it (0.12: 12 %), in one query; nothing when
    there are no contacts yet (no share to speak of)."""
    wanted = sorted(names)
    if not wanted:
        return {}
    compiler = ConditionSql(session.get_bind().dialect.name, datetime.now(UTC))
    having = [
        func.sum(
            case(
                (compiler.contact_filter(AttributeCondition(attribute=name, op="exists")), 1),
                else_=0,
            )
        )
        for name in wanted
    ]
    row = session.execute(select_rows(func.count(), *having).select_from(CONTACTS)).one()
    total = int(row[0] or 0)
    if not total:
        return {}
    return {name: int(count or 0) / total for name, count in zip(wanted, row[1:], strict=True)}
