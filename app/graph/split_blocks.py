"""The random split: each journey takes one of 2 to 5 branches, by their percentages.

The draw is a stable hash, not a random number, so a chunk run again (after a crash, or a
retry) and the simulation send each journey down the branch it took the first time. A
holdout is a branch that leads nowhere: its contacts end their journey there.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from app.graph.block_base import BlockBase, BlockConfig, ConfigProblem
from app.graph.form_fields import FormField, FormReader
from app.graph.model_base import GraphModel
from app.graph.palette import PaletteEntry
from app.graph.wording import quote
from app.i18n.text import N_, _

MIN_BRANCHES, MAX_BRANCHES = 2, 5
PORT_NAME = re.compile(r"[a-z][a-z0-9_]{0,19}", re.ASCII)
# Ports the canvas and the documents already give a meaning to.
RESERVED_PORTS = frozenset({"in", "out", "yes", "no"})
DEFAULT_BRANCHES = (
    {"port": "a", "label": "A", "percent": 50},
    {"port": "b", "label": "B", "percent": 50},
)


class Branch(GraphModel):
    port: str
    label: str | None = None
    percent: int | None = None

    @property
    def shown(self) -> str:
        return self.label.strip() if self.label and self.label.strip() else self.port


class RandomSplitConfig(BlockConfig):
    branches: list[Branch] = Field(default_factory=list)

    def summary(self) -> str:
        if not self.branches:
            return _("Split at random (no branches set)")
        shares = " · ".join(
            _("%(branch)s %(percent)s %%") % {"branch": b.shown, "percent": b.percent or 0}
            for b in self.branches
        )
        return _("Split at random: %(shares)s") % {"shares": shares}

    def problems(self) -> list[ConfigProblem]:
        found: list[ConfigProblem] = []
        count = len(self.branches)
        if not MIN_BRANCHES <= count <= MAX_BRANCHES:
            found.append(
                ConfigProblem(
                    "branches",
                    _("a split has 2 to 5 branches; this one has %(count)s") % {"count": count},
                    missing=count == 0,
                )
            )
        seen: set[str] = set()
        for branch in self.branches:
            if PORT_NAME.fullmatch(branch.port) is None or branch.port in RESERVED_PORTS:
                problem = _("%(port)s cannot name a branch; use a, b, c…") % {
                    "port": quote(branch.port)
                }
                found.append(ConfigProblem("branches", problem))
            elif branch.port in seen:
                problem = _("two branches are both called %(port)s") % {"port": quote(branch.port)}
                found.append(ConfigProblem("branches", problem))
            seen.add(branch.port)
            if branch.percent is None:
                problem = _("set the percentage of branch %(branch)s") % {
                    "branch": quote(branch.shown)
                }
                found.append(ConfigProblem("branches", problem, missing=True))
            elif not 0 <= branch.percent <= 100:
                # 0 % is a branch that takes no one any more ("send everyone to B").
                problem = _("branch %(branch)s must take between 0 and 100 %%") % {
                    "branch": quote(branch.shown)
                }
                found.append(ConfigProblem("branches", problem))
        total = sum(branch.percent or 0 for branch in self.branches)
        if self.branches and all(b.percent is not None for b in self.branches) and total != 100:
            found.append(
                ConfigProblem(
                    "branches",
                    _("the percentages add up to %(total)s %%; they must make 100 %%")
                    % {"total": total},
                )
            )
        return found

    def ranges(self) -> list[tuple[Branch, int, int]]:
        """Each branch with its share of the draws, ``[low, high)`` within 0 to 100."""
        ranges: list[tuple[Branch, int, int]] = []
        low = 0
        for branch in self.branches:
            high = low + max(branch.percent or 0, 0)
            ranges.append((branch, low, high))
            low = high
        return ranges

    def branch_for(self, draw: int) -> tuple[Branch, int, int] | None:
        """The branch whose share holds ``draw`` (None past the last: shares short of 100)."""
        for found in self.ranges():
            if found[1] <= draw < found[2]:
                return found
        return None


def draw(journey: str, block_id: str) -> int:
    """A number in [0, 100) that depends only on the journey and the block, the same on every
    machine and in every run (no salt, no process seed)."""
    digest = hashlib.blake2b(f"{journey}\x1f{block_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


@dataclass(frozen=True)
class Branches(FormField):
    """The panel's rows: ``branch_port``, ``branch_label``, ``branch_percent``, one each per
    branch, in order."""

    name: str = "branches"

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        ports = form.form.getlist("branch_port")
        labels = form.form.getlist("branch_label")
        percents = form.form.getlist("branch_percent")
        if not (len(ports) == len(labels) == len(percents)):
            form.errors[self.name] = _("the branches could not be read; reload the page")
            return
        branches: list[dict[str, Any]] = []
        for index, (port, label, percent) in enumerate(zip(ports, labels, percents, strict=True)):
            branch: dict[str, Any] = {"port": str(port).strip()}
            if str(label).strip():
                branch["label"] = str(label).strip()
            field = f"branch_percent_{index}"
            number = _whole_percent(str(percent))
            if number is None and str(percent).strip():
                form.errors[field] = _("%(label)s: type a whole number, e.g. 3") % {
                    "label": _("The percentage")
                }
            elif number is not None:
                branch["percent"] = number
            branches.append(branch)
        config[self.name] = branches

    def show(self, config: Mapping[str, Any], values: dict[str, Any]) -> None:
        branches = config.get(self.name)
        values[self.name] = [
            b for b in (branches if isinstance(branches, list) else []) if isinstance(b, dict)
        ]


def _whole_percent(text: str) -> int | None:
    text = text.strip().removesuffix("%").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,3}", text) else None


class RandomSplitBlock(BlockBase):
    """One output per branch, named by its ``port``."""

    type: Literal["condition"]
    kind: Literal["random_split"]
    config: RandomSplitConfig = Field(default_factory=RandomSplitConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(
            N_("Split at random"),
            "shuffle",
            N_("A/B test: 2 to 5 branches by percent"),
            config={"branches": [dict(b) for b in DEFAULT_BRANCHES]},
        ),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Branches(),)
    PORTS: ClassVar[tuple[str, ...]] = ()  # they follow the branches: see ports()
    PORTS_FROM: ClassVar[str | None] = "branches"

    def ports(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(branch.port for branch in self.config.branches))

    def port_label(self, port: str) -> str:
        for branch in self.config.branches:
            if branch.port == port:
                return branch.shown
        return port
