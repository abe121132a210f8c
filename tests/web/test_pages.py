"""The landing page: links, county summary, escaping of untrusted names, what it withholds."""

from __future__ import annotations

from html.parser import HTMLParser

from netwatch.web.app import create_app
from netwatch.web.pages import environment
from tests.web.conftest import HOSTILE, SECRETS, City


class Page(HTMLParser):
    """Collects links, script tags, inline styles and table rows of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0
        self.inline_styles = 0
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]
        self.scripts += tag == "script"
        self.inline_styles += tag == "style" or any(k == "style" for k, _ in attrs)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


async def landing(aiohttp_client, city: City, **overrides) -> tuple[str, Page]:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(city.deps(**overrides)))
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    text = await resp.text()
    page = Page()
    page.feed(text)
    css = await client.get("/static/netwatch.css")
    assert css.status == 200 and css.content_type == "text/css"
    return text, page


async def test_links_everything_without_script_or_inline_style(aiohttp_client,
                                                               city: City) -> None:
    """The page links metrics, health, the API and its description, notices, coverage and
    the survey form, with no script and no inline style (the CSP forbids both)."""
    _, page = await landing(aiohttp_client, city)
    for path in ("/metrics", "/healthz", "/readyz", "/api/v1/devices", "/api/v1/faults",
                 "/api/v1/openapi.json", "/notices", "/api/v1/notices", "/api/v1/blind-spots",
                 "/api/v1/points", "/survey", "/login"):
        assert path in page.links
    assert (page.scripts, page.inline_styles) == (0, 0)


async def test_county_summary(aiohttp_client, city: City) -> None:
    """Each county has a row of devices, up, down, unchecked, open and suppressed faults."""
    _, page = await landing(aiohttp_client, city)
    rows = {r[0]: r[1:] for r in page.rows if r}
    assert rows["东区 east"] == ["3", "0", "3", "0", "1", "2"]
    assert rows["西区 west"] == ["3", "1", "1", "1", "1", "0"]
    assert rows["南区 south"] == ["0", "0", "0", "0", "0", "0"]
    assert rows["合计 Total"] == ["6", "1", "4", "1", "2", "2"]


async def test_hostile_names_are_escaped(aiohttp_client, city: City) -> None:
    """A device name holding markup shows as text, never as markup; so does the city name."""
    text, page = await landing(aiohttp_client, city)
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;gate&#34;" in text
    assert "Testville &lt;b&gt;" in text
    assert page.scripts == 0
    assert any(HOSTILE in " ".join(row) for row in page.rows)


async def test_off_loopback_the_page_shows_counts_only(aiohttp_client, city: City) -> None:
    """With metrics_auth on (listening off loopback) no device name or id is on the page."""
    text, page = await landing(aiohttp_client, city, metrics_auth=True)
    for device in city.monitor.inventory.devices:
        assert device.id not in text
        assert device.name not in text
    assert "Bearer token" in text
    assert any(r and r[0] == "东区 east" for r in page.rows)


async def test_no_secrets_or_tokens_on_the_page(aiohttp_client, city: City) -> None:
    """Neither SNMP secrets nor API tokens ever reach the page."""
    text, _ = await landing(aiohttp_client, city)
    for secret in (*SECRETS, city.admin, city.east, city.west_tester):
        assert secret not in text


def test_every_template_autoescapes() -> None:
    """Autoescaping is on for any template name, not only *.html."""
    env = environment()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
