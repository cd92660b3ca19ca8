"""Who may open the app: the Host allow-list on every request, and the opt-in phone mode.

Everything that decides access lives here (no Streamlit import; plain ASGI, run by serve.py):

* ``HostAllowList`` (middleware on every request, HTTP and the WebSocket handshake alike): the Host
  header must name this computer (``localhost``, ``127.0.0.1``, ``[::1]``) or, while phone mode is on,
  the address the phone was given. A web page on another site that re-points its own name at
  127.0.0.1 (DNS rebinding) sends its own name as Host and is refused. A request a browser sends
  from a page carries that page's Origin: it must be the app's own (the scheme and exactly the
  host and port the request was sent to), so a page on any other site, or on another port of this
  computer, cannot open the app's WebSocket. That refusal comes before Streamlit's own origin check,
  which would look up this computer's address on the internet (checkip.amazonaws.com, a blocking
  request on the server's event loop). A request body sent without a length (chunked) is counted
  as it arrives and refused past the upload limit, before anything holds it whole.
* Phone mode (off unless the person turns it on: ``bash run.sh --phone`` or the Settings switch): a
  second listener on this computer's local-network address only, HTTPS with a certificate made on
  this computer when ``openssl`` is there. ``PhoneGate`` refuses every request on it without the
  random access code: the link in the QR code carries it once (``?access=``); the gate swaps it for
  an HttpOnly, SameSite=Strict cookie and redirects to the same page without it. A new code is made
  each time phone mode is turned on, so turning it off and on locks out every phone that had it.
  The app's own listener stays on localhost.
"""
from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import os
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
TOKEN_PARAM = "access"
COOKIE = "skingorithm_access"
DEFAULT_PHONE_PORT_OFFSET = 1          # phone listener port = the app's port + 1, unless set

HOST_REFUSED = ("SkinGorithm answers only to this computer's own name (localhost). "
                "Open it at http://localhost:{port}.")
ORIGIN_REFUSED = ("SkinGorithm answers only to its own pages, not to other web pages or sites. "
                  "Open it at http://localhost:{port}.")
BODY_TOO_LARGE = "This upload is larger than the {mb} MB limit."
BODY_HEAD_BYTES = 64 * 1024       # how much of a large body is read to choose its limit
FILE_HEAD_BYTES = 16              # the first bytes of the file in it that choose it
TOKEN_REFUSED = ("This SkinGorithm app needs its access code. Scan the QR code shown on the computer "
                 "(Settings & privacy, Open on my phone) with this phone's camera.")
PHONE_OFF = "Phone access to SkinGorithm is turned off on the computer."
# A refusal as a page a phone shows at a readable size (our own fixed HTML; the text is escaped).
REFUSAL_PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                "content=\"width=device-width, initial-scale=1\"><title>SkinGorithm</title><style>body{{font: 1.2rem/1.5 "
                "system-ui, sans-serif; margin: 2rem 1.2rem; max-width: 36rem; color: #222}}</style></head>"
                "<body><h1 style=\"font-size:1.5rem\">SkinGorithm</h1><p>{text}</p></body></html>")


class PhoneModeError(RuntimeError):
    """Phone mode cannot be turned on here; the message says why and what to do."""


def host_name(raw: str | bytes | None) -> str:
    """The name in a Host header, lower case, without the port ("[::1]:8501" -> "[::1]")."""
    text = (raw.decode("latin-1") if isinstance(raw, bytes) else raw or "").strip().lower()
    if text.startswith("["):
        return text[:text.find("]") + 1] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _header(scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return b""


def _cookies(scope) -> dict[str, str]:
    out = {}
    for part in _header(scope, b"cookie").decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            out[key] = value
    return out


@dataclass(frozen=True)
class PhoneMode:
    """What phone mode serves: the address phones use, where it listens, the code, HTTPS or not."""
    address: str                  # the name phones send as Host (this computer's local-network address)
    bind: str                     # where the listener binds (the same address, or a test's 127.0.0.2)
    port: int
    token: str
    certfile: str | None = None
    keyfile: str | None = None

    @property
    def https(self) -> bool:
        return self.certfile is not None

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{'https' if self.https else 'http'}://{host}:{self.port}/?{TOKEN_PARAM}={self.token}"

    def accepts(self, token: str | None) -> bool:
        return token is not None and bool(token) and hmac.compare_digest(token.encode(), self.token.encode())


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phone: PhoneMode | None = None
        self.app = None                       # the ASGI app serve.py serves
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: Any = None               # the phone listener (uvicorn.Server)
        self.task: asyncio.Task | None = None


STATE = _State()


def allowed_hosts() -> frozenset[str]:
    phone = STATE.phone
    return LOOPBACK_NAMES | ({host_name(phone.address if ":" not in phone.address else f"[{phone.address}]")}
                             if phone else frozenset())


def same_origin(scope) -> bool:
    """Whether a request comes from the app's own page: it has no Origin (not sent by a web page), or
    its Origin is this listener's scheme with exactly the host and port the request was sent to (its
    Host, which the allow-list has checked). A page on another port of this computer is another origin."""
    origin = _header(scope, b"origin").decode("latin-1").strip().lower()
    if not origin:
        return True
    own_scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    host = _header(scope, b"host").decode("latin-1").strip().lower()
    return origin == f"{own_scheme}://{host}" and "/" not in host


async def _refuse(scope, receive, send, text: str, status: int = 403) -> None:
    if scope["type"] == "websocket":
        await receive()                                   # websocket.connect
        await send({"type": "websocket.close", "code": 1008})   # the handshake gets HTTP 403
        return
    body = REFUSAL_PAGE.format(text=html.escape(text)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'")]})
    await send({"type": "http.response.body", "body": body})


class HostAllowList:
    """ASGI middleware: refuses HTTP requests and WebSocket handshakes whose Host is not this computer
    (or, in phone mode, the address the phone was given) or whose Origin is another page's, and request
    bodies over ``max_body`` bytes, or over ``large_body`` for a file whose first bytes ``large_when``
    accepts (serve.py: the app's own backup formats, so a backup of any size the app writes restores
    while a photo stays at its own limit). ``on_websocket_closed`` runs on the event loop each time a
    browser tab's connection has ended (serve.py releases what the tab uploaded)."""

    def __init__(self, app, max_body: int | None = None, on_websocket_closed=None, large_body: int | None = None,
                 large_when: Callable[[bytes], bool] | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.large_body = large_body if large_when is not None else None
        self.large_when = large_when
        self.on_websocket_closed = on_websocket_closed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        port = (scope.get("server") or ("", 8501))[1]
        if host_name(_header(scope, b"host")) not in allowed_hosts():
            await _refuse(scope, receive, send, HOST_REFUSED.format(port=port))
            return
        if not same_origin(scope):
            await _refuse(scope, receive, send, ORIGIN_REFUSED.format(port=port))
            return
        if scope["type"] == "http" and self.max_body is not None:
            receive = await self._bounded_body(scope, receive, send)
            if receive is None:
                return
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "websocket" and self.on_websocket_closed is not None:
                self.on_websocket_closed()

    def _limit_for(self, scope, head: bytes, complete: bool) -> int | None:
        """The body limit once enough of the body's start is there to choose it (None: read on). A
        multipart body (a browser's upload) is judged by its first part's content, past the part's
        headers; a head that never shows that content within ``BODY_HEAD_BYTES`` gets ``max_body``."""
        assert self.max_body is not None
        if self.large_when is None or self.large_body is None:
            return self.max_body
        content: bytes | None = head
        if _header(scope, b"content-type").lower().startswith(b"multipart/"):
            at = head.find(b"\r\n\r\n")
            content = head[at + 4:] if at >= 0 else None
        if content is None or len(content) < FILE_HEAD_BYTES and not complete:
            return self.max_body if complete or len(head) >= BODY_HEAD_BYTES else None
        return self.large_body if self.large_when(content[:FILE_HEAD_BYTES]) else self.max_body

    async def _bounded_body(self, scope, receive, send):
        """``receive`` for the app, or None once the request is answered here. A declared length over
        every limit is refused unread; over ``max_body``, the body's start is read first to choose its
        limit, and the rest flows to the app as it arrives. A body without a length (chunked) is read here,
        counting, and refused as soon as it passes its limit (the app then gets it from memory)."""
        assert self.max_body is not None
        length = _header(scope, b"content-length")
        if length and not length.strip().isdigit():
            await _refuse(scope, receive, send, BODY_TOO_LARGE.format(mb=self.max_body // (1024 * 1024)), 413)
            return None
        declared = int(length) if length else None
        if declared is not None and declared <= self.max_body or declared is None and not _header(scope, b"transfer-encoding"):
            return receive                     # within every limit (the server never passes on more), or no body
        ceiling = max(self.max_body, self.large_body or 0)
        limit: int | None = None
        messages: list[dict] = []
        total, head = 0, b""
        while True:
            if declared is not None and declared > (limit or ceiling):
                await _refuse(scope, receive, send, BODY_TOO_LARGE.format(mb=(limit or ceiling) // (1024 * 1024)), 413)
                return None
            if declared is not None and limit is not None:
                break                          # its start is read and its length fits: the rest streams
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break                          # the client went away; the app hears it too
            body = message.get("body", b"")
            total += len(body)
            more = message.get("more_body", False)
            if limit is None:
                head = (head + body)[:BODY_HEAD_BYTES]
                limit = self._limit_for(scope, head, complete=not more)
            if total > (limit or ceiling):
                messages.clear()
                await _refuse(scope, receive, send, BODY_TOO_LARGE.format(mb=(limit or ceiling) // (1024 * 1024)), 413)
                return None
            if not more:
                break

        async def replay():
            return messages.pop(0) if messages else await receive()
        return replay


class PhoneGate:
    """ASGI wrapper of the phone listener: the phone's Host and the access code, or nothing."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        phone = STATE.phone
        if phone is None:
            await _refuse(scope, receive, send, PHONE_OFF)
            return
        if host_name(_header(scope, b"host")) not in allowed_hosts() - LOOPBACK_NAMES:
            await _refuse(scope, receive, send, TOKEN_REFUSED)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(query).get(TOKEN_PARAM)
        if scope["type"] == "http" and phone.accepts(given):
            rest = urlencode([(k, v) for k, v in query if k != TOKEN_PARAM])
            location = scope.get("path", "/") + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={phone.token}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if phone.https else "")
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode()),
                                    (b"cache-control", b"no-store"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if not phone.accepts(_cookies(scope).get(COOKIE)):
            await _refuse(scope, receive, send, TOKEN_REFUSED)
            return
        await self.app(scope, receive, send)


# -- where phone mode listens -----------------------------------------------------------------------
def local_network_address() -> str:
    """This computer's address on its local network (the interface a private address routes through).
    A UDP "connect" only picks the route; it sends nothing. ``SKINGORITHM_PHONE_ADDRESS`` overrides."""
    chosen = os.environ.get("SKINGORITHM_PHONE_ADDRESS")
    if not chosen:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect(("10.255.255.255", 1))
                chosen = s.getsockname()[0]
            except OSError:
                chosen = ""
    try:
        ip = ipaddress.ip_address(chosen)
    except ValueError:
        raise PhoneModeError("This computer has no local network address. Connect it to the same Wi-Fi as "
                             "your phone, then try again.") from None
    if not ip.is_private or ip.is_loopback:
        raise PhoneModeError(f"This computer's address ({chosen}) is not a home or office network address, so "
                             "phone mode stays off (it would open the app beyond your local network).")
    return chosen


def ensure_certificate(folder: Path, address: str) -> tuple[str, str] | None:
    """A self-signed certificate for ``address`` made on this computer with ``openssl`` (kept in
    ``folder``, made again when the address changes); None where openssl is missing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    from skin_app.config import private_folder
    private_folder(folder)                                  # the app's home: 0700 whoever makes it first
    cert, key, made_for = folder / "phone-cert.pem", folder / "phone-key.pem", folder / "phone-cert.address"
    if cert.exists() and key.exists() and made_for.exists() and made_for.read_text() == address:
        return str(cert), str(key)
    san = f"IP:{address}" if _is_ip(address) else f"DNS:{address}"
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825", "-subj", "/CN=SkinGorithm on this computer",
         "-addext", f"subjectAltName={san}", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, timeout=60)
    if result.returncode != 0:
        return None
    os.chmod(key, 0o600)
    made_for.write_text(address)
    return str(cert), str(key)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


# -- turning phone mode on and off (serve.py attaches the app and its event loop) ---------------------
def attach(app, loop: asyncio.AbstractEventLoop) -> None:
    """Called once by serve.py when the server starts: what a phone listener would serve, and where."""
    STATE.app, STATE.loop = app, loop


def available() -> bool:
    """Whether phone mode can be switched on in this process (the app was started by serve.py)."""
    return STATE.loop is not None and STATE.app is not None


def phone_mode() -> PhoneMode | None:
    return STATE.phone


async def _start(mode: PhoneMode) -> None:
    import uvicorn
    config = uvicorn.Config(PhoneGate(STATE.app), host=mode.bind, port=mode.port, lifespan="off",
                            ssl_certfile=mode.certfile, ssl_keyfile=mode.keyfile, ws="websockets-sansio",
                            access_log=False, log_level="warning", use_colors=False, timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    config.load()
    server.lifespan = config.lifespan_class(config)
    STATE.phone = mode
    try:
        await server.startup()
    except (OSError, SystemExit) as exc:
        STATE.phone = None
        raise PhoneModeError(f"Phone mode could not listen on {mode.bind}:{mode.port} ({exc}). Another program "
                             "may use that port: set SKINGORITHM_PHONE_PORT to another one.") from None
    if server.should_exit:
        STATE.phone = None
        raise PhoneModeError(f"Phone mode could not listen on {mode.bind}:{mode.port}; another program may use "
                             "that port (set SKINGORITHM_PHONE_PORT to another one).")

    async def run() -> None:
        try:
            await server.main_loop()
        finally:
            await server.shutdown()
    STATE.server, STATE.task = server, asyncio.get_running_loop().create_task(run())


async def turn_off_async() -> None:
    """Closes the phone listener (on the server's event loop)."""
    server, task = STATE.server, STATE.task
    STATE.phone = None                           # refuses at once, even before the listener closes
    if server is not None:
        server.should_exit = True
        if task is not None:
            await task
    STATE.server = STATE.task = None


NEEDS_SERVE = "Phone mode needs the app started with `bash run.sh` (it serves through serve.py)."


def _on_loop(coro, timeout: float = 30):
    if not available():
        coro.close()
        raise PhoneModeError(NEEDS_SERVE)
    assert STATE.loop is not None                # available() says serve.py has set it
    return asyncio.run_coroutine_threadsafe(coro, STATE.loop).result(timeout)


def _new_mode(app_port: int, data_folder: Path) -> PhoneMode:
    """Where phone mode will listen, with a new access code and (where openssl is) a certificate.
    ``SKINGORITHM_PHONE_BIND`` / ``_PORT`` / ``_HTTP=1`` override the bind address, port and HTTPS."""
    address = local_network_address()
    bind = os.environ.get("SKINGORITHM_PHONE_BIND") or address
    port = int(os.environ.get("SKINGORITHM_PHONE_PORT") or app_port + DEFAULT_PHONE_PORT_OFFSET)
    pair = None if os.environ.get("SKINGORITHM_PHONE_HTTP") == "1" else ensure_certificate(data_folder, address)
    return PhoneMode(address, bind, port, secrets.token_urlsafe(18), *(pair or (None, None)))


def turn_on(app_port: int, data_folder: Path) -> PhoneMode:
    """Opens the phone listener with a new access code (from a page's thread); returns what it serves.
    Safe to call twice."""
    if not available():
        raise PhoneModeError(NEEDS_SERVE)
    with STATE.lock:
        if STATE.phone is not None:
            return STATE.phone
        if _running_on_loop():
            raise RuntimeError("turn_on is for other threads; on the server's loop use turn_on_async")
        mode = _new_mode(app_port, data_folder)
        _on_loop(_start(mode))
        return mode


async def turn_on_async(app_port: int, data_folder: Path) -> PhoneMode:
    """``turn_on`` on the server's event loop itself (serve.py at start, with ``--phone``)."""
    mode = _new_mode(app_port, data_folder)
    await _start(mode)
    return mode


def turn_off() -> None:
    with STATE.lock:
        if STATE.phone is not None or STATE.server is not None:
            _on_loop(turn_off_async())


def _running_on_loop() -> bool:
    try:
        return asyncio.get_running_loop() is STATE.loop
    except RuntimeError:
        return False
