"""Ready-made scenarios, one JSON bundle per template (the scenario export format).

Adding a template is adding a file here. Emails are written once, in the starter set of
``app/message_templates/``: a bundle message that names a starter's key and leaves out its
``html`` / ``text`` / ``subject`` gets the starter's (so the gallery and the message editor
show the same good-looking email). A message that is not a starter may give its body as a
``fragment``: it is placed in the starters' shared layout (brand bar, unsubscribe footer).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.message_templates import FOLDER as MESSAGE_FOLDER
from app.message_templates import starters
from app.services.scenarios.bundles import ScenarioBundle

FOLDER = Path(__file__).parent


def _message(raw: dict[str, Any]) -> dict[str, Any]:
    message = dict(raw)
    starter = starters().get(message["key"])
    fragment = message.pop("fragment", None)
    preheader = message.pop("preheader", "")
    if fragment is not None:
        layout = (MESSAGE_FOLDER / "_layout.html").read_text()
        message["html"] = layout.replace("{preheader}", preheader).replace(
            "{content}", fragment.rstrip("\n")
        )
    elif starter is not None:
        message.setdefault("html", starter.html)
        message.setdefault("subject", starter.subject)
        message.setdefault("purpose", starter.purpose)
        message.setdefault("channel", starter.channel)
    if starter is not None and "text" not in message:
        message["text"] = starter.text
    return message


def load_bundle(path: Path) -> ScenarioBundle:
    raw = json.loads(path.read_text())
    raw["messages"] = [_message(m) for m in raw.get("messages", [])]
    return ScenarioBundle.model_validate(raw)


@lru_cache
def scenario_templates() -> dict[str, ScenarioBundle]:
    bundles = [load_bundle(path) for path in sorted(FOLDER.glob("*.json"))]
    return {bundle.key: bundle for bundle in bundles if bundle.key}
