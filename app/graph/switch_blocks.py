"""The switch: up to 8 cases tested in order, the first that holds decides the path, ``else``
takes the rest (CONTRACTS-2 §D).

Each case is a condition of the shared language (DESIGN §4), so a switch costs what as many
``if`` blocks would, evaluated for a whole group at once; it only saves the marketer from
chaining them. A journey's explanation names the case it took and why each earlier one did
not hold, which is what a chain of ``if`` blocks could never say in one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from app.graph.block_base import (
    NO_NAMES,
    BlockBase,
    BlockConfig,
    ConfigProblem,
    Reference,
    RefNames,
)
from app.graph.condition_limits import condition_limit_problems
from app.graph.condition_sense import sense_of
from app.graph.conditions import Condition, lists_referenced
from app.graph.evaluate import Explanation
from app.graph.form_fields import FormField, FormReader
from app.graph.model_base import GraphModel
from app.graph.palette import PORT_NAMES, PaletteEntry
from app.graph.wording import quote
from app.i18n.phrases import Phrase, say
from app.i18n.text import N_, _

MIN_CASES, MAX_CASES = 1, 8
ELSE = "else"
PORT_NAME = re.compile(r"[a-z][a-z0-9_]{0,19}", re.ASCII)
# Ports the canvas and the documents already give a meaning to.
RESERVED_PORTS = frozenset({"in", "out", "yes", "no", ELSE})


class Case(GraphModel):
    port: str
    label: str | None = None
    condition: Condition | None = Field(default=None, alias="if")

    @property
    def shown(self) -> str:
        return self.label.strip() if self.label and self.label.strip() else self.port


class SwitchConfig(BlockConfig):
    cases: list[Case] = Field(default_factory=list)

    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        if not self.cases:
            return _("Route by … (no cases set)")
        routes = " · ".join([*(case.shown for case in self.cases), _("else")])
        return _("Route by: %(routes)s") % {"routes": routes}

    def problems(self) -> list[ConfigProblem]:
        found: list[ConfigProblem] = []
        count = len(self.cases)
        if not MIN_CASES <= count <= MAX_CASES:
            message = _("a switch has 1 to 8 cases; this one has %(count)s") % {"count": count}
            found.append(ConfigProblem("cases", message, missing=count == 0))
        seen: set[str] = set()
        for case in self.cases:
            if PORT_NAME.fullmatch(case.port) is None or case.port in RESERVED_PORTS:
                problem = _("%(port)s cannot name a case; use c1, c2…") % {"port": quote(case.port)}
                found.append(ConfigProblem("cases", problem))
            elif case.port in seen:
                problem = _("two cases are both called %(port)s") % {"port": quote(case.port)}
                found.append(ConfigProblem("cases", problem))
            seen.add(case.port)
            named = {"case": quote(case.shown)}
            if case.condition is None:
                problem = _("set the condition of case %(case)s") % named
                found.append(ConfigProblem("cases", problem, missing=True))
                continue
            for limit in condition_limit_problems(case.condition):
                problem = _("the condition of case %(case)s cannot be used: %(problem)s") % {
                    **named,
                    "problem": limit,
                }
                found.append(ConfigProblem("cases", problem))
        return found + self._sense_problems()

    def _sense_problems(self) -> list[ConfigProblem]:
        """Warnings: a case nobody can take, because it is never true, because an earlier
        case tests the same, or because an earlier one is always true."""
        found: list[ConfigProblem] = []
        earlier: list[Case] = []
        for index, case in enumerate(self.cases):
            if case.condition is None:
                continue
            named = {"case": quote(case.shown)}
            same = next((e for e in earlier if e.condition == case.condition), None)
            sense = sense_of(case.condition)
            if same is not None:
                problem = _(
                    "case %(case)s tests the same as case %(earlier)s above it, so no contact "
                    "takes it"
                ) % {**named, "earlier": quote(same.shown)}
            elif sense is not None and sense.verdict == "never":
                problem = _(
                    "case %(case)s is never true (%(reason)s), so no contact takes it; change "
                    "it so that it can be true"
                ) % {**named, "reason": sense.reason}
            elif sense is not None and index < len(self.cases) - 1:
                problem = _(
                    "case %(case)s is always true (%(reason)s), so no contact reaches the "
                    "cases after it or Else; change it, or move it last"
                ) % {**named, "reason": sense.reason}
            elif sense is not None:
                problem = _(
                    "case %(case)s is always true (%(reason)s), so no contact takes Else"
                ) % {**named, "reason": sense.reason}
            else:
                earlier.append(case)
                continue
            found.append(ConfigProblem("cases", problem, severity="warning"))
            earlier.append(case)
        return found

    def references(self) -> list[Reference]:
        return [
            Reference("list", key, "cases")
            for case in self.cases
            if case.condition is not None
            for key in lists_referenced(case.condition)
        ]


# --- the explanation -------------------------------------------------------------------------


def switch_detail(
    config: SwitchConfig, tested: Sequence[tuple[int, Explanation]]
) -> tuple[str, dict[str, Any]]:
    """The port a journey takes and its step's explanation, from the cases tested in order
    (``(case index, explanation)``; the last held, or none did and the journey takes else):
    "city was “Lyon”, needs = “Lyon”: not Paris (city was “Lyon”, needs = “Paris”) → Lyon"."""
    matched = tested[-1] if tested and tested[-1][1].result else None
    earlier = [
        (config.cases[index].shown, explanation)
        for index, explanation in (tested[:-1] if matched else tested)
    ]
    misses = [
        (
            f"not {label} ({_reason_text(e)})",
            say("not %(case)s (%(reason)s)", case=label, reason=_reason(e)),
        )
        for label, e in earlier
    ]
    missed_text = "; ".join(text for text, _phrase in misses)
    missed: Phrase | str = ""
    for _text, phrase in misses:
        missed = phrase if not missed else say("%(left)s; %(right)s", left=missed, right=phrase)
    if matched is not None:
        case = config.cases[matched[0]]
        port, shown = case.port, case.shown
        reason, reason_text = _reason(matched[1]), _reason_text(matched[1])
        if misses:
            text = f"{reason_text}: {missed_text} → {shown}"
            phrase = say(
                "%(reason)s: %(missed)s → %(case)s", reason=reason, missed=missed, case=shown
            )
        else:
            text = f"{reason_text} → {shown}"
            phrase = say("%(reason)s → %(case)s", reason=reason, case=shown)
    else:
        port = ELSE
        if misses:
            text = f"{missed_text} → else"
            phrase = say("%(missed)s → else", missed=missed)
        else:
            text, phrase = "no case to test → else", say("no case to test → else")
    return port, {
        "text": text,
        "say": phrase.dump(),
        "children": [explanation.model_dump(mode="json") for _index, explanation in tested],
        "switch": {"port": port, "case": matched[0] if matched else None},
    }


def _reason_text(explanation: Explanation) -> str:
    """The verdict without its "→ yes" / "→ no": the switch says where it leads instead."""
    return explanation.text.removesuffix(" → yes").removesuffix(" → no")


def _reason(explanation: Explanation) -> Phrase | str:
    # ``evaluate`` stores its verdict as "%(reason)s → yes|no": the reason is its argument.
    stored = explanation.say or {}
    reason = (stored.get("args") or {}).get("reason")
    if isinstance(reason, Mapping) and "say" in reason:
        return Phrase.load(reason)
    return _reason_text(explanation)


# --- the panel -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cases(FormField):
    """The panel's rows, in order: ``case_port``, ``case_label`` and ``case_if`` (the
    condition builder's JSON) once per case."""

    name: str = "cases"

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        ports = form.form.getlist("case_port")
        labels = form.form.getlist("case_label")
        conditions = form.form.getlist("case_if")
        if not (len(ports) == len(labels) == len(conditions)):
            form.errors[self.name] = _("the cases could not be read; reload the page")
            return
        cases: list[dict[str, Any]] = []
        for port, label, condition in zip(ports, labels, conditions, strict=True):
            case: dict[str, Any] = {"port": str(port).strip()}
            if str(label).strip():
                case["label"] = str(label).strip()
            if str(condition).strip():
                try:
                    case["if"] = json.loads(str(condition))
                except ValueError:
                    form.errors[self.name] = _("the condition could not be read; reload the page")
            cases.append(case)
        config[self.name] = cases

    def show(self, config: Mapping[str, Any], values: dict[str, Any]) -> None:
        cases = config.get(self.name)
        values[self.name] = [
            c for c in (cases if isinstance(cases, list) else []) if isinstance(c, dict)
        ]


class SwitchBlock(BlockBase):
    """One output per case, named by its ``port``, then ``else``."""

    type: Literal["condition"]
    kind: Literal["switch"]
    config: SwitchConfig = Field(default_factory=SwitchConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(
            N_("Switch"),
            "segment",
            N_("Up to 8 paths: the first case that matches"),
            config={"cases": [{"port": "c1"}]},
        ),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Cases(),)
    # The cases' ports come first (PORTS_FROM); these fixed ones follow them.
    PORTS: ClassVar[tuple[str, ...]] = (ELSE,)
    PORTS_FROM: ClassVar[str | None] = "cases"
    PORT_NAMES: ClassVar[Mapping[str, str]] = {**PORT_NAMES, ELSE: N_("Else")}

    def ports(self) -> tuple[str, ...]:
        return (*dict.fromkeys(case.port for case in self.config.cases if case.port != ELSE), ELSE)

    def port_label(self, port: str) -> str:
        for case in self.config.cases:
            if case.port == port and port != ELSE:
                return case.shown
        return super().port_label(port)
