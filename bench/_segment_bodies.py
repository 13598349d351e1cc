"""Segment batch bodies as a shop's website sends them, for ``POST /segment/v1/batch``.

Each batch is mostly ``track`` calls, some ``page`` calls and a few ``identify`` calls (about
1 in 20), from a pool of ``people``: every message carries its ``messageId``, the person's
``userId`` and the browser's ``anonymousId``, a ``timestamp`` of the last hour and a context
like analytics.js's (library, page, locale, user agent). A batch of 1,000 is about 480 KB,
just under Segment's limit of 500 KB per call. Message ids are fresh on every call of
``segment_batches``; sending the same bodies again is a run of retries (all duplicates).
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

EVENTS = ("Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed")
PATHS = ("/", "/catalogue", "/products/espresso-cup", "/cart", "/checkout")


def segment_batches(count: int, size: int = 1000, people: int = 2000) -> list[bytes]:
    """``count`` batch bodies (JSON bytes) of ``size`` messages each."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    return [
        json.dumps({"batch": [_message(rng, now, people) for _ in range(size)]}).encode()
        for _ in range(count)
    ]


def _message(rng: random.Random, now: datetime, people: int) -> dict[str, Any]:
    person = rng.randrange(people)
    path = rng.choice(PATHS)
    message: dict[str, Any] = {
        "messageId": f"ajs-{uuid.uuid4().hex}",
        "userId": f"customer-{person}",
        "anonymousId": f"5c3e1f9a-4b7d-9f0e-{person:012d}",
        "timestamp": (now - timedelta(seconds=rng.randrange(3600))).isoformat(),
        "context": {
            "library": {"name": "analytics.js", "version": "1.70.0"},
            "locale": rng.choice(("fr-FR", "fr-FR", "en-GB")),
            "page": {
                "path": path,
            },
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Safari/604.1",
        },
    }
    roll = rng.random()
    if roll < 0.05:
        message["type"] = "identify"
        message["traits"] = {
            "email": f"customer{person}@shop.example",
            "firstName": f"Client {person}",
            "plan": rng.choice(("free", "club")),
        }
    elif roll < 0.25:
        message.update(type="page", name=path, properties={"path": path})
    else:
        message.update(
            type="track",
            event=rng.choice(EVENTS),
            properties={
                "product_id": f"SKU-{rng.randrange(500)}",
                "price": round(rng.uniform(3, 80), 2),
                "currency": "EUR",
                "quantity": rng.randrange(1, 4),
            },
        )
    return message
