"""The app's only door into the worker: enqueue work through the queue seam."""

from worker.queue import Queue

__all__ = ["Queue"]
