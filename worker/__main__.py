"""``python -m worker`` (what ``parcours worker`` runs): one arq worker process.

With no ``PARCOURS_REDIS_URL`` it starts the embedded Redis itself (single-machine setups).
"""

from __future__ import annotations

import logging.config

from arq.logs import default_log_config
from arq.worker import run_worker

from app.config import get_settings
from app.redis import EmbeddedRedis
from worker.queue import redis_settings
from worker.settings import WorkerSettings


def main() -> None:
    logging.config.dictConfig(default_log_config(verbose=False))
    settings = get_settings()
    embedded = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = embedded.start()
    try:
        run_worker(WorkerSettings, redis_settings=redis_settings(url))  # type: ignore[arg-type]
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
