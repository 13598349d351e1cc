"""How much one template may do when it is filled in: the rendering budget.

A template is code a marketer writes, run by the worker in threads that cannot be stopped
from outside. So each render carries a ``Budget`` and the sandbox
(``app/services/messaging/sandbox.py``)
checks it cooperatively wherever a template can make work or text grow: every loop round,
call and filter, ``+ * %`` and ``~``, every piece of text written. A check is a counter and a
clock read, so a message within its budget renders as before and costs almost nothing more.

- **Text**: what a field produces is capped (1 MB for an email body, less for a subject or an
  SMS), and so is any one value built on the way (1 MB) and all the text built in one render
  (20 MB), which is what keeps memory bounded.
- **Steps whose growth the template controls** (padding widths, separators, repetitions,
  indentation, ``range``) are predicted and refused before they run; other steps can grow
  their input only by a small factor before the check after them catches it.
- **Loops** run 100,000 rounds at most, **time** is 2 seconds per message.

The same budget applies when a template is saved (rendered for the sample contact), in the
editor's preview and at send time, where going over it fails that one send.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jinja2.utils import Namespace

from app.i18n import Phrase, say, say_n, speaking

MB = 1_000_000
MAX_VALUE = MB  # characters (or list items) any one value may hold
MAX_WORK = 20 * MB  # characters built in all during one render
MAX_ROUNDS = 100_000  # loop rounds in one render
MAX_RANGE = 10_000  # items a range() may count
MAX_WIDTH = 10_000  # padding, alignment, indentation and precision
MAX_DEPTH = 64  # levels of nesting in a value
TIME_LIMIT_SECONDS = 2.0


def text_size(limit: int) -> Phrase:
    """“1 MB” or “2,000 characters”, as a marketer reads a limit (in the reader's words)."""
    if limit >= MB and limit % MB == 0:
        return say("%(size)s MB", size=limit // MB)
    return say_n("%(count)s character", "%(count)s characters", limit)


class OverBudget(Exception):
    """A template went over its budget. ``what`` completes “the HTML body …” or “this
    template …”; ``advice`` says what to change. Both are phrases, written in the reader's
    language when shown; ``str()`` is English (it may be stored)."""

    def __init__(self, what: Phrase, advice: Phrase) -> None:
        super().__init__(what.message)
        self.what_phrase = what
        self.advice_phrase = advice

    @property
    def what(self) -> str:
        return self.what_phrase.render()

    @property
    def advice(self) -> str:
        return self.advice_phrase.render()

    def __str__(self) -> str:
        with speaking("en"):
            return f"{self.what}. {self.advice}"


def too_much_text(limit: int) -> OverBudget:
    return OverBudget(
        say("produces too much text (over %(size)s)", size=text_size(limit)),
        say("Shorten it, or make its loops repeat less."),
    )


def too_wide() -> OverBudget:
    return OverBudget(
        say(
            "pads, aligns or indents text too widely (%(width)s characters at most)",
            width=MAX_WIDTH,
        ),
        say("Use a smaller width."),
    )


# (what, advice) pairs: a fresh exception is raised each time, so no traceback is kept
# from one render to the next.
TOO_MANY_ROUNDS = (
    say("repeats its loops too many times (over %(rounds)s rounds)", rounds=MAX_ROUNDS),
    say("Loop over fewer items, or nest fewer loops."),
)
RANGE_TOO_LONG = (
    say("counts a range that is too long (%(numbers)s numbers at most)", numbers=MAX_RANGE),
    say("Use a shorter range."),
)
TOO_SLOW = (
    say("takes too long to fill in (over %(seconds)s seconds)", seconds=TIME_LIMIT_SECONDS),
    say("Make its loops repeat less, or simplify it."),
)
TOO_MUCH_WORK = (
    say("builds too much text while it is filled in (over %(size)s)", size=text_size(MAX_WORK)),
    say("Make its loops repeat less, or build smaller pieces of text."),
)
TOO_DEEP = (
    say("uses a value nested too deeply (over %(levels)s levels)", levels=MAX_DEPTH),
    say("Use a flatter value."),
)
NUMBER_TOO_LARGE = (
    say("computes a number that is too large"),
    say("Use smaller numbers or powers."),
)
# Steps whose time grows with the square of their input, where a clock read cannot help.
TOO_MANY_LISTS = (say("adds up too many lists at once"), say("Add up fewer, or shorter, lists."))
WORDS_TOO_LONG = (
    say("breaks very long words into too many lines"),
    say("Use a wider width, or keep long words whole with break_long_words=false."),
)


@dataclass
class Budget:
    """What is left for one render of one field."""

    output_limit: int = MAX_VALUE
    deadline: float = field(default_factory=lambda: time.monotonic() + TIME_LIMIT_SECONDS)
    rounds: int = 0
    work: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise OverBudget(*TOO_SLOW)

    def round(self) -> None:
        self.rounds += 1
        if self.rounds > MAX_ROUNDS:
            raise OverBudget(*TOO_MANY_ROUNDS)
        self.tick()

    def charge(self, characters: int) -> None:
        """Counts text built (not text merely passed along)."""
        self.work += characters
        if self.work > MAX_WORK:
            raise OverBudget(*TOO_MUCH_WORK)

    def collect(self, chunks: Iterable[str]) -> str:
        """The field's text, stopped as soon as it is over its limit."""
        parts: list[str] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > self.output_limit:
                raise too_much_text(self.output_limit)
            parts.append(chunk)
            if not len(parts) % 32:  # writing is cheap: the clock is read now and then
                self.tick()
        return "".join(parts)


_current: ContextVar[Budget | None] = ContextVar("parcours_render_budget", default=None)


def active() -> Budget | None:
    return _current.get()


def current() -> Budget:
    """The render's budget; outside any render (a constant folded at compile time) a fresh
    one, so every per-step limit still holds."""
    return _current.get() or Budget()


@contextmanager
def budgeted(budget: Budget) -> Iterator[Budget]:
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


# --- measuring values -------------------------------------------------------------------

_SIZED_CONTAINERS = (list, tuple, set, frozenset)


def measure(value: Any, limit: int = MAX_VALUE) -> tuple[int, int]:
    """About how many characters ``str(value)`` makes, and how deeply it nests.

    Counting stops once over ``limit``, so a huge value (a list holding the same long text
    a million times) costs no more to measure than a value just over the limit.
    """
    kind = type(value)
    if kind is str or kind is bytes or isinstance(value, str):
        return len(value), 0
    if kind in _SHORT:
        return _short(value), 0
    total = 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and total <= limit:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str or isinstance(item, str | bytes | bytearray):
            total += len(item)
            continue
        if kind in _SHORT:
            total += _short(item)
            continue
        if isinstance(item, Namespace):
            item = object.__getattribute__(item, "_Namespace__attrs")
        if kind is dict or isinstance(item, Mapping):
            children: Iterable[Any] = [x for pair in item.items() for x in pair]
            total += 2 + 2 * len(item)
        elif kind in _SIZED_CONTAINERS or isinstance(item, _SIZED_CONTAINERS) or _is_view(item):
            children = item
            total += 2 + 2 * len(item)
        else:
            total += 16  # a date, an undefined value, a macro: a short text
            continue
        if depth >= MAX_DEPTH:
            raise OverBudget(*TOO_DEEP)
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return total, deepest


_SHORT = frozenset({int, bool, float, type(None)})


def _short(value: Any) -> int:
    return value.bit_length() // 3 + 1 if type(value) is int else 16


def _is_view(item: Any) -> bool:
    return type(item).__name__ in {"dict_keys", "dict_values", "dict_items"}


def check_value(value: Any) -> int:
    """Refuses a value too large to become text; returns its size."""
    size, _ = measure(value)
    if size > MAX_VALUE:
        raise too_much_text(MAX_VALUE)
    return size


def check_width(width: Any) -> None:
    if isinstance(width, int) and not isinstance(width, bool) and width > MAX_WIDTH:
        raise too_wide()


def check_size(predicted: int) -> None:
    if predicted > MAX_VALUE:
        raise too_much_text(MAX_VALUE)


def budget_range(*args: int) -> range:
    """``range`` for templates: 10,000 numbers at most."""
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:  # more numbers than a machine word counts
        raise OverBudget(*RANGE_TOO_LONG) from None
    if count > MAX_RANGE:
        raise OverBudget(*RANGE_TOO_LONG)
    return numbers


class Rounds:
    """A loop's items, each round counted against the budget.

    Keeps the length of what it wraps, so ``loop.length`` and ``loop.last`` work as before.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Any) -> None:
        self._items = items

    def __iter__(self) -> Iterator[Any]:
        budget = current()
        for item in self._items:
            budget.round()
            yield item

    def __len__(self) -> int:
        return len(self._items)


def charged(items: Iterable[Any]) -> Iterator[Any]:
    """A lazy result (``map``, ``select``…): each item is checked and counted as it comes."""
    budget = current()
    for item in items:
        budget.charge(check_value(item))
        yield item


class TextBuffer(list[str]):
    """Where a macro, a ``{% set %}`` block or a ``{% filter %}`` block writes its text:
    it may hold one value's worth (1 MB), and what it takes is counted."""

    size = 0

    def append(self, item: str) -> None:
        self._take(len(item))
        super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        items = tuple(items)
        self._take(sum(len(item) for item in items))
        super().extend(items)

    def _take(self, characters: int) -> None:
        self.size += characters
        if self.size > MAX_VALUE:
            raise too_much_text(MAX_VALUE)
        current().charge(characters)
