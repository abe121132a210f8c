"""The OpenAPI document matches the app's routes and is served without a token."""

from __future__ import annotations

from netwatch.web.app import create_app
from netwatch.web.openapi import document
from tests.web.conftest import City

UNDOCUMENTED = {"/static/netwatch.css"}  # an asset of the landing page, not an endpoint


async def test_document_describes_exactly_the_routes(aiohttp_client, city: City) -> None:
    """Every route (method and path) is in the document and the document lists no other."""
    app = create_app(city.deps())
    routes = {(r.method.lower(), r.resource.canonical) for r in app.router.routes()
              if r.method != "HEAD" and r.resource is not None
              and r.resource.canonical not in UNDOCUMENTED}
    doc = document("1.2.3")
    described = {(method, path) for path, item in doc["paths"].items() for method in item}
    assert described == routes
    client = await aiohttp_client(app)
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    served = await resp.json()
    assert served["openapi"].startswith("3.")
    assert served["info"]["version"] == "9.9.9"


def test_references_resolve() -> None:
    """Every $ref points at a schema the document defines."""
    doc = document("1.0")
    schemas = doc["components"]["schemas"]
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas


def test_protected_paths_declare_bearer_security() -> None:
    """Data endpoints say they need a bearer token; health and the document itself do not."""
    paths = document("1.0")["paths"]
    for path in ("/api/v1/devices", "/api/v1/faults", "/-/reload"):
        (operation,) = paths[path].values()
        assert operation["security"] == [{"bearer": []}]
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json", "/"):
        (operation,) = paths[path].values()
        assert operation["security"] == []
