"""GET /api/v1/warnings: the warnings raised now, from the store, narrowed like the faults."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from netwatch.monitor import Raised
from netwatch.monitor.trends import Write, write_trends
from netwatch.store import Store
from netwatch.vocab import Warning
from netwatch.web.app import create_app
from tests.web.conftest import T0, City, bearer

BOTH_ENGINES = True


@pytest.fixture
async def client(aiohttp_client, city: City, store: Store) -> TestClient:  # type: ignore[no-untyped-def]
    """Warnings as the counties' active instances wrote them: two in east, one in west."""
    east = Write(warnings={
        ("cam-e1", Warning.LOSS_RISING): ("camera", Raised(T0 + 60, {"baseline": 0.001,
                                                                    "recent": 0.05})),
        ("sw-e", Warning.UPLINK_ERRORS_RISING): ("switch", Raised(T0 + 30, {"errors": 120.0}))})
    west = Write(warnings={("ts-w1", Warning.REBOOTS): ("trunking_site",
                                                       Raised(T0, {"count": 4.0}))})
    write_trends(store, "east", "a", east)
    write_trends(store, "west", "a", west)
    return await aiohttp_client(create_app(city.deps(store=True)))


async def get(client: TestClient, path: str, token: str, status: int = 200) -> Any:
    resp = await client.get(path, headers=bearer(token))
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_a_county_token_sees_only_its_county(client: TestClient, city: City) -> None:
    found = await get(client, "/api/v1/warnings", city.east)
    assert [(w["device"], w["warning"]) for w in found["warnings"]] == [
        ("cam-e1", "loss_rising"), ("sw-e", "uplink_errors_rising")]
    first = found["warnings"][0]
    assert first == {"device": "cam-e1", "name": "East gate camera", "county": "east",
                     "kind": "camera", "warning": "loss_rising",
                     "figures": {"baseline": 0.001, "recent": 0.05},
                     "since": "2023-11-15T06:14:20+08:00", "since_unix": T0 + 60}
    await get(client, "/api/v1/warnings?county=west", city.east, 403)


async def test_admin_sees_every_county_and_filters(client: TestClient, city: City) -> None:
    every = await get(client, "/api/v1/warnings", city.admin)
    assert every["count"] == 3 and {w["county"] for w in every["warnings"]} == {"east", "west"}
    only = await get(client, "/api/v1/warnings?warning=reboots", city.admin)
    assert [w["device"] for w in only["warnings"]] == ["ts-w1"]
    switches = await get(client, "/api/v1/warnings?kind=switch&county=east", city.admin)
    assert [w["device"] for w in switches["warnings"]] == ["sw-e"]
    await get(client, "/api/v1/warnings?warning=loss", city.admin, 400)
    await get(client, "/api/v1/warnings", city.west_tester, 403)  # a tester's role


async def test_a_cleared_warning_leaves_the_answer(client: TestClient, city: City,
                                                   store: Store) -> None:
    write_trends(store, "east", "a", Write(warnings={("cam-e1", Warning.LOSS_RISING): None}))
    found = await get(client, "/api/v1/warnings?county=east", city.admin)
    assert [w["device"] for w in found["warnings"]] == ["sw-e"]
