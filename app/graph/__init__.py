"""The scenario graph, pure: document schema, conditions, validation, compiler, evaluator.

No I/O here: the canvas validator, the API, the worker, the simulator and the tests all share
this code. Contracts: DESIGN.md §3 (document and blocks) and §4 (condition language).
"""

from app.graph.block_base import BlockBase, BlockConfig, ConfigProblem, Reference, RefNames
from app.graph.blocks import BLOCK_CLASSES, KINDS_BY_TYPE, Block, block_class
from app.graph.compiler import CompileError, Plan, TriggerIndex, compile_document
from app.graph.conditions import (
    BUILTIN_ATTRIBUTES,
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    ConsentCondition,
    EventCondition,
    ListCondition,
    NotCondition,
    describe_condition,
    parse_condition,
)
from app.graph.document import Document, Edge, ExitOnEvent, Settings
from app.graph.evaluate import (
    ContactFacts,
    EventFact,
    Explanation,
    evaluate,
    explain,
    explain_many,
    matches_properties,
    render_explanation,
)
from app.graph.issues import Issue, IssueCode, has_errors
from app.graph.lint import MessageFacts
from app.graph.parsing import parse_document
from app.graph.validate import KnownRefs, check_draft, validate

__all__ = [
    "BLOCK_CLASSES",
    "BUILTIN_ATTRIBUTES",
    "KINDS_BY_TYPE",
    "AllCondition",
    "AnyCondition",
    "AttributeCondition",
    "Block",
    "BlockBase",
    "BlockConfig",
    "CompileError",
    "Condition",
    "ConfigProblem",
    "ConsentCondition",
    "ContactFacts",
    "Document",
    "Edge",
    "EventCondition",
    "EventFact",
    "ExitOnEvent",
    "Explanation",
    "Issue",
    "IssueCode",
    "KnownRefs",
    "ListCondition",
    "MessageFacts",
    "NotCondition",
    "Plan",
    "RefNames",
    "Reference",
    "Settings",
    "TriggerIndex",
    "block_class",
    "check_draft",
    "compile_document",
    "describe_condition",
    "evaluate",
    "explain",
    "explain_many",
    "has_errors",
    "matches_properties",
    "parse_condition",
    "parse_document",
    "render_explanation",
    "validate",
]
