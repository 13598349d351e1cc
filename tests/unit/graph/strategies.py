"""Hypothesis strategies for the condition language, contact facts and scenario documents.

Shared by the in-memory evaluator's property tests and, later, by the check that the bulk SQL
evaluator agrees with it on the same random conditions and contacts. Keys and names come from
small pools so that conditions often meet the facts they test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from app.graph import Condition, ContactFacts, EventFact, KnownRefs, parse_condition

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ATTRIBUTE_KEYS = ("email", "first_name", "score", "birthday", "created_at", "orders_count", "plan")
PROPERTY_KEYS = ("amount", "sku", "currency")
EVENT_NAMES = ("purchase", "email_opened", "cart_abandoned")
LIST_KEYS = ("newsletter", "vip", "customers")
# Mixed case and accents exercise case folding; U+0130 is left out on purpose (see coercion.py).
TEXT_ALPHABET = "abcABCéÉzZ019 -_@."

JsonDict = dict[str, Any]

texts = st.text(TEXT_ALPHABET, min_size=1, max_size=6)
numeric_texts = st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True)
finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
small_ints = st.integers(min_value=-1000, max_value=1000)
days = st.dates(min_value=date(2024, 6, 1), max_value=date(2026, 3, 1))
instants = st.datetimes(
    min_value=datetime(2024, 6, 1), max_value=datetime(2026, 3, 1), timezones=st.just(UTC)
)
date_texts = days.map(date.isoformat)
datetime_texts = instants.map(lambda moment: moment.isoformat())
# Values near NOW, so that day windows are often on the edge.
recent_instants = st.integers(min_value=-90 * 24, max_value=5 * 24).map(
    lambda hours: NOW + timedelta(hours=hours)
)

scalars = st.one_of(texts, numeric_texts, small_ints, finite_floats, st.booleans())
attribute_values = st.one_of(
    st.none(),
    st.just(""),
    scalars,
    days,
    instants,
    recent_instants,
    date_texts,
    datetime_texts,
    st.lists(small_ints, max_size=2),
)


def _value_for(op: str) -> st.SearchStrategy[Any]:
    if op in ("exists", "not_exists"):
        return st.none()
    if op == "in":
        return st.lists(scalars.filter(lambda value: value != ""), min_size=1, max_size=3)
    if op in ("gt", "gte", "lt", "lte"):
        return st.one_of(small_ints, finite_floats)
    if op in ("contains", "starts_with"):
        return texts
    if op in ("before", "after"):
        return st.one_of(date_texts, datetime_texts)
    if op in ("within_last_days", "older_than_days"):
        return st.integers(min_value=0, max_value=120)
    return scalars


ATTRIBUTE_OPS = (
    "eq", "ne", "gt", "gte", "lt", "lte", "contains", "starts_with", "in",
    "exists", "not_exists", "before", "after", "within_last_days", "older_than_days",
)  # fmt: skip


@st.composite
def attribute_condition_json(draw: st.DrawFn, keys: tuple[str, ...] = ATTRIBUTE_KEYS) -> JsonDict:
    op = draw(st.sampled_from(ATTRIBUTE_OPS))
    condition: JsonDict = {"attribute": draw(st.sampled_from(keys)), "op": op}
    value = draw(_value_for(op))
    if value is not None:
        condition["value"] = value
    return condition


def property_filter_json() -> st.SearchStrategy[JsonDict]:
    return _composites(attribute_condition_json(PROPERTY_KEYS), max_leaves=3)


@st.composite
def event_condition_json(draw: st.DrawFn) -> JsonDict:
    op = draw(st.sampled_from(("count_gte", "count_lt", "none")))
    condition: JsonDict = {"event": draw(st.sampled_from(EVENT_NAMES)), "op": op}
    if op != "none":
        condition["value"] = draw(st.integers(min_value=0, max_value=3))
    within = draw(st.none() | st.integers(min_value=1, max_value=60))
    if within is not None:
        condition["within_days"] = within
    if draw(st.booleans()):
        condition["where"] = draw(property_filter_json())
    return condition


list_condition_json = st.builds(
    lambda key, op: {"list": key, "op": op},
    st.sampled_from(LIST_KEYS),
    st.sampled_from(("member", "not_member")),
)
consent_condition_json = st.builds(
    lambda channel, op: {"consent": channel, "op": op},
    st.sampled_from(("email", "sms")),
    st.sampled_from(("granted", "not_granted")),
)
leaf_condition_json = st.one_of(
    attribute_condition_json(), event_condition_json(), list_condition_json, consent_condition_json
)


def _composites(
    leaves: st.SearchStrategy[JsonDict], max_leaves: int
) -> st.SearchStrategy[JsonDict]:
    def extend(children: st.SearchStrategy[JsonDict]) -> st.SearchStrategy[JsonDict]:
        group = st.lists(children, max_size=3)
        return st.one_of(
            group.map(lambda items: {"all": items}),
            group.map(lambda items: {"any": items}),
            children.map(lambda inner: {"not": inner}),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def condition_json() -> st.SearchStrategy[JsonDict]:
    """Valid condition JSON, nested up to a few levels."""
    return _composites(leaf_condition_json, max_leaves=8)


def conditions() -> st.SearchStrategy[Condition]:
    return condition_json().map(parse_condition)


event_facts = st.builds(
    EventFact,
    name=st.sampled_from(EVENT_NAMES),
    occurred_at=recent_instants,
    properties=st.dictionaries(st.sampled_from(PROPERTY_KEYS), attribute_values, max_size=3),
)


def contact_facts() -> st.SearchStrategy[ContactFacts]:
    return st.builds(
        ContactFacts,
        attributes=st.dictionaries(st.sampled_from(ATTRIBUTE_KEYS), attribute_values, max_size=6),
        lists=st.frozensets(st.sampled_from(LIST_KEYS)),
        consent=st.fixed_dictionaries({}, optional={"email": st.booleans(), "sms": st.booleans()}),
        events=st.lists(event_facts, max_size=6),
    )


# --- scenario documents -------------------------------------------------------------------

KNOWN = KnownRefs(
    messages={"welcome": "email", "promo-sms": "sms"},
    lists=frozenset(LIST_KEYS),
    segments=frozenset({"active"}),
)
_TRIGGERS: tuple[tuple[str, JsonDict], ...] = (
    ("event", {"event": "purchase"}),
    ("list_added", {"list": "newsletter"}),
    ("contact_created", {}),
    ("date_anniversary", {"attribute": "birthday", "offset_days": -7, "at": "09:00"}),
    ("score_reached", {"threshold": 50}),
    ("segment_entered", {"segment": "active"}),
    ("manual", {}),
)
_STEPS: tuple[tuple[str, str, JsonDict], ...] = (
    ("delay", "wait", {"seconds": 3600}),
    ("delay", "wait_until", {"at": "09:00", "weekdays": ["mon"]}),
    ("delay", "wait_for_event", {"event": "purchase", "timeout_seconds": 86400}),
    ("condition", "if", {"if": {"list": "vip", "op": "member"}}),
    ("action", "send_email", {"message": "welcome"}),
    ("action", "send_sms", {"message": "promo-sms"}),
    ("action", "add_to_list", {"list": "vip"}),
    ("action", "add_score", {"points": 5}),
    ("action", "exit", {}),
)
_PORTS = {"if": ("yes", "no"), "wait_for_event": ("yes", "no"), "exit": ()}


@st.composite
def valid_documents(draw: st.DrawFn) -> JsonDict:
    """A scenario that validates without errors: every link goes from an earlier block to a
    later one (so no loops), each port is used once, and every block hangs off a trigger."""
    kind, config = draw(st.sampled_from(_TRIGGERS))
    nodes: list[JsonDict] = [{"id": "t0", "type": "trigger", "kind": kind, "config": config}]
    edges: list[JsonDict] = []
    open_ports = [("t0", "out")]
    for number in range(1, draw(st.integers(min_value=1, max_value=8)) + 1):
        if not open_ports:
            break
        source, port = open_ports.pop(draw(st.integers(0, len(open_ports) - 1)))
        block_type, block_kind, block_config = draw(st.sampled_from(_STEPS))
        node_id = f"b{number}"
        nodes.append(
            {"id": node_id, "type": block_type, "kind": block_kind, "config": block_config}
        )
        edges.append(_edge(source, port, node_id))
        if open_ports and draw(st.integers(0, 3)) == 0:  # sometimes two paths merge here
            source, port = open_ports.pop(draw(st.integers(0, len(open_ports) - 1)))
            edges.append(_edge(source, port, node_id))
        open_ports += [(node_id, p) for p in _PORTS.get(block_kind, ("out",))]
    if len(nodes) > 1 and draw(st.booleans()):  # a second entry point into an existing block
        kind, config = draw(st.sampled_from(_TRIGGERS))
        nodes.append({"id": "t1", "type": "trigger", "kind": kind, "config": config})
        edges.append(_edge("t1", "out", draw(st.sampled_from(nodes[1:-1]))["id"]))
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {"reentry": "once"}}


def _edge(source: str, port: str, target: str) -> JsonDict:
    edge: JsonDict = {"from": source, "to": target}
    if port != "out":
        edge["port"] = port
    return edge
