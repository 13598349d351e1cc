"""The execution engine: triggers put contacts into scenarios, chunks move them along.

- ``triggers.py``: turns new events (tracked and system changes) into enrollments, resumes
  waits for events and applies event goals.
- ``advance.py``: claims a chunk of due enrollments and runs their steps in rounds, block by
  block for the whole chunk, then writes everything in one transaction.
- ``steps/``: what each kind of block does (one module per family, one function per kind).
- ``book.py``: the chunk's pending writes (steps, moves, outbox, contact changes) and how they
  are written in bulk.
- ``counters.py``: hot block counters in Redis, published for the live canvas.
"""
