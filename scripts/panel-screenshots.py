#!/usr/bin/env python3
"""Desktop (1366×900) and phone (390×844) screenshots of the admin panels of the running demo.

It signs in like a person — opens /admin/login, fills the e-mail and password, submits the form — and then
shoots the main screens of two shop panels under different partners (acme-tea under Northwind,
solnyshko-kids under Sibir), of the Northwind partner panel and of the platform panel.

Why the DevTools protocol: `chromium --screenshot URL` can only load a page, it cannot fill a form, keep the
session cookie or submit a form to get the validation errors, and every panel screen needs a signed-in session.
So this script starts headless Chromium with --remote-debugging-port, talks to it over a small WebSocket client
written on the standard library (no pip packages) and sends it CDP commands (Page.navigate, Runtime.evaluate,
Page.captureScreenshot). The page's CSP does not apply to DevTools evaluation.

It does not start the server: run `vitrina serve --port PORT --load tenants.example.yml` first.
Usage: scripts/panel-screenshots.py [PORT] [OUTPUT_DIR]      (defaults: 8080 and screenshots/)
Prints the name of every file it writes; exits 1 if a step fails, 2 on bad usage.
The demo accounts' password comes from VITRINA_DEMO_PASSWORD (default demo-pass-2026).
"""
import base64, json, os, re, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

SIZES = [("desktop", 1366, 900, False), ("phone", 390, 844, True)]
TENANT_SCREENS = [("dashboard", "/admin"), ("articles", "/admin/articles"), ("article", "/admin/articles/1"),
                  ("article-errors", None), ("team", "/admin/team"), ("audit", "/admin/audit"),
                  ("profile", "/admin/profile"), ("branding", "/admin/branding"), ("domains", "/admin/domains"),
                  ("api-keys", "/admin/api-keys"), ("bot-try", "/admin/bot/try"), ("bot-chat", "CHAT"),
                  ("bot-faq", "/admin/bot/faq?q=%D0%BA%D0%B0%D0%BA%20%D0%B2%D0%B5%D1%80%D0%BD%D1%83%D1%82%D1%8C"),
                  ("bot-settings", "/admin/bot"), ("bot-synonyms", "/admin/bot/synonyms"), ("bot-templates", "/admin/bot/templates"),
                  ("bot-rules", "/admin/bot/rules"), ("bot-model", "/admin/bot/model"),
                  ("bot-faq-drafts", "/admin/bot/faq/drafts"), ("bot-channels", "/admin/bot/channels"),
                  ("usage", "/admin/usage")]
# (name prefix, host, e-mail, screens); a screen with no path is the new-article form submitted empty.
ACCOUNTS = [
    ("panel-acme-tea", "acme-tea.localhost", "anna@acme-tea.example", TENANT_SCREENS),
    ("panel-solnyshko-kids", "solnyshko-kids.localhost", "maria@solnyshko.example", TENANT_SCREENS),
    ("panel-partner-northwind", "panel.northwind.localhost", "olivia@northwind.example",
     [("clients", "/admin"), ("new-shop", "/admin/tenants/new"), ("branding", "/admin/branding"), ("domains", "/admin/domains"),
      ("api-keys", "/admin/api-keys"), ("audit", "/admin/audit"), ("usage", "/admin/usage/shops"), ("model", "/admin/model")]),
    ("panel-platform", "localhost", "admin@vitrina.example",
     [("dashboard", "/admin"), ("outbox", "/admin/outbox"), ("jobs", "/admin/jobs"), ("audit", "/admin/audit"),
      ("branding", "/admin/branding")]),
]
TIMEOUT = 20
SAVE_EMPTY_ARTICLE = """(() => { const form = document.querySelector('form[action="/admin/articles/new"]');
  form.querySelector('button[value="save"]').click(); return true; })()"""

# Asks the test chat a question: fills the shopper's message and submits the form (a POST answered by a redirect).
ASK = """(() => { const form = document.querySelector('form.chat-form');
  form.querySelector('#text').value = %s; form.submit(); return true; })()"""
CHAT = ["Сколько идёт доставка?", "Как вернуть товар?"]


class Failure(Exception):
    pass


class WebSocket:
    """Just enough of RFC 6455 for CDP: masked text frames out, (fragmented) text frames in."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=TIMEOUT)
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

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise Failure("DevTools closed the WebSocket")
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
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def receive(self):
        """The next complete text message (continuation frames joined); answers pings."""
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
                raise Failure("DevTools closed the WebSocket")
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
        finally:
            self.sock.close()


class Page:
    """A CDP session with one page target: commands wait for their own result, events are kept aside."""

    def __init__(self, ws_url):
        self.ws, self.next_id, self.events = WebSocket(ws_url), 0, []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise Failure(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise Failure(f"script failed: {expression[:60]}… {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def load(self, action):
        """Runs action (a navigation), waits for the load event; returns the document's HTTP status."""
        self.events.clear()
        action()
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise Failure("the page did not finish loading in time")
            try:
                self.events.append(json.loads(self.ws.receive()))
            except socket.timeout:
                raise Failure(f"the page did not finish loading in {TIMEOUT} s") from None
        self.evaluate("document.fonts.ready.then(() => true)")
        documents = [e["params"]["response"]["status"] for e in self.events
                     if e.get("method") == "Network.responseReceived" and e["params"].get("type") == "Document"]
        return documents[-1] if documents else None

    def goto(self, url):
        def navigate():
            result = self.call("Page.navigate", url=url)
            if result.get("errorText"):
                raise Failure(f"{url}: {result['errorText']}")
        return self.load(navigate)

    def screenshot(self, file):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        with open(file, "wb") as f:
            f.write(base64.b64decode(data))
        print(file, flush=True)


def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    raise Failure("Chromium not found; install it with: apt-get install -y --no-install-recommends chromium")


def start_browser(profile):
    args = [find_browser(), "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile}",
            "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--disable-gpu"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    process = subprocess.Popen(args + ["about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in process.stderr:  # Chromium prints the line once it listens
        match = re.search(r"DevTools listening on (ws://\S+)", line)
        if match:
            # Keep draining stderr so that Chromium never blocks on a full pipe.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, urllib.parse.urlsplit(match.group(1)).port
    raise Failure("Chromium exited before it opened the DevTools port")


def stop_browser(process):
    """Ends Chromium and its helper processes (its own process group), politely first."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=grace)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def open_page(devtools_port):
    base = f"http://127.0.0.1:{devtools_port}"
    try:
        request = urllib.request.Request(f"{base}/json/new?about:blank", method="PUT")
        target = json.load(urllib.request.urlopen(request, timeout=TIMEOUT))
    except OSError:
        targets = json.load(urllib.request.urlopen(f"{base}/json/list", timeout=TIMEOUT))
        target = next(t for t in targets if t.get("type") == "page")
    page = Page(target["webSocketDebuggerUrl"])
    page.call("Page.enable")
    page.call("Network.enable")
    return page


def set_size(page, size):
    _, width, height, mobile = size
    page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)


def sign_in(page, base, email, password):
    page.evaluate(f"document.querySelector('#email').value = {json.dumps(email)};"
                  f"document.querySelector('#password').value = {json.dumps(password)}; true")
    page.load(lambda: page.evaluate("document.querySelector('form[action=\"/admin/login\"]').submit(); true"))
    path = page.evaluate("location.pathname")
    if path != "/admin":
        error = page.evaluate("(document.querySelector('.flash-error') || {}).textContent || ''").strip()
        raise Failure(f"sign-in as {email} at {base} failed: ended on {path}" + (f" ({error})" if error else ""))


def shoot_account(page, port, out, password, prefix, host, email, screens):
    base = f"http://{host}:{port}"
    page.call("Network.clearBrowserCookies")
    for size in SIZES:  # the login page, before signing in
        set_size(page, size)
        if page.goto(f"{base}/admin/login") != 200:
            raise Failure(f"{base}/admin/login did not answer 200")
        page.screenshot(f"{out}/{prefix}-login-{size[0]}.png")
    sign_in(page, base, email, password)
    for name, path in screens:
        for size in SIZES:
            set_size(page, size)
            if path is None:  # the new-article form saved empty: a 422 page with the errors
                url, expected = f"{base}/admin/articles/new (saved empty)", 422
                page.goto(f"{base}/admin/articles/new")
                status = page.load(lambda: page.evaluate(SAVE_EMPTY_ARTICLE))
            elif path == "CHAT":  # a conversation in the test chat, each answer with its explanation
                url, expected = f"{base}/admin/bot/try (a conversation)", 200
                page.goto(f"{base}/admin/bot/try")
                for question in CHAT:
                    status = page.load(lambda q=question: page.evaluate(ASK % json.dumps(q)))
            else:
                url, expected = base + path, 200
                status = page.goto(url)
            landed = page.evaluate("location.pathname")
            if status != expected or landed == "/admin/login":
                raise Failure(f"{url} answered {status} (expected {expected}) and ended on {landed}")
            page.screenshot(f"{out}/{prefix}-{name}-{size[0]}.png")


def open_client_panel(page, port, out):
    """From the signed-in agency panel, presses the first "Open the panel": a POST answered by a redirect to the
    shop's own host with a one-time token, which signs the agency user in there (cookies never cross hosts)."""
    set_size(page, SIZES[0])
    page.goto(f"http://panel.northwind.localhost:{port}/admin")
    page.load(lambda: page.evaluate("document.querySelector('form[action$=\"/open\"] button').click(); true"))
    landed = page.evaluate("location.host + location.pathname")
    if not landed.endswith(f":{port}/admin") or landed.startswith("panel."):
        raise Failure(f"opening a client's panel from the agency panel ended on {landed}")
    page.screenshot(f"{out}/panel-partner-northwind-handoff-{SIZES[0][0]}.png")


def main(argv):
    if len(argv) > 2 or (argv and not argv[0].isdigit()):
        print(f"usage: {sys.argv[0]} [PORT] [OUTPUT_DIR]   (PORT must be a number, default 8080)", file=sys.stderr)
        return 2
    port = int(argv[0]) if argv else 8080
    out = argv[1] if len(argv) > 1 else "screenshots"
    password = os.environ.get("VITRINA_DEMO_PASSWORD") or "demo-pass-2026"
    os.makedirs(out, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="vitrina-panel-profile.")
    browser = None
    try:
        browser, devtools_port = start_browser(profile)
        page = open_page(devtools_port)
        for prefix, host, email, screens in ACCOUNTS:
            shoot_account(page, port, out, password, prefix, host, email, screens)
            if prefix == "panel-partner-northwind":
                open_client_panel(page, port, out)
        page.ws.close()
        return 0
    except (Failure, OSError, ValueError, KeyError, StopIteration) as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1
    finally:
        if browser:
            stop_browser(browser)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
