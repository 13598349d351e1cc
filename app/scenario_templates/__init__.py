"""Ready-made scenarios, one JSON bundle per template (the scenario export format).

Adding a template is adding a file here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from app.services.scenario_bundles import ScenarioBundle

FOLDER = Path(__file__).parent


@lru_cache
def scenario_templates() -> dict[str, ScenarioBundle]:
    bundles = [
        ScenarioBundle.model_validate(json.loads(path.read_text()))
        for path in sorted(FOLDER.glob("*.json"))
    ]
    return {bundle.key: bundle for bundle in bundles if bundle.key}
