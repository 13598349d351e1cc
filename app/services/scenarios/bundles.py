"""A scenario as a portable JSON file: its graph plus the lists and messages it uses.

The same format serves export/import (so scenarios can live in git) and the ready-made
templates in ``app/scenario_templates/``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from app.graph.references import graph_references
from app.models import Channel, ContactList, MessagePurpose, MessageTemplate, Scenario
from app.services.unique_rows import add_unique


class ListSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""


class MessageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    channel: Channel = Channel.email
    purpose: MessagePurpose = MessagePurpose.marketing
    subject: str = Field(default="", max_length=500)
    html: str = ""
    text: str = ""
    from_name: str | None = None
    from_email: str | None = None
    reply_to: str | None = None


class ScenarioBundle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["parcours.scenario"] = "parcours.scenario"
    version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    graph: dict[str, Any]
    lists: list[ListSpec] = Field(default_factory=list)
    messages: list[MessageSpec] = Field(default_factory=list)
    # Only in ready-made templates.
    key: str | None = Field(default=None, max_length=100)
    when_to_use: str | None = None


class ImportReport(BaseModel):
    created_lists: list[str] = Field(default_factory=list)
    created_messages: list[str] = Field(default_factory=list)
    kept_lists: list[str] = Field(default_factory=list)
    kept_messages: list[str] = Field(default_factory=list)


def referenced_keys(graph: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The list keys and message keys a (possibly invalid) graph refers to."""
    found = graph_references(graph)
    return found.lists, found.messages


def export_bundle(session: Session, scenario: Scenario) -> ScenarioBundle:
    list_keys, message_keys = referenced_keys(scenario.draft)
    lists = session.exec(
        select(ContactList)
        .where(col(ContactList.key).in_(list_keys))
        .order_by(col(ContactList.key))
    ).all()
    messages = session.exec(
        select(MessageTemplate)
        .where(col(MessageTemplate.key).in_(message_keys))
        .order_by(col(MessageTemplate.key))
    ).all()
    return ScenarioBundle(
        name=scenario.name,
        description=scenario.description,
        graph=scenario.draft,
        lists=[ListSpec(key=lst.key, name=lst.name, description=lst.description) for lst in lists],
        messages=[
            MessageSpec.model_validate(
                {name: getattr(m, name) for name in MessageSpec.model_fields}
            )
            for m in messages
        ],
    )


def install_dependencies(session: Session, bundle: ScenarioBundle) -> ImportReport:
    """Creates the lists and messages the bundle brings; existing ones (same key) are kept."""
    report = ImportReport()
    list_keys = [spec.key for spec in bundle.lists]
    existing_lists = set(
        session.exec(select(ContactList.key).where(col(ContactList.key).in_(list_keys))).all()
    )
    for list_spec in bundle.lists:
        if list_spec.key in existing_lists:
            report.kept_lists.append(list_spec.key)
            continue
        existing_lists.add(list_spec.key)
        created = add_unique(session, ContactList(**list_spec.model_dump()))
        (report.created_lists if created else report.kept_lists).append(list_spec.key)

    message_keys = [spec.key for spec in bundle.messages]
    existing_messages = set(
        session.exec(
            select(MessageTemplate.key).where(col(MessageTemplate.key).in_(message_keys))
        ).all()
    )
    for message_spec in bundle.messages:
        if message_spec.key in existing_messages:
            report.kept_messages.append(message_spec.key)
            continue
        existing_messages.add(message_spec.key)
        created = add_unique(session, MessageTemplate(**message_spec.model_dump()))
        (report.created_messages if created else report.kept_messages).append(message_spec.key)
    session.flush()
    return report
