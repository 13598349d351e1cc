"""Action blocks: what a scenario does to or for a contact. All have one ``out`` port but exit."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from app.graph.block_base import (
    EMAIL_ADDRESS,
    NO_NAMES,
    NO_PORTS,
    BlockBase,
    BlockConfig,
    ConfigProblem,
    Reference,
    RefNames,
    blank,
    required,
    shown,
    shown_ref,
)
from app.graph.conditions import BUILTIN_ATTRIBUTES, Channel, Scalar
from app.graph.form_fields import FormField, Integer, RawText, SetOrAdd, Text
from app.graph.palette import PaletteEntry
from app.graph.wording import humanize, quote
from app.i18n.text import N_, _, ngettext

WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class _MessageConfig(BlockConfig):
    message: str | None = None  # key of a message template

    CHANNEL: ClassVar[Channel]

    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        if self.CHANNEL == "email":
            return _("Send email %(message)s") % {
                "message": shown_ref(names, "message", self.message, _("(no email chosen)"))
            }
        return _("Send SMS %(message)s") % {
            "message": shown_ref(names, "message", self.message, _("(no SMS chosen)"))
        }

    def problems(self) -> list[ConfigProblem]:
        if self.CHANNEL == "email":
            return required(self.message, "message", _("choose the email to send"))
        return required(self.message, "message", _("choose the SMS to send"))

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
        return required(self.list_key, "list", _("choose the list"))

    def references(self) -> list[Reference]:
        return [] if blank(self.list_key) else [Reference("list", str(self.list_key), "list")]


class AddToListConfig(_ListActionConfig):
    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        return _("Add to list %(list)s") % {
            "list": shown_ref(names, "list", self.list_key, _("(no list chosen)"))
        }


class RemoveFromListConfig(_ListActionConfig):
    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        return _("Remove from list %(list)s") % {
            "list": shown_ref(names, "list", self.list_key, _("(no list chosen)"))
        }


class UpdateAttributeConfig(BlockConfig):
    """Sets ``value``, or adds ``increment`` (may be negative) to a number; exactly one."""

    attribute: str | None = None
    value: Scalar | None = None
    increment: int | float | None = None

    def summary(self) -> str:
        name = (
            _("(no attribute chosen)") if blank(self.attribute) else humanize(str(self.attribute))
        )
        if self.increment is not None:
            if self.increment >= 0:
                words = _("Add %(amount)s to %(attribute)s")
                amount = self.increment
            else:
                words = _("Subtract %(amount)s from %(attribute)s")
                amount = -self.increment
            return words % {"amount": quote(amount), "attribute": name}
        return _("Set %(attribute)s to %(value)s") % {
            "attribute": name,
            "value": shown(self.value, _("(no value set)")),
        }

    def problems(self) -> list[ConfigProblem]:
        found = required(self.attribute, "attribute", _("choose the attribute to update"))
        if self.value is None and self.increment is None:
            found.append(
                ConfigProblem("value", _("set the new value or an amount to add"), missing=True)
            )
        elif self.value is not None and self.increment is not None:
            found.append(
                ConfigProblem(
                    "increment", _("set either a new value or an amount to add, not both")
                )
            )
        if self.increment is not None and self.attribute in BUILTIN_ATTRIBUTES - {"score"}:
            problem = _("%(attribute)s is not a number") % {
                "attribute": humanize(str(self.attribute))
            }
            found.append(ConfigProblem("increment", problem))
        return found


class AddScoreConfig(BlockConfig):
    points: int | None = None  # negative lowers the score

    def summary(self) -> str:
        if self.points is None:
            return _("Change the score (no points set)")
        if self.points < 0:
            return ngettext(
                "Remove %(count)s point from the score",
                "Remove %(count)s points from the score",
                -self.points,
            ) % {"count": -self.points}
        return ngettext(
            "Add %(count)s point to the score", "Add %(count)s points to the score", self.points
        ) % {"count": self.points}

    def problems(self) -> list[ConfigProblem]:
        if self.points == 0:
            return [
                ConfigProblem(
                    "points", _("0 points leaves the score unchanged"), severity="warning"
                )
            ]
        return required(self.points, "points", _("set how many points to add (or remove)"))


class NotifyTeamConfig(BlockConfig):
    """An internal alert by email; ``message`` is the text itself, not a template key."""

    to: str | None = None
    message: str | None = None

    def summary(self) -> str:
        return _("Notify %(address)s") % {"address": shown(self.to, _("(no address set)"))}

    def problems(self) -> list[ConfigProblem]:
        found = required(self.to, "to", _("enter the email address to alert"))
        if not blank(self.to) and EMAIL_ADDRESS.fullmatch(str(self.to).strip()) is None:
            problem = _("%(address)s is not an email address") % {"address": quote(self.to)}
            found.append(ConfigProblem("to", problem))
        return found + required(self.message, "message", _("write the message for your team"))

    def templates(self) -> list[tuple[str, str, str]]:
        return [("message", _("the team alert"), self.message)] if self.message else []


class WebhookConfig(BlockConfig):
    url: str | None = None
    method: str = "POST"
    body: str | None = None  # a template; placeholders like {{ contact.email }}

    def summary(self) -> str:
        return _("Call %(method)s %(address)s") % {
            "method": self.method,
            "address": shown(self.url, _("(no address set)")),
        }

    def problems(self) -> list[ConfigProblem]:
        found = required(self.url, "url", _("enter the address to call"))
        url = str(self.url or "").strip()
        if url and not url.startswith(("http://", "https://")):
            found.append(ConfigProblem("url", _("the address must start with http:// or https://")))
        if self.method not in WEBHOOK_METHODS:
            problem = _("%(method)s is not one of %(allowed)s") % {
                "method": quote(self.method),
                "allowed": ", ".join(WEBHOOK_METHODS),
            }
            found.append(ConfigProblem("method", problem))
        return found

    def templates(self) -> list[tuple[str, str, str]]:
        return [("body", _("the webhook body"), self.body)] if self.body else []


class ExitConfig(BlockConfig):
    def summary(self) -> str:
        return _("Exit the scenario")


class SendEmailAction(BlockBase):
    type: Literal["action"]
    kind: Literal["send_email"]
    config: SendEmailConfig = Field(default_factory=SendEmailConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Send an email"), "mail", N_("One of your email templates")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("message"),)


class SendSmsAction(BlockBase):
    type: Literal["action"]
    kind: Literal["send_sms"]
    config: SendSmsConfig = Field(default_factory=SendSmsConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Send an SMS"), "sms", N_("One of your SMS templates")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("message"),)


class AddToListAction(BlockBase):
    type: Literal["action"]
    kind: Literal["add_to_list"]
    config: AddToListConfig = Field(default_factory=AddToListConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Add to a list"), "list-plus", N_("E.g. loyal customers")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("list"),)


class RemoveFromListAction(BlockBase):
    type: Literal["action"]
    kind: Literal["remove_from_list"]
    config: RemoveFromListConfig = Field(default_factory=RemoveFromListConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Remove from a list"), "list-minus", N_("Tidy lists")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("list"),)


class UpdateAttributeAction(BlockBase):
    type: Literal["action"]
    kind: Literal["update_attribute"]
    config: UpdateAttributeConfig = Field(default_factory=UpdateAttributeConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Update a detail"), "edit", N_("Set or add to a value")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("attribute"), SetOrAdd())


class AddScoreAction(BlockBase):
    type: Literal["action"]
    kind: Literal["add_score"]
    config: AddScoreConfig = Field(default_factory=AddScoreConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Add score points"), "star", N_("Or remove some")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Integer("points", N_("The points")),)


class NotifyTeamAction(BlockBase):
    type: Literal["action"]
    kind: Literal["notify_team"]
    config: NotifyTeamConfig = Field(default_factory=NotifyTeamConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Alert the team"), "bell", N_("An email to a colleague")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("to"), RawText("message"))


class WebhookAction(BlockBase):
    type: Literal["action"]
    kind: Literal["webhook"]
    config: WebhookConfig = Field(default_factory=WebhookConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Call a webhook"), "webhook", N_("Tell another tool")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (
        Text("url"),
        Text("method", default="POST"),
        RawText("body"),
    )


class ExitAction(BlockBase):
    type: Literal["action"]
    kind: Literal["exit"]
    config: ExitConfig = Field(default_factory=ExitConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("End the journey"), "flag", N_("The contact leaves here")),
    )

    PORTS: ClassVar[tuple[str, ...]] = NO_PORTS
