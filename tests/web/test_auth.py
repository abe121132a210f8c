"""Bearer tokens on /api and /-/, failed-attempt limits per address, county scope."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from netwatch.web.app import create_app
from tests.web.conftest import FAILED_LIMIT, City, bearer

BOTH_ENGINES = True  # tokens checked on SQLite and on PostgreSQL
WRONG = "nw_" + "A" * 43  # well formed, never issued


async def client_for(aiohttp_client, city: City, **overrides) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(city.deps(**overrides)))


async def test_missing_token_is_401_with_a_bearer_challenge(aiohttp_client, city: City) -> None:
    """Every data endpoint answers 401 with WWW-Authenticate: Bearer when no token is sent."""
    client = await client_for(aiohttp_client, city)
    for method, path in (("GET", "/api/v1/devices"), ("GET", "/api/v1/faults"),
                         ("POST", "/-/reload"), ("GET", "/api/v1/nothing-here")):
        resp = await client.request(method, path)
        assert resp.status == 401, path
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        body = await resp.json()
        assert body["error"] == "authentication required"
    assert city.reloads == []


async def test_wrong_tokens_are_rate_limited_per_address(aiohttp_client, city: City) -> None:
    """After the allowed wrong tokens the address gets 429 with Retry-After for further wrong
    tokens until the limiter's window refills; a valid token still passes meanwhile."""
    client = await client_for(aiohttp_client, city)
    for _ in range(FAILED_LIMIT):
        resp = await client.get("/api/v1/devices", headers=bearer(WRONG))
        assert resp.status == 401
        assert (await resp.json())["error"] == "invalid or revoked token"
    resp = await client.get("/api/v1/devices", headers=bearer(WRONG))
    assert resp.status == 429
    retry = int(resp.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert (await resp.json())["detail"]["retry_after_seconds"] == retry
    resp = await client.get("/api/v1/devices", headers=bearer(city.admin))
    assert resp.status == 200
    city.limiter_clock.now += retry
    resp = await client.get("/api/v1/devices", headers=bearer(WRONG))
    assert resp.status == 401


async def test_malformed_authorization_counts_as_a_wrong_token(aiohttp_client,
                                                                city: City) -> None:
    """A non-Bearer scheme or junk token is a failed attempt, not a missing one."""
    client = await client_for(aiohttp_client, city)
    for header in ("Basic dXNlcjpwYXNz", "Bearer", f"Bearer {city.admin}x"):
        resp = await client.get("/api/v1/faults", headers={"Authorization": header})
        assert resp.status == 401
    resp = await client.get("/api/v1/faults", headers=bearer(WRONG))
    assert resp.status == 429


async def test_revoked_token_is_refused(aiohttp_client, city: City) -> None:
    """A token revoked in the store stops working at once."""
    client = await client_for(aiohttp_client, city)
    info = city.tokens.verify(city.east)
    assert info is not None
    city.tokens.revoke(info.id)
    resp = await client.get("/api/v1/devices", headers=bearer(city.east))
    assert resp.status == 401


async def test_county_token_sees_only_its_county(aiohttp_client, city: City) -> None:
    """Unfiltered, a county token gets its own devices and faults; naming another county is
    403, and naming its own works."""
    client = await client_for(aiohttp_client, city)
    resp = await client.get("/api/v1/devices", headers=bearer(city.east))
    assert {d["county"] for d in (await resp.json())["devices"]} == {"east"}
    resp = await client.get("/api/v1/faults?state=all", headers=bearer(city.east))
    faults = (await resp.json())["faults"]
    assert faults and {f["county"] for f in faults} == {"east"}
    for path in ("/api/v1/devices?county=west", "/api/v1/faults?county=east&county=west"):
        resp = await client.get(path, headers=bearer(city.east))
        assert resp.status == 403, path
        assert (await resp.json())["detail"] == {"counties": ["west"]}
    resp = await client.get("/api/v1/devices?county=east", headers=bearer(city.east))
    assert resp.status == 200


async def test_tester_token_reads_no_devices(aiohttp_client, city: City) -> None:
    """A tester token submits readings; devices (addresses, coordinates) are 403 to it."""
    client = await client_for(aiohttp_client, city)
    for path in ("/api/v1/devices", "/api/v1/devices?county=west", "/api/v1/faults"):
        resp = await client.get(path, headers=bearer(city.west_tester))
        assert resp.status == 403, path
        assert (await resp.json())["detail"] == {"role": "tester", "allowed": ["admin", "county"]}


async def test_admin_sees_every_county(aiohttp_client, city: City) -> None:
    """An admin token gets all devices, and an unknown county is a 400, not an empty list."""
    client = await client_for(aiohttp_client, city)
    resp = await client.get("/api/v1/devices", headers=bearer(city.admin))
    assert {d["county"] for d in (await resp.json())["devices"]} == {"east", "west"}
    resp = await client.get("/api/v1/devices?county=north", headers=bearer(city.admin))
    assert resp.status == 400
    assert (await resp.json())["detail"] == {"counties": ["north"]}


async def test_reload_is_admin_only(aiohttp_client, city: City) -> None:
    """County and tester tokens get 403 from /-/reload and the hook is never called."""
    client = await client_for(aiohttp_client, city)
    for token in (city.east, city.west_tester):
        resp = await client.post("/-/reload", headers=bearer(token))
        assert resp.status == 403
    assert city.reloads == []


async def test_metrics_open_on_loopback_and_token_guarded_otherwise(aiohttp_client,
                                                                    city: City) -> None:
    """/metrics needs no token unless metrics_auth is set; then an admin or metrics token."""
    open_client = await client_for(aiohttp_client, city)
    assert (await open_client.get("/metrics")).status == 200
    guarded = await client_for(aiohttp_client, city, metrics_auth=True)
    resp = await guarded.get("/metrics")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    for token in (city.admin, city.tokens.create("metrics", []).token):
        assert (await guarded.get("/metrics", headers=bearer(token))).status == 200
    for token in (city.east, city.west_tester):  # they would see every county's devices
        assert (await guarded.get("/metrics", headers=bearer(token))).status == 403
    for path in ("/healthz", "/readyz", "/", "/api/v1/openapi.json"):
        assert (await guarded.get(path)).status in (200, 503), path


async def test_a_valid_token_passes_whatever_its_address_failed(aiohttp_client,
                                                                city: City) -> None:
    """Wrong tokens are counted and answered 429 once spent; the right token is checked
    first, so its holder is never locked out by an attacker on the same address."""
    client = await client_for(aiohttp_client, city)
    for _ in range(FAILED_LIMIT * 3):
        assert (await client.get("/api/v1/faults", headers=bearer(WRONG))).status in (401, 429)
        resp = await client.get("/api/v1/faults", headers=bearer(city.east))
        assert resp.status == 200


async def test_forwarded_addresses_count_only_behind_a_proxy(aiohttp_client,
                                                             city: City) -> None:
    """Without --behind-proxy X-Forwarded-For is the client's own word and ignored: rotating
    it buys nothing. Behind a proxy the address the proxy appended (the last) is the
    client: one client's failures do not lock out another's."""
    client = await client_for(aiohttp_client, city)
    for n in range(FAILED_LIMIT):
        headers = {**bearer(WRONG), "X-Forwarded-For": f"127.9.0.{n}"}
        assert (await client.get("/api/v1/faults", headers=headers)).status == 401
    headers = {**bearer(WRONG), "X-Forwarded-For": "127.9.0.99"}
    assert (await client.get("/api/v1/faults", headers=headers)).status == 429

    proxied = await client_for(aiohttp_client, city, behind_proxy=True)
    city.limiter_clock.now += 3600
    for _ in range(FAILED_LIMIT):
        headers = {**bearer(WRONG), "X-Forwarded-For": "127.9.1.1, 127.9.0.1"}
        assert (await proxied.get("/api/v1/faults", headers=headers)).status == 401
    headers = {**bearer(WRONG), "X-Forwarded-For": "127.9.1.2, 127.9.0.1"}
    assert (await proxied.get("/api/v1/faults", headers=headers)).status == 429
    headers = {**bearer(WRONG), "X-Forwarded-For": "127.9.0.2"}
    assert (await proxied.get("/api/v1/faults", headers=headers)).status == 401
