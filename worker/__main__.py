"""``python -m worker`` (what ``parcours worker`` runs): one arq worker process.

With no ``PARCOURS_REDIS_URL`` it starts the embedded Redis itself (single-machine setups).
"""

from __future__ import annotations

import logging.config
from typing import Any

from arq.logs import default_log_config
from arq.worker import create_worker

from app.config import get_settings
from app.redis import EmbeddedRedis
from worker.queue import redis_settings
from worker.settings import WorkerSettings


class _RunningJobs(dict[str, Any]):
    """arq's table of running jobs, by job id. When Redis loses its data while a kick job
    runs, the same job id can be queued and run again beside it; arq then deletes the id
    twice, and the second job failed with ``KeyError: 'kick:deliver_outbox'``."""

    def __delitem__(self, job_id: str) -> None:
        self.pop(job_id, None)


def main() -> None:
    logging.config.dictConfig(default_log_config(verbose=False))
    settings = get_settings()
    embedded = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = embedded.start()
    try:
        worker = create_worker(WorkerSettings, redis_settings=redis_settings(url))  # type: ignore[arg-type]
        worker.job_tasks = _RunningJobs()
        worker.run()
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
