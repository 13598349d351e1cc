"""The API reference (/docs) works on a machine with no network: every asset is served here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from app.security_headers import DOCS_POLICY

ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"')


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def test_the_docs_page_loads_only_assets_from_this_server_and_they_answer(
    client: TestClient,
) -> None:
    docs = client.get("/docs")

    assert docs.status_code == 200
    assets = ASSET.findall(docs.text)
    assert any("swagger-ui-bundle" in a for a in assets)
    assert any(a.endswith(".css") and "swagger-ui" in a for a in assets)
    for url in assets:
        parts = urlsplit(url)
        assert parts.netloc in ("", "testserver"), f"{url} comes from elsewhere"
        assert client.get(parts.path).status_code == 200, url
    assert "cdn" not in docs.text.lower()


def test_the_docs_page_starts_swagger_ui_without_an_inline_script(client: TestClient) -> None:
    docs = client.get("/docs")

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", docs.text, re.S)
    assert scripts
    assert all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert 'data-openapi-url="/openapi.json"' in docs.text
    csp = directives(docs.headers["content-security-policy"])
    assert csp["script-src"] == "'self'"
    assert "http" not in docs.headers["content-security-policy"]
    assert docs.headers["content-security-policy"] == DOCS_POLICY
    assert client.get("/openapi.json").json()["info"]["title"] == "Parcours"


def test_the_old_oauth_redirect_page_is_gone(client: TestClient) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 404
