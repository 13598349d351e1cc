"""What each kind of block does, for a whole group of contacts at once.

``EXECUTORS[(type, kind)]`` is the one place to look up a block's execution; its schema is
``app.graph.blocks.BLOCK_CLASSES[(type, kind)]``. A step function is registered where it is
written, with ``@executes(type, kind)`` (``registry.py``); importing every module of this
package fills the table. It receives a :class:`Group` (the contacts that reached the block
in this round) and, for each visit, calls ``leave``, ``park`` or ``end``. Raising fails the
whole group's step, which is retried with backoff.
"""

from __future__ import annotations

import importlib
import pkgutil

from worker.engine.steps.group import Group, StepError
from worker.engine.steps.registry import EXECUTORS, Executor, executes

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["EXECUTORS", "Executor", "Group", "StepError", "executes"]
