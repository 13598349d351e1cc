"""Action blocks: what a scenario does to or for a contact. All have one ``out`` port but exit."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from app.graph.block_base import (
    EMAIL_ADDRESS,
    NO_PORTS,
    BlockBase,
    BlockConfig,
    ConfigProblem,
    Reference,
    blank,
    required,
    shown,
)
from app.graph.conditions import BUILTIN_ATTRIBUTES, Channel, Scalar
from app.graph.wording import humanize, plural, quote

WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class _MessageConfig(BlockConfig):
    message: str | None = None  # key of a message template

    CHANNEL: ClassVar[Channel]

    def summary(self) -> str:
        noun = "email" if self.CHANNEL == "email" else "SMS"
        return f"Send {noun} {shown(self.message, f'(no {noun} chosen)')}"

    def problems(self) -> list[ConfigProblem]:
        noun = "email" if self.CHANNEL == "email" else "SMS"
        return required(self.message, "message", f"choose the {noun} to send")

    def references(self) -> list[Reference]:
        if blank(self.message):
            return []
        return [Reference("message", str(self.message), "message", self.CHANNEL)]


class SendEmailConfig(_MessageConfig):
    CHANNEL: ClassVar[Channel] = "email"


class SendSmsConfig(_MessageConfig):
    CHANNEL: ClassVar[Channel] = "sms"


class _ListActionConfig(BlockConfig):
    list_key: str | None = Field(default=None, alias="list")

    def problems(self) -> list[ConfigProblem]:
        return required(self.list_key, "list", "choose the list")

    def references(self) -> list[Reference]:
        return [] if blank(self.list_key) else [Reference("list", str(self.list_key), "list")]


class AddToListConfig(_ListActionConfig):
    def summary(self) -> str:
        return f"Add to list {shown(self.list_key, '(no list chosen)')}"


class RemoveFromListConfig(_ListActionConfig):
    def summary(self) -> str:
        return f"Remove from list {shown(self.list_key, '(no list chosen)')}"


class UpdateAttributeConfig(BlockConfig):
    """Sets ``value``, or adds ``increment`` (may be negative) to a number; exactly one."""

    attribute: str | None = None
    value: Scalar | None = None
    increment: int | float | None = None

    def summary(self) -> str:
        name = "(no attribute chosen)" if blank(self.attribute) else humanize(str(self.attribute))
        if self.increment is not None:
            verb, amount = (
                ("Add", self.increment) if self.increment >= 0 else ("Subtract", -self.increment)
            )
            direction = "to" if verb == "Add" else "from"
            return f"{verb} {quote(amount)} {direction} {name}"
        return f"Set {name} to {shown(self.value, '(no value set)')}"

    def problems(self) -> list[ConfigProblem]:
        found = required(self.attribute, "attribute", "choose the attribute to update")
        if self.value is None and self.increment is None:
            found.append(
                ConfigProblem("value", "set the new value or an amount to add", missing=True)
            )
        elif self.value is not None and self.increment is not None:
            found.append(
                ConfigProblem("increment", "set either a new value or an amount to add, not both")
            )
        if self.increment is not None and self.attribute in BUILTIN_ATTRIBUTES - {"score"}:
            found.append(
                ConfigProblem("increment", f"{humanize(str(self.attribute))} is not a number")
            )
        return found


class AddScoreConfig(BlockConfig):
    points: int | None = None  # negative lowers the score

    def summary(self) -> str:
        if self.points is None:
            return "Change the score (no points set)"
        if self.points < 0:
            return f"Remove {plural(-self.points, 'point')} from the score"
        return f"Add {plural(self.points, 'point')} to the score"

    def problems(self) -> list[ConfigProblem]:
        if self.points == 0:
            return [
                ConfigProblem("points", "0 points leaves the score unchanged", severity="warning")
            ]
        return required(self.points, "points", "set how many points to add (or remove)")


class NotifyTeamConfig(BlockConfig):
    """An internal alert by email; ``message`` is the text itself, not a template key."""

    to: str | None = None
    message: str | None = None

    def summary(self) -> str:
        return f"Notify {shown(self.to, '(no address set)')}"

    def problems(self) -> list[ConfigProblem]:
        found = required(self.to, "to", "enter the email address to alert")
        if not blank(self.to) and EMAIL_ADDRESS.fullmatch(str(self.to).strip()) is None:
            found.append(ConfigProblem("to", f"{quote(self.to)} is not an email address"))
        return found + required(self.message, "message", "write the message for your team")

    def templates(self) -> list[tuple[str, str, str]]:
        return [("message", "the team alert", self.message)] if self.message else []


class WebhookConfig(BlockConfig):
    url: str | None = None
    method: str = "POST"
    body: str | None = None  # a template; placeholders like {{ contact.email }}

    def summary(self) -> str:
        return f"Call {self.method} {shown(self.url, '(no address set)')}"

    def problems(self) -> list[ConfigProblem]:
        found = required(self.url, "url", "enter the address to call")
        url = str(self.url or "").strip()
        if url and not url.startswith(("http://", "https://")):
            found.append(ConfigProblem("url", "the address must start with http:// or https://"))
        if self.method not in WEBHOOK_METHODS:
            allowed = ", ".join(WEBHOOK_METHODS)
            found.append(ConfigProblem("method", f"{quote(self.method)} is not one of {allowed}"))
        return found

    def templates(self) -> list[tuple[str, str, str]]:
        return [("body", "the webhook body", self.body)] if self.body else []


class ExitConfig(BlockConfig):
    def summary(self) -> str:
        return "Exit the scenario"


class SendEmailAction(BlockBase):
    type: Literal["action"]
    kind: Literal["send_email"]
    config: SendEmailConfig = Field(default_factory=SendEmailConfig)


class SendSmsAction(BlockBase):
    type: Literal["action"]
    kind: Literal["send_sms"]
    config: SendSmsConfig = Field(default_factory=SendSmsConfig)


class AddToListAction(BlockBase):
    type: Literal["action"]
    kind: Literal["add_to_list"]
    config: AddToListConfig = Field(default_factory=AddToListConfig)


class RemoveFromListAction(BlockBase):
    type: Literal["action"]
    kind: Literal["remove_from_list"]
    config: RemoveFromListConfig = Field(default_factory=RemoveFromListConfig)


class UpdateAttributeAction(BlockBase):
    type: Literal["action"]
    kind: Literal["update_attribute"]
    config: UpdateAttributeConfig = Field(default_factory=UpdateAttributeConfig)


class AddScoreAction(BlockBase):
    type: Literal["action"]
    kind: Literal["add_score"]
    config: AddScoreConfig = Field(default_factory=AddScoreConfig)


class NotifyTeamAction(BlockBase):
    type: Literal["action"]
    kind: Literal["notify_team"]
    config: NotifyTeamConfig = Field(default_factory=NotifyTeamConfig)


class WebhookAction(BlockBase):
    type: Literal["action"]
    kind: Literal["webhook"]
    config: WebhookConfig = Field(default_factory=WebhookConfig)


class ExitAction(BlockBase):
    type: Literal["action"]
    kind: Literal["exit"]
    config: ExitConfig = Field(default_factory=ExitConfig)

    PORTS: ClassVar[tuple[str, ...]] = NO_PORTS
