"""Where each block kind's execution is registered: ``@executes(type, kind, …)`` on the step
function, in the module that writes it."""

from __future__ import annotations

from collections.abc import Callable

from worker.engine.steps.group import Group

Executor = Callable[[Group], None]

EXECUTORS: dict[tuple[str, str], Executor] = {}


def executes(block_type: str, *kinds: str) -> Callable[[Executor], Executor]:
    """Registers the decorated function as the step of every ``(block_type, kind)``."""

    def register(step: Executor) -> Executor:
        for kind in kinds:
            if (block_type, kind) in EXECUTORS:
                raise ValueError(f"{block_type}.{kind} has two executors")
            EXECUTORS[(block_type, kind)] = step
        return step

    return register
