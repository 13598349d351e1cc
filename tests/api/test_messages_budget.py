"""A template has a budget of text, loop rounds, widths and time: over it, it is refused when
saved (API and editor), shown as an error in the preview, and a normal message is unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jinja2 import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from sqlmodel import Session, func, select

from app.message_templates import STARTERS
from app.models import MessageTemplate
from app.services.errors import Invalid
from app.services.messaging.messages import MessageIn, check_message
from app.services.messaging.rendering import (
    SAMPLE_CONTACT,
    SAMPLE_EVENT,
    MessageParts,
    RenderContext,
    RenderError,
    contact_context,
    event_context,
    render_field,
    render_parts,
)
from app.services.messaging.sandbox import _default
from tests.fixtures.web import Browser

# One template per budget, with the words the marketer is shown.
OVER_BUDGET = {
    "output": (
        "{% for i in range(5000) %}<p>{{ 'x' * 300 }}</p>{% endfor %}",
        "produces too much text (over 1 MB)",
    ),
    "loop rounds": (
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "repeats its loops too many times (over 100,000 rounds)",
    ),
    "range": ("{% for i in range(100000) %}{% endfor %}", "counts a range that is too long"),
    "padding": ("<p>{{ contact.first_name.ljust(500000) }}</p>", "pads, aligns or indents"),
    "repetition": ("<p>{{ 'ha' * 5000000 }}</p>", "produces too much text (over 1 MB)"),
    "time": (
        "{% macro twice(n) %}{% if n %}{{ twice(n - 1) }}{{ twice(n - 1) }}{% endif %}"
        "{% endmacro %}{{ twice(40) }}",
        "takes too long to fill in (over 2 seconds)",
    ),
}
EMAIL = {
    "key": "budget",
    "name": "Budget",
    "channel": "email",
    "purpose": "marketing",
    "subject": "Hello {{ contact.first_name }}",
    "html": "<p>Hi</p>",
    "text": "",
    "from_name": "Shop",
    "from_email": "hello@shop.example",
    "reply_to": "",
}


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(MessageTemplate)).one()


@pytest.mark.parametrize("kind", OVER_BUDGET)
def test_the_api_refuses_a_template_over_its_budget_and_writes_nothing(
    kind: str, client: TestClient, api_key: str, session: Session
) -> None:
    source, words = OVER_BUDGET[kind]
    response = client.post(
        "/api/v1/messages",
        json={**EMAIL, "html": source},
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(f"In the HTML body, this template {words}"), detail
    assert count(session) == 0


@pytest.mark.parametrize("kind", OVER_BUDGET)
def test_the_editor_refuses_to_save_a_template_over_its_budget_and_says_why(
    kind: str, logged_in: Browser, session: Session
) -> None:
    source, words = OVER_BUDGET[kind]
    response = logged_in.post("/messages/save", {**EMAIL, "is_new": "1", "html": source}, htmx=True)

    assert response.status_code == 422
    assert f"In the HTML body, this template {words}" in response.text
    assert count(session) == 0


@pytest.mark.parametrize("kind", OVER_BUDGET)
def test_the_preview_shows_a_template_over_its_budget_as_an_error(
    kind: str, logged_in: Browser
) -> None:
    source, words = OVER_BUDGET[kind]
    response = logged_in.post("/messages/preview", {**EMAIL, "html": source}, htmx=True)

    assert response.status_code == 200
    assert f"In the HTML body, this template {words}" in response.text
    assert "srcdoc" not in response.text


@pytest.mark.parametrize(
    "source",
    [
        "{{ contact.first_name.rjust(20000) }}",
        "{{ contact.first_name.center(20000) }}",
        "{{ 'x'.zfill(20000) }}",
        "{{ 'a\tb'.expandtabs(20000) }}",
        "{{ '{:>20000}'.format(contact.first_name) }}",
        "{{ '{:{w}}'.format('x', w=20000) }}",
        "{{ '{:.20000f}'.format(1.5) }}",
        "{{ '%20000s' % contact.first_name }}",
        "{{ '%.20000d' % 1 }}",
        "{{ '%*s' % (20000, 'x') }}",
        "{{ '%20000s' | format('x') }}",
        "{{ contact.first_name | center(20000) }}",
        "{{ 'a\nb' | indent(20000) }}",
        "{{ contact | tojson(20000) }}",
    ],
)
def test_widths_and_precisions_are_capped_however_they_are_written(source: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_message(MessageIn(key="k", channel="sms", text=source))
    assert "pads, aligns or indents text too widely (10,000 characters at most)" in str(
        refused.value.message
    )


@pytest.mark.parametrize(
    "source",
    [
        # Each step is small; what they build together is not.
        "{% set ns = namespace(s='ab') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s | length }}",
        "{% set ns = namespace(s=['ab']) %}{% for i in range(30) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}{{ ns.s | length }}",
        "{% set a = ['x' * 100000] * 10 %}{% set b = [a] * 10 %}{{ [b] * 10 }}",
        "{% set a = ['x' * 100000] * 10 %}{% set b = [a] * 10 %}{{ b | join }}",
        "{{ ('x' * 100000).replace('x', 'yy' * 10) }}",
        "{{ ('x' * 100000) | replace('x', 'yy' * 10) }}",
        "{{ ('-' * 1000).join('x' * 2000) }}",
        "{{ (['x' * 100000] * 100) | map('upper') | join }}",
        "{{ '{0}'.format(['x' * 100000] * 20) }}",
        "{{ '%s' % ((['x' * 100000] * 20),) }}",
        "{% set page %}{% for i in range(100) %}{{ 'x' * 20000 }}{% endfor %}{% endset %}"
        "{{ page | length }}",
        "{% macro big() %}{% for i in range(100) %}{{ 'x' * 20000 }}{% endfor %}{% endmacro %}"
        "{{ big() | length }}",
        "{{ (('a ' * 50000) | urlize(target='x' * 100)) | length }}",
        "{{ ('x' * 100000) | wordwrap(1, wrapstring='y' * 50) | length }}",
    ],
)
def test_text_built_step_by_step_is_capped_too(source: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_message(MessageIn(key="k", channel="sms", text=source))
    assert "this template produces too much text (over 1 MB)" in refused.value.message


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("{{ ([[1]] * 100000) | sum(start=[]) | length }}", "adds up too many lists at once"),
        ("{{ ('a' * 100000) | wordwrap(1) }}", "breaks very long words into too many lines"),
        (
            "{% for x in [1] recursive %}{% if x == 1 %}{{ loop(['a'] * 200000) }}{% endif %}"
            "{% endfor %}",
            "repeats its loops too many times",
        ),
    ],
)
def test_steps_a_clock_cannot_interrupt_are_refused_before_they_run(
    source: str, words: str
) -> None:
    # The words are the static check's own: a run stopped by the clock would say so instead.
    with pytest.raises(Invalid) as refused:
        check_message(MessageIn(key="k", channel="sms", text=source))
    assert f"this template {words}" in refused.value.message


def test_a_long_text_wrapped_at_a_normal_width_is_fine() -> None:
    text = "{{ ('lorem ipsum ' * 20000) | wordwrap(72) | length }}"
    check_message(MessageIn(key="k", channel="sms", text=text))


def test_a_subject_and_an_sms_have_smaller_limits_than_a_body() -> None:
    long_subject = MessageIn(key="k", subject="{{ 'x' * 3000 }}", html="<p>Hi</p>")
    with pytest.raises(Invalid) as refused:
        check_message(long_subject)
    assert refused.value.message.startswith(
        "In the subject, this template produces too much text (over 2,000 characters)."
    )
    with pytest.raises(Invalid) as refused:
        check_message(MessageIn(key="k", channel="sms", text="{{ 'x' * 20000 }}"))
    assert "(over 10,000 characters)" in refused.value.message
    check_message(MessageIn(key="k", subject="Hi", html="{{ 'x' * 900000 }}"))


def test_a_template_that_fails_only_for_some_contacts_is_saved_and_fails_for_them() -> None:
    source = "{% for i in range(contact.orders_count * 1000) %}.{% endfor %}"
    check_message(MessageIn(key="k", channel="sms", text=source))  # 3,000 for the sample
    many = contact_context({"attributes": {"orders_count": 2_000}})
    parts = MessageParts(channel="sms", text=source)
    with pytest.raises(RenderError) as failed:
        render_parts(parts, RenderContext(contact=many))
    assert str(failed.value) == (
        "the SMS text counts a range that is too long (10,000 numbers at most)"
    )


class Unbudgeted(ImmutableSandboxedEnvironment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and not attribute.startswith("_") and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def reference_environment(html: bool) -> ImmutableSandboxedEnvironment:
    """Jinja's own sandbox set up like ours, without the budget: what messages rendered as."""
    env = Unbudgeted(
        autoescape=html,
        undefined=ChainableUndefined,
        finalize=lambda value: "" if value is None else value,
    )
    env.filters["default"] = env.filters["d"] = _default
    env.globals = {"range": range, "dict": dict, "namespace": Namespace}
    return env


def render_without_budget(parts: MessageParts, context: dict[str, Any]) -> dict[str, str]:
    return {
        item.name: reference_environment(item.html).from_string(item.source).render(context)
        for item in parts.fields()
    }


def budgeted(parts: MessageParts, context: RenderContext) -> dict[str, str]:
    values = context.as_dict(parts)
    return {item.name: render_field(item, values) for item in parts.fields()}


@pytest.mark.parametrize("starter", STARTERS, ids=lambda s: s.key)
def test_every_starter_message_renders_exactly_as_without_the_budget(starter: Any) -> None:
    parts = MessageParts(
        channel=starter.channel, subject=starter.subject, html=starter.html, text=starter.text
    )
    context = RenderContext(
        contact=contact_context(SAMPLE_CONTACT, ["Newsletter"]),
        event=event_context(SAMPLE_EVENT),
        unsubscribe_url="https://example.com/u/x",
    )
    assert budgeted(parts, context) == render_without_budget(parts, context.as_dict(parts))


def test_a_large_but_reasonable_message_renders_in_full() -> None:
    cart = next(s for s in STARTERS if s.key == "cart-reminder")
    items = [{"name": f"Item {i}", "price": i + 0.5} for i in range(200)]
    context = RenderContext(
        contact=contact_context(SAMPLE_CONTACT),
        event=event_context({"cart_total": 100, "items": items}),
    )
    parts = MessageParts(channel="email", subject=cart.subject, html=cart.html, text=cart.text)

    rendered = render_parts(parts, context)

    assert all(f"<td>Item {i}</td>" in rendered.html for i in range(200))
    assert "199.50 €" in rendered.html
    assert rendered == render_parts(parts, context), "the same every time"
    loop = "{% for i in range(200) %}{{ loop.index }}/{{ loop.length }} {% endfor %}"
    assert budgeted(MessageParts(channel="sms", text=loop), context)["text"].endswith("200/200 ")


def test_html_escaping_and_markup_methods_still_behave() -> None:
    source = (
        "{{ contact.first_name }}|{{ contact.first_name | center(9) }}|"
        "{{ '<b>{}</b>'.format(contact.first_name) }}|{{ contact.first_name ~ '&' }}"
    )
    parts = MessageParts(channel="email", subject="s", html=source)
    contact = contact_context({"first_name": "<Tom>", "attributes": {}})
    rendered = render_parts(parts, RenderContext(contact=contact))
    reference = render_without_budget(parts, RenderContext(contact=contact).as_dict(parts))
    assert rendered.html == reference["html"]
    assert "&lt;Tom&gt;" in rendered.html


def test_a_failed_send_s_reason_shows_on_the_statistics_page(
    logged_in: Browser, session: Session
) -> None:
    from sqlalchemy import update

    from app.clock import utcnow
    from app.models import OutboxMessage
    from app.services.messaging.outbox import OutboxEntry, add_to_outbox
    from app.services.scenarios import scenarios

    scenario, _ = scenarios.create_from_template(session, "abandoned_cart", now=utcnow())
    entry = OutboxEntry(
        "k",
        "email",
        None,
        {"message": "cart-reminder"},
        scenario_id=scenario.id,
        node_id="reminder",
    )
    add_to_outbox(session, [entry], utcnow())
    reason = "Not sent: the HTML body produces too much text (over 1 MB)."
    session.execute(update(OutboxMessage).values(status="failed", last_error=reason))
    session.commit()

    page = logged_in.client.get(f"/scenarios/{scenario.id}/stats")

    assert page.status_code == 200
    assert reason in page.text


def hook_scenario(body: str, alert: str) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
            {
                "id": "hook",
                "type": "action",
                "kind": "webhook",
                "config": {"url": "https://crm.example/hook", "method": "POST", "body": body},
            },
            {
                "id": "alert",
                "type": "action",
                "kind": "notify_team",
                "config": {"to": "sales@shop.example", "message": alert},
            },
        ],
        "edges": [{"from": "start", "to": "hook"}, {"from": "hook", "to": "alert"}],
        "settings": {"reentry": "once", "exit_when": None},
    }


def test_webhook_bodies_and_team_alerts_over_budget_keep_a_scenario_from_going_live(
    client: TestClient, api_key: str
) -> None:
    client.headers["Authorization"] = f"Bearer {api_key}"
    heavy = hook_scenario(
        '{"pad": {{ contact.email.ljust(50000) | tojson }}}',
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    )
    created = client.post("/api/v1/scenarios", json={"name": "CRM", "graph": heavy})
    assert created.status_code == 201, "a draft is saved with its issues"
    issues = {issue["field"]: issue["message"] for issue in created.json()["issues"]}
    assert issues["config.body"].startswith(
        "Block 'Call a webhook': In the webhook body, this template pads, aligns or indents text too widely"
    )
    assert (
        "In the team alert, this template repeats its loops too many times"
        in (issues["config.message"])
    )

    refused = client.post(f"/api/v1/scenarios/{created.json()['id']}/activate")
    assert refused.status_code == 422
    assert {i["field"] for i in refused.json()["detail"]["issues"]} == {
        "config.body",
        "config.message",
    }

    fine = hook_scenario(
        '{"email": {{ contact.email | tojson }}}', "New order from {{ contact.email }}"
    )
    saved = client.put(
        f"/api/v1/scenarios/{created.json()['id']}/graph",
        json={"graph": fine, "revision": created.json()["revision"]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["issues"] == []
