"""What an activation may ask besides publishing, shared by the API and the canvas: let in
the contacts already there, all at once or at most ``ramp_per_hour`` an hour (CONTRACTS-2
§C), and what becomes of the contacts already inside (``migration``, ``timers``, §B)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import BackgroundTasks, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from app.inputs import Int32
from app.services.scenarios.existing_contacts import MAX_PER_HOUR, LetIn
from app.services.scenarios.migration import Action, Choice, Migrated, Migration, Timers
from app.services.scenarios.migration_counters import counters_moved
from app.services.scenarios.scenarios import Published

NodeId = Annotated[str, Field(min_length=1, max_length=100)]
MAX_CHOICES = 1_000  # far more blocks than a canvas holds


class Stay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["stay"]


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["move"]
    to: NodeId | None = Field(
        default=None, description="A block of the new version; omitted: the block of the same id."
    )


class Exit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["exit"]


ChoiceIn = Annotated[Stay | Move | Exit, Field(discriminator="action")]


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_existing: StrictBool = Field(
        default=False,
        description="Contacts who match a list, segment or attribute trigger now enter too.",
    )
    ramp_per_hour: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_PER_HOUR,
        description="With include_existing: at most this many of them enter each hour.",
    )

    migration: dict[NodeId, ChoiceIn] | None = Field(
        default=None,
        max_length=MAX_CHOICES,
        description=(
            "What becomes of the contacts parked in each block (by id, in every running "
            "version that holds some there): stay (the default), move to a block of the new "
            "version, or exit the scenario."
        ),
    )
    timers: Literal["keep", "restart"] = Field(
        default="keep",
        description=(
            "keep: a contact moved onto a delay of the same kind keeps its wake-up time; "
            "restart: every moved contact starts its new block anew."
        ),
    )
    from_version: Int32 | None = Field(
        default=None,
        description="The publish plan's from_version: 409 when another version went live since.",
    )

    @model_validator(mode="after")
    def _ramp_needs_existing(self) -> ActivateRequest:
        if self.ramp_per_hour is not None and not self.include_existing:
            raise ValueError("ramp_per_hour goes with include_existing: true")
        return self

    def asked_migration(self) -> Migration | None:
        if self.migration is None:
            return None
        choices = {
            node: Choice(Action(c.action), c.to if isinstance(c, Move) else None)
            for node, c in self.migration.items()
        }
        return Migration(choices, Timers(self.timers))


class ExistingOut(BaseModel):
    entered: int = Field(description="Contacts already there who entered now.")
    refused: int = Field(description="Kept out by the re-entry rules as they entered.")
    waiting: int = Field(description="Waiting to enter, ramp_per_hour each hour.")
    per_hour: int | None

    @classmethod
    def of(cls, let_in: LetIn) -> ExistingOut:
        return cls(
            entered=let_in.entered,
            refused=let_in.refused,
            waiting=let_in.waiting,
            per_hour=let_in.per_hour,
        )


class MigratedOut(BaseModel):
    moved: int = Field(description="Journeys that continue on the new version.")
    exited: int = Field(description="Journeys ended because the scenario changed.")

    @classmethod
    def of(cls, migrated: Migrated) -> MigratedOut:
        return cls(moved=migrated.moved, exited=migrated.exited)


def after_activation(
    request: Request, background: BackgroundTasks, published: Published, let_in: LetIn | None
) -> None:
    """Once the activation is committed (background tasks run after the response): the
    worker is woken for the journeys due now, and the versions a migration touched have
    their hot counters read from the step log again."""
    queue = request.app.state.queue
    migrated = published.migrated
    if migrated is not None and migrated.version_ids:
        scenario_id = published.scenario.id or 0
        background.add_task(counters_moved, queue.redis, scenario_id, sorted(migrated.version_ids))
    tasks: set[str] = set()
    if migrated is not None and migrated.moved:
        tasks.add("advance")
    if let_in is not None and let_in.entered:
        tasks.add("advance")
    elif let_in is not None and let_in.waiting:
        tasks.add("let_in_waiting")
    for task in sorted(tasks):
        background.add_task(queue.kick, task)
