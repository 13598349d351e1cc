"""The linter says when "Only once" leaves a condition's output unused in practice."""

from __future__ import annotations

import itertools
from typing import Any

from app.graph import Issue, IssueCode, KnownRefs, check_draft
from app.i18n import speaking
from tests.unit.graph.builders import link, node, scenario, trigger

KNOWN = KnownRefs(messages={"thanks": "email"}, lists=frozenset({"loyal"}))
LOYAL = {"event": "purchase", "op": "count_gte", "value": 2}


def loyal_customers(condition: dict[str, Any], *between: dict[str, Any], **settings: Any) -> Any:
    """Trigger "purchase" → [between…] → if condition → YES: add to "loyal", NO: thank."""
    nodes = [
        trigger(event="purchase"),
        *between,
        node("repeat", "condition", "if", **{"if": condition}),
        node("loyal", "action", "add_to_list", list="loyal"),
        node("thanks", "action", "send_email", message="thanks"),
    ]
    chain = ["start", *(b["id"] for b in between), "repeat"]
    edges = [link(a, b) for a, b in itertools.pairwise(chain)]
    edges += [link("repeat", "loyal", "yes"), link("repeat", "thanks", "no")]
    return scenario(nodes, edges, **settings)


def never_taken(raw: Any) -> list[Issue]:
    _, issues = check_draft(raw, KNOWN)
    return [i for i in issues if i.code == IssueCode.branch_never_taken]


def test_counting_repeat_purchases_with_only_once_says_the_yes_output_is_never_reached() -> None:
    (issue,) = never_taken(loyal_customers(LOYAL, reentry="once"))

    assert (issue.node, issue.severity, issue.field) == ("repeat", "warning", "settings.reentry")
    assert issue.message == (
        "Block 'repeat': with 'Only once', contacts enter at one 'purchase' and never come back "
        "for the next, so here 'purchase' has happened once for a new contact: "
        "'purchase happened at least 2 times' is false and they all take NO. The YES output "
        "is only reached by contacts who did 'purchase' before the scenario started. To count "
        "repeat 'purchase' events, choose 'Every time it is triggered' in the scenario settings."
    )


def test_fewer_than_two_with_only_once_leaves_the_no_output_unused() -> None:
    (issue,) = never_taken(
        loyal_customers({"event": "purchase", "op": "count_lt", "value": 2}, reentry="once")
    )
    assert "they all take YES. The NO output is only reached" in issue.message


def test_the_warning_is_said_in_french() -> None:
    with speaking("fr"):
        (issue,) = never_taken(loyal_customers(LOYAL, reentry="once"))
    assert "« Une seule fois »" in issue.message
    assert "« À chaque déclenchement »" in issue.message
    assert "OUI" in issue.message
    assert "NON" in issue.message
    assert "contacts enter" not in issue.message


def test_no_warning_when_the_condition_can_go_either_way() -> None:
    other_event = {"event": "review", "op": "count_gte", "value": 2}
    one_purchase = {"event": "purchase", "op": "count_gte", "value": 1}
    wait = node("later", "delay", "wait", seconds=86400)
    cases = {
        "contacts may enter every time": loyal_customers(LOYAL, reentry="always"),
        "again after their journey": loyal_customers(LOYAL, reentry="after_exit"),
        "another event is counted": loyal_customers(other_event, reentry="once"),
        "at least once is the trigger itself": loyal_customers(one_purchase, reentry="once"),
        "a wait lets more purchases come in": loyal_customers(LOYAL, wait, reentry="once"),
    }
    for why, raw in cases.items():
        assert never_taken(raw) == [], why


def test_a_second_trigger_of_another_kind_keeps_the_branch_reachable() -> None:
    raw = loyal_customers(LOYAL, reentry="once")
    raw["nodes"].append(node("manual", "trigger", "manual"))
    raw["edges"].append(link("manual", "repeat"))
    assert never_taken(raw) == []


def test_inside_an_all_condition_the_yes_output_is_still_never_reached() -> None:
    both = {"all": [LOYAL, {"attribute": "country", "op": "eq", "value": "FR"}]}
    (issue,) = never_taken(loyal_customers(both, reentry="once"))
    assert issue.node == "repeat"
