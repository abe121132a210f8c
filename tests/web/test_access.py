"""Every route of the app against the roles table of docs/security.md.

The routes come from the app's own router, so a route added without a row in the
table (and in ``access.RULES``) fails here. Each role's token is tried on each route:
"no" must be 403 from the access check, "yes" must get past it, "public" must need no
credential. ``/metrics`` is walked as it is off loopback or behind a proxy.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from netwatch.store import Store
from netwatch.web.access import PUBLIC, RULES
from netwatch.web.app import create_app
from tests.web.conftest import City, bearer

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
ROLES = ("admin", "county", "tester", "metrics")
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)`[^|]*"
                 r"\| (\w+) \| (\w+) \| (\w+) \| (\w+) \|$")
DENIED = "this token's role may not use this route"

Table = dict[tuple[str, str], dict[str, str]]


def documented() -> Table:
    """The rows between the routes-table markers: (method, path) → role → public/yes/no."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- routes-table: begin -->")[1].split("<!-- routes-table: end -->")[0]
    table: Table = {}
    for line in block.splitlines():
        found = ROW.match(line.strip())
        if found:
            method, path, *cells = found.groups()
            assert (method, path) not in table, f"{method} {path} twice in {DOC.name}"
            table[(method, path)] = dict(zip(ROLES, cells, strict=True))
    return table


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    return {(r.method, r.resource.canonical) for r in app.router.routes()
            if r.method != "HEAD" and r.resource is not None}


def test_every_route_has_a_row_and_the_code_agrees_with_the_doc(city: City) -> None:
    table = documented()
    routes = app_routes(create_app(city.deps()))
    assert sorted(routes - table.keys()) == [], "routes without a row in docs/security.md"
    assert sorted(table.keys() - routes) == [], "rows in docs/security.md without a route"
    assert set(RULES) == routes
    for key, cells in table.items():
        if set(cells.values()) == {"public"}:
            assert RULES[key] == PUBLIC, key
        else:
            assert "public" not in cells.values(), key
            assert RULES[key] == {r for r, c in cells.items() if c == "yes"}, key


async def test_each_role_on_each_route_as_the_table_says(aiohttp_client, city: City,  # type: ignore[no-untyped-def]
                                                         store: Store) -> None:
    client = await aiohttp_client(create_app(city.deps(metrics_auth=True, store=store)))
    tokens = {"admin": city.admin, "county": city.east, "tester": city.west_tester,
              "metrics": city.tokens.create("metrics", []).token}
    for (method, canonical), cells in documented().items():
        path = canonical.replace("{id}", "1").replace("{item}", "1").replace("{fmt}", "html")
        body = {"json": {}} if method == "POST" else {}
        if set(cells.values()) == {"public"}:
            resp = await client.request(method, path, allow_redirects=False, **body)
            assert resp.status != 403 and "WWW-Authenticate" not in resp.headers, path
            assert not resp.headers.get("Location", "").startswith("/login?"), path
            continue
        resp = await client.request(method, path, allow_redirects=False, **body)
        assert resp.status in (401, 303), (method, path)
        for role, cell in cells.items():
            resp = await client.request(method, path, headers=bearer(tokens[role]),
                                        allow_redirects=False, **body)
            if cell == "no":
                assert resp.status == 403, (method, path, role, resp.status)
                assert (await resp.json())["error"] == DENIED, (method, path, role)
            else:
                assert resp.status not in (401, 403), (method, path, role, await resp.text())
