"""Browser sessions: login trades a token for a cookie, CSRF guards unsafe calls, logout ends it."""

from __future__ import annotations

import re
import ssl
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from yarl import URL

from netwatch.store import Store, StoreThread
from netwatch.web.app import create_app
from netwatch.web.auth import CSRF_HEADER, SESSION_COOKIE
from netwatch.web.session_store import SessionStore
from netwatch.web.sessions import safe_next
from tests.web.conftest import FAILED_LIMIT, City, Clock, bearer

BOTH_ENGINES = True  # sessions and their tokens on SQLite and on PostgreSQL
HOST = "127.111.0.2"
WRONG = "nw_" + "A" * 43  # well formed, never issued
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def client_for(aiohttp_client: Any, city: City, **overrides: Any) -> TestClient:
    return await aiohttp_client(create_app(city.deps(**overrides)),
                                server_kwargs={"host": HOST})


async def login(client: TestClient, token: str, next_url: str = "/survey") -> Any:
    return await client.post("/login", data={"token": token, "next": next_url},
                             allow_redirects=False)


async def csrf_of(client: TestClient) -> str:
    """The CSRF token the survey page of the logged-in session carries."""
    resp = await client.get("/survey", allow_redirects=False)
    assert resp.status == 200
    found = CSRF_META.search(await resp.text())
    assert found is not None
    return found.group(1)


async def test_login_sets_an_httponly_strict_session_cookie(aiohttp_client: Any,
                                                            city: City) -> None:
    """A good token gets 303 to ``next`` and a session cookie that scripts cannot read,
    that other sites do not send, and that is not the token."""
    client = await client_for(aiohttp_client, city)
    resp = await client.get("/login?next=/survey")
    assert resp.status == 200 and 'name="token"' in await resp.text()
    resp = await login(client, city.west_tester)
    assert resp.status == 303 and resp.headers["Location"] == "/survey"
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain HTTP here; over TLS the flag is set
    assert int(cookie["max-age"]) > 0
    assert city.west_tester not in resp.headers["Set-Cookie"]
    assert len(cookie.value) == 43


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a throwaway certificate for this test's address."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(HOST))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    pem = tmp_path / "server.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pem)
    return context


async def test_cookie_is_secure_over_tls(city: City, tmp_path: Path) -> None:
    """When netwatch serves TLS itself, the session cookie is only ever sent over TLS."""
    server = TestServer(create_app(city.deps()), host=HOST)
    await server.start_server(ssl=self_signed(tmp_path))
    async with TestClient(server) as client:
        assert client.make_url("/").scheme == "https"
        resp = await client.post("/login", data={"token": city.west_tester, "next": "/"},
                                 allow_redirects=False, ssl=False)
        assert resp.status == 303
        assert resp.cookies[SESSION_COOKIE]["secure"]
        assert "; Secure" in resp.headers["Set-Cookie"]


async def test_cookie_is_secure_behind_a_tls_proxy(aiohttp_client: Any, city: City) -> None:
    """A reverse proxy that terminated TLS (X-Forwarded-Proto: https) also gets Secure."""
    client = await client_for(aiohttp_client, city)
    resp = await client.post("/login", data={"token": city.west_tester},
                             headers={"X-Forwarded-Proto": "https"}, allow_redirects=False)
    assert resp.status == 303 and resp.cookies[SESSION_COOKIE]["secure"]


async def test_cookie_opens_pages_and_read_apis(aiohttp_client: Any, city: City,
                                               store: Store) -> None:
    """With the cookie alone the browser gets the pages and the GET APIs, scoped as its token."""
    client = await client_for(aiohttp_client, city, store=store)
    assert (await login(client, city.west_tester)).status == 303
    assert (await client.get("/survey", allow_redirects=False)).status == 200
    resp = await client.get("/api/v1/points")
    assert resp.status == 200
    client = await client_for(aiohttp_client, city, store=store)
    assert (await login(client, city.east)).status == 303
    assert (await client.get("/notices", allow_redirects=False)).status == 200
    resp = await client.get("/api/v1/devices")
    assert resp.status == 200
    assert {d["county"] for d in (await resp.json())["devices"]} == {"east"}


async def test_pages_without_a_credential_go_to_login(aiohttp_client: Any, city: City) -> None:
    """Browser pages redirect to the login page with their path as ``next``; APIs stay 401."""
    client = await client_for(aiohttp_client, city)
    resp = await client.get("/survey", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login?next=/survey"
    resp = await client.get("/notices?county=west", allow_redirects=False)
    assert resp.status == 303
    location = URL(resp.headers["Location"])
    assert location.path == "/login" and location.query["next"] == "/notices?county=west"
    resp = await client.get("/api/v1/devices", allow_redirects=False)
    assert resp.status == 401 and (await resp.json())["error"] == "authentication required"


async def test_wrong_token_shows_the_form_again_and_counts_toward_the_limit(
        aiohttp_client: Any, city: City) -> None:
    """A wrong token is 401 with the form and a message; the failures share the bearer
    limiter, so after the limit wrong tokens (by form or bearer) get 429, the right one not."""
    client = await client_for(aiohttp_client, city)
    for _ in range(FAILED_LIMIT):
        resp = await login(client, WRONG)
        assert resp.status == 401
        text = await resp.text()
        assert "令牌无效或已吊销" in text and 'name="token"' in text
        assert WRONG not in text
        assert SESSION_COOKIE not in resp.cookies
    resp = await login(client, WRONG)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert SESSION_COOKIE not in resp.cookies
    resp = await client.get("/api/v1/devices", headers=bearer(WRONG))
    assert resp.status == 429
    assert (await login(client, city.admin)).status == 303
    city.limiter_clock.now += 60
    assert (await login(client, WRONG)).status == 401


async def test_unsafe_calls_by_cookie_need_the_csrf_token(aiohttp_client: Any,
                                                          city: City) -> None:
    """POST by cookie without or with a wrong CSRF token is 403 and does nothing; with the
    session's token (header or form field) it passes; bearer calls need none."""
    client = await client_for(aiohttp_client, city)
    assert (await login(client, city.admin, "/")).status == 303
    csrf = await csrf_of(client)
    resp = await client.post("/-/reload")
    assert resp.status == 403 and (await resp.json())["error"] == "CSRF token missing or wrong"
    resp = await client.post("/-/reload", headers={CSRF_HEADER: csrf[:-1] + "x"})
    assert resp.status == 403
    resp = await client.post("/-/reload", data={"csrf_token": "nope"})
    assert resp.status == 403
    assert city.reloads == []
    resp = await client.post("/-/reload", headers={CSRF_HEADER: csrf})
    assert resp.status == 200 and (await resp.json())["ok"] is True
    resp = await client.post("/-/reload", data={"csrf_token": csrf})
    assert resp.status == 200
    client.session.cookie_jar.clear()
    resp = await client.post("/-/reload", headers=bearer(city.admin))
    assert resp.status == 200
    assert len(city.reloads) == 3


async def test_readings_by_cookie_are_form_readings(aiohttp_client: Any, city: City,
                                                    store: Store) -> None:
    """The survey API takes a session's reading only with its CSRF token, and records it as
    sent by the form; the same reading by bearer token is an API reading."""
    client = await client_for(aiohttp_client, city, store=store)
    assert (await login(client, city.admin)).status == 303
    csrf = await csrf_of(client)
    taken = datetime.now(UTC).isoformat(timespec="seconds")
    reading = {"lat": 30.5, "lon": 120.1, "datum": "wgs84", "taken_at": taken,
               "technology": "pdt", "rssi_dbm": -80, "client_id": "c-1"}
    resp = await client.post("/api/v1/readings", json=reading)
    assert resp.status == 403
    assert store.execute("SELECT count(*) FROM readings").fetchone()[0] == 0
    resp = await client.post("/api/v1/readings", json=reading, headers={CSRF_HEADER: csrf})
    assert resp.status == 201
    client.session.cookie_jar.clear()
    resp = await client.post("/api/v1/readings", json={**reading, "client_id": "c-2"},
                             headers=bearer(city.admin))
    assert resp.status == 201
    rows = store.execute("SELECT idem_key, source FROM readings ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("c-1", "form"), ("c-2", "api")]


async def test_each_session_has_its_own_csrf_token(aiohttp_client: Any, city: City) -> None:
    """Another login gets another CSRF token, and the first one does not work for it."""
    first = await client_for(aiohttp_client, city)
    second = await client_for(aiohttp_client, city)
    assert (await login(first, city.admin, "/")).status == 303
    assert (await login(second, city.admin, "/")).status == 303
    token_1, token_2 = await csrf_of(first), await csrf_of(second)
    assert token_1 != token_2
    resp = await second.post("/-/reload", headers={CSRF_HEADER: token_1})
    assert resp.status == 403


async def test_revoked_token_ends_its_sessions(aiohttp_client: Any, city: City) -> None:
    """Revoking the token in the store ends the browser session on its next request."""
    client = await client_for(aiohttp_client, city)
    assert (await login(client, city.west_tester)).status == 303
    assert (await client.get("/survey", allow_redirects=False)).status == 200
    info = city.tokens.verify(city.west_tester)
    assert info is not None
    city.tokens.revoke(info.id)
    resp = await client.get("/survey", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    resp = await client.get("/api/v1/devices")
    assert resp.status == 401 and (await resp.json())["error"] == "session expired or ended"
    assert (await login(client, city.west_tester)).status == 401


async def test_idle_and_old_sessions_expire(aiohttp_client: Any, city: City) -> None:
    """A session unused for the idle time, or older than the maximum age, no longer works."""
    clock = city.clock
    sessions = SessionStore(idle=100.0, max_age=250.0, clock=clock)
    client = await client_for(aiohttp_client, city, sessions=sessions)
    assert (await login(client, city.west_tester)).status == 303
    clock.now += 99
    assert (await client.get("/survey", allow_redirects=False)).status == 200
    clock.now += 99
    assert (await client.get("/survey", allow_redirects=False)).status == 200
    clock.now += 99  # used 99 s ago, but 297 s old
    assert (await client.get("/survey", allow_redirects=False)).status == 303
    assert len(sessions) == 0
    assert (await login(client, city.west_tester)).status == 303
    clock.now += 100
    assert (await client.get("/survey", allow_redirects=False)).status == 303


async def test_session_table_is_bounded() -> None:
    """Past the limit, the least recently used session goes first; idle ones are forgotten
    when the next login comes."""
    clock = Clock()
    sessions = SessionStore(idle=100.0, max_sessions=2, clock=clock)
    a, _ = await sessions.open("a")
    b, _ = await sessions.open("b")
    assert await sessions.get(a) is not None  # a is now the most recently used
    c, _ = await sessions.open("c")
    assert len(sessions) == 2
    assert await sessions.get(b) is None and await sessions.get(a) is not None
    assert await sessions.get(c) is not None
    clock.now += 60
    assert await sessions.get(c) is not None
    clock.now += 60  # a idle for 120 s, c for 60 s
    await sessions.open("d")
    assert len(sessions) == 2 and await sessions.get(a) is None
    assert await sessions.get(c) is not None


async def test_sessions_outlive_a_restart(store: Store, db: StoreThread) -> None:
    """With a store, a session opened before a restart works after it (same CSRF token);
    logging out, expiry and the bound end it in the table too; no cookie is stored."""
    clock = Clock()
    before = SessionStore(idle=100.0, max_age=1000.0, clock=clock, db=db)
    cookie, opened = await before.open("tok-a")
    gone, _ = await before.open("tok-b")
    await before.close(gone)
    rows = store.execute("SELECT id_hash, token_id FROM sessions").fetchall()
    assert [r["token_id"] for r in rows] == ["tok-a"] and rows[0]["id_hash"] != cookie

    after = SessionStore(idle=100.0, max_age=1000.0, clock=clock, db=db)  # restarted
    clock.now += 90
    session = await after.get(cookie)
    assert session is not None and (session.token_id, session.csrf) == ("tok-a", opened.csrf)
    assert await after.get(gone) is None
    clock.now += 90  # idle 90 s since its last use: still alive, its use was saved
    assert await SessionStore(idle=100.0, clock=clock, db=db).get(cookie) is not None
    clock.now += 1000  # past the maximum age
    assert await SessionStore(idle=100.0, max_age=1000.0, clock=clock,
                              db=db).get(cookie) is None
    assert store.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


@pytest.mark.parametrize("target", [
    "https://attacker.invalid/", "//attacker.invalid/x", "/\\attacker.invalid", "http:/x",
    "javascript:alert(1)", "", "survey", "/\t/attacker.invalid", "/" + "a" * 300,
])
def test_next_never_leaves_the_site(target: str) -> None:
    """Anything but a plain path on this site sends the browser home instead."""
    assert safe_next(target) == "/"


async def test_open_redirect_refused_at_login(aiohttp_client: Any, city: City) -> None:
    """Login with an off-site ``next`` lands on ``/``; a local path with a query is kept."""
    client = await client_for(aiohttp_client, city)
    resp = await login(client, city.admin, "//attacker.invalid/x")
    assert resp.status == 303 and resp.headers["Location"] == "/"
    resp = await login(client, city.admin, "/notices?county=west")
    assert resp.headers["Location"] == "/notices?county=west"
    resp = await client.get("/login?next=https://attacker.invalid/")
    assert "attacker.invalid" not in await resp.text()


async def test_cross_site_login_refused(aiohttp_client: Any, city: City) -> None:
    """A login form posted from another origin is refused before the token is looked at."""
    client = await client_for(aiohttp_client, city)
    for headers in ({"Origin": "http://attacker.invalid"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "same-site", "Origin": "null"}):
        resp = await client.post("/login", data={"token": city.admin}, headers=headers,
                                 allow_redirects=False)
        assert resp.status == 403 and SESSION_COOKIE not in resp.cookies
    for headers in ({"Origin": f"http://{HOST}:{client.port}"},
                    {"Sec-Fetch-Site": "same-origin", "Origin": "null"}):
        resp = await client.post("/login", data={"token": city.admin}, headers=headers,
                                 allow_redirects=False)
        assert resp.status == 303


async def test_logout_ends_the_session(aiohttp_client: Any, city: City) -> None:
    """Logout needs the session's CSRF token, clears the cookie and ends the session on the
    server, so a copy of the old cookie is refused afterwards."""
    client = await client_for(aiohttp_client, city)
    resp = await login(client, city.west_tester)
    old = resp.cookies[SESSION_COOKIE].value
    csrf = await csrf_of(client)
    resp = await client.post("/logout", allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    assert resp.cookies[SESSION_COOKIE].value == ""
    resp = await client.get("/survey", allow_redirects=False,
                            cookies={SESSION_COOKIE: old})
    assert resp.status == 303


async def test_survey_form_needs_a_tester_or_admin(aiohttp_client: Any, city: City) -> None:
    """A county token's session gets 403 for the form; its CSP allows only own scripts."""
    client = await client_for(aiohttp_client, city)
    assert (await login(client, city.east)).status == 303
    resp = await client.get("/survey", allow_redirects=False)
    assert resp.status == 403
    client.session.cookie_jar.clear()
    assert (await login(client, city.admin)).status == 303
    resp = await client.get("/survey", allow_redirects=False)
    assert resp.status == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert resp.headers["Cache-Control"] == "no-store"
    resp = await client.get("/static/survey.js")
    assert resp.status == 200 and resp.content_type == "text/javascript"


async def test_behind_a_proxy_the_landing_page_names_devices_only_to_a_session(
        aiohttp_client: Any, city: City, store: Store) -> None:
    """With /metrics guarded (off loopback or --behind-proxy) the landing page shows no
    device without a session; an east session sees east's open faults and no others; a
    tester's session sees none."""
    client = await client_for(aiohttp_client, city, store=store, metrics_auth=True)
    names = {d.id: d.name for d in city.monitor.inventory.devices}
    text = await (await client.get("/")).text()
    assert not any(device in text for device in names)
    assert (await login(client, city.east)).status == 303
    text = await (await client.get("/")).text()
    assert "sw-e" in text and names["sw-e"] in text
    assert "cam-w1" not in text and names["cam-w1"] not in text
    client = await client_for(aiohttp_client, city, store=store, metrics_auth=True)
    assert (await login(client, city.west_tester)).status == 303
    text = await (await client.get("/")).text()
    assert not any(device in text for device in names)
