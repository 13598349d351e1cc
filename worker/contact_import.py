"""The CSV import task: works through an uploaded file in chunks, then hands over.

A job works for at most ``SLICE_SECONDS`` and then queues a follow-up job for the same import,
so no job comes near the worker's timeout however large the file, and progress is committed
chunk by chunk (a retried job resumes at the last committed row).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app.i18n import N_
from app.services.contacts.import_run import fail_import, run_import
from worker.queue import QUEUE_NAME

log = logging.getLogger("parcours.import")
SLICE_SECONDS = 20.0


async def import_contacts(ctx: dict[str, Any], import_id: int, part: int = 0) -> str:
    engine, clock = ctx["engine"], ctx["clock"]
    try:
        finished = await asyncio.to_thread(
            run_import, engine, import_id, clock.now, budget_seconds=SLICE_SECONDS
        )
    except Exception:
        log.exception("import %s failed", import_id)
        message = N_("The import stopped on an unexpected error; it has been logged.")
        await asyncio.to_thread(fail_import, engine, import_id, message, clock.now())
        return "failed"
    if finished:
        return "done"
    await ctx["redis"].enqueue_job(
        "import_contacts",
        import_id,
        part + 1,
        _job_id=f"import:{import_id}:{part + 1}",
        _queue_name=QUEUE_NAME,
    )
    return "continues"
