"""Personalisation renders in a sandbox; a broken or unsafe template is refused with the line."""

from __future__ import annotations

import pytest

from app.services.errors import Invalid
from app.services.messaging.messages import MessageIn, check_message
from app.services.messaging.rendering import (
    RenderContext,
    TemplateField,
    check_template,
    contact_context,
    event_context,
    render_parts,
)
from app.services.messaging.sms_count import count_sms


def render(source: str, **context: object) -> str:
    parts = MessageIn(key="k", channel="sms", text=source).parts()
    contact = contact_context(
        {
            "id": 1,
            "email": "lea@example.com",
            "first_name": context.pop("first_name", "Léa"),
            "last_name": None,
            "attributes": {"plan": "premium", "email": "custom@wins-not.example", "items": 3},
        },
        ["Newsletter", "Customers"],
    )
    event = event_context(context.pop("event", {"cart_total": 59.9, "items": [{"name": "Tote"}]}))
    return render_parts(parts, RenderContext(contact=contact, event=event)).text


def test_placeholders_reach_contact_fields_attributes_lists_and_event_properties() -> None:
    assert render("{{ contact.first_name }}") == "Léa"
    assert render("{{ contact.plan }}/{{ contact.attributes.plan }}") == "premium/premium"
    assert render("{{ contact.email }}") == "lea@example.com", "built-in fields win on a clash"
    assert render("{{ lists | join(', ') }}") == "Customers, Newsletter"
    assert render("{{ contact.lists | length }}") == "2"
    assert render("{{ event.properties.cart_total }} €") == "59.9 €"
    assert render("{{ event.properties.items[0].name }}") == "Tote", "data wins over dict methods"
    assert render("{{ contact.items }}") == "3"


def test_missing_or_empty_values_fall_back_to_the_default() -> None:
    assert render('Hi {{ contact.first_name | default("there") }}', first_name=None) == "Hi there"
    assert render('Hi {{ contact.first_name | default("there") }}', first_name="") == "Hi there"
    assert render("[{{ contact.last_name }}]") == "[]", "None renders as nothing, not 'None'"
    assert render("{{ event.properties.coupon.code }}", event={}) == ""
    assert (
        render("{{ event.properties.total }}", event={"name": "x", "properties": {"total": 3}})
        == "3"
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.__class__ }}",
        "{{ contact['__class__'] }}",
        "{{ self.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% set x = [] %}{{ x.append(1) }}",
        "{{ contact.attributes.clear() }}",
        "{{ 'a' * 100000000 }}",
        "{{ 9 ** 9 ** 9 ** 9 ** 9 ** 9 ** 9 }}",
        "{{ 2 ** 1000 }}",
        "{{ range(10 ** 8) | list }}",
    ],
)
def test_classic_sandbox_escapes_are_refused_on_save(source: str) -> None:
    with pytest.raises(Invalid):
        check_template(TemplateField("text", "the text", source))


def test_format_strings_cannot_reach_internals_either() -> None:
    assert render("{{ '{0.__class__.__mro__}'.format(contact) }}") == ""


@pytest.mark.parametrize(
    ("field", "source", "expected"),
    [
        (
            "subject",
            "Hi {{ contact.first_name ",
            "In the subject, line 1: Unexpected end of template",
        ),
        (
            "html",
            "<p>\n{% if contact.plan %}\n<b>x</b>",
            "In the HTML body, line 2: Unexpected end of template",
        ),
        (
            "text",
            "{{ contact.name | shout }}",
            "In the plain-text body, line 1: No filter named 'shout'",
        ),
        (
            "html",
            "<p>{{ contact._secret }}</p>",
            "In the HTML body, line 1: “_secret” is not allowed",
        ),
    ],
)
def test_a_broken_template_is_refused_with_the_line_and_the_reason(
    field: str, source: str, expected: str
) -> None:
    values = {"subject": "Hello", "html": "<p>Hi</p>", "text": "Hi", field: source}
    with pytest.raises(Invalid) as refused:
        check_message(MessageIn(key="welcome", **values))
    assert refused.value.message.startswith(expected)


def test_html_placeholders_are_escaped_but_text_ones_are_not() -> None:
    parts = MessageIn(
        key="k",
        subject="{{ contact.first_name }}",
        html="<p>{{ contact.first_name }}</p>",
        text="{{ contact.first_name }}",
    ).parts()
    contact = contact_context({"first_name": "<b>Tom & Jerry</b>", "attributes": {}})
    rendered = render_parts(parts, RenderContext(contact=contact))
    assert rendered.html == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    assert rendered.text == "<b>Tom & Jerry</b>"
    assert rendered.subject == "<b>Tom & Jerry</b>"


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Prix : 10€ [promo]", "GSM-7", 21, 1),  # €, [ and ] take two places each
        ("Merci Léa, à bientôt", "UCS-2", 20, 1),  # ô is not in the GSM alphabet
        ("ç" * 70, "UCS-2", 70, 1),
        ("ç" * 71, "UCS-2", 71, 2),
        ("🎉" * 35, "UCS-2", 70, 1),  # an emoji takes two UTF-16 units
    ],
)
def test_sms_characters_and_segments_follow_gsm7_and_ucs2(
    text: str, encoding: str, characters: int, segments: int
) -> None:
    count = count_sms(text)
    assert (count.encoding, count.characters, count.segments) == (encoding, characters, segments)
