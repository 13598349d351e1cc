"""Simulations over the API (CONTRACTS-2 §A): ask what a draft or a version would do to the
real contacts, then read the counts as the worker finds them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from app.deps import SessionDep
from app.inputs import INT32_MAX, Int32
from app.services.scenarios import simulations as service

router = APIRouter(tags=["simulations"])
TASK = "simulate"


class SimulationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal["draft"] | Annotated[StrictInt, Field(ge=1, le=INT32_MAX)] = Field(
        default="draft", description='"draft", or the number of a published version.'
    )
    replay_days: Annotated[StrictInt, Field(ge=0, le=90)] = Field(
        default=30, description="Replay the contacts' events of these last days, in time order."
    )
    horizon_days: Annotated[StrictInt, Field(ge=0, le=365)] = Field(
        default=30,
        description="Then virtual time runs on this long: delays end, waits time out.",
    )
    include_existing: StrictBool = Field(
        default=False,
        description="Let in at the start whoever matches a list, segment or attribute trigger now.",
    )


class SimulationStarted(BaseModel):
    id: int
    status: str


class DayMessages(BaseModel):
    day: str
    email: int
    sms: int


class SimulationWarning(BaseModel):
    node: str | None
    code: str
    message: str


class SimulatedStep(BaseModel):
    node_id: str
    outcome: str
    detail: dict[str, Any] | None
    at: datetime


class SimulationOut(BaseModel):
    id: int
    status: Literal["running", "done", "failed", "cancelled"]
    progress: float = Field(description="0 to 1; the counts so far while running.")
    version: Literal["draft"] | int
    replay_days: int
    horizon_days: int
    include_existing: bool
    as_of: datetime
    error: str | None
    entered: int
    nodes: dict[str, dict[str, int]] = Field(
        description="Per block: entered, waiting (at the horizon), yes, no, completed, "
        "failed, skipped."
    )
    messages: dict[str, int]
    messages_per_day: list[DayMessages]
    skipped_reasons: dict[str, int]
    samples: dict[str, list[int]] = Field(description="Up to 20 contact ids per block.")
    journeys: dict[str, list[SimulatedStep]] = Field(
        description="The simulated steps of each sampled contact (by contact id), with the "
        "explanations their journey page shows, marked simulated."
    )
    warnings: list[SimulationWarning]


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


@router.post(
    "/scenarios/{scenario_id}/simulations",
    response_model=SimulationStarted,
    status_code=status.HTTP_202_ACCEPTED,
)
def start(
    scenario_id: Int32,
    body: SimulationRequest,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """Starts a simulation in the worker; 422 for a draft that cannot run yet (its issues
    listed) or a version that does not exist, and then nothing is stored."""
    simulation = service.start_simulation(
        session,
        scenario_id,
        version=body.version,
        replay_days=body.replay_days,
        horizon_days=body.horizon_days,
        include_existing=body.include_existing,
        now=_now(request),
    )
    # After the response, so after the request's transaction committed the row.
    background.add_task(
        request.app.state.queue.enqueue, TASK, simulation.id, job_id=f"simulate:{simulation.id}"
    )
    return {"id": simulation.id, "status": simulation.status}


@router.get("/scenarios/{scenario_id}/simulations/{simulation_id}", response_model=SimulationOut)
def read(scenario_id: Int32, simulation_id: Int32, session: SessionDep) -> dict[str, Any]:
    return service.answer(service.get_simulation(session, scenario_id, simulation_id))


@router.delete("/scenarios/{scenario_id}/simulations/{simulation_id}", response_model=SimulationOut)
def cancel(
    scenario_id: Int32, simulation_id: Int32, session: SessionDep, request: Request
) -> dict[str, Any]:
    """Cancels a running simulation (it stops before its next chunk); a finished one is
    answered as it is."""
    simulation = service.cancel_simulation(session, scenario_id, simulation_id, _now(request))
    return service.answer(simulation)
