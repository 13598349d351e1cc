"""Generated requests on every operation of the API never get a server error (issue 12).

Schemathesis reads the app's own OpenAPI document and generates, for each operation, a few
requests that follow the schema and a few that break it (wrong types, huge integers, odd text).
They go to a real server on a real database, with real commits; the run fails on any 5xx and on
a successful answer that does not match its documented schema. Each operation with path
parameters runs a second time on rows seeded over the API (a contact, a list, a segment, a live
scenario), so generated bodies also reach the services behind the 404s. Hypothesis is
derandomized, so every run sends the same requests, and the number of examples keeps the run
short (about a minute for both databases).

No worker runs here, so an activated scenario never delivers anything: its webhooks, emails and
SMS stay in the outbox of a database that is emptied afterwards.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine

from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.services.account.api_keys import create_api_key
from tests.fixtures.web import free_port, serving

# Per operation, on each database: bounded so the suite stays quick. To search harder, run this
# file alone with PARCOURS_FUZZ_EXAMPLES=200 (and PARCOURS_FUZZ_SEED=n for other inputs).
_SCALE = int(os.environ.get("PARCOURS_FUZZ_EXAMPLES", "10"))
EXAMPLES = {
    GenerationMode.POSITIVE: max(1, _SCALE * 3 // 5),
    GenerationMode.NEGATIVE: max(1, _SCALE * 2 // 5),
}
SEED = os.environ.get("PARCOURS_FUZZ_SEED")


@dataclass
class Server:
    url: str
    headers: dict[str, str]
    schema: Any
    known: dict[str, Any] = field(default_factory=dict)  # path parameters of seeded rows

    def known_path(self, operation: APIOperation) -> dict[str, Any] | None:
        """Path parameters naming rows that exist, so generated bodies reach the services."""
        names = {param.name for param in operation.path_parameters}
        if not names:
            return None
        resource = operation.path.removeprefix("/api/v1/").split("/")[0]
        values = {"key": self.known.get(resource), **self.known}
        return {name: values[name] for name in names if values.get(name) is not None}


@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)

    def add(self, operation: APIOperation, case: Any, response: Any, error: Exception) -> None:
        body = response.text[:300] if response is not None else ""
        self.failures.append(
            f"{operation.method.upper()} {operation.path} -> "
            f"{getattr(response, 'status_code', '?')}: {error!s:.300}\n"
            f"    {case.as_curl_command()[:600]}\n    {body}"
        )


@pytest.fixture
def server(
    committed_engine: Engine, database_url: str, redis_url: str, redis: Any, tmp_path: Path
) -> Iterator[Server]:
    port = free_port()
    app_settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="fuzz-secret-" + "z" * 40,
        base_url=f"http://127.0.0.1:{port}",
        api_rate_limit=0,
    )
    with session_scope(committed_engine) as session:
        _, plain = create_api_key(session, name="Fuzzer")
    app = create_app(app_settings)
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.config.update(base_url=app_settings.base_url)
    with serving(app, port, log_level="critical"):
        server = Server(app_settings.base_url, {"Authorization": f"Bearer {plain}"}, schema)
        server.known = seed_rows(server)
        yield server


def seed_rows(server: Server) -> dict[str, Any]:
    """A list, a contact in it, a segment, a signup form, a message, a live scenario (its
    version 1) and a simulation of it, made over the API."""
    http = requests.Session()
    http.headers.update(server.headers)

    def post(path: str, body: dict[str, Any]) -> Any:
        response = http.post(server.url + path, json=body, timeout=30)
        assert response.status_code in (200, 201), response.text
        return response.json()

    post("/api/v1/lists", {"key": "newsletter", "name": "Newsletter"})
    contact = post("/api/v1/contacts", {"email": "lea@example.com", "lists": ["newsletter"]})
    condition = {"attribute": "city", "op": "eq", "value": "Lyon"}
    post("/api/v1/segments", {"key": "lyon", "name": "Lyon", "condition": condition})
    form = {"key": "signup", "name": "Signup", "consent_text": "Yes", "lists": ["newsletter"]}
    post("/api/v1/forms", form)
    scenario = post("/api/v1/scenarios", {"template": "welcome"})
    post(f"/api/v1/scenarios/{scenario['id']}/activate", {})
    simulation = http.post(
        f"{server.url}/api/v1/scenarios/{scenario['id']}/simulations", json={}, timeout=30
    )
    assert simulation.status_code == 202, simulation.text
    return {
        "simulation_id": simulation.json()["id"],
        "number": 1,  # the live version's
        "contact_id": contact["contact"]["id"],
        "scenario_id": scenario["id"],
        "node_id": scenario["graph"]["nodes"][0]["id"],
        "lists": "newsletter",
        "segments": "lyon",
        "messages": "welcome",
        "forms": "signup",
    }


def _only_successes_have_a_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    # Refusals (401, 404, 409, 413, 422) carry {"detail": ...} in plain words, whose shape
    # varies with the refusal; the schema documents what a successful call answers.
    if response.status_code >= 300:
        return None
    return response_schema_conformance(ctx, response, case)


def fuzz(
    server: Server,
    operation: APIOperation,
    mode: GenerationMode,
    findings: Findings,
    path: dict[str, Any] | None = None,
) -> None:
    http = requests.Session()
    http.headers.update(server.headers)

    @seed(int(SEED or 0))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=SEED is None,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = None
        try:
            response = case.call(session=http, base_url=server.url, timeout=30)
            case.validate_response(
                response, checks=[not_a_server_error, _only_successes_have_a_schema]
            )
        except (FailureGroup, AssertionError, requests.RequestException) as error:
            findings.add(operation, case, response, error)

    # An operation without parameters or body has nothing a negative case could break.
    with contextlib.suppress(Unsatisfiable):
        run()


def test_no_generated_request_gets_a_server_error(server: Server) -> None:
    findings = Findings()
    operations = [result.ok() for result in server.schema.get_all_operations()]
    assert len(operations) > 30, "the schema should list every API operation"
    # Erasures last, so the seeded rows are there for every other operation.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        for mode in EXAMPLES:
            fuzz(server, operation, mode, findings)
            if (known := server.known_path(operation)) is not None:
                fuzz(server, operation, mode, findings, path=known)
    assert not findings.failures, "\n".join(findings.failures)
