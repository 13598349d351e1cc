"""Reading a saved draft: never raises, keeps whatever can be kept, reports the rest.

A draft is saved even when invalid, so the parser is lenient where it can be: a setting with
the wrong type or an unknown key is dropped (and reported), and the block stays on the canvas
so the graph checks still run. Only what cannot be pictured at all is left out: a block with no
id or an unknown type/kind, and a link without both ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.graph.block_base import BlockBase
from app.graph.blocks import BLOCK_TYPES, KINDS_BY_TYPE, UNKNOWN_BLOCK, block_class
from app.graph.condition_limits import MAX_DEPTH
from app.graph.conditions import CONDITION_TAGS, UNKNOWN_CONDITION
from app.graph.document import SCHEMA_VERSION, Document, Edge, Settings
from app.graph.issues import Issue, IssueCode, block_label
from app.graph.wording import about, quote
from app.i18n.text import N_, _

ModelT = TypeVar("ModelT", bound=BaseModel)
_ABSENT = object()
Loc = tuple[str | int, ...]

_DOCUMENT_KEYS = {"schema", "nodes", "edges", "settings"}
# A link whose ends or port cannot be read is left out rather than guessed.
_EDGE_KEYS: frozenset[str | int] = frozenset({"from", "port", "to"})
_NODE_KEYS: frozenset[str | int] = frozenset({"id", "type", "kind"})
_UNION_MEMBER_TOKENS = {"str", "int", "float", "bool", "Condition", "ExitOnEvent"}
# What is wrong with a setting, after its name; English, translated when an issue is made.
_PREDICATES = {
    "missing": N_("is missing"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "string_type": N_("must be text"),
    "bool_type": N_("must be true or false"),
    "list_type": N_("must be a list"),
    "model_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "dict_type": N_("must be an object"),
    "string_too_short": N_("can't be empty"),
}
# Our own messages given to pydantic (English there), said in the speaker's language here.
_OWN_MESSAGES = {"unknown_condition": UNKNOWN_CONDITION, "unknown_block": UNKNOWN_BLOCK}


BlockTitles = Mapping[tuple[str, str], str]  # (type, kind) -> what the canvas calls the block


def parse_document(
    raw: object, titles: BlockTitles | None = None
) -> tuple[Document | None, list[Issue]]:
    """The document and the problems met reading it; None only when nothing usable is left.

    ``titles``: messages name blocks by their title instead of their id (see ``block_label``)."""
    if not isinstance(raw, Mapping):
        return None, [
            _issue(None, IssueCode.invalid_document, _("The scenario must be a JSON object"))
        ]
    issues = [
        _issue(
            None,
            IssueCode.unknown_field,
            _("%(key)s is not part of a scenario") % {"key": quote(str(key))},
            str(key),
        )
        for key in raw
        if key not in _DOCUMENT_KEYS
    ]
    schema = raw.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION or isinstance(schema, bool):
        message = _("This scenario uses format version %(version)s; only version 1 can be read") % {
            "version": repr(schema)
        }
        return None, [*issues, _issue(None, IssueCode.unsupported_schema, message, "schema")]
    nodes, dropped = _parse_nodes(_as_list(raw.get("nodes"), "nodes", issues), issues, titles or {})
    edges = _parse_edges(_as_list(raw.get("edges"), "edges", issues), dropped, issues)
    settings = _parse_settings(raw.get("settings"), issues)
    document = Document.model_validate(
        {"schema": SCHEMA_VERSION, "nodes": nodes, "edges": edges, "settings": settings}
    )
    return document, issues


def _parse_nodes(
    raw_nodes: list[Any], issues: list[Issue], titles: BlockTitles
) -> tuple[list[BlockBase], set[str]]:
    nodes: list[BlockBase] = []
    seen: set[str] = set()
    dropped: set[str] = set()  # ids of blocks left out; links to them are left out silently
    for position, raw in enumerate(raw_nodes, start=1):
        node_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(node_id, str) or not node_id:
            message = _("The block at position %(position)s has no id") % {"position": position}
            issues.append(_issue(None, IssueCode.invalid_block, message, "id"))
            continue
        if node_id in seen:
            label = block_label(node_id, _title(raw, titles))
            message = about(label, _("another block already uses this id"))
            issues.append(_issue(node_id, IssueCode.duplicate_id, message, "id"))
            continue
        seen.add(node_id)
        node = _parse_node(node_id, dict(raw), issues, _title(raw, titles))
        if node is None:
            dropped.add(node_id)
        else:
            nodes.append(node)
    return nodes, dropped


def _title(raw: Mapping[str, Any], titles: BlockTitles) -> str | None:
    block_type, kind = raw.get("type"), raw.get("kind")
    if not isinstance(block_type, str) or not isinstance(kind, str):
        return None
    return titles.get((block_type, kind))


def _parse_node(
    node_id: str, raw: dict[str, Any], issues: list[Issue], title: str | None = None
) -> BlockBase | None:
    label = block_label(node_id, title)
    block_type, kind = raw.get("type"), raw.get("kind")
    if not isinstance(block_type, str) or block_type not in BLOCK_TYPES:
        message = _("%(block)s has an unknown type %(type)s; expected one of %(expected)s") % {
            "block": label,
            "type": repr(block_type),
            "expected": ", ".join(BLOCK_TYPES),
        }
        issues.append(_issue(node_id, IssueCode.unknown_block_type, message, "type"))
        return None
    model = block_class(block_type, kind) if isinstance(kind, str) else None
    if model is None:
        problem = _("%(kind)s is not a kind of %(type)s; expected one of %(expected)s") % {
            "kind": repr(kind),
            "type": block_type,
            "expected": ", ".join(KINDS_BY_TYPE[block_type]),
        }
        message = about(label, problem)
        issues.append(_issue(node_id, IssueCode.unknown_block_kind, message, "kind"))
        return None
    if isinstance(raw.get("config"), Mapping):
        raw["config"] = dict(raw["config"])
    where = _Where(label, node_id, IssueCode.invalid_field, essential=_NODE_KEYS)
    return _validate_leniently(model, raw, where, issues)


def _parse_edges(raw_edges: list[Any], dropped: set[str], issues: list[Issue]) -> list[Edge]:
    edges: list[Edge] = []
    for position, raw in enumerate(raw_edges, start=1):
        if not isinstance(raw, Mapping):
            message = _("The link at position %(position)s is not an object") % {
                "position": position
            }
            issues.append(_issue(None, IssueCode.invalid_edge, message))
            continue
        ends = [raw.get("from"), raw.get("to")]
        if any(isinstance(end, str) and end in dropped for end in ends):
            continue
        node = ends[0] if isinstance(ends[0], str) and ends[0] else None
        label = _("The link at position %(position)s") % {"position": position}
        where = _Where(label, node, IssueCode.invalid_edge, essential=_EDGE_KEYS)
        edge = _validate_leniently(Edge, dict(raw), where, issues)
        if edge is not None:
            edges.append(edge)
    return edges


def _parse_settings(raw: object, issues: list[Issue]) -> Settings:
    if raw is None:
        return Settings()
    if not isinstance(raw, Mapping):
        message = _("The scenario settings must be an object; the defaults are used")
        issues.append(_issue(None, IssueCode.invalid_settings, message, "settings"))
        return Settings()
    where = _Where(_("Scenario settings"), None, IssueCode.invalid_settings, "settings.")
    settings = _validate_leniently(Settings, dict(raw), where, issues)
    return settings or Settings()


def _as_list(value: object, key: str, issues: list[Issue]) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    message = _("%(key)s must be a list") % {"key": quote(key)}
    issues.append(_issue(None, IssueCode.invalid_document, message, key))
    return []


def _validate_leniently(
    model: type[ModelT],
    data: dict[str, Any],
    where: _Where,
    issues: list[Issue],
) -> ModelT | None:
    """Validate, dropping each offending key (and reporting it) until the rest is valid.

    Block settings are dropped one by one inside ``config``, so a bad ``seconds`` does not
    take the whole block with it. Returns None when a required key itself is at fault.
    """
    while True:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            by_key: dict[Loc, list[ErrorDetails]] = {}
            for detail in error.errors(include_url=False):
                by_key.setdefault(_key_to_drop(detail["loc"], data), []).append(detail)
            for key, details in by_key.items():
                issues.extend(_describe(where, key, details))
            if any(len(key) < 2 and (not key or key[0] in where.essential) for key in by_key):
                return None
            dropped = [_drop(data, key) for key in by_key]
            if not any(dropped):  # nothing left to drop: give up rather than loop
                return None


@dataclass(frozen=True)
class _Where:
    """Who the parse problems are about: how to name it, which block, which issue code."""

    label: str
    node: str | None
    code: IssueCode
    field_prefix: str = ""
    essential: frozenset[str | int] = frozenset()  # keys whose fault loses the whole thing


def _key_to_drop(loc: Loc, data: dict[str, Any]) -> Loc:
    if len(loc) >= 2 and loc[0] == "config" and isinstance(data.get("config"), dict):
        return loc[:2]
    return loc[:1]


def _drop(data: dict[str, Any], key: Loc) -> bool:
    container: dict[Any, Any] = data["config"] if len(key) == 2 else data
    return container.pop(key[-1], _ABSENT) is not _ABSENT


def _describe(where: _Where, key: Loc, details: list[ErrorDetails]) -> list[Issue]:
    """One issue per place at fault; a union's alternatives for one place count as one."""
    field = where.field_prefix + ".".join(str(part) for part in key) if key else None
    by_path: dict[str, list[ErrorDetails]] = {}
    for detail in details:
        loc = detail["loc"]
        if detail["type"] == "recursion_depth_exceeded":  # its place is hundreds of levels down
            loc = loc[: len(key)]
        path = ".".join(str(part) for part in _readable(loc))
        by_path.setdefault(path.removeprefix("config."), []).append(detail)
    issues = []
    for path, alternatives in by_path.items():
        detail = min(alternatives, key=_specificity)
        if detail["type"] == "extra_forbidden":
            problem = _("%(setting)s is not a known setting") % {"setting": quote(path)}
            message = about(where.label, problem)
            issues.append(_issue(where.node, IssueCode.unknown_field, message, field))
            continue
        predicate = _predicate(detail, len(alternatives))
        message = about(where.label, f"{quote(path)} {predicate}" if path else predicate)
        issues.append(_issue(where.node, where.code, message, field))
    return issues


def _predicate(detail: ErrorDetails, alternatives: int) -> str:
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind == "value_error":
        return _("is not valid: %(reason)s") % {"reason": context.get("error")}
    if kind in _OWN_MESSAGES:
        return _("is not valid: %(reason)s") % {"reason": _(_OWN_MESSAGES[kind])}
    if kind == "literal_error":
        return _("must be one of %(expected)s") % {"expected": context.get("expected")}
    if kind == "greater_than_equal":
        return _("must be at least %(minimum)s") % {"minimum": context.get("ge")}
    if kind == "recursion_depth_exceeded":
        return _("has groups nested more than %(depth)s levels deep") % {"depth": MAX_DEPTH}
    if alternatives > 1 and kind.endswith("_type"):
        return _("has the wrong kind of value")
    if kind in _PREDICATES:
        return _(_PREDICATES[kind])
    return _("is not valid: %(reason)s") % {"reason": detail["msg"]}


def _specificity(detail: ErrorDetails) -> int:
    # Our own messages say the most; a union's "wrong type" alternatives say the least.
    order = ["value_error", "unknown_condition", "extra_forbidden", "missing", "literal_error"]
    return order.index(detail["type"]) if detail["type"] in order else len(order)


def _readable(loc: Loc) -> Loc:
    """The location without pydantic's union-member names, as the marketer wrote the JSON."""
    return tuple(part for part in loc if not (isinstance(part, str) and _is_union_member(part)))


def _is_union_member(part: str) -> bool:
    return part in CONDITION_TAGS or part in _UNION_MEMBER_TOKENS or "[" in part


def _issue(node: str | None, code: IssueCode, message: str, field: str | None = None) -> Issue:
    return Issue(node=node, code=code, message=message, field=field)
