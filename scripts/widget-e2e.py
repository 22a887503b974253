#!/usr/bin/env python3
"""End-to-end check of the chat widget and the operators' inbox in headless Chromium (standard library only).

It starts its own server (.build/debug/vitrina serve --port 8080 --load tenants.example.yml --demo-storefronts,
a fresh data folder, lexical retrieval) and drives Chromium over the DevTools protocol with two independent browser
contexts (separate cookies and storage):

  operator  signs in at acme-tea.localhost as oleg@acme-tea.example (an operator) and keeps /admin/inbox open;
  shopper   opens the demo storefront http://store.acme-tea.localhost:8080/ (another origin that embeds
            <script src="http://acme-tea.localhost:8080/widget.js" async>), finds the launcher (a closed shadow root:
            found through DOM.getDocument {pierce: true}, clicked with the mouse), fills the optional pre-chat form,
            asks "Сколько идёт доставка?" and gets the FAQ answer with its link, asks for an operator and sees the
            hand-off banner; the conversation appears in the operator's open inbox without a reload;
  operator  opens it, takes it and replies through the page's forms; the shopper sees the reply arrive live with
            the operator's name; the operator resolves it; the shopper rates it 5 with a comment and is thanked;
  shopper   reloads the storefront: the history comes back; finally a second brand's widget (trailhead-gear:
            English, launcher on the left).

The chat's iframe (acme-tea.localhost inside store.acme-tea.localhost) is same-site, so Chromium would keep it in
the page's process; --isolate-origins for the storefronts puts it in its own process as it is on a real shop
(another site), and Target.setAutoAttach {flatten: true} gives a session for it. Should the frame stay in-process
anyway, its execution context in the page's session is used instead. Both people use a Russian browser in Moscow.

Any JavaScript exception, console error or Content-Security-Policy violation in either context fails the run
(a favicon's 404 excepted).

Usage: scripts/widget-e2e.py [OUTPUT_DIR] [--running]       (OUTPUT_DIR defaults to screenshots/widget)
  --running   use the server already serving on 127.0.0.1:8080 (make run) instead of starting one; the demo's
              state is then whatever it is, and the run finds its own conversation by its id.
Writes screenshots to OUTPUT_DIR and prints each path. Exit status: 0 when every step passed, 1 when one failed
(the step, what was expected and what was seen are printed), 2 when it cannot run (port 8080 busy, no binary, no
Chromium, bad usage). The demo accounts' password comes from VITRINA_DEMO_PASSWORD (default demo-pass-2026).
"""
import base64, errno, json, os, re, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time
import traceback
import urllib.error, urllib.parse, urllib.request
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = 8080  # the demo bots allow only http://store.<slug>.localhost:8080 (tenants.example.yml)
STEP_TIMEOUT = 20  # seconds a step (and so any one wait in it) may take
DESKTOP, PHONE = (1366, 900), (390, 844)
SHOP, SECOND_SHOP = "acme-tea", "trailhead-gear"
OPERATOR_EMAIL, OPERATOR_NAME = "oleg@acme-tea.example", "Олег"
SHOPPER_NAME = "Мария"
# Both people use a Russian browser in Moscow (the acme-tea shop's), so the panel is in Russian as its operators see it.
LOCALE, ACCEPT_LANGUAGE, TIMEZONE = "ru-RU", "ru-RU,ru;q=0.9", "Europe/Moscow"
QUESTION = "Сколько идёт доставка?"
ANSWER_WORDS = ("СДЭК", "Почта России")  # the acme-tea FAQ answer "delivery-time"
HANDOFF = "позовите оператора"
REPLY = "Здравствуйте! Меня зовут Олег, помогу с доставкой."
CSAT_COMMENT = "Быстро и по делу, спасибо!"
_step_deadline = [None]  # when the current step runs out of time (monotonic), None outside steps


def time_left(timeout=STEP_TIMEOUT):
    """A wait's time-out: at most `timeout`, and never past the current step's deadline."""
    if _step_deadline[0] is None:
        return timeout
    return max(0.0, min(timeout, _step_deadline[0] - time.monotonic()))


def url(host, path="/"):
    return f"http://{host}:{PORT}{path}"


class Failure(Exception):
    """A failed check: what was expected, and what was seen instead."""

    def __init__(self, message, seen=None):
        super().__init__(message)
        self.seen = seen


class Unusable(Exception):
    """The run cannot start (exit status 2)."""


# ---------------------------------------------------------------------------------------------------------------
# A WebSocket client, just enough of RFC 6455 for DevTools (as in scripts/panel-screenshots.py).

class WebSocket:
    def __init__(self, address):
        parts = urllib.parse.urlsplit(address)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=STEP_TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Failure("DevTools closed the connection during the WebSocket handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise Failure("WebSocket handshake refused: " + head.decode(errors="replace").splitlines()[0])
        self.sock.settimeout(None)  # the reader thread blocks until the next message
        self.send_lock = threading.Lock()

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("DevTools closed the WebSocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self.send_lock:
            self.sock.sendall(header + mask + masked)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if first & 0x80:
                    return message.decode()

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


# ---------------------------------------------------------------------------------------------------------------
# The browser: one WebSocket to the browser target, flat sessions for pages and their out-of-process frames, a
# reader thread that files results by id and events in one list, and the console problems of every session.

def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    raise Unusable("Chromium not found; install it with: scripts/install-deps.sh chromium")


class Browser:
    def __init__(self, profile, isolate):
        args = [find_browser(), "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile}",
                "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--disable-gpu",
                "--disable-extensions", "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", "--mute-audio", "--password-store=basic",
                "--isolate-origins=" + ",".join(isolate)]
        if os.geteuid() == 0:
            args.append("--no-sandbox")
        self.process = subprocess.Popen(args + ["about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            self.ws = WebSocket(self._devtools_address())
        except BaseException:
            self._stop_process()
            raise
        self.cv = threading.Condition()
        self.next_id = 0
        self.results, self.ignored = {}, set()
        self.events = []  # every event, in order; waits look at the ones after a mark
        self.sessions = {}  # session id -> {"label", "type", "url", "target", "parent"}
        self.contexts = {}  # (session, frame id) -> the frame's default execution context (in-process frames)
        self.problems = []  # (label, where, text)
        self.closed = None
        threading.Thread(target=self._reader, daemon=True).start()
        self.user_agent = self.call("Browser.getVersion")["userAgent"]

    def _devtools_address(self, timeout=30):
        """Chromium prints "DevTools listening on ws://…" once it listens; its stderr is drained from then on, so
        that it never blocks on a full pipe."""
        found = []
        listening = threading.Event()

        def read():
            for line in self.process.stderr:
                match = not found and re.search(r"DevTools listening on (ws://\S+)", line)
                if match:
                    found.append(match.group(1))
                    listening.set()
            listening.set()  # Chromium exited
        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(timeout) or not found:
            raise Unusable(f"Chromium did not open its DevTools port within {timeout} s"
                           if not listening.is_set() else "Chromium exited before it opened its DevTools port")
        return found[0]

    # -- plumbing

    def _reader(self):
        while True:
            try:
                message = json.loads(self.ws.receive())
            except (OSError, ConnectionError, ValueError) as error:
                with self.cv:
                    self.closed = str(error) or "the WebSocket closed"
                    self.cv.notify_all()
                return
            with self.cv:
                if "id" in message:
                    if message["id"] in self.ignored:
                        self.ignored.discard(message["id"])
                    else:
                        self.results[message["id"]] = message
                else:
                    try:
                        self._on_event(message)
                    except Exception as error:  # never let the reader die: every wait would hang
                        self.problems.append(("browser", "e2e script", f"handling {message.get('method')}: {error!r}"))
                    self.events.append(message)
                self.cv.notify_all()

    def send(self, method, params=None, session=None, ignore=False):
        with self.cv:
            self.next_id += 1
            number = self.next_id
            if ignore:
                self.ignored.add(number)
        message = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        return number

    def call(self, method, session=None, **params):
        number = self.send(method, params, session)
        with self.cv:
            self.cv.wait_for(lambda: number in self.results or self.closed, timeout=STEP_TIMEOUT)
            result = self.results.pop(number, None)
        if result is None:
            raise Failure(f"DevTools did not answer {method} in {STEP_TIMEOUT} s" +
                          (f" ({self.closed})" if self.closed else ""))
        if "error" in result:
            raise Failure(f"{method}: {result['error'].get('message')}")
        return result.get("result", {})

    def mark(self):
        with self.cv:
            return len(self.events)

    def wait_event(self, since, predicate, what, timeout=STEP_TIMEOUT):
        timeout = time_left(timeout)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for event in self.events[since:]:
                    if predicate(event):
                        return event
                since = len(self.events)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
                self.cv.wait(left)

    def events_since(self, since, method, session=None):
        with self.cv:
            return [e for e in self.events[since:] if e.get("method") == method
                    and (session is None or e.get("sessionId") == session)]

    # -- what every session reports

    def _on_event(self, message):
        method, params, session = message.get("method"), message.get("params", {}), message.get("sessionId")
        owner = self.sessions.get(session, {})
        label = owner.get("label", "browser")
        where = "frame " + owner.get("url", "")[:80] if owner.get("type") == "iframe" else owner.get("url", "page")[:80]
        if method == "Target.attachedToTarget":
            info, child = params["targetInfo"], params["sessionId"]
            self.sessions[child] = {"label": label, "type": info["type"], "url": info.get("url", ""),
                                    "target": info["targetId"], "parent": session}
            if info["type"] == "iframe":
                for domain in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
                    self.send(domain, session=child, ignore=True)
                for method, params in self.emulation():
                    self.send(method, params, child, ignore=True)
                self.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False,
                                                   "flatten": True}, child, ignore=True)
            self.send("Runtime.runIfWaitingForDebugger", session=child, ignore=True)
        elif method == "Target.targetInfoChanged":
            info = params["targetInfo"]
            for record in self.sessions.values():
                if record["target"] == info["targetId"]:
                    record["url"] = info.get("url", record["url"])
        elif method == "Page.frameNavigated" and not params["frame"].get("parentId") and session in self.sessions:
            self.sessions[session]["url"] = params["frame"].get("url", "")
        elif method == "Target.detachedFromTarget":
            self.sessions.pop(params.get("sessionId"), None)
        elif method == "Runtime.executionContextCreated":
            context = params["context"]
            aux = context.get("auxData") or {}
            if aux.get("isDefault") and aux.get("frameId"):
                self.contexts[(session, aux["frameId"])] = context["id"]
        elif method == "Runtime.executionContextDestroyed":
            for key, value in list(self.contexts.items()):
                if key[0] == session and value == params.get("executionContextId"):
                    del self.contexts[key]
        elif method == "Runtime.executionContextsCleared":
            for key in [k for k in self.contexts if k[0] == session]:
                del self.contexts[key]
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text", "")
            self.problems.append((label, where, f"JavaScript exception: {text} "
                                  f"({details.get('url', '')}:{details.get('lineNumber', 0) + 1})"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.problems.append((label, where, f"console.{params['type']}: {text}"))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            text, source, address = entry.get("text", ""), entry.get("source", ""), entry.get("url", "")
            csp = "Content Security Policy" in text or "Content-Security-Policy" in text
            if entry.get("level") != "error" and not csp:
                return
            if source == "network" and address.endswith("/favicon.ico") and "404" in text:
                return  # the demo storefront has no favicon
            kind = "CSP violation" if csp else f"{source} error"
            if address and entry.get("lineNumber") is not None:
                address += f":{entry['lineNumber'] + 1}"
            frames = (entry.get("stackTrace") or {}).get("callFrames") or []
            stack = " ← ".join(f"{f.get('functionName') or '(anonymous)'} {f['url'].rsplit('/', 1)[-1]}:"
                               f"{f['lineNumber'] + 1}:{f['columnNumber'] + 1}" for f in frames[:4])
            self.problems.append((label, where, f"{kind}: {text} {address}".strip() + (f" [{stack}]" if stack else "")))

    def emulation(self):
        """What every page and frame gets: a Russian shopper's or operator's browser in Moscow, focused."""
        return [("Emulation.setFocusEmulationEnabled", {"enabled": True}),
                ("Emulation.setTimezoneOverride", {"timezoneId": TIMEZONE}),
                ("Emulation.setLocaleOverride", {"locale": LOCALE}),
                ("Emulation.setUserAgentOverride", {"userAgent": self.user_agent, "acceptLanguage": ACCEPT_LANGUAGE})]

    def close(self):
        try:
            self.ws.close()
        except OSError:
            pass
        self._stop_process()

    def _stop_process(self):
        """Ends Chromium and its helper processes (its own process group), politely first."""
        for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=grace)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue


class Tab:
    """One page in its own browser context (its own cookies and storage)."""

    def __init__(self, browser, label, context=None):
        self.b, self.label = browser, label
        self.context = context or browser.call("Target.createBrowserContext")["browserContextId"]
        target = browser.call("Target.createTarget", url="about:blank", browserContextId=self.context)["targetId"]
        self.session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        with browser.cv:
            browser.sessions[self.session] = {"label": label, "type": "page", "url": "about:blank",
                                              "target": target, "parent": None}
        for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable", "DOM.enable"):
            self.call(domain)
        for method, params in browser.emulation():
            self.call(method, **params)
        self.call("Target.setAutoAttach", autoAttach=True, waitForDebuggerOnStart=False, flatten=True)
        self.size(*DESKTOP)

    def call(self, method, **params):
        return self.b.call(method, self.session, **params)

    def size(self, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        self.call("Emulation.setTouchEmulationEnabled", enabled=mobile)
        self.viewport = (width, height)

    def evaluate(self, expression, session=None, context=None):
        params = dict(expression=expression, returnByValue=True, awaitPromise=True)
        if context:
            params["contextId"] = context
        result = self.b.call("Runtime.evaluate", session or self.session, **params)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise Failure(f"script failed: {expression[:70]}… "
                          f"{(details.get('exception') or {}).get('description') or details.get('text')}")
        return result.get("result", {}).get("value")

    def _load(self, action, what):
        """Runs action (something that navigates the page) and waits for its load event; returns the HTTP status."""
        since = self.b.mark()
        action()
        self.b.wait_event(since, lambda e: e.get("method") == "Page.loadEventFired"
                          and e.get("sessionId") == self.session, f"{what} to load")
        statuses = [e["params"]["response"]["status"]
                    for e in self.b.events_since(since, "Network.responseReceived", self.session)
                    if e["params"].get("type") == "Document"]
        self.evaluate("document.fonts.ready.then(() => true)")
        return statuses[-1] if statuses else None

    def goto(self, address):
        def navigate():
            result = self.call("Page.navigate", url=address)
            if result.get("errorText"):
                raise Failure(f"{address} did not load: {result['errorText']}")
        return self._load(navigate, address)

    def reload(self):
        return self._load(lambda: self.call("Page.reload"), "the reloaded page")

    def submit(self, script, what):
        """Runs a script that submits a form (a POST answered by a redirect); returns the final page's status."""
        return self._load(lambda: self.evaluate(script), what)

    def navigations(self, since):
        """Main-frame navigations since a mark (a reload counts)."""
        return [e for e in self.b.events_since(since, "Page.frameNavigated", self.session)
                if not e["params"]["frame"].get("parentId")]

    def click(self, x, y):
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, clickCount=1,
                      button="none" if kind == "mouseMoved" else "left")

    def type_text(self, text):
        self.call("Input.insertText", text=text)

    def press_enter(self):
        common = dict(key="Enter", code="Enter", windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", unmodifiedText="\r", **common)
        self.call("Input.dispatchKeyEvent", type="keyUp", **common)

    def text(self):
        return self.evaluate("document.title + '\\n' + (document.body ? document.body.innerText : '')") or ""

    def screenshot(self, out, name, settle=0.5):
        time.sleep(settle)  # let an entrance animation end
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path = os.path.join(out, name + ".png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print(f"    screenshot {path}", flush=True)
        return path


# ---------------------------------------------------------------------------------------------------------------
# The widget on a storefront tab: the launcher in the loader's closed shadow root, the chat in its iframe.

class Widget:
    def __init__(self, tab):
        self.tab = tab
        self.texts = None

    def _nodes(self):
        """Every element of the page, shadow roots (closed ones too) included, as (node, attributes) pairs."""
        root = self.tab.call("DOM.getDocument", depth=-1, pierce=True)["root"]
        stack, found = [root], []
        while stack:
            node = stack.pop()
            attrs = node.get("attributes") or []
            found.append((node, dict(zip(attrs[::2], attrs[1::2]))))
            for key in ("children", "shadowRoots"):
                stack.extend(node.get(key) or [])
        return found

    def _box(self, predicate):
        for node, attrs in self._nodes():
            if predicate(node, attrs):
                try:
                    quad = self.tab.call("DOM.getBoxModel", backendNodeId=node["backendNodeId"])["model"]["border"]
                except Failure:
                    return None  # not rendered (display: none)
                x, y, w, h = quad[0], quad[1], quad[4] - quad[0], quad[5] - quad[1]
                return (x, y, w, h, node["backendNodeId"]) if w > 0 and h > 0 else None
        return None

    def launcher(self):
        return self._box(lambda n, a: n.get("nodeName") == "BUTTON" and "sc-l" in a.get("class", "").split())

    def frame_box(self):
        """The chat's iframe in page coordinates, or None while it is missing or hidden."""
        box = self._box(lambda n, a: n.get("nodeName") == "IFRAME" and "/widget/frame" in a.get("src", ""))
        return box[:4] if box else None

    def target(self):
        """Where to evaluate in the chat's frame: (session, context) of its out-of-process session, else of its
        execution context in the page's process; None while it has not loaded."""
        with self.tab.b.cv:
            candidates = [s for s, r in self.tab.b.sessions.items() if r["type"] == "iframe"
                          and r["parent"] == self.tab.session and "/widget/frame" in r["url"]]
        if candidates:
            return candidates[-1], None
        tree = self.tab.call("Page.getFrameTree")["frameTree"]
        for child in tree.get("childFrames") or []:
            if "/widget/frame" in child["frame"]["url"]:
                context = self.tab.b.contexts.get((self.tab.session, child["frame"]["id"]))
                return (self.tab.session, context) if context else None
        return None

    def eval(self, expression):
        where = self.target()
        if not where:
            raise Failure("the chat's frame is not there")
        return self.tab.evaluate(expression, *where)

    def try_eval(self, expression):
        try:
            return self.eval(expression)
        except Failure:
            return None

    def visible_text(self):
        return self.try_eval("document.title + '\\n' + document.body.innerText") or "(the chat's frame is not loaded)"

    def wait(self, predicate, what, timeout=STEP_TIMEOUT, seen=None):
        timeout = time_left(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except Failure:
                pass
            if time.monotonic() > deadline:
                raise Failure(f"timed out after {timeout:.0f} s waiting for {what}",
                              seen=(seen or self.visible_text)())
            time.sleep(0.15)

    def wait_loaded(self):
        """The frame has read its conversation: its footer holds the composer or a form."""
        self.wait(lambda: self.eval("!!document.querySelector('.sc-foot > *')"), "the chat's frame to load")
        self.texts = self.eval("JSON.parse(document.getElementById('sc-config').textContent).texts")

    def open(self):
        """Clicks the launcher, unless the chat is open or opens by itself (it was open before a reload: the loader
        remembers that in the page's sessionStorage), and waits until the frame shows and has loaded."""
        box = self.wait(self.launcher, "the launcher", seen=lambda: "no launcher button in the page")
        if self.tab.evaluate("sessionStorage.getItem('sc.o')") == "1":
            self.wait(self.frame_box, "the chat to open again by itself (it was open before the reload)",
                      seen=lambda: f"launcher at {box[:4]}, chat hidden")
        elif not self.frame_box():
            self.tab.click(box[0] + box[2] / 2, box[1] + box[3] / 2)
            self.wait(self.frame_box, "the chat to open after a click on the launcher",
                      seen=lambda: f"launcher at {box[:4]}, chat hidden")
        self.wait_loaded()

    def click(self, selector, index=-1):
        """A real mouse click on an element inside the frame."""
        frame = self.frame_box()
        rect = self.eval(f"""(() => {{ const all = document.querySelectorAll({json.dumps(selector)});
            const e = all[{index} < 0 ? all.length + ({index}) : {index}]; if (!e) return null;
            e.scrollIntoView({{block: 'nearest'}}); const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2]; }})()""")
        if not frame or not rect:
            raise Failure(f"nothing to click in the chat: {selector}", seen=self.visible_text())
        self.tab.click(frame[0] + rect[0], frame[1] + rect[1])

    def say(self, text):
        self.click(".sc-ta")
        self.wait(lambda: self.eval("document.activeElement === document.querySelector('.sc-ta')"),
                  "the message box to take the focus")
        self.tab.type_text(text)
        self.tab.press_enter()

    def messages(self):
        return self.eval("""Array.from(document.querySelectorAll('.sc-log .sc-msg')).map(m => ({
            kind: m.className, who: (m.querySelector('.sc-who b') || {}).textContent || '',
            text: (m.querySelector('.sc-bubble') || {}).textContent || '',
            links: Array.from(m.querySelectorAll('.sc-link, .sc-chip'))
              .map(a => a.textContent + ' ' + (a.href || '')) }))""")

    def wait_newest_in_view(self, what):
        """The log stays pinned to its end: the newest message is in view, nobody has to scroll to find it."""
        self.wait(lambda: self.eval("""(() => { const s = document.querySelector('.sc-scroll');
            const m = Array.from(document.querySelectorAll('.sc-log .sc-msg')).pop();
            if (!s || !m) return false; const a = s.getBoundingClientRect(), b = m.getBoundingClientRect();
            return b.bottom <= a.bottom + 1 && b.bottom > a.top; })()"""),
            f"{what} in view (the log pinned to its end)",
            seen=lambda: "log scrolled to " + str(self.eval("(s => [s.scrollTop, s.scrollHeight, s.clientHeight])"
                                                            "(document.querySelector('.sc-scroll'))")) +
            " (scrollTop, scrollHeight, clientHeight)\n" + self.visible_text(), timeout=5)

    def banner(self):
        return self.eval("(b => b && !b.hidden ? b.innerText : '')(document.querySelector('.sc-banner'))")


# ---------------------------------------------------------------------------------------------------------------
# The server.

def port_free(port):
    """Whether nothing listens on the port on loopback (Chromium may try ::1 as well as 127.0.0.1 for *.localhost)."""
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            probe = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no IPv6 here
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((address, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return False
    return True


def ready(timeout=2):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


class Server:
    def __init__(self, workdir, password):
        binary = os.path.join(ROOT, ".build", "debug", "vitrina")
        if not os.access(binary, os.X_OK):
            raise Unusable(f"{binary} is missing: build it first (swift build --product vitrina)")
        self.data = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "server.log")
        os.makedirs(self.data)
        environment = dict(os.environ, VITRINA_DATA_DIR=self.data, VITRINA_DEMO_PASSWORD=password,
                           VITRINA_EMBEDDINGS_URL="off")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", str(PORT), "--load", "tenants.example.yml",
             "--demo-storefronts"], cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"the server exited with status {self.process.returncode} before it was ready",
                              seen=self.tail())
            if ready():
                return
            time.sleep(0.25)
        raise Failure(f"the server did not answer /readyz within {timeout} s", seen=self.tail())

    def tail(self, lines=25):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:]).rstrip()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM, then wait: the server stops its embedded PostgreSQL itself. A cluster still running after that
        (the server had to be killed) gets its own SIGTERM; then the cluster's folder is removed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print("  the server did not stop in 20 s after SIGTERM; killing it", file=sys.stderr)
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()
        link = os.path.join(self.data, "postgres")
        cluster = os.path.realpath(link)
        pid_file = os.path.join(cluster, "data", "postmaster.pid")
        try:
            with open(pid_file) as f:
                postmaster = int(f.readline().strip())
        except (OSError, ValueError):
            postmaster = None
        if postmaster:
            for sig, grace in ((signal.SIGTERM, 15), (signal.SIGQUIT, 5)):
                try:
                    os.kill(postmaster, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + grace
                while time.monotonic() < deadline and os.path.exists(f"/proc/{postmaster}"):
                    time.sleep(0.2)
                if not os.path.exists(f"/proc/{postmaster}"):
                    break
        # Outside the data folder when the data folder is out of the cluster user's reach (/var/lib/vitrina/…).
        if os.path.islink(link) and os.path.basename(cluster).startswith("cluster-"):
            shutil.rmtree(cluster, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# The steps.

class Run:
    def __init__(self, out):
        self.out = out
        self.current = "setting up"
        self.timings = []
        self.shots = []
        self.browser = None
        self.problems_seen = 0

    @contextmanager
    def step(self, name, budget=STEP_TIMEOUT):
        self.current = name
        started = time.monotonic()
        _step_deadline[0] = started + budget
        print(f"- {name}", flush=True)
        try:
            yield
        finally:
            _step_deadline[0] = None
        if self.browser:  # an error in the console fails the step it happened in
            problems = self.browser.problems[self.problems_seen:]
            self.problems_seen += len(problems)
            check_console(problems)
        elapsed = time.monotonic() - started
        self.timings.append((name, elapsed))
        self.current = f"after \u201c{name}\u201d"
        print(f"  ok ({elapsed:.1f} s)", flush=True)

    def shot(self, tab, name):
        self.shots.append(tab.screenshot(self.out, name))


def wait_page(tab, predicate, what, timeout=STEP_TIMEOUT, seen=None):
    timeout = time_left(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}", seen=(seen or tab.text)())
        time.sleep(0.15)


def no_product_name(text, where):
    if re.search(r"vitrina", text, re.IGNORECASE):
        line = next(l for l in text.splitlines() if re.search(r"vitrina", l, re.IGNORECASE))
        raise Failure(f"the platform's name shows on {where} (white label)", seen=line)


SIGN_IN = """(() => { document.querySelector('#email').value = %s; document.querySelector('#password').value = %s;
  document.querySelector('form[action="/admin/login"]').submit(); return true; })()"""
# The button of the conversation page's action form (take, resolve, …).
ACTION = "(document.querySelector('form input[name=\"action\"][value=%s]') || {form: null}).form"


def press(operator, action):
    """Presses the button of one of the conversation page's action forms: a POST answered by a redirect back."""
    if not operator.evaluate(f"!!{ACTION % json.dumps(action)}"):
        raise Failure(f"no \u201c{action}\u201d button on the conversation page", seen=operator.text()[:600])
    operator.submit(f"{ACTION % json.dumps(action)}.querySelector('button[type=\"submit\"]').click(), true",
                    f"the page after \u201c{action}\u201d")


def sign_in_operator(run, operator, password):
    with run.step("operator: sign in as oleg@acme-tea.example and open the inbox"):
        base = url(f"{SHOP}.localhost", "")
        if operator.goto(base + "/admin/login") != 200:
            raise Failure(f"{base}/admin/login did not answer 200", seen=operator.text()[:300])
        operator.submit(SIGN_IN % (json.dumps(OPERATOR_EMAIL), json.dumps(password)), "the sign-in")
        landed = operator.evaluate("location.pathname")
        if landed == "/admin/login":
            raise Failure(f"signing in as {OPERATOR_EMAIL} failed", seen=operator.text()[:300])
        since = operator.b.mark()
        if operator.goto(base + "/admin/inbox") != 200:
            raise Failure("/admin/inbox did not answer 200", seen=operator.text()[:300])
        wait_page(operator, lambda: operator.evaluate("!!document.querySelector('[data-inbox][data-events]')"),
                  "the inbox page")
        # inbox.js connects its EventSource (and reports the operator present) once the page has loaded.
        operator.b.wait_event(since, lambda e: e.get("method") == "Network.responseReceived"
                              and e.get("sessionId") == operator.session
                              and "/admin/inbox/events" in e["params"]["response"]["url"]
                              and e["params"]["response"]["status"] == 200, "the inbox's event stream to connect")
        operator.evaluate("window.__e2eInbox = 'still the same page', true")
        no_product_name(operator.text(), "the inbox")


def shopper_asks(run, shopper, widget):
    with run.step("shopper: the storefront shows the launcher (bottom right)"):
        if shopper.goto(url(f"store.{SHOP}.localhost")) != 200:
            raise Failure("the demo storefront did not answer 200", seen=shopper.text()[:300])
        box = widget.wait(widget.launcher, "the launcher", seen=lambda: "no launcher in the page (closed shadow root)")
        x, y, w, h = box[:4]
        width, height = shopper.viewport
        if not (x > width / 2 and y > height / 2 and x + w <= width and y + h <= height):
            raise Failure("the launcher is not in the bottom-right corner", seen=f"launcher box {box[:4]}")
        hit = shopper.call("DOM.getNodeForLocation", x=int(x + w / 2), y=int(y + h / 2),
                           includeUserAgentShadowDOM=True)
        described = shopper.call("DOM.describeNode", backendNodeId=hit["backendNodeId"])["node"]
        if described.get("nodeName") not in ("BUTTON", "svg", "path", "SPAN"):
            raise Failure("something covers the launcher",
                          seen=f"the topmost element there is {described.get('nodeName')}")
        no_product_name(shopper.text(), "the storefront")

    with run.step("shopper: open the chat, asks \u201c%s\u201d, gets the FAQ answer with a link" % QUESTION):
        widget.open()
        own = widget.target()[1] is None
        print("    the chat's frame runs " + ("in its own process (its own DevTools session)" if own
                                            else "in the storefront's process (an execution context of the page)"))
        lang = widget.eval("document.documentElement.lang")
        if lang != "ru":
            raise Failure("the acme-tea chat is not in Russian", seen=f"<html lang={lang!r}>")
        if widget.eval("!!document.querySelector('.sc-foot form input[name=name]')"):  # the optional pre-chat form
            widget.click(".sc-foot input[name=name]")
            shopper.type_text(SHOPPER_NAME)
            widget.click(".sc-foot form .sc-btn")
        widget.wait(lambda: widget.eval("!!document.querySelector('.sc-foot .sc-ta')"), "the message box")
        widget.say(QUESTION)

        def answered():
            bots = [m for m in widget.messages() if "sc-bot" in m["kind"]]
            return bots[-1] if len(bots) >= 2 and any(w in bots[-1]["text"] for w in ANSWER_WORDS) else None
        answer = widget.wait(answered, "the bot's answer about delivery")
        if not answer["links"]:
            raise Failure("the bot's answer has no quick-reply button or link", seen=answer["text"])
        help_page = url(f"{SHOP}.localhost", "/help/")  # a relative link goes to the shop's help centre
        if not any(help_page in link for link in answer["links"]):
            raise Failure(f"the answer's link does not lead to {help_page}…", seen=str(answer["links"]))
        widget.wait_newest_in_view("the bot's answer")
        if widget.eval("document.querySelectorAll('.sc-me.sc-pending, .sc-me.sc-failed').length"):
            raise Failure("the shopper's message was not confirmed by the server", seen=widget.visible_text())
        no_product_name(widget.visible_text(), "the chat")
        run.shot(shopper, "widget-acme-tea-bot-answer-desktop")
        return answer


def conversation_id(widget):
    """The conversation's id and state as the widget's API gives them to this visitor."""
    return widget.eval("""(async () => { const v = JSON.parse(localStorage.getItem('sc.v') || '{}');
        const bot = JSON.parse(document.getElementById('sc-config').textContent).bot.slug;
        const r = await fetch('/widget/api/conversation?bot=' + encodeURIComponent(bot),
          { headers: { Authorization: 'Bearer ' + v.token, Accept: 'application/json' }, cache: 'no-store' });
        const d = await r.json(); return d.conversation && [d.conversation.id, d.conversation.state]; })()""")


def hand_off(run, shopper, widget, operator):
    with run.step("shopper: \u201c%s\u201d: the hand-off banner and message" % HANDOFF):
        before = len(widget.messages())
        inbox_mark = operator.b.mark()
        widget.say(HANDOFF)
        waiting = widget.texts["waiting"]
        widget.wait(lambda: waiting in widget.banner(), f"the banner \u201c{waiting}\u201d")
        widget.wait(lambda: any("sc-bot" in m["kind"] for m in widget.messages()[before:]),
                    "the bot's hand-off message")
        said = [m["text"] for m in widget.messages()[before:] if "sc-bot" in m["kind"]][-1]
        widget.wait_newest_in_view("the bot's hand-off message under the new banner")
        ident = conversation_id(widget)
        if not ident or ident[1] != "waiting":
            raise Failure("the conversation is not waiting for an operator", seen=str(ident))
        print(f"    conversation {ident[0]}; the bot said: {said}", flush=True)
        run.shot(shopper, "widget-acme-tea-handoff-desktop")
        return ident[0], inbox_mark


def inbox_live(run, operator, conversation, since):
    with run.step("operator: the waiting conversation appears in the open inbox without a reload"):
        row = f'a.inbox-row[href$="/inbox/{conversation}"]'
        wait_page(operator, lambda: operator.evaluate(f"!!document.querySelector({json.dumps(row)})"),
                  f"conversation {conversation} in the inbox list",
                  seen=lambda: operator.evaluate("(document.querySelector('[data-live=list]') || document.body)"
                                                 ".innerText"))
        if operator.navigations(since) or operator.evaluate("window.__e2eInbox") != "still the same page":
            raise Failure("the inbox page was reloaded instead of updated in place")
        text = operator.evaluate(f"document.querySelector({json.dumps(row)}).innerText")
        if SHOPPER_NAME not in text:
            raise Failure("the row does not name the shopper from the pre-chat form", seen=text)
        run.shot(operator, "inbox-list-desktop")
        operator.size(*PHONE, mobile=True)
        run.shot(operator, "inbox-list-phone")
        operator.size(*DESKTOP)
        no_product_name(operator.text(), "the inbox")


def operator_replies(run, operator, widget, shopper, conversation):
    with run.step("operator: open the conversation, take it, reply"):
        row = f'a.inbox-row[href$="/inbox/{conversation}"]'
        operator.submit(f"document.querySelector({json.dumps(row)}).click(), true", "the conversation page")
        if not operator.evaluate("location.pathname").endswith(f"/inbox/{conversation}"):
            raise Failure("the row did not open the conversation", seen=operator.evaluate("location.href"))
        thread = operator.evaluate("document.querySelector('[data-log]').innerText")
        if QUESTION not in thread or not any(w in thread for w in ANSWER_WORDS):
            raise Failure("the conversation page lacks the question or the bot's answer", seen=thread)
        press(operator, "take")
        if operator.evaluate("!!document.querySelector('form input[name=action][value=take]')"):
            raise Failure("the conversation was not taken", seen=operator.text()[:600])
        assigned = widget.texts["assigned"].replace("%s", "").strip()
        widget.wait(lambda: assigned in widget.banner() and OPERATOR_NAME in widget.banner(),
                    f"the shopper's banner \u201c{widget.texts['assigned']}\u201d with the operator's name")
        operator.evaluate("document.querySelector('[data-composer]').focus(), true")
        operator.type_text(REPLY)
        # The page tells the shopper the operator is typing. Waiting for that before sending also orders the two
        # requests: a typing notice that arrived after the reply would show "печатает…" under it for 5 s.
        typing = widget.texts["typing"]
        widget.wait(lambda: widget.eval("(t => t && !t.hidden ? t.textContent : '')"
                                        "(document.querySelector('.sc-typing'))").startswith(OPERATOR_NAME),
                    f"\u201c{OPERATOR_NAME}… {typing}\u201d in the chat")
        operator.submit("document.querySelector('form.inbox-composer .inbox-send button:not([formaction])')"
                        ".click(), true", "the reply")
        wait_page(operator, lambda: REPLY in operator.evaluate("document.querySelector('[data-log]').innerText"),
                  "the reply in the conversation page")
        run.shot(operator, "inbox-conversation-desktop")
        operator.size(*PHONE, mobile=True)
        operator.evaluate("document.querySelector('[data-log] > [data-message]:last-child')"
                          ".scrollIntoView({block: 'center'}), true")
        run.shot(operator, "inbox-conversation-phone")
        operator.evaluate("scrollTo(0, 0), true")
        operator.size(*DESKTOP)
        no_product_name(operator.text(), "the conversation page")

    with run.step("shopper: the operator's reply arrives live, with the operator's name"):
        def replied():
            ops = [m for m in widget.messages() if "sc-op" in m["kind"] and m["text"] == REPLY]
            return ops[-1] if ops else None
        widget.wait(replied, "the operator's reply in the chat")
        if not widget.eval("document.querySelector('.sc-typing').hidden"):
            raise Failure("the typing notice stays on after the operator's reply", seen=widget.visible_text())
        widget.wait_newest_in_view("the operator's reply")
        names = widget.eval("Array.from(document.querySelectorAll('.sc-op .sc-who b')).map(b => b.textContent)")
        if not any(OPERATOR_NAME in n for n in names):
            raise Failure("the operator's reply does not show the operator's name", seen=str(names))
        shopper.size(*PHONE, mobile=True)
        widget.wait(lambda: (lambda b: b if b and b[2] == PHONE[0] and b[3] == PHONE[1] else None)(
            widget.frame_box()), "the chat to fill the phone's screen", seen=lambda: f"frame box {widget.frame_box()}")
        run.shot(shopper, "widget-acme-tea-phone")
        shopper.size(*DESKTOP)
        widget.wait(lambda: (lambda b: b and b[2] < DESKTOP[0] / 2)(widget.frame_box()), "the desktop layout again")


def resolve_and_rate(run, operator, widget, shopper, conversation):
    with run.step("operator: resolve; shopper: the rating prompt, 5 stars with a comment, the thanks"):
        press(operator, "resolve")
        if operator.evaluate("!!document.querySelector('form input[name=action][value=resolve]')"):
            raise Failure("the conversation was not resolved", seen=operator.text()[:600])
        widget.wait(lambda: widget.eval("document.querySelectorAll('.sc-foot .sc-star').length") == 5,
                    "the rating prompt (5 stars)")
        title = widget.eval("(document.querySelector('.sc-foot .sc-ct') || {}).textContent")
        if title != widget.texts["csat_title"]:
            raise Failure("the rating prompt has an unexpected title", seen=title)
        run.shot(shopper, "widget-acme-tea-csat-desktop")
        widget.click(".sc-foot .sc-star", 4)
        widget.wait(lambda: widget.eval("document.querySelectorAll('.sc-foot .sc-star.sc-on').length") == 5,
                    "five lit stars")
        widget.click(".sc-foot form textarea")
        shopper.type_text(CSAT_COMMENT)
        widget.click(".sc-foot form .sc-btn")
        thanks = widget.texts["csat_thanks"]
        widget.wait(lambda: thanks in widget.eval("document.querySelector('.sc-foot').innerText"),
                    f"\u201c{thanks}\u201d")
        # The operator's page shows the rating once it is read again.
        operator.reload()
        card = operator.evaluate("document.body.innerText")
        if CSAT_COMMENT not in card:
            raise Failure("the conversation page does not show the shopper's rating comment", seen=card[-600:])


def history_after_reload(run, shopper, widget, answer):
    with run.step("shopper: reload the storefront and click the launcher at once: the chat opens with its history"):
        # The chat was open, so the loader reopens it after the reload once its frame is ready. A shopper who clicks
        # the launcher (still showing a closed chat) before that must get the chat, not cancel its reopening: the
        # frame's page is held back until the click is done, so the check does not depend on timing.
        shopper.call("Fetch.enable", patterns=[{"urlPattern": "*/widget/frame*", "requestStage": "Request"}])

        def reload_and_click():
            since = shopper.b.mark()
            shopper.call("Page.reload")
            held = shopper.b.wait_event(since, lambda e: e.get("method") == "Fetch.requestPaused"
                                        and e.get("sessionId") == shopper.session, "the chat's frame to be requested")
            try:
                box = widget.wait(widget.launcher, "the launcher after the reload", seen=lambda: "no launcher")
                shopper.click(box[0] + box[2] / 2, box[1] + box[3] / 2)
            finally:
                shopper.call("Fetch.continueRequest", requestId=held["params"]["requestId"])
                shopper.call("Fetch.disable")
        shopper._load(reload_and_click, "the reloaded storefront")
        widget.wait(widget.frame_box, "the chat to open (the click on the launcher while it was loading)",
                    seen=lambda: "the chat stays closed")
        widget.wait_loaded()

        def restored():
            texts = [m["text"] for m in widget.messages()]
            return answer["text"] in texts and REPLY in texts and QUESTION in texts
        widget.wait(restored, "the bot's answer and the operator's reply after the reload")
        widget.wait_newest_in_view("the last message after the reload")
        run.shot(shopper, "widget-acme-tea-history-desktop")


def second_brand(run, shopper):
    with run.step("shopper: the second brand's widget (trailhead-gear: English, launcher on the left)"):
        if shopper.goto(url(f"store.{SECOND_SHOP}.localhost")) != 200:
            raise Failure("the trailhead-gear storefront did not answer 200", seen=shopper.text()[:300])
        widget = Widget(shopper)
        box = widget.wait(widget.launcher, "the launcher", seen=lambda: "no launcher in the page")
        if not (box[0] < DESKTOP[0] / 2 and box[1] > DESKTOP[1] / 2):
            raise Failure("trailhead-gear's launcher is not in the bottom-left corner", seen=f"launcher box {box[:4]}")
        widget.open()
        frame = widget.frame_box()
        if frame[0] > DESKTOP[0] / 2:
            raise Failure("trailhead-gear's chat does not open on the left", seen=f"frame box {frame}")
        lang = widget.eval("document.documentElement.lang")
        if lang != "en" or re.search("[А-Яа-яЁё]", widget.visible_text()):
            raise Failure("trailhead-gear's chat is not in English", seen=widget.visible_text())
        no_product_name(widget.visible_text(), "the second brand's chat")
        run.shot(shopper, "widget-trailhead-gear-desktop")


def check_console(problems):
    if problems:
        seen = "\n".join(f"[{label}] {where}: {text}" for label, where, text in problems)
        raise Failure(f"{len(problems)} JavaScript error(s) or CSP violation(s) in the browser's console", seen=seen)


def flow(run, browser, password):
    operator = Tab(browser, "operator")
    shopper = Tab(browser, "shopper")
    widget = Widget(shopper)
    sign_in_operator(run, operator, password)
    answer = shopper_asks(run, shopper, widget)
    conversation, since = hand_off(run, shopper, widget, operator)
    inbox_live(run, operator, conversation, since)
    operator_replies(run, operator, widget, shopper, conversation)
    resolve_and_rate(run, operator, widget, shopper, conversation)
    history_after_reload(run, shopper, widget, answer)
    second_brand(run, shopper)
    with run.step("no JavaScript exception, console error or CSP violation in either context (checked after "
                  "every step, and once more now)"):
        time.sleep(0.5)


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv):
    for sig in (signal.SIGTERM, signal.SIGHUP):  # stop the server and Chromium whatever ends the run
        signal.signal(sig, interrupted)
    running = "--running" in argv
    rest = [a for a in argv if a != "--running"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        print(f"usage: {sys.argv[0]} [OUTPUT_DIR] [--running]", file=sys.stderr)
        return 2
    out = rest[0] if rest else os.path.join("screenshots", "widget")
    password = os.environ.get("VITRINA_DEMO_PASSWORD") or "demo-pass-2026"
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="vitrina-e2e.")
    server = browser = None
    run = Run(out)
    status = 1
    try:
        if running:
            if not ready():
                raise Unusable(f"nothing answers http://127.0.0.1:{PORT}/readyz; start the server first (make run)")
        else:
            if not port_free(PORT):
                raise Unusable(f"port {PORT} is busy (the demo bots allow only http://store.<shop>.localhost:{PORT}); "
                               "stop whatever listens there (make run?) or pass --running to use it")
            server = Server(workdir, password)
        os.makedirs(out, exist_ok=True)
        # An isolated origin takes its subdomains with it: isolating the storefronts (store.<shop>.localhost) is what
        # separates them from the chat's host (<shop>.localhost).
        browser = Browser(os.path.join(workdir, "profile"),
                          [url(f"store.{shop}.localhost", "") for shop in (SHOP, SECOND_SHOP)])
        run.browser = browser
        if server:
            with run.step("start the server (fresh data folder, lexical retrieval) and wait for /readyz", budget=90):
                server.wait_ready()
        flow(run, browser, password)
        status = 0
    except Unusable as error:
        print(f"cannot run: {error}", file=sys.stderr)
        status = 2
    except Failure as error:
        print(f"\nFAILED at step: {run.current}\n  {error}", file=sys.stderr)
        if error.seen:
            print("  seen:\n    " + str(error.seen).replace("\n", "\n    "), file=sys.stderr)
        unreported = browser.problems[run.problems_seen:] if browser else []
        if unreported:
            print("  browser console:\n    " + "\n    ".join(f"[{l}] {w}: {t}" for l, w, t in unreported),
                  file=sys.stderr)
        if server:
            print("  server log (last lines):\n    " + server.tail().replace("\n", "\n    "), file=sys.stderr)
    except KeyboardInterrupt:
        print(f"\ninterrupted during: {run.current}", file=sys.stderr)
        status = 1
    except Exception:  # a bug of this script, or DevTools answering something unexpected
        print(f"\nFAILED at step: {run.current}: an unexpected error", file=sys.stderr)
        traceback.print_exc()
        status = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # let nothing cut the cleaning up short
            signal.signal(sig, signal.SIG_IGN)
        if browser:
            browser.close()
        if server:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    total = time.monotonic() - started
    if status == 0:
        print(f"\nall {len(run.timings)} steps passed in {total:.1f} s; screenshots:")
        for path in run.shots:
            print(path)
    elif status == 1:
        print(f"failed after {total:.1f} s", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
