"""The official Segment and RudderStack Python libraries, pointed at a live Parcours, just work:
contacts and events appear, and a batch sent again stores nothing twice (DESIGN §12.1)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rudderstack.analytics import Client as RudderClient
from segment.analytics import Client as SegmentClient
from segment.analytics.request import post as segment_post
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.models import Contact, Event
from app.services.account.api_keys import create_api_key
from tests.fixtures.web import free_port, serving


@dataclass
class Live:
    url: str
    key: str
    engine: Engine

    def events(self, name: str) -> list[Event]:
        with Session(self.engine) as session:
            return list(session.exec(select(Event).where(Event.name == name).order_by(Event.id)))

    def contact(self, external_id: str) -> Contact:
        with Session(self.engine) as session:
            return session.exec(select(Contact).where(Contact.external_id == external_id)).one()

    def count(self, model: Any) -> int:
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def live(
    committed_engine: Engine, database_url: str, redis_url: str, redis: Any, tmp_path: Path
) -> Iterator[Live]:
    port = free_port()
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="segment-secret-" + "s" * 40,
        base_url=f"http://127.0.0.1:{port}",
    )
    with session_scope(committed_engine) as session:
        _, key = create_api_key(session, name="Shop's Segment source")
    with serving(create_app(settings), port):
        yield Live(settings.base_url, key, committed_engine)


def test_segment_library_with_host_at_parcours_segment(live: Live) -> None:
    analytics = SegmentClient(live.key, host=live.url + "/segment", sync_mode=True)

    analytics.page(anonymous_id="visitor-1", name="Home", properties={"path": "/"})
    analytics.identify(
        "shop-42",
        {"email": "lea@shop.example", "firstName": "Léa", "plan": "pro"},
        context={"locale": "fr-FR"},
        anonymous_id="visitor-1",
    )
    analytics.track("shop-42", "Order Completed", {"total": 59.9}, message_id="order-1001")

    lea = live.contact("shop-42")
    assert (lea.email, lea.first_name, lea.language) == ("lea@shop.example", "Léa", "fr")
    assert lea.attributes == {"plan": "pro"}
    assert [e.contact_id for e in live.events("page_view")] == [lea.id]
    (order,) = live.events("Order Completed")
    assert (order.uid, order.contact_id, order.properties["total"]) == ("order-1001", lea.id, 59.9)
    assert order.properties["context"]["library"]["name"] == "analytics-python"


def test_a_batch_the_segment_library_sends_again_stores_nothing_twice(live: Live) -> None:
    batch = [
        {
            "type": "track",
            "messageId": f"retry-{n}",
            "userId": f"shop-{n % 4}",
            "event": "Product Viewed",
            "properties": {"sku": f"SKU-{n}"},
            "timestamp": "2025-06-01T10:00:00Z",
        }
        for n in range(20)
    ]

    for _ in range(2):  # the library retries a batch whose answer it did not get
        assert segment_post(live.key, live.url + "/segment", batch=batch).status_code == 200

    assert len(live.events("Product Viewed")) == 20
    assert live.count(Contact) == 4


def test_rudderstack_library_with_its_default_gzip_and_data_plane_url_at_parcours(
    live: Live,
) -> None:
    errors: list[Exception] = []
    rudder = RudderClient(live.key, host=live.url, on_error=lambda e, _batch: errors.append(e))

    rudder.track(anonymous_id="device-7", event="App Opened", message_id="open-1")
    rudder.screen(anonymous_id="device-7", name="Catalogue", message_id="screen-1")
    rudder.identify(
        "shop-7", {"email": "tom@shop.example", "last_name": "Moreau"}, anonymous_id="device-7"
    )
    rudder.track("shop-7", "Added To Cart", {"sku": "SKU-1"}, message_id="cart-1")
    rudder.flush()  # waits until the consumer has uploaded every message

    assert errors == []
    tom = live.contact("shop-7")
    assert (tom.email, tom.last_name) == ("tom@shop.example", "Moreau")
    named = ["App Opened", "screen_view", "Added To Cart"]
    assert [[e.contact_id for e in live.events(name)] for name in named] == [[tom.id]] * 3


def test_a_wrong_write_key_is_refused_and_stores_nothing(live: Live) -> None:
    errors: list[Exception] = []
    rudder = RudderClient(
        "not-a-key", host=live.url + "/segment", on_error=lambda e, _batch: errors.append(e)
    )

    rudder.track("shop-1", "Signed Up")
    rudder.flush()

    assert [getattr(e, "status", None) for e in errors] == [401]
    assert live.count(Event) == 0


def test_calls_creating_the_same_people_at_once_each_store_them_once(live: Live) -> None:
    def batch(order: list[int]) -> list[dict[str, Any]]:
        return [
            {
                "type": "identify",
                "messageId": f"same-{n}-{order[0]}",
                "userId": f"shop-{n}",
                "traits": {"email": f"p{n}@shop.example", "plan": "pro"},
            }
            for n in order
        ] + [{"type": "track", "userId": f"shop-{n}", "event": "Visited"} for n in order]

    people = list(range(60))
    orders = [people, people[::-1], people[30:] + people[:30], people[15:] + people[:15]]
    with ThreadPoolExecutor(len(orders)) as pool:
        answers = list(
            pool.map(
                lambda o: segment_post(live.key, live.url + "/segment", batch=batch(o)), orders
            )
        )

    assert [a.status_code for a in answers] == [200] * len(orders)
    assert live.count(Contact) == 60
    assert len(live.events("Visited")) == 240
