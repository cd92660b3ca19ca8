"""Who may open the app (skin_app/access.py), driven through the ASGI interface the server uses:
the Host allow-list on HTTP requests and WebSocket handshakes, and the phone gate's access code."""
from __future__ import annotations

import asyncio

import pytest

from skin_app import access

PHONE = access.PhoneMode(address="192.168.77.10", bind="127.0.0.2", port=8612, token="s3cret-code-for-tests",
                         certfile="cert.pem", keyfile="key.pem")


async def _ok_app(scope, receive, send):
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"the app"})


def call(app, host: str, kind: str = "http", path: str = "/", query: str = "", cookie: str | None = None,
         origin: str | None = None, scheme: str = "http") -> list[dict]:
    headers = [(b"host", host.encode())] + ([(b"cookie", cookie.encode())] if cookie else [])
    headers += [(b"origin", origin.encode())] if origin is not None else []
    scope = {"type": kind, "scheme": scheme, "path": path, "query_string": query.encode(), "headers": headers,
             "server": ("127.0.0.1", 8611)}
    sent: list[dict] = []
    inbox = [{"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request", "body": b""}]

    async def receive():
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
    asyncio.run(app(scope, receive, send))
    return sent


def status(sent: list[dict]) -> int | str:
    first = sent[0]
    return first.get("status") or first["type"]


@pytest.fixture()
def phone_on(monkeypatch):
    monkeypatch.setattr(access.STATE, "phone", PHONE)
    return PHONE


@pytest.mark.parametrize("host", ["localhost:8611", "127.0.0.1:8611", "[::1]:8611", "LOCALHOST", "localhost"])
def test_this_computers_own_names_are_served(host):
    assert status(call(access.HostAllowList(_ok_app), host)) == 200


@pytest.mark.parametrize("host", ["evil.example:8611", "evil.example", "127.0.0.1.evil.example", "", "localhost.evil:8611",
                                  "192.168.77.10:8611"])
def test_any_other_host_is_refused_for_http_and_websocket(host):
    app = access.HostAllowList(_ok_app)
    sent = call(app, host)
    assert status(sent) == 403 and b"answers only to this computer" in sent[1]["body"]
    assert call(app, host, kind="websocket") == [{"type": "websocket.close", "code": 1008}]   # handshake refused


def test_the_phone_address_is_allowed_only_while_phone_mode_is_on(phone_on):
    assert status(call(access.HostAllowList(_ok_app), "192.168.77.10:8612")) == 200


def test_the_phone_listener_refuses_everything_while_phone_mode_is_off():
    sent = call(access.PhoneGate(_ok_app), "192.168.77.10:8612", query=f"access={PHONE.token}")
    assert status(sent) == 403


def test_the_phone_listener_refuses_a_request_without_the_code(phone_on):
    gate = access.PhoneGate(_ok_app)
    for query in ("", "access=", "access=wrong", f"access={PHONE.token[:-1]}"):
        sent = call(gate, "192.168.77.10:8612", query=query)
        assert status(sent) == 403 and b"access code" in sent[1]["body"]
    assert status(call(gate, "192.168.77.10:8612", kind="websocket")) == "websocket.close"
    assert status(call(gate, "192.168.77.10:8612", cookie="skingorithm_access=wrong")) == 403


def test_the_code_in_the_link_becomes_a_strict_cookie_and_leaves_the_address(phone_on):
    sent = call(access.PhoneGate(_ok_app), "192.168.77.10:8612", path="/progress", query=f"x=1&access={PHONE.token}")
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 303 and headers[b"location"] == b"/progress?x=1"
    assert headers[b"set-cookie"].decode() == f"skingorithm_access={PHONE.token}; Path=/; HttpOnly; SameSite=Strict; Secure"


def test_with_the_cookie_the_phone_gets_the_app_and_its_websocket(phone_on):
    gate = access.PhoneGate(_ok_app)
    cookie = f"other=1; skingorithm_access={PHONE.token}"
    assert status(call(gate, "192.168.77.10:8612", cookie=cookie)) == 200
    assert status(call(gate, "192.168.77.10:8612", kind="websocket", cookie=cookie)) == "websocket.accept"


def test_the_phone_listener_answers_only_to_the_phone_address_even_with_the_code(phone_on):
    """A LAN neighbour cannot reach the app through the phone port by claiming to be localhost."""
    cookie = f"skingorithm_access={PHONE.token}"
    for host in ("localhost:8612", "127.0.0.1", "evil.example"):
        assert status(call(access.PhoneGate(_ok_app), host, cookie=cookie)) == 403


def test_the_link_carries_the_code_once_over_https():
    assert PHONE.url == f"https://192.168.77.10:8612/?access={PHONE.token}"
    assert access.PhoneMode("192.168.1.5", "192.168.1.5", 8502, "t").url == "http://192.168.1.5:8502/?access=t"


@pytest.mark.parametrize("address", ["8.8.8.8", "127.0.0.1", "not an address"])
def test_phone_mode_refuses_addresses_outside_a_local_network(monkeypatch, address):
    monkeypatch.setenv("SKINGORITHM_PHONE_ADDRESS", address)
    with pytest.raises(access.PhoneModeError):
        access.local_network_address()


def test_a_certificate_is_made_for_the_phone_address(tmp_path):
    import shutil
    import subprocess
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: phone mode falls back to plain HTTP and the file picker")
    cert, key = access.ensure_certificate(tmp_path, "192.168.77.10")
    text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"], capture_output=True, text=True).stdout
    assert "IP Address:192.168.77.10" in text
    assert (tmp_path / "phone-key.pem").stat().st_mode & 0o077 == 0          # the key is private to the user
    assert access.ensure_certificate(tmp_path, "192.168.77.10") == (cert, key)   # kept, not remade


def test_turning_phone_mode_on_needs_the_server():
    assert not access.available()
    with pytest.raises(access.PhoneModeError, match="run.sh"):
        access.turn_on(8501, __import__("pathlib").Path("/nonexistent"))


def test_without_openssl_phone_mode_falls_back_to_plain_http(monkeypatch, tmp_path):
    """Then the phone's browser allows no live camera: the page says to use Upload (the phone's camera)."""
    monkeypatch.setenv("SKINGORITHM_PHONE_ADDRESS", "192.168.77.10")
    monkeypatch.setattr(access.shutil, "which", lambda name: None)
    mode = access._new_mode(8501, tmp_path)
    assert not mode.https and mode.url.startswith("http://192.168.77.10:8502/?access=")
    assert mode.token != access._new_mode(8501, tmp_path).token           # a new code every time


# -- Origin: only the app's own pages (issue 26) ---------------------------------------------------------
def call_from(app, origin: str, kind: str = "http", host: str = "localhost:8611", scheme: str = "http"):
    return call(app, host, kind, path="/_stcore/stream", origin=origin, scheme=scheme)


@pytest.mark.parametrize("origin", ["http://localhost:9000", "http://127.0.0.1:8611", "https://localhost:8611",
                                    "http://evil.example", "http://localhost:8611.evil.example", "null",
                                    "http://localhost:8611/", "localhost:8611"])
def test_a_page_from_any_other_origin_is_refused_before_the_app_sees_it(origin):
    app = access.HostAllowList(_ok_app)
    assert call_from(app, origin, "websocket") == [{"type": "websocket.close", "code": 1008}]
    sent = call_from(app, origin)
    assert status(sent) == 403 and b"its own pages" in sent[1]["body"]


def test_the_apps_own_page_and_the_phone_link_are_their_own_origin(phone_on):
    app = access.HostAllowList(_ok_app)
    assert status(call_from(app, "http://localhost:8611", "websocket")) == "websocket.accept"
    assert status(call_from(app, "http://LOCALHOST:8611")) == 200
    assert status(call_from(app, "https://192.168.77.10:8612", "websocket", host="192.168.77.10:8612",
                            scheme="wss")) == "websocket.accept"


def test_the_websocket_hook_runs_when_a_tabs_connection_ends():
    ended = []
    app = access.HostAllowList(_ok_app, on_websocket_closed=lambda: ended.append(True))
    call(app, "localhost:8611", kind="websocket")
    assert ended == [True]
    call(app, "localhost:8611")
    assert ended == [True]                      # not for plain HTTP


# -- request bodies: bounded before they are read whole (issue 26) -------------------------------------
def send_body(limit: int, chunks: list[bytes], length: int | None = None, large: int | None = None,
              multipart: bool = False) -> tuple[list[dict], list[bytes], int]:
    """A PUT with ``chunks`` as its body (chunked unless ``length``): what was sent back, what the app
    read, and how many chunks the middleware pulled from the client. With ``large``, a body whose file
    starts as an export does (serve.py's rule, ``export.in_own_format``) may be that large."""
    got: list[bytes] = []

    async def reader(scope, receive, send):
        while True:
            message = await receive()
            got.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    headers = [(b"host", b"localhost:8611")]
    headers += [(b"content-type", b"multipart/form-data; boundary=b0undary")] if multipart else []
    headers.append((b"content-length", str(length).encode()) if length is not None
                   else (b"transfer-encoding", b"chunked"))
    scope = {"type": "http", "method": "PUT", "path": "/_stcore/upload_file/s/f", "query_string": b"",
             "headers": headers, "server": ("127.0.0.1", 8611)}
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        if pulled > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}

    async def send(message):
        sent.append(message)
    from skin_app.history.export import in_own_format
    middleware = access.HostAllowList(reader, max_body=limit, large_body=large,
                                      large_when=in_own_format if large is not None else None)
    asyncio.run(middleware(scope, receive, send))
    return sent, got, pulled


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit():
    sent, got, pulled = send_body(1000, [b"x" * 300] * 100)
    assert status(sent) == 413 and b"larger than" in sent[1]["body"]
    assert got == [] and pulled == 4                          # 1,200 bytes read of 30,000; the app saw none


def test_a_declared_length_over_the_limit_is_refused_unread():
    sent, got, pulled = send_body(1000, [b"x" * 5000], length=5000)
    assert status(sent) == 413 and pulled == 0 and got == []


def test_a_body_within_the_limit_reaches_the_app_whole():
    for length in (None, 900):
        sent, got, _ = send_body(1000, [b"a" * 300, b"b" * 300, b"c" * 300], length=length)
        assert status(sent) == 204 and b"".join(got) == b"a" * 300 + b"b" * 300 + b"c" * 300


PART = (b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"backup.json\"\r\n"
        b"Content-Type: application/json\r\n\r\n")


@pytest.mark.parametrize("start", [b'{"format": "skingorithm-profile"', b"PK\x03\x04\x14\x00\x00\x00\x08\x00"])
def test_a_file_in_the_apps_own_backup_formats_may_be_larger_and_flows_to_the_app_as_it_arrives(start):
    body = [PART + start + b" " * 200, b"x" * 3000, b"y" * 3000, b"}\r\n--b0undary--\r\n"]
    size = sum(map(len, body))
    sent, got, pulled = send_body(1000, body, length=size, large=10_000, multipart=True)
    assert status(sent) == 204 and b"".join(got) == b"".join(body)
    sent, got, pulled = send_body(1000, body, large=10_000, multipart=True)                  # chunked
    assert status(sent) == 204 and b"".join(got) == b"".join(body)


def test_a_photo_or_other_file_keeps_the_small_limit_though_a_larger_one_exists():
    body = [PART + b"\xff\xd8\xff\xe0" + b"\0" * 200, b"x" * 3000, b"y" * 3000]
    sent, got, pulled = send_body(1000, body, length=sum(map(len, body)), large=10_000, multipart=True)
    assert status(sent) == 413 and b"larger than" in sent[1]["body"] and got == []
    assert pulled == 1                            # its start was read to choose; the rest never was
    sent, got, pulled = send_body(1000, body, large=10_000, multipart=True)                  # chunked
    assert status(sent) == 413 and got == [] and pulled == 2


def test_a_declared_length_over_the_large_limit_is_refused_unread_whatever_it_holds():
    body = [PART + b'{"format": ' + b" " * 20_000]
    sent, got, pulled = send_body(1000, body, length=20_001, large=10_000, multipart=True)
    assert status(sent) == 413 and pulled == 0 and got == []


def test_an_export_past_the_large_limit_without_a_length_is_refused_as_it_passes_it():
    body = [PART + b'{"format": ' + b" " * 2000] + [b" " * 2000] * 20
    sent, got, pulled = send_body(1000, body, large=10_000, multipart=True)
    assert status(sent) == 413 and got == [] and pulled == 5


def test_a_refusal_is_a_page_a_phone_shows_at_a_readable_size():
    import asyncio

    from skin_app.access import TOKEN_REFUSED, _refuse
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}
    asyncio.run(_refuse({"type": "http"}, receive, send, TOKEN_REFUSED))
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"].startswith(b"text/html") and b"default-src 'none'" in headers[b"content-security-policy"]
    body = sent[1]["body"].decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert "needs its access code" in body and "font: 1.2rem" in body
