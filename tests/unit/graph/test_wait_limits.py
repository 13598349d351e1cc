"""A wait lasts at most 10 years: past that its wake-up would fall beyond the calendar the
engine keeps, so the block says so instead of failing its contacts later."""

from __future__ import annotations

import pytest

from app.graph import check_draft
from app.graph.block_base import LONGEST_WAIT_SECONDS
from tests.unit.graph.builders import after_trigger, node


@pytest.mark.parametrize(
    "block",
    [
        node("pause", "delay", "wait", seconds=LONGEST_WAIT_SECONDS + 1),
        node("pause", "delay", "wait_for_event", event="paid", timeout_seconds=10**30),
    ],
)
def test_a_wait_longer_than_ten_years_is_refused_in_words(block: dict) -> None:  # type: ignore[type-arg]
    _, issues = check_draft(after_trigger(block))
    errors = [i.message for i in issues if i.is_error]
    assert errors == ["Block 'pause': a wait can last at most 10 years"]


def test_ten_years_is_still_a_wait() -> None:
    ten_years = node("pause", "delay", "wait", seconds=LONGEST_WAIT_SECONDS)
    _, issues = check_draft(after_trigger(ten_years))
    assert not [i for i in issues if i.is_error]
