"""What the screens call the things a scenario points at, for the graph's words.

The graph is pure: it names a template, a list or a segment by its key and a block by its id
unless told better. These tables tell it: summaries and issues then read "Send email 'Coupon 20
%'" and "Block 'Send an email': …" rather than a key or a block id.
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.graph import BLOCK_CLASSES, RefNames
from app.models import ContactList, MessageTemplate, Segment
from app.services.scenarios.block_catalog import block_info


def ref_names(session: Session) -> RefNames:
    """Every template's, list's and segment's name by key (three small queries)."""
    return RefNames(
        messages=dict(session.exec(select(MessageTemplate.key, MessageTemplate.name)).all()),
        lists=dict(session.exec(select(ContactList.key, ContactList.name)).all()),
        segments=dict(session.exec(select(Segment.key, Segment.name)).all()),
    )


def block_titles() -> dict[tuple[str, str], str]:
    """Each block kind's title in the current speaker's words ("Send an email")."""
    return {
        (block_type, kind): info.name
        for block_type, kind in BLOCK_CLASSES
        if (info := block_info(block_type, kind)) is not None
    }
