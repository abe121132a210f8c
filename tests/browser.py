"""A small Chrome DevTools Protocol driver for tests: real headless Chromium, no downloads.

``Chromium.start`` launches ``/usr/bin/chromium`` with its own profile directory and a
DevTools port picked by the browser (port 0), reads the ``DevTools listening on
ws://...`` line, and talks to it over aiohttp's websocket client. ``new_page`` opens
a tab attached in flat mode (one socket, commands routed by session id). Helpers
cover what the web tests need: navigate and wait for load, evaluate JavaScript,
fill and click through the DOM, wait for a JavaScript condition with a deadline, a
fixed geolocation, and offline network emulation. ``close`` kills the browser by its
PID. Host names never resolve (``--host-resolver-rules``), so a page cannot reach
anything but the IP literals a test gives it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 30.0
POLL_SECONDS = 0.05
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
    "--no-first-run", "--no-default-browser-check", "--disable-sync",
    "--disable-component-update", "--disable-extensions", "--disable-default-apps",
    "--disable-breakpad",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.*",
)


class BrowserError(RuntimeError):
    """Chromium did not start, a command failed, or a page's script threw."""


class Chromium:
    """One headless Chromium process and its DevTools connection."""

    def __init__(self, process: asyncio.subprocess.Process, http: aiohttp.ClientSession,
                 socket: aiohttp.ClientWebSocketResponse, log: list[str],
                 drain: asyncio.Task[None]) -> None:
        self.process = process
        self._drain = drain
        self.http = http
        self.socket = socket
        self.log = log  # chromium's stderr, for failure messages
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self._subscribers: list[tuple[str, str | None, Callable[[dict[str, Any]], None]]] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, profile: Path, executable: str = CHROMIUM) -> Chromium:
        """Launch Chromium with ``profile`` as its user data directory and connect."""
        process = await asyncio.create_subprocess_exec(
            executable, *FLAGS, f"--user-data-dir={profile}", "about:blank",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        log: list[str] = []
        try:
            url = await asyncio.wait_for(_listening(process, log), START_TIMEOUT)
        except BaseException:
            await _kill(process)
            raise
        drain = asyncio.create_task(_drain(process, log))
        http = aiohttp.ClientSession()
        try:
            socket = await http.ws_connect(url, max_msg_size=0)
        except BaseException:
            await http.close()
            drain.cancel()
            await _kill(process)
            raise
        return cls(process, http, socket, log, drain)

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data:
                future = self._waiting.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            for method, session, callback in self._subscribers:
                if data.get("method") == method and session in (None, data.get("sessionId")):
                    callback(data.get("params", {}))
            for listener in list(self._listeners):
                method, session, future = listener
                if data.get("method") == method and session in (None, data.get("sessionId")):
                    self._listeners.remove(listener)
                    if not future.done():
                        future.set_result(data.get("params", {}))
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(BrowserError("the DevTools connection closed"))

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   session: str | None = None) -> dict[str, Any]:
        """One DevTools command; its result, or BrowserError with the browser's message."""
        command_id = next(self._ids)
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        await self.socket.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, COMMAND_TIMEOUT)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def expect(self, method: str, session: str | None = None) -> asyncio.Future[dict[str, Any]]:
        """A future of the next event ``method`` (register it before causing the event)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._listeners.append((method, session, future))
        return future

    def subscribe(self, method: str, session: str | None,
                  callback: Callable[[dict[str, Any]], None]) -> None:
        """Call ``callback`` with the parameters of every event ``method``."""
        self._subscribers.append((method, session, callback))

    async def grant(self, origin: str, *permissions: str) -> None:
        """Grant permissions (e.g. "geolocation") to an origin without a prompt."""
        await self.send("Browser.grantPermissions",
                        {"origin": origin, "permissions": list(permissions)})

    async def new_page(self) -> Page:
        """A new tab, attached, with page, runtime and network events on."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget",
                                   {"targetId": target["targetId"], "flatten": True})
        page = Page(self, attached["sessionId"])
        self.subscribe("Runtime.exceptionThrown", page.session, page.on_exception)
        self.subscribe("Log.entryAdded", page.session, page.on_log)
        for domain in ("Page", "Runtime", "Network", "Log"):
            await page.send(f"{domain}.enable")
        return page

    async def close(self) -> None:
        """Stop the browser by its PID and close the connection."""
        self._reader.cancel()
        with contextlib.suppress(Exception):
            await self.socket.close()
        await self.http.close()
        await _kill(self.process)
        self._drain.cancel()


class Page:
    """One tab, addressed by its flat-mode session id."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session
        self.exceptions: list[str] = []  # uncaught script errors
        self.console: list[str] = []  # the browser's own log: CSP violations, failed loads

    def on_exception(self, params: dict[str, Any]) -> None:
        details = params.get("exceptionDetails", {})
        self.exceptions.append(
            details.get("exception", {}).get("description") or details.get("text", ""))

    def on_log(self, params: dict[str, Any]) -> None:
        entry = params.get("entry", {})
        self.console.append(f"{entry.get('level')} {entry.get('source')}: {entry.get('text')}")

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, self.session)

    async def goto(self, url: str) -> None:
        """Navigate and wait for the load event; a failed navigation raises."""
        loaded = self.browser.expect("Page.loadEventFired", self.session)
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            loaded.cancel()
            raise BrowserError(f"navigate {url}: {result['errorText']}")
        await asyncio.wait_for(loaded, COMMAND_TIMEOUT)

    async def then_load(self, expression: str) -> None:
        """Run JavaScript that navigates (a form submit, a link click) and wait for the load."""
        loaded = self.browser.expect("Page.loadEventFired", self.session)
        try:
            await self.evaluate(expression)
            await asyncio.wait_for(loaded, COMMAND_TIMEOUT)
        finally:
            loaded.cancel()

    async def url(self) -> str:
        return str(await self.evaluate("location.href"))

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited); a throw raises."""
        result = await self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{expression[:80]!r} threw: {text}")
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, within: float = 10.0) -> Any:
        """Poll a JavaScript condition until it is truthy; its value, or TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        value = None
        while loop.time() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(POLL_SECONDS)
        raise TimeoutError(f"{expression!r} still {value!r} after {within} s")

    async def fill(self, selector: str, value: str) -> None:
        """Type a value into a field the way input events report it."""
        await self.evaluate(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            f" el.value = {json.dumps(value)};"
            " el.dispatchEvent(new Event('input', {bubbles: true}));"
            " el.dispatchEvent(new Event('change', {bubbles: true})); })()")

    async def click(self, selector: str) -> None:
        """Click an element (a missing one raises)."""
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    async def text(self, selector: str) -> str:
        value = await self.evaluate(
            f"document.querySelector({json.dumps(selector)})?.textContent ?? ''")
        return str(value)

    async def screenshot(self, width: int = 390, height: int = 844) -> bytes:
        """A PNG of the page as a phone of this size shows it (for looking, not asserting)."""
        await self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
        shot = await self.send("Page.captureScreenshot", {"format": "png",
                                                          "captureBeyondViewport": True})
        return base64.b64decode(shot["data"])

    async def geolocation(self, lat: float, lon: float, accuracy: float = 10.0) -> None:
        """Where ``navigator.geolocation`` says the phone is."""
        await self.send("Emulation.setGeolocationOverride",
                        {"latitude": lat, "longitude": lon, "accuracy": accuracy})

    async def offline(self, offline: bool) -> None:
        """Cut the tab's network (requests fail, ``navigator.onLine`` false) or restore it."""
        await self.send("Network.emulateNetworkConditions", {
            "offline": offline, "latency": 0, "downloadThroughput": -1,
            "uploadThroughput": -1})


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Chromium]:
    """A browser for the duration of a block, always killed afterwards."""
    browser = await Chromium.start(profile)
    try:
        yield browser
    finally:
        await browser.close()


async def _listening(process: asyncio.subprocess.Process, log: list[str]) -> str:
    assert process.stderr is not None
    while True:
        line = await process.stderr.readline()
        if not line:
            raise BrowserError("chromium exited before DevTools listened: " + "".join(log[-20:]))
        text = line.decode("utf-8", "replace")
        log.append(text)
        found = LISTENING.search(text)
        if found:
            return found.group(1)


async def _drain(process: asyncio.subprocess.Process, log: list[str]) -> None:
    """Keep reading stderr so chromium never blocks on a full pipe."""
    assert process.stderr is not None
    while line := await process.stderr.readline():
        log.append(line.decode("utf-8", "replace"))
        del log[:-200]


async def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill chromium's process group (its renderers) by the browser's PID, and reap it."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
