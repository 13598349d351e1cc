"""The test SMTP sink is a real server: what a real client sends arrives whole."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from tests.fixtures.smtp import SmtpSink


async def test_sink_records_what_a_real_smtp_client_sends(smtp_sink: SmtpSink) -> None:
    message = EmailMessage()
    message["From"] = "Parcours <hello@shop.example>"
    message["To"] = "lea@example.com"
    message["Subject"] = "Bienvenue, Léa"
    message.set_content("Merci de votre inscription.")

    await aiosmtplib.send(message, hostname=smtp_sink.host, port=smtp_sink.port)

    assert smtp_sink.envelopes == [("hello@shop.example", ["lea@example.com"])]
    received = smtp_sink.messages[0]
    assert received["Subject"] == "Bienvenue, Léa"
    assert received.get_content().strip() == "Merci de votre inscription."
