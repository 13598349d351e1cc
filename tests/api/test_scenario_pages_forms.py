"""The side panels' words and units, both ways: settings → fields → the same settings."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import FormData

from app.graph import BLOCK_CLASSES, check_draft
from app.routes.canvas_forms import (
    PanelErrors,
    config_from_form,
    form_values,
    scalar,
    split_duration,
)
from app.routes.condition_builder import builder_tree
from app.services.scenarios.block_catalog import BLOCKS, FAMILIES, palette_json, shown_as


def form(**fields: str | list[str]) -> FormData:
    items: list[tuple[str, str]] = []
    for key, value in fields.items():
        items += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    return FormData(items)


def test_the_palette_names_every_block_kind_once_in_the_four_families() -> None:
    assert set(BLOCKS) == set(BLOCK_CLASSES)
    assert [f.name for f in FAMILIES] == ["Triggers", "Conditions", "Delays", "Actions"]
    assert all(entry["summary"] for entry in palette_json())


def test_a_preset_names_the_card_only_while_its_settings_match() -> None:
    buys = shown_as("trigger", "event", {"event": "purchase"})
    other = shown_as("trigger", "event", {"event": "signup"})

    assert buys is not None
    assert (buys.name, buys.icon) == ("When someone buys", "cart")
    assert other is not None
    assert other.name == "When something happens"
    assert shown_as("action", "teleport", {}) is None


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (172_800, (2, "days")),
        (1_209_600, (2, "weeks")),
        (5_400, (90, "minutes")),
        (3_600, (1, "hours")),
        (90, (1.5, "minutes")),
        (None, (None, "days")),
        (0, (None, "days")),
    ],
)
def test_durations_are_shown_in_the_largest_exact_unit(
    seconds: int | None, shown: tuple[object, str]
) -> None:
    assert split_duration(seconds) == shown


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("12", 12), ("-3", -3), ("2.5", 2.5), ("0612", "0612"), ("gold", "gold"), ("1e3", "1e3")],
)
def test_a_typed_value_is_a_number_only_when_it_reads_as_one(typed: str, meant: object) -> None:
    assert scalar(typed) == meant


ROUND_TRIPS: list[tuple[str, str, dict[str, Any]]] = [
    ("trigger", "event", {"event": "cart_updated", "key": "cart_id"}),
    (
        "trigger",
        "event",
        {"event": "purchase", "where": {"attribute": "total", "op": "gte", "value": 50}},
    ),
    ("trigger", "list_added", {"list": "newsletter"}),
    ("trigger", "list_removed", {"list": "newsletter"}),
    ("trigger", "contact_created", {}),
    ("trigger", "date_anniversary", {"attribute": "birthday", "offset_days": -7, "at": "09:00"}),
    ("trigger", "date_anniversary", {"attribute": "birthday"}),
    ("trigger", "attribute_changed", {"attribute": "plan", "to": "gold"}),
    ("trigger", "score_reached", {"threshold": 100}),
    ("trigger", "segment_entered", {"segment": "vip"}),
    ("trigger", "manual", {}),
    ("condition", "if", {"if": {"any": [{"list": "vip", "op": "member"}]}}),
    ("delay", "wait", {"seconds": 259_200}),
    ("delay", "wait_until", {"at": "09:00", "weekdays": ["mon", "fri"]}),
    ("delay", "wait_until", {"at": "18:30"}),
    (
        "delay",
        "wait_for_event",
        {"event": "purchase", "timeout_seconds": 3_600, "match_key": "cart_id"},
    ),
    ("action", "send_email", {"message": "welcome"}),
    ("action", "send_sms", {"message": "hello-sms"}),
    ("action", "add_to_list", {"list": "loyal-customers"}),
    ("action", "remove_from_list", {"list": "newsletter"}),
    ("action", "update_attribute", {"attribute": "plan", "value": "gold"}),
    ("action", "update_attribute", {"attribute": "visits", "increment": -1}),
    ("action", "add_score", {"points": -5}),
    ("action", "notify_team", {"to": "sales@shop.example", "message": "Hot lead:\n  {{ x }}"}),
    ("action", "webhook", {"url": "https://hooks.example/x", "method": "PUT", "body": "{}"}),
    ("action", "exit", {}),
]


def fields_for(values: dict[str, Any]) -> FormData:
    """What the browser posts for a panel showing ``values``."""
    import json

    items: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None:
            continue
        if key in ("if", "where"):
            items.append((key, json.dumps(value)))
        elif key == "weekdays":
            items += [("weekdays", day) for day in value]
        else:
            items.append((key, str(value)))
    return FormData(items)


@pytest.mark.parametrize(("block_type", "kind", "config"), ROUND_TRIPS)
def test_every_setting_survives_a_trip_through_its_panel(
    block_type: str, kind: str, config: dict[str, Any]
) -> None:
    values = form_values(block_type, kind, config)

    assert config_from_form(block_type, kind, fields_for(values)) == config
    _, issues = check_draft(
        {"schema": 1, "nodes": [{"id": "n", "type": block_type, "kind": kind, "config": config}]}
    )
    assert not [i for i in issues if i.code in ("invalid_field", "unknown_field")]


def test_blank_fields_are_left_out_so_the_block_reads_as_not_set_yet() -> None:
    assert config_from_form("delay", "wait_for_event", form(event=" ", timeout_amount="")) == {}
    assert config_from_form("action", "webhook", form(url="")) == {"method": "POST"}


def test_every_weekday_ticked_means_any_day() -> None:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    assert config_from_form("delay", "wait_until", form(at="09:00", weekdays=days)) == {
        "at": "09:00"
    }


def test_unreadable_values_are_all_reported_at_once() -> None:
    with pytest.raises(PanelErrors) as caught:
        config_from_form(
            "delay", "wait_for_event", form(event="x", timeout_amount="soon", timeout_unit="ages")
        )

    assert set(caught.value.errors) == {"timeout_amount"}
    with pytest.raises(PanelErrors) as unit:
        config_from_form("delay", "wait", form(amount="2", unit="ages"))
    assert set(unit.value.errors) == {"unit"}


def test_a_comma_is_read_as_a_decimal_point() -> None:
    assert config_from_form("delay", "wait", form(amount="1,5", unit="hours")) == {"seconds": 5400}


@pytest.mark.parametrize(
    ("condition", "tree"),
    [
        (None, {"kind": "group", "join": "all", "items": []}),
        (
            {"attribute": "orders_count", "op": "eq", "value": 1},
            {
                "kind": "group",
                "join": "all",
                "items": [
                    {
                        "kind": "row",
                        "row": "attribute",
                        "attribute": "orders_count",
                        "op": "eq",
                        "value": "1",
                    }
                ],
            },
        ),
        (
            {"not": {"any": [{"consent": "sms", "op": "granted"}]}},
            {
                "kind": "group",
                "join": "none",
                "items": [{"kind": "row", "row": "consent", "consent": "sms", "op": "granted"}],
            },
        ),
    ],
)
def test_conditions_become_groups_of_rows_for_the_builder(
    condition: object, tree: dict[str, Any]
) -> None:
    assert builder_tree(condition) == tree


def test_an_event_rows_filter_is_kept_aside_so_editing_the_row_does_not_lose_it() -> None:
    where = {"attribute": "total", "op": "gte", "value": 50}
    tree = builder_tree(
        {"all": [{"event": "purchase", "op": "count_gte", "value": 2, "where": where}]}
    )

    assert tree["items"][0]["extra"] == {"where": where}
    assert tree["items"][0]["value"] == "2"
