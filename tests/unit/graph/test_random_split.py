"""The random split's settings, outputs and draw (DESIGN §3, CONTRACTS-2 §D)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from app.graph import check_draft, compile_document
from app.graph.issues import IssueCode
from app.graph.split_blocks import RandomSplitBlock, RandomSplitConfig, draw
from tests.unit.graph.builders import link, node, scenario


def split(*branches: tuple[str, str | None, int | None]) -> dict[str, Any]:
    rows = [
        {k: v for k, v in {"port": p, "label": label, "percent": pct}.items() if v is not None}
        for p, label, pct in branches
    ]
    return node("ab", "condition", "random_split", branches=rows)


def problems(*branches: tuple[str, str | None, int | None]) -> list[str]:
    config = RandomSplitConfig.model_validate({"branches": split(*branches)["config"]["branches"]})
    return [problem.message for problem in config.problems()]


def test_a_split_has_one_output_per_branch_named_by_its_label() -> None:
    block = RandomSplitBlock.model_validate(
        split(("a", "A", 40), ("b", "Promo", 40), ("h", None, 20))
    )

    assert block.ports() == ("a", "b", "h")
    assert block.port_label("b") == "Promo"
    assert block.port_label("h") == "h"
    assert block.summary() == "Split at random: A 40 % · Promo 40 % · h 20 %"


@pytest.mark.parametrize(
    ("branches", "message"),
    [
        ((("a", "A", 100),), "a split has 2 to 5 branches; this one has 1"),
        (tuple((p, p, 10) for p in "abcdef"), "a split has 2 to 5 branches; this one has 6"),
        ((("a", "A", 60), ("b", "B", 30)), "the percentages add up to 90 %; they must make 100 %"),
        ((("a", "A", 110), ("b", "B", -10)), "branch 'A' must take between 0 and 100 %"),
        ((("a", "A", 50), ("b", "B", None)), "set the percentage of branch 'B'"),
        ((("a", "A", 50), ("a", "B", 50)), "two branches are both called 'a'"),
        ((("a", "A", 50), ("yes", "B", 50)), "'yes' cannot name a branch; use a, b, c…"),
    ],
)
def test_settings_that_cannot_split_are_said_plainly(
    branches: tuple[tuple[str, str, int | None], ...], message: str
) -> None:
    assert message in problems(*branches)


def test_a_split_that_adds_up_has_no_problem() -> None:
    assert problems(("a", "A", 34), ("b", "B", 33), ("c", "C", 33)) == []


def test_a_branch_at_0_percent_takes_no_one() -> None:
    config = RandomSplitConfig.model_validate(
        {"branches": [{"port": "a", "percent": 0}, {"port": "b", "percent": 100}]}
    )

    assert config.problems() == []
    assert {found[0].port for n in range(100) if (found := config.branch_for(n))} == {"b"}


def test_links_leave_by_the_branches_and_an_unlinked_branch_is_a_quiet_holdout() -> None:
    graph = scenario(
        [node("start", "trigger", "manual"), split(("a", "A", 90), ("h", "Holdout", 10)),
         node("x", "action", "exit")],
        [link("start", "ab"), link("ab", "x", "a")],
    )  # fmt: skip
    document, issues = check_draft(graph)

    assert document is not None
    assert issues == []
    assert compile_document(document).successor("ab", "a") == "x"


def test_a_link_from_a_branch_that_is_gone_names_the_outputs_there_are() -> None:
    graph = scenario(
        [node("start", "trigger", "manual"), split(("a", "A", 50), ("b", "B", 50)),
         node("x", "action", "exit")],
        [link("start", "ab"), link("ab", "x", "c")],
    )  # fmt: skip
    _document, issues = check_draft(graph)

    [issue] = [i for i in issues if i.code == IssueCode.unknown_port]
    assert issue.message.endswith("has no 'c' output; use one of its outputs: 'A', 'B'")


def test_the_draw_is_stable_and_spreads_evenly() -> None:
    assert draw("17:1767225600000000", "ab") == draw("17:1767225600000000", "ab")
    draws = Counter(draw(f"{n}:0", "ab") // 10 for n in range(10_000))
    assert all(900 < count < 1100 for count in draws.values()), draws
    assert len(draws) == 10
