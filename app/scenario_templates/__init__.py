"""Ready-made scenarios, one JSON bundle per template (the scenario export format).

Adding a template is adding a file here. Emails are written once, in the starter set of
``app/message_templates/``: a bundle message that names a starter's key and leaves out its
``html`` / ``text`` / ``subject`` gets the starter's (so the gallery and the message editor
show the same good-looking email). A message that is not a starter may give its body as a
``fragment``: it is placed in the starters' shared layout (brand bar, unsubscribe footer).

The bundles are written in English. Each other language has a folder (``fr/``) holding, per
template, the words of that language over the English file: name, description, when to use
it, the lists' and messages' names (and whole messages that are not starters), a block's
config text (the team alert). Keys, events and the graph stay the same in every language.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.i18n import current, supported
from app.i18n.speaker import SOURCE_LANGUAGE
from app.message_templates import layout, starters
from app.services.scenarios.bundles import ScenarioBundle

FOLDER = Path(__file__).parent


def _message(raw: dict[str, Any], language: str) -> dict[str, Any]:
    message = dict(raw)
    starter = starters(language).get(message["key"])
    fragment = message.pop("fragment", None)
    preheader = message.pop("preheader", "")
    if fragment is not None:
        message["html"] = (
            layout(language)
            .replace("{preheader}", preheader)
            .replace("{content}", fragment.rstrip("\n"))
        )
    elif starter is not None:
        message.setdefault("html", starter.html)
        message.setdefault("subject", starter.subject)
        message.setdefault("purpose", starter.purpose)
        message.setdefault("channel", starter.channel)
    if starter is not None and "text" not in message:
        message["text"] = starter.text
    return message


def _translated(raw: dict[str, Any], words: dict[str, Any]) -> dict[str, Any]:
    """The English bundle ``raw`` with the words of another language laid over it."""
    raw = dict(raw)
    for name in ("name", "description", "when_to_use"):
        if name in words:
            raw[name] = words[name]
    lists = words.get("lists", {})
    raw["lists"] = [{**spec, **lists.get(spec["key"], {})} for spec in raw.get("lists", [])]
    messages = words.get("messages", {})
    raw["messages"] = [{**m, **messages.get(m["key"], {})} for m in raw.get("messages", [])]
    nodes = words.get("nodes", {})
    if nodes:
        graph = dict(raw["graph"])
        graph["nodes"] = [
            {**node, "config": {**node["config"], **nodes[node["id"]].get("config", {})}}
            if node["id"] in nodes
            else node
            for node in graph["nodes"]
        ]
        raw["graph"] = graph
    return raw


def load_bundle(path: Path, language: str = SOURCE_LANGUAGE) -> ScenarioBundle:
    raw = json.loads(path.read_text())
    translation = FOLDER / language / path.name
    if language != SOURCE_LANGUAGE and translation.is_file():
        raw = _translated(raw, json.loads(translation.read_text()))
    raw["messages"] = [_message(m, language) for m in raw.get("messages", [])]
    return ScenarioBundle.model_validate(raw)


def scenario_templates(language: str | None = None) -> dict[str, ScenarioBundle]:
    """The ready-made scenarios in ``language`` (by default the current speaker's: "Use this
    template" by a French user creates French names, emails and SMS)."""
    return _scenario_templates(supported(language) or current().language)


@lru_cache
def _scenario_templates(language: str) -> dict[str, ScenarioBundle]:
    bundles = [load_bundle(path, language) for path in sorted(FOLDER.glob("*.json"))]
    return {bundle.key: bundle for bundle in bundles if bundle.key}
