"""Everything wrong with a scenario, all at once, in words a marketer understands.

Errors block activation; warnings (a yes/no output left unlinked, a trigger with nothing after
it) are shown on the canvas but let the scenario go live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field

from app.graph.block_base import NO_NAMES, BlockBase, Reference, RefNames
from app.graph.condition_limits import condition_limit_problems, event_name_problems
from app.graph.conditions import Channel, lists_referenced
from app.graph.document import Document, Edge, ExitOnEvent, Settings
from app.graph.graph_walk import loops, reachable
from app.graph.issues import Issue, IssueCode, about_block
from app.graph.lint import MessageFacts, lint_issues
from app.graph.parsing import BlockTitles, parse_document
from app.graph.reentry_reach import only_once_issues
from app.graph.wording import about, quote
from app.i18n.text import _

Place = tuple[str | None, str | None]  # (block id, setting) an issue is about


@dataclass(frozen=True)
class KnownRefs:
    """What exists outside the scenario: message templates (key -> channel), lists, segments."""

    messages: Mapping[str, Channel] = field(default_factory=dict)
    lists: Set[str] = frozenset()
    segments: Set[str] = frozenset()
    # (what it is called, template) -> what is wrong with it, in plain words, or None. Given
    # by the caller: rendering is not graph code.
    template_problem: Callable[[str, str], str | None] | None = None
    # What marketers call templates, lists and segments, and blocks ((type, kind) -> title):
    # with them, messages name things as the screens do instead of by key or block id.
    names: RefNames = NO_NAMES
    block_titles: BlockTitles = field(default_factory=dict)
    # What only the database knows, for the linter's warnings (see lint.py): why an address
    # would be refused to a webhook; the sent templates' SMS length and unguarded fields; the
    # share of contacts that have each field.
    webhook_refusal: Callable[[str], str | None] | None = None
    message_facts: Callable[[Set[str]], Mapping[str, MessageFacts]] | None = None
    attribute_shares: Callable[[Set[str]], Mapping[str, float]] | None = None


class _Labels:
    """How messages name the blocks of one document: their title when known, else their id."""

    def __init__(self, document: Document, known: KnownRefs | None) -> None:
        titles = known.block_titles if known is not None else {}
        self.titles = {
            block.id: title
            for block in document.nodes
            if (title := titles.get((block.type, block.kind)))
        }

    def title(self, block_id: str) -> str | None:
        return self.titles.get(block_id)

    def name(self, block_id: str) -> str:
        return self.titles.get(block_id, block_id)


def check_draft(raw: object, known: KnownRefs | None = None) -> tuple[Document | None, list[Issue]]:
    """Parse and validate a saved draft; what the API answers on save and on activation."""
    document, issues = parse_document(raw, known.block_titles if known is not None else None)
    if document is None:
        return None, issues
    # A setting dropped while parsing would also be reported as missing: say it once.
    reported = [(issue.node, issue.field) for issue in issues if issue.field]
    issues += [
        issue
        for issue in validate(document, known)
        if issue.code != IssueCode.missing_config
        or not any(_covers(place, (issue.node, issue.field)) for place in reported)
    ]
    return document, issues


def _covers(reported: Place, missing: Place) -> bool:
    """True when the reported place is the missing setting or holds it (``config``)."""
    (node, setting), (missing_node, missing_setting) = reported, missing
    if node != missing_node or setting is None or missing_setting is None:
        return False
    return missing_setting == setting or missing_setting.startswith(f"{setting}.")


def validate(document: Document, known: KnownRefs | None = None) -> list[Issue]:
    """Every issue of a parsed document; references are checked only when ``known`` is given."""
    blocks = document.blocks_by_id()
    labels = _Labels(document, known)
    issues: list[Issue] = []
    for block in document.nodes:
        title = labels.title(block.id)
        issues += _config_issues(block, title)
        if known is not None:
            issues += [
                issue
                for reference in block.config.references()
                if (issue := _reference_issue(block.id, reference, known, title))
            ]
            issues += _template_issues(block, known, title)
    usable, edge_issues = _usable_edges(document.edges, blocks, labels)
    issues += edge_issues
    successors: dict[str, list[str]] = {block_id: [] for block_id in blocks}
    for edge in usable:
        successors[edge.source].append(edge.target)
    issues += _shape_issues(document, successors, labels)
    issues += _unwired_issues(document, usable, labels)
    issues += _settings_issues(document.settings, known)
    issues += only_once_issues(document, successors, labels.title)
    issues += lint_issues(document, successors, labels.title, known)
    return issues


def _config_issues(block: BlockBase, title: str | None) -> list[Issue]:
    return [
        Issue(
            node=block.id,
            code=IssueCode.missing_config if problem.missing else IssueCode.invalid_config,
            message=about_block(block.id, problem.message, title),
            severity=problem.severity,
            field=f"config.{problem.field}",
        )
        for problem in block.config.problems()
    ]


def _template_issues(block: BlockBase, known: KnownRefs, title: str | None) -> list[Issue]:
    if known.template_problem is None:
        return []
    return [
        Issue(
            node=block.id,
            code=IssueCode.invalid_config,
            message=about_block(block.id, problem, title),
            field=f"config.{setting}",
        )
        for setting, label, source in block.config.templates()
        if (problem := known.template_problem(label, source))
    ]


def _reference_issue(
    node: str | None, reference: Reference, known: KnownRefs, title: str | None = None
) -> Issue | None:
    config_field = f"config.{reference.field}" if node else reference.field
    key = reference.key

    def issue(code: IssueCode, problem: str) -> Issue:
        if node:
            message = about_block(node, problem, title)
        else:
            message = about(_("Scenario settings"), problem)
        return Issue(node=node, code=code, message=message, field=config_field)

    if reference.kind == "list" and key not in known.lists:
        return issue(IssueCode.unknown_list, _("there is no list %(list)s") % {"list": quote(key)})
    if reference.kind == "segment" and key not in known.segments:
        problem = _("there is no segment %(segment)s") % {"segment": quote(key)}
        return issue(IssueCode.unknown_segment, problem)
    if reference.kind != "message":
        return None
    channel = known.messages.get(key)
    if channel is None:
        problem = _("there is no message template %(message)s") % {"message": quote(key)}
        return issue(IssueCode.unknown_message, problem)
    if reference.channel is not None and channel != reference.channel:
        name = known.names.of("message", key)
        return issue(IssueCode.wrong_channel, _wrong_channel(name, channel))
    return None


def _wrong_channel(name: str, channel: Channel) -> str:
    if channel == "email":
        problem = _("%(message)s is an email template; this block sends an SMS")
    else:
        problem = _("%(message)s is an SMS template; this block sends an email")
    return problem % {"message": quote(name)}


def _usable_edges(
    edges: list[Edge], blocks: Mapping[str, BlockBase], labels: _Labels
) -> tuple[list[Edge], list[Issue]]:
    """The links the graph checks can follow, and what is wrong with the others."""
    usable: list[Edge] = []
    issues: list[Issue] = []
    targets_by_port: dict[tuple[str, str], list[str]] = {}
    for edge in edges:
        issue = _edge_issue(edge, blocks, labels)
        if issue is not None:
            issues.append(issue)
            continue
        usable.append(edge)
        targets_by_port.setdefault((edge.source, edge.port), []).append(edge.target)
    for (source, port), targets in targets_by_port.items():
        if len(targets) > 1:
            linked = ", ".join(quote(labels.name(target)) for target in targets)
            if port == "out":
                problem = _(
                    "its output is linked to several blocks (%(blocks)s); a path can lead to only"
                    " one block"
                ) % {"blocks": linked}
            else:
                problem = _(
                    "its %(port)s output is linked to several blocks (%(blocks)s); a path can lead"
                    " to only one block"
                ) % {"port": port_name(port), "blocks": linked}
            message = about_block(source, problem, labels.title(source))
            issues.append(Issue(node=source, code=IssueCode.port_wired_twice, message=message))
    return usable, issues


def _edge_issue(edge: Edge, blocks: Mapping[str, BlockBase], labels: _Labels) -> Issue | None:
    source, target = blocks.get(edge.source), blocks.get(edge.target)
    if source is None:
        message = _("A link starts from block %(block)s, which doesn't exist") % {
            "block": quote(edge.source)
        }
        return Issue(node=None, code=IssueCode.edge_unknown_node, message=message)
    if target is None:
        message = _("Block %(block)s is linked to block %(target)s, which doesn't exist") % {
            "block": quote(labels.name(edge.source)),
            "target": quote(edge.target),
        }
        return Issue(node=edge.source, code=IssueCode.edge_unknown_node, message=message)
    ports = source.ports()
    if edge.port not in ports:
        if not ports and type(source).PORTS_FROM:
            hint = _("it has no branches yet")
        elif not ports:
            hint = _("it ends the journey, so nothing can follow it")
        elif ports == ("out",):
            hint = _("it has a single output")
        elif ports == ("yes", "no"):
            hint = _("use its YES or NO output")
        else:
            hint = _("use one of its outputs: %(ports)s") % {
                "ports": ", ".join(quote(source.port_label(port)) for port in ports)
            }
        message = _("Block %(block)s has no %(port)s output; %(hint)s") % {
            "block": quote(labels.name(edge.source)),
            "port": quote(edge.port),
            "hint": hint,
        }
        return Issue(node=edge.source, code=IssueCode.unknown_port, message=message)
    if not target.takes_input:
        message = _(
            "Block %(block)s is a trigger: journeys start there, so no link can lead into it"
        ) % {"block": quote(labels.name(edge.target))}
        return Issue(node=edge.target, code=IssueCode.edge_into_trigger, message=message)
    return None


def _shape_issues(
    document: Document, successors: dict[str, list[str]], labels: _Labels
) -> list[Issue]:
    triggers = [block.id for block in document.triggers()]
    if not triggers:
        message = _("The scenario has no trigger: add one to say when contacts enter")
        return [Issue(node=None, code=IssueCode.no_trigger, message=message)]
    issues: list[Issue] = []
    reached = reachable(triggers, successors)
    for block in document.nodes:
        if block.id not in reached:
            message = _(
                "Block %(block)s can't be reached from any trigger, so no contact will ever get"
                " there"
            ) % {"block": quote(labels.name(block.id))}
            issues.append(Issue(node=block.id, code=IssueCode.unreachable, message=message))
    for loop in loops([block.id for block in document.nodes], successors):
        if len(loop) == 1:
            message = _("Block %(block)s is linked to itself; a journey can't loop") % {
                "block": quote(labels.name(loop[0]))
            }
        else:
            names = ", ".join(quote(labels.name(block_id)) for block_id in loop)
            message = _("Blocks %(blocks)s lead back to each other; a journey can't loop") % {
                "blocks": names
            }
        issues.append(Issue(node=loop[0], code=IssueCode.cycle, message=message))
    return issues


def _unwired_issues(document: Document, edges: list[Edge], labels: _Labels) -> list[Issue]:
    wired = {(edge.source, edge.port) for edge in edges}
    issues: list[Issue] = []
    for block in document.nodes:
        if not block.takes_input and (block.id, "out") not in wired:
            problem = _("nothing follows this trigger, so contacts enter and leave at once")
            message = about_block(block.id, problem, labels.title(block.id))
            issues.append(_warning(block.id, IssueCode.trigger_leads_nowhere, message))
        for port in block.ports():
            if port in ("yes", "no") and (block.id, port) not in wired:
                problem = _(
                    "nothing is linked to the %(port)s output, so the journey ends here for %(who)s"
                ) % {"port": port_name(port), "who": _who(block, port)}
                message = about_block(block.id, problem, labels.title(block.id))
                issues.append(_warning(block.id, IssueCode.port_unwired, message))
    return issues


def port_name(port: str) -> str:
    """``YES`` / ``NO`` as the canvas names a block's outputs (``OUI`` / ``NON`` in French)."""
    if port == "yes":
        return _("YES")
    if port == "no":
        return _("NO")
    return port.upper()


def _who(block: BlockBase, port: str) -> str:
    if block.kind == "wait_for_event":
        return (
            _("contacts whose event comes in time")
            if port == "yes"
            else _("contacts whose event doesn't come in time")
        )
    if block.kind == "wait_for_condition":
        return (
            _("contacts for whom the condition comes true in time")
            if port == "yes"
            else _("contacts for whom it is still not true at the time limit")
        )
    return _("contacts who answer %(port)s") % {"port": port_name(port)}


def _settings_issues(settings: Settings, known: KnownRefs | None) -> list[Issue]:
    issues: list[Issue] = []
    cooldown = settings.cooldown_seconds
    if cooldown is not None and cooldown < 0:
        message = about(_("Scenario settings"), _("the wait before re-entering can't be negative"))
        issues.append(
            Issue(
                node=None,
                code=IssueCode.invalid_settings,
                message=message,
                field="settings.cooldown_seconds",
            )
        )
    elif cooldown and settings.reentry == "once":
        message = about(
            _("Scenario settings"),
            _("the wait before re-entering has no effect when contacts enter only once"),
        )
        issues.append(
            _warning(None, IssueCode.invalid_settings, message, "settings.cooldown_seconds")
        )
    goal = settings.exit_when
    if goal is not None:
        problems = (
            event_name_problems(goal.event)
            if isinstance(goal, ExitOnEvent)
            else condition_limit_problems(goal)
        )
        issues += [
            Issue(
                node=None,
                code=IssueCode.invalid_settings,
                message=about(
                    _("Scenario settings"),
                    _("the goal cannot be used: %(problem)s") % {"problem": problem},
                ),
                field="settings.exit_when",
            )
            for problem in problems
        ]
    if known is not None and goal is not None and not isinstance(goal, ExitOnEvent):
        for key in lists_referenced(goal):
            reference = Reference("list", key, "settings.exit_when")
            if issue := _reference_issue(None, reference, known):
                issues.append(issue)
    return issues


def _warning(node: str | None, code: IssueCode, message: str, field: str | None = None) -> Issue:
    return Issue(node=node, code=code, message=message, severity="warning", field=field)
