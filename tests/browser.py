"""Drive a headless Chromium from tests through the Chrome DevTools Protocol (CDP).

    with Chromium() as browser:
        page = browser.open(Path("results/report.html").resolve().as_uri())
        page.wait_for("document.readyState === 'complete'")
        sizes = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.naturalHeight])")
        assert not page.errors          # uncaught exceptions, console errors, failed loads

Chromium is Debian's `chromium` package (or `TEARFLOW_CHROMIUM=/path/to/chrome`); the protocol runs
over one websocket (the `websocket-client` package). :func:`require_chromium` skips a test when
Chromium is missing on a developer's machine and fails it when `CI` is set, so CI cannot pass
without the browser checks having run.

Each :class:`Chromium` gets its own fresh profile folder, no network beyond the pages asked for,
and is terminated (by its process id) when the `with` block ends.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
    "--window-size=1400,1000",
)


class BrowserError(RuntimeError):
    """Chromium did not start, a DevTools command failed, or a page did not reach a state in time."""


def find_chromium():
    """Path of a Chromium executable: `TEARFLOW_CHROMIUM` if set, else the first of
    :data:`CHROMIUM_NAMES` on PATH; None when there is none."""
    configured = os.environ.get("TEARFLOW_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium():
    """The Chromium executable for a browser test. When it (or the `websocket-client` package) is
    missing the test is skipped — unless `CI` is set, where it fails."""
    problem = None
    executable = find_chromium()
    if executable is None:
        problem = f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)} and TEARFLOW_CHROMIUM)"
    else:
        try:
            import websocket  # noqa: F401
        except ImportError:
            problem = "the websocket-client package is not installed"
    if problem is None:
        return executable
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {problem}")
    pytest.skip(problem)


class Chromium:
    """A headless Chromium with a fresh profile; `open` pages in it. Use as a context manager."""

    def __init__(self, executable=None, timeout=30.0):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError("no Chromium executable found")
        self.timeout = timeout
        self._process = None
        self._profile = None
        self._socket = None
        self._next_id = 0
        self._events = []  # (session id, method, params) not yet handed to a page

    # -- life cycle --

    def __enter__(self):
        self._profile = tempfile.mkdtemp(prefix="tearflow-chromium-")
        command = [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", "about:blank"]
        self._log = open(Path(self._profile) / "chromium.log", "wb")  # noqa: SIM115
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            self._connect()
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def _connect(self):
        import websocket

        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self._process.poll() is not None:
                raise BrowserError(f"Chromium exited with {self._process.returncode}:\n{self._chromium_log()}")
            if time.monotonic() > deadline:
                raise BrowserError(f"Chromium opened no DevTools port within {self.timeout} s:\n{self._chromium_log()}")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self._socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}{path}", timeout=self.timeout, suppress_origin=True
        )

    def _chromium_log(self):
        self._log.flush()
        return (Path(self._profile) / "chromium.log").read_text(errors="replace")[-3000:]

    def __exit__(self, *exc):
        if self._socket is not None:
            try:
                self._socket.close()
            except OSError:
                pass
        if self._process is not None and self._process.poll() is None:
            # Chromium's helper processes share its session (start_new_session): end that group,
            # which holds only processes this object started.
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
                self._process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self._process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._process.wait(timeout=10)
        if self._profile is not None:
            self._log.close()
            shutil.rmtree(self._profile, ignore_errors=True)
        return False

    # -- protocol --

    def send(self, method, params=None, session=None, timeout=None):
        """Send one CDP command and return its `result`; a protocol error raises BrowserError.
        Events that arrive meanwhile are kept for :meth:`events`."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._receive(deadline, f"the reply to {method}")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})

    def _receive(self, deadline, waiting_for):
        import websocket

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrowserError(f"timed out waiting for {waiting_for}")
        self._socket.settimeout(remaining)
        try:
            message = json.loads(self._socket.recv())
        except websocket.WebSocketTimeoutException:
            raise BrowserError(f"timed out waiting for {waiting_for}") from None
        if "method" in message:
            self._events.append((message.get("sessionId"), message["method"], message.get("params", {})))
        return message

    def events(self, session):
        """Hand over (and forget) the events received so far for one page session."""
        mine = [(method, params) for sid, method, params in self._events if sid == session]
        self._events = [event for event in self._events if event[0] != session]
        return mine

    def pump(self, seconds):
        """Read events for `seconds` (so that pages can report what happened meanwhile)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                self._receive(deadline, "events")
            except BrowserError:
                return

    def open(self, url):
        """A new tab showing `url`, loaded (the `load` event fired)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.navigate(url)
        return page


class Page:
    """One tab. `errors` collects, as readable strings, uncaught script exceptions, console errors,
    and resources that failed to load."""

    def __init__(self, browser, session):
        self.browser = browser
        self.session = session
        self.errors = []
        self.console = []
        self._fired = []  # event names seen since the last navigation
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def send(self, method, params=None, timeout=None):
        result = self.browser.send(method, params, session=self.session, timeout=timeout)
        self._collect()
        return result

    def _collect(self):
        for method, params in self.browser.events(self.session):
            self._fired.append(method)
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                self.errors.append(f"uncaught exception: {text}")
            elif method == "Runtime.consoleAPICalled":
                text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
                self.console.append((params["type"], text))
                if params["type"] in ("error", "assert"):
                    self.errors.append(f"console.{params['type']}: {text}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                self.errors.append(f"{entry['source']} error: {entry['text']} {entry.get('url', '')}".strip())
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                self.errors.append(f"failed to load a resource: {params.get('errorText')}")

    def navigate(self, url, timeout=None):
        """Go to `url` and wait for its `load` event."""
        self._fired = []
        reply = self.send("Page.navigate", {"url": url})
        if reply.get("errorText"):
            raise BrowserError(f"could not open {url}: {reply['errorText']}")
        deadline = time.monotonic() + (timeout or self.browser.timeout)
        while "Page.loadEventFired" not in self._fired:
            self.browser._receive(deadline, f"the load event of {url}")
            self._collect()

    def evaluate(self, expression, timeout=None):
        """The value of a JavaScript expression in the page (promises are awaited); an exception in
        it raises BrowserError."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"evaluating {expression[:80]!r} raised: {text}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=None, interval=0.2):
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + (timeout or self.browser.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression!r}")
            self.browser.pump(interval)
            self._collect()

    def settle(self, seconds=0.5):
        """Let the page run for a moment and collect what it reported."""
        self.browser.pump(seconds)
        self._collect()
