"""A block kind is its class, its executor and its panel: none of the three may be missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.graph import BLOCK_CLASSES
from app.graph.palette import FAMILY_WORDS
from worker.engine.steps import EXECUTORS

PANELS = Path(__file__).parents[2] / "app" / "templates" / "canvas" / "panels"
KINDS = sorted(BLOCK_CLASSES)


@pytest.mark.parametrize(("block_type", "kind"), KINDS)
def test_every_block_kind_has_a_palette_entry_of_its_own(block_type: str, kind: str) -> None:
    palette = BLOCK_CLASSES[(block_type, kind)].PALETTE

    assert block_type in FAMILY_WORDS
    assert [entry for entry in palette if not entry.preset], "no palette entry for the kind"
    assert all(entry.name and entry.icon and entry.hint for entry in palette)


@pytest.mark.parametrize(("block_type", "kind"), KINDS)
def test_every_block_kind_has_an_executor(block_type: str, kind: str) -> None:
    assert (block_type, kind) in EXECUTORS


@pytest.mark.parametrize(("block_type", "kind"), KINDS)
def test_every_block_kind_has_a_panel(block_type: str, kind: str) -> None:
    assert (PANELS / f"{block_type}_{kind}.html").is_file()


def test_every_executor_runs_a_known_block_kind() -> None:
    assert set(EXECUTORS) == set(BLOCK_CLASSES)
