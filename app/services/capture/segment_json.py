"""Reading a Segment batch body once, with the size of each message.

Segment limits each message to 32 KB. Serializing every message again to measure it costs more
than reading the whole body, so the body is read here with the JSON module's own decoder,
element by element of ``batch``: each message's size is where the decoder ended minus where it
began, for the price of one read. Sizes are counted in characters, and a message is measured in
bytes only when its characters could reach the limit (a character is at most 4 bytes).
"""

from __future__ import annotations

import json
from typing import Any

WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


class NotJson(ValueError):
    """The body is not JSON (or not an object with a ``batch`` list); the reason in words."""


def read_batch(body: bytes, limit: int) -> tuple[dict[str, Any], list[tuple[Any, bool]]]:
    """The body's other top-level fields, and each message of ``batch`` with whether it is over
    ``limit`` bytes. Raises NotJson."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotJson("the body is not UTF-8 text") from None
    try:
        return _object(text, limit)
    except (ValueError, IndexError):
        pass
    try:  # not what a batch looks like: the JSON module says why, in its words
        document = json.loads(text)
    except ValueError as error:
        raise NotJson(f"the body is not valid JSON ({error})") from None
    del document
    raise NotJson('the body must be {"batch": [messages]}')


def _object(text: str, limit: int) -> tuple[dict[str, Any], list[tuple[Any, bool]]]:
    fields: dict[str, Any] = {}
    items: list[tuple[Any, bool]] | None = None
    i = _skip(text, 0)
    if text[i] != "{":
        raise ValueError
    i = _skip(text, i + 1)
    while text[i] != "}":
        key, i = _DECODER.raw_decode(text, i)
        if not isinstance(key, str):
            raise ValueError
        i = _skip(text, i)
        if text[i] != ":":
            raise ValueError
        i = _skip(text, i + 1)
        if key == "batch" and text[i] == "[":
            items, i = _items(text, i + 1, limit)
        else:
            fields[key], i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)
        elif text[i] != "}":
            raise ValueError
    if text[i + 1 :].strip(WHITESPACE) or items is None:
        raise ValueError
    return fields, items


def _items(text: str, i: int, limit: int) -> tuple[list[tuple[Any, bool]], int]:
    items: list[tuple[Any, bool]] = []
    chars_limit = limit // 4
    i = _skip(text, i)
    while text[i] != "]":
        item, end = _DECODER.raw_decode(text, i)
        size = end - i
        over = size > limit or (size > chars_limit and len(text[i:end].encode()) > limit)
        items.append((item, over))
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
        elif text[i] != "]":
            raise ValueError
    return items, i + 1


def _skip(text: str, i: int) -> int:
    length = len(text)
    while i < length and text[i] in WHITESPACE:
        i += 1
    if i == length:
        raise IndexError  # the text ends where more was expected
    return i
