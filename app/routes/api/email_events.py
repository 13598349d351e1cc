"""Reports from any mail provider: bounces, complaints, deliveries (DESIGN §12.4)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Body, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.deps import SessionDep
from app.routes.api.intake import wake_engine
from app.services.contacts.fields import FieldProblem, normalize_email
from app.services.messaging.email_reports import Report, apply_reports

router = APIRouter(tags=["email events"])
MAX_REPORTS = 1000


class EmailEventIn(BaseModel):
    """What happened to one email, naming the address or the message (or both)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"type": "bounce", "email": "lea@example.com", "reason": "550 5.1.1 user unknown"}
            ]
        },
    )

    type: Literal["bounce", "complaint", "delivered"] = Field(
        description="bounce: the address refused mail for good; complaint: the person marked "
        "it as spam; delivered: the message reached their server (needs message_id)"
    )
    email: str | None = Field(default=None, max_length=320)
    message_id: str | None = Field(
        default=None,
        max_length=998,
        description="The Message-ID header of the email Parcours sent, e.g. <1:send:2@host>",
    )
    reason: str | None = Field(default=None, max_length=2000, description="The provider's words")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        try:
            return normalize_email(value)
        except FieldProblem as problem:
            raise ValueError(str(problem)) from None

    @model_validator(mode="after")
    def _someone(self) -> EmailEventIn:
        if self.email is None and not (self.message_id or "").strip():
            raise ValueError("give the email or the message_id the event is about")
        if self.type == "delivered" and not (self.message_id or "").strip():
            raise ValueError("a delivered event needs the message_id of the email")
        return self

    def report(self) -> Report:
        reason = " ".join((self.reason or "").split())
        return Report(self.type, self.email, (self.message_id or "").strip() or None, reason)


class EmailEventsAnswer(BaseModel):
    bounced: int = Field(description="Addresses newly marked bounced")
    complained: int = Field(description="Addresses newly marked complained")
    delivered: int = Field(description="Messages newly marked delivered")
    unchanged: int = Field(description="Known, and already so (a report sent twice)")
    ignored: int = Field(description="Not Parcours's: an unknown address or message id")


Reports = EmailEventIn | Annotated[list[EmailEventIn], Field(min_length=1, max_length=MAX_REPORTS)]


@router.post(
    "/email-events",
    response_model=EmailEventsAnswer,
    summary="Report bounces, complaints and deliveries",
    responses={422: {"description": "An invalid event: none of them was applied"}},
)
def report_email_events(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    body: Annotated[Reports, Body()],
) -> EmailEventsAnswer:
    """One event or a list of up to 1,000, all or nothing. A bounce marks the address
    bounced (never sent to again), a complaint marks it complained and withdraws its
    marketing consent, delivered stamps the message. An address or message id Parcours
    does not know is counted as ignored, not refused."""
    events = body if isinstance(body, list) else [body]
    now = request.app.state.clock.now()
    tally = apply_reports(session, [e.report() for e in events], now, source="api")
    background.add_task(wake_engine, request.app)  # email_bounced may start scenarios
    return EmailEventsAnswer(**tally.as_dict())
