"""The linter: warnings about scenarios that would run, but not as the marketer means.

Each warning is on its block (or the scenario settings), never blocks activation, and says
what to do. Most read the document alone; three need what only the database knows, given by
the caller through ``KnownRefs`` as functions (the graph package does no I/O):

- ``webhook_refusal(url)``: why the sender would refuse to call an address (a private or
  loopback one, unless allowed), or None;
- ``message_facts(keys)``: for the message templates the scenario sends, the SMS segments the
  text takes for the sample contact and the contact fields it shows without a fallback;
- ``attribute_shares(names)``: the share of contacts that have each of those fields.

What "a wait nobody leaves" means here: a "Wait for an event" whose event is also the
scenario's goal. The engine reaches goals before it resumes waits, so a contact who does the
event leaves at the goal and never takes the wait's YES output: whatever follows it (other
than an exit, which the goal does anyway) never runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.graph.block_base import BlockBase
from app.graph.condition_sense import sense_of, sense_warning
from app.graph.document import Document, ExitOnEvent
from app.graph.issues import Issue, IssueCode, about_block
from app.graph.reentry_reach import DELAYS
from app.graph.wait_condition_lint import wait_condition_issues
from app.graph.wording import about, humanize, quote
from app.i18n.formatting import format_percent
from app.i18n.text import _

if TYPE_CHECKING:
    from app.graph.validate import KnownRefs

MESSAGES = frozenset({"send_email", "send_sms"})
MAX_SMS_SEGMENTS = 3
# A field fewer than this share of contacts have is one "most contacts lack".
MOSTLY_MISSING = 0.5
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

TitleOf = Callable[[str], str | None]


@dataclass(frozen=True)
class MessageFacts:
    """What the database knows about one message template, for the linter."""

    sms_segments: int | None = None  # SMS only, as rendered for the sample contact
    # Contact fields the message shows with no fallback (no ``default``, no ``{% if %}``).
    fields: frozenset[str] = frozenset()


def lint_issues(
    document: Document,
    successors: Mapping[str, list[str]],
    title_of: TitleOf,
    known: KnownRefs | None,
) -> list[Issue]:
    """Every warning of the linter for a parsed document (those needing the database only
    when ``known`` gives the means)."""
    issues = _condition_issues(document, title_of)
    issues += _back_to_back_issues(document, successors, title_of, known)
    issues += _unmatched_wait_issues(document, successors, title_of)
    issues += _goal_issues(document, title_of)
    issues += _goal_wait_issues(document, successors, title_of)
    issues += wait_condition_issues(document, title_of)
    if known is not None:
        issues += _webhook_issues(document, title_of, known)
        issues += _message_issues(document, title_of, known)
    return issues


def _warning(node: str | None, code: IssueCode, message: str, field: str | None) -> Issue:
    return Issue(node=node, code=code, message=message, severity="warning", field=field)


def _condition_issues(document: Document, title_of: TitleOf) -> list[Issue]:
    issues: list[Issue] = []
    for block in document.nodes:
        condition = getattr(block.config, "condition", None) if block.kind == "if" else None
        if condition is not None and (sense := sense_of(condition)) is not None:
            never = _(
                "this condition is never true (%(reason)s), so every contact takes NO; "
                "change it so that it can go both ways"
            )
            always = _(
                "this condition is always true (%(reason)s), so every contact takes YES; "
                "change it so that it can go both ways"
            )
            issues.append(sense_warning(block.id, sense, never, always, title_of(block.id)))
        where = getattr(block.config, "where", None) if block.kind == "event" else None
        sense = sense_of(where) if where is not None else None
        if sense is not None and sense.verdict == "never":
            problem = _(
                "its filter is never true (%(reason)s), so this trigger never starts a "
                "journey; change the filter"
            ) % {"reason": sense.reason}
            message = about_block(block.id, problem, title_of(block.id))
            issues.append(
                _warning(block.id, IssueCode.condition_never_true, message, "config.where")
            )
    goal = document.settings.exit_when
    if goal is not None and not isinstance(goal, ExitOnEvent):
        sense = sense_of(goal)
        if sense is not None:
            if sense.verdict == "never":
                code, problem = (
                    IssueCode.condition_never_true,
                    _(
                        "the goal can never be reached (%(reason)s), so no contact leaves early; "
                        "change the goal or remove it"
                    ),
                )
            else:
                code, problem = (
                    IssueCode.condition_always_true,
                    _(
                        "the goal is reached at once (%(reason)s), so every contact leaves as soon "
                        "as they enter; change the goal"
                    ),
                )
            message = about(_("Scenario settings"), problem % {"reason": sense.reason})
            issues.append(_warning(None, code, message, "settings.exit_when"))
    return issues


def _back_to_back_issues(
    document: Document,
    successors: Mapping[str, list[str]],
    title_of: TitleOf,
    known: KnownRefs | None,
) -> list[Issue]:
    """A message reached from another one through blocks that take no time (conditions,
    lists, scores…): the contact gets both at the same moment."""
    blocks = document.blocks_by_id()
    before: dict[str, list[str]] = {}
    for block in document.nodes:
        if block.kind not in MESSAGES:
            continue
        seen: set[str] = set()
        todo = list(successors.get(block.id, []))
        while todo:
            block_id = todo.pop()
            if block_id in seen or block_id not in blocks:
                continue
            seen.add(block_id)
            kind = blocks[block_id].kind
            if kind in DELAYS:
                continue
            if kind in MESSAGES:
                if block_id != block.id:  # back to itself: a loop, reported as an error
                    before.setdefault(block_id, []).append(block.id)
                continue
            todo += successors.get(block_id, [])
    issues = []
    for block in document.nodes:
        if block.id not in before:
            continue
        previous = ", ".join(
            _message_name(blocks[b], title_of, known) for b in sorted(set(before[block.id]))
        )
        problem = _(
            "it is sent right after %(previous)s with no wait in between, so contacts get both "
            "at the same moment; add a %(wait)s block between them (a day is common)"
        ) % {"previous": previous, "wait": quote(_("Wait"))}
        message = about_block(block.id, problem, title_of(block.id))
        issues.append(_warning(block.id, IssueCode.messages_back_to_back, message, None))
    return issues


def _message_name(block: BlockBase, title_of: TitleOf, known: KnownRefs | None) -> str:
    """The earlier message as the marketer knows it: its template's name, else its block."""
    key = getattr(block.config, "message", None)
    if key:
        return quote(known.names.of("message", key) if known is not None else key)
    return quote(title_of(block.id) or block.id)


def _unmatched_wait_issues(
    document: Document, successors: Mapping[str, list[str]], title_of: TitleOf
) -> list[Issue]:
    """A journey about one instance (the trigger's ``key``: one cart) whose wait takes the
    awaited event for any instance (a purchase of another cart ends this cart's wait)."""
    blocks = document.blocks_by_id()
    keys_at: dict[str, set[str]] = {}
    for trigger in document.triggers():
        key = getattr(trigger.config, "key", None) if trigger.kind == "event" else None
        if not key or not str(key).strip():
            continue
        for block_id in _after(trigger.id, successors):
            block = blocks.get(block_id)
            if block is not None and block.kind == "wait_for_event":
                keys_at.setdefault(block_id, set()).add(str(key).strip())
    issues = []
    for block_id, keys in keys_at.items():
        config = blocks[block_id].config
        if str(getattr(config, "match_key", None) or "").strip():
            continue
        key = sorted(keys)[0]
        event = getattr(config, "event", None) or _("the event")
        problem = _(
            "each journey is about one %(key)s (the trigger's instance), but this wait takes "
            "any %(event)s, even one for another %(key)s; set %(setting)s to %(key)s"
        ) % {
            "key": quote(key),
            "event": quote(event),
            "setting": quote(_("Same … as the trigger (optional)")),
        }
        message = about_block(block_id, problem, title_of(block_id))
        issues.append(_warning(block_id, IssueCode.wait_not_matched, message, "config.match_key"))
    return issues


def _after(start: str, successors: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(successors.get(start, []))
    while todo:
        block_id = todo.pop()
        if block_id not in seen:
            seen.add(block_id)
            todo += successors.get(block_id, [])
    return seen


def _goal_issues(document: Document, title_of: TitleOf) -> list[Issue]:
    """A segment trigger without a goal: contacts stay in the journey once they have left the
    segment or done what it was for."""
    if document.settings.exit_when is not None:
        return []
    issues = []
    for trigger in document.triggers():
        if trigger.kind != "segment_entered":
            continue
        problem = _(
            "contacts who enter the segment stay in the journey even after they leave it or do "
            "what it is for; set a goal in the scenario settings (a purchase, for example) so "
            "they leave as soon as it is reached"
        )
        message = about_block(trigger.id, problem, title_of(trigger.id))
        issues.append(_warning(trigger.id, IssueCode.no_goal, message, "settings.exit_when"))
    return issues


def _goal_wait_issues(
    document: Document, successors: Mapping[str, list[str]], title_of: TitleOf
) -> list[Issue]:
    goal = document.settings.exit_when
    if not isinstance(goal, ExitOnEvent):
        return []
    blocks = document.blocks_by_id()
    issues = []
    for block in document.nodes:
        if block.kind != "wait_for_event" or getattr(block.config, "event", None) != goal.event:
            continue
        after_yes = [
            blocks[target]
            for edge in document.edges
            if edge.source == block.id and edge.port == "yes"
            for target in [edge.target]
            if target in blocks
        ]
        if not after_yes or all(target.kind == "exit" for target in after_yes):
            continue  # The goal ends the journey where YES would have: nothing is lost.
        problem = _(
            "no contact ever leaves this wait by YES: %(event)s is also the scenario's goal, "
            "which takes contacts out of the scenario as soon as it happens, so the blocks after "
            "YES never run; wait for another event, or change the goal"
        ) % {"event": quote(goal.event)}
        message = about_block(block.id, problem, title_of(block.id))
        issues.append(_warning(block.id, IssueCode.wait_never_left, message, "config.event"))
    return issues


def _webhook_issues(document: Document, title_of: TitleOf, known: KnownRefs) -> list[Issue]:
    if known.webhook_refusal is None:
        return []
    issues = []
    for block in document.nodes:
        if block.kind != "webhook":
            continue
        url = str(getattr(block.config, "url", None) or "").strip()
        if not url or (reason := known.webhook_refusal(url)) is None:
            continue
        problem = _(
            "the server will refuse to call this address: %(reason)s; use a public address, or "
            "ask your administrator to add it to PARCOURS_WEBHOOK_ALLOW if it is meant"
        ) % {"reason": reason}
        message = about_block(block.id, problem, title_of(block.id))
        issues.append(_warning(block.id, IssueCode.webhook_refused, message, "config.url"))
    return issues


def _message_issues(document: Document, title_of: TitleOf, known: KnownRefs) -> list[Issue]:
    if known.message_facts is None:
        return []
    sent = {
        block.id: str(key)
        for block in document.nodes
        if block.kind in MESSAGES and (key := getattr(block.config, "message", None))
    }
    if not sent:
        return []
    facts = known.message_facts(set(sent.values()))
    fields = {name for key in set(sent.values()) if key in facts for name in facts[key].fields}
    shares = known.attribute_shares(fields) if fields and known.attribute_shares else {}
    issues: list[Issue] = []
    for block_id, key in sent.items():
        found = facts.get(key)
        if found is None:
            continue
        name = quote(known.names.of("message", key))
        segments = found.sms_segments
        if segments is not None and segments > MAX_SMS_SEGMENTS:
            problem = _(
                "%(message)s takes %(count)s SMS segments for the sample contact, each sent and "
                "billed as one SMS; shorten it to %(most)s segments or fewer"
            ) % {"message": name, "count": segments, "most": MAX_SMS_SEGMENTS}
            message = about_block(block_id, problem, title_of(block_id))
            issues.append(_warning(block_id, IssueCode.sms_too_long, message, None))
        for field_name in sorted(found.fields):
            share = shares.get(field_name)
            if share is None or share >= MOSTLY_MISSING:
                continue
            problem = _(
                "only %(share)s of your contacts have %(field)s, which %(message)s shows: the "
                "others see a blank there; give it a fallback, e.g. %(example)s, or fill it in "
                "for more contacts"
            ) % {
                "share": format_percent(share),
                "field": quote(humanize(field_name)),
                "message": name,
                "example": _fallback_example(field_name),
            }
            message = about_block(block_id, problem, title_of(block_id))
            issues.append(_warning(block_id, IssueCode.field_mostly_missing, message, None))
    return issues


def _fallback_example(name: str) -> str:
    reach = (
        f"contact.{name}"
        if _IDENTIFIER.match(name)
        else f"contact.attributes[{json.dumps(name, ensure_ascii=False)}]"
    )
    return "{{ " + reach + " | default('…') }}"
