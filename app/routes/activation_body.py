"""What an activation may ask besides publishing (CONTRACTS-2 §C), shared by the API and the
canvas: let in the contacts already there, all at once or at most ``ramp_per_hour`` an hour."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from app.services.scenarios.existing_contacts import MAX_PER_HOUR, LetIn


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

    @model_validator(mode="after")
    def _ramp_needs_existing(self) -> ActivateRequest:
        if self.ramp_per_hour is not None and not self.include_existing:
            raise ValueError("ramp_per_hour goes with include_existing: true")
        return self


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
