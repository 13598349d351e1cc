"""Delivery: drains the outbox through SMTP (or the built-in mailbox), an SMS sender,
webhooks and team alerts. The arq task is ``deliver_outbox``."""

from worker.delivery.drain import Delivery, deliver_outbox

__all__ = ["Delivery", "deliver_outbox"]
