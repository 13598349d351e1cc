"""Every block kind of DESIGN §3, and the one table that maps ``type.kind`` to its model.

A kind is its block class, written in any ``app/graph/*_blocks.py`` module: importing them
all here registers every class (``block_base.KIND_CLASSES``), and the document's union, this
table, the palette and the panels' readers are derived from the classes. To find a kind's
settings: ``BLOCK_CLASSES[("delay", "wait")]`` is ``WaitBlock`` and its ``config`` field names
``WaitConfig``.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Discriminator, Tag, TypeAdapter

from app.graph.block_base import KIND_CLASSES, BlockBase
from app.i18n.text import N_

# English for pydantic; the parser says it in the speaker's language.
UNKNOWN_BLOCK = N_("a block needs a known 'type' and 'kind'")
BLOCK_TYPES = ("trigger", "condition", "delay", "action")

for _module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if _module.name.endswith("_blocks"):
        importlib.import_module(f"app.graph.{_module.name}")

# By family (the palette's order), then in the order the classes were written.
BLOCK_CLASSES: dict[tuple[str, str], type[BlockBase]] = {
    model.pinned(): model
    for block_type in BLOCK_TYPES
    for model in KIND_CLASSES
    if model.pinned()[0] == block_type
}
KINDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    block_type: tuple(kind for (t, kind) in BLOCK_CLASSES if t == block_type)
    for block_type in BLOCK_TYPES
}


def _block_tag(raw: Any) -> str | None:
    if isinstance(raw, BlockBase):
        return f"{raw.type}.{raw.kind}"
    if isinstance(raw, dict):
        block_type, kind = raw.get("type"), raw.get("kind")
        if isinstance(block_type, str) and isinstance(kind, str):
            return f"{block_type}.{kind}"
    return None


if TYPE_CHECKING:
    Block = BlockBase
else:
    Block = Annotated[
        Union[  # noqa: UP007 - built from the registered classes at import
            tuple(
                Annotated[model, Tag(f"{block_type}.{kind}")]
                for (block_type, kind), model in BLOCK_CLASSES.items()
            )
        ],
        Discriminator(
            _block_tag,
            custom_error_type="unknown_block",
            custom_error_message=UNKNOWN_BLOCK,
        ),
    ]

BLOCK_ADAPTER: TypeAdapter[Block] = TypeAdapter(Block)


def block_class(block_type: str, kind: str) -> type[BlockBase] | None:
    return BLOCK_CLASSES.get((block_type, kind))
