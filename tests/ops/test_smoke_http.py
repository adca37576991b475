"""ops/smoke_http.py: the bounds on every smoke request, against raw servers on 127.0.0.1 that
misbehave on purpose (a trickle, a flood, garbage, a redirect).

Each guard has a test where it bites and one at its edge: the per-request deadline
cuts a trickle that would go on for seconds, the run deadline stops a request the
per-request one would allow, the size limit refuses one byte over and accepts
exactly the limit."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from ops.smoke_http import REDACTED, Auth, Client, Reply, RunDeadlineReached
from tests import tiers

FAKE_KEY = "smoke-test-key-" + "y" * 8  # built at runtime: nothing here looks like a credential

Behaviour = Callable[[socket.socket], None]


@dataclass
class RawServer:
    """A TCP server on 127.0.0.1 whose every connection is handed to `behaviour` after the request is read."""

    behaviour: Behaviour
    listener: socket.socket = field(default_factory=socket.socket)
    requests: list[bytes] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)  # bytes the behaviour managed to send, per connection
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.settimeout(5)
                self.requests.append(read_request(connection))
                self.behaviour(connection)
            except OSError:
                pass  # the client hung up: what the deadline and size tests expect


def read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += connection.recv(4096)
    return data


@pytest.fixture
def raw_server() -> Iterator[Callable[[Behaviour], RawServer]]:
    servers: list[RawServer] = []

    def start(behaviour: Behaviour) -> RawServer:
        server = RawServer(behaviour)
        server.listener.bind(("127.0.0.1", 0))
        server.listener.listen(16)
        threading.Thread(target=server.serve, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop.set()
        server.listener.close()


def answer(status: str = "200 OK", body: bytes = b'{"ok": true}', *headers: str) -> Behaviour:
    def behave(connection: socket.socket) -> None:
        head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Content-Type: application/json", *headers]
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    return behave


def trickle(data: bytes, every_s: float) -> Behaviour:
    def behave(connection: socket.socket) -> None:
        for index in range(len(data)):
            connection.sendall(data[index : index + 1])
            time.sleep(every_s)

    return behave


def client(base_url: str, **kwargs) -> Client:
    return Client(base_url, FAKE_KEY, kwargs.pop("timeout_s", 2.0), **kwargs)


def timed(send: Callable[[], Reply]) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = send()
    return reply, time.monotonic() - started


# --- the per-request deadline ------------------------------------------------------


@tiers.timing
def test_a_status_line_trickling_one_byte_per_0_2_s_is_cut_at_the_deadline(raw_server):
    """GIVEN a server that would take ~5 s to send its status line WHEN the deadline is 0.5 s
    THEN no response, 'timed out', after about 0.5 s (each read waits only for the time left)."""
    server = raw_server(trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0.2))
    reply, took = timed(lambda: client(server.base_url, timeout_s=0.5).send("GET", "/health"))
    assert reply.status is None and reply.error.startswith("timed out after 0.5 s")
    assert 0.4 <= took < 1.0


@tiers.timing
def test_a_body_trickling_after_fast_headers_is_cut_at_the_deadline(raw_server):
    body = b'{"status": "healthy", "padding": "' + b"x" * 40 + b'"}'
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    def behave(connection: socket.socket) -> None:
        connection.sendall(head)
        trickle(body, 0.2)(connection)

    server = raw_server(behave)
    reply, took = timed(lambda: client(server.base_url, timeout_s=0.5).send("GET", "/health"))
    assert reply.status is None and "timed out" in reply.error
    assert took < 1.0


def test_a_prompt_answer_is_not_affected_by_the_deadline(raw_server):
    server = raw_server(answer())
    reply = client(server.base_url, timeout_s=0.5).send("GET", "/health")
    assert (reply.status, reply.json()) == (200, {"ok": True})


# --- the run deadline -----------------------------------------------------------------


@tiers.timing
def test_the_run_deadline_cuts_a_request_its_own_timeout_would_allow(raw_server):
    """GIVEN --timeout 10 but 0.5 s left in the run WHEN the server trickles THEN RunDeadlineReached at ~0.5 s."""
    server = raw_server(trickle(b"HTTP/1.1 200 OK\r\n\r\n", 0.2))
    slow = client(server.base_url, timeout_s=10, run_deadline=time.monotonic() + 0.5)
    started = time.monotonic()
    with pytest.raises(RunDeadlineReached):
        slow.send("GET", "/health")
    assert time.monotonic() - started < 1.0


def test_no_request_is_sent_after_the_run_deadline(raw_server):
    server = raw_server(answer())
    late = client(server.base_url, run_deadline=time.monotonic() - 1)
    assert late.out_of_time()
    with pytest.raises(RunDeadlineReached):
        late.send("GET", "/health")
    time.sleep(0.05)
    assert server.requests == []


# --- the size limit -------------------------------------------------------------------


FIVE_MIB = 5 * 1024 * 1024


def test_a_declared_5_mib_body_is_refused_before_any_of_it_is_read(raw_server):
    """GIVEN Content-Length 5 MiB and a server that then holds the body back for seconds
    THEN the reply is 'over the limit' at once: smoke did not wait for the body."""
    release = threading.Event()

    def behave(connection: socket.socket) -> None:
        connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {FIVE_MIB}\r\n\r\n".encode())
        release.wait(5)

    server = raw_server(behave)
    reply, took = timed(lambda: client(server.base_url, timeout_s=3).send("GET", "/health"))
    release.set()
    assert reply.status == 200 and reply.oversize and reply.body == ""
    assert "declares 5242880 bytes, over the 1 MiB limit; not read" in reply.error
    assert took < 1.0


@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_an_undeclared_5_mib_body_is_cut_after_the_limit_without_reading_the_rest(raw_server, framing):
    """GIVEN 5 MiB without a Content-Length (until close, or chunked), of which the server
    sends 1.5 MiB and then holds back the rest THEN 'over the limit' without waiting for it."""
    release = threading.Event()
    block = b"x" * (64 * 1024)

    def behave(connection: socket.socket) -> None:
        extra = "Transfer-Encoding: chunked\r\n" if framing == "chunked" else ""
        connection.sendall(f"HTTP/1.1 200 OK\r\n{extra}\r\n".encode())
        sent = 0
        for _ in range(FIVE_MIB // len(block)):
            if sent >= 3 * 512 * 1024:
                release.wait(5)  # the rest would come only after the client waited seconds
            chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n" if framing == "chunked" else block
            connection.sendall(chunk)
            sent += len(block)
        server.sent.append(sent)

    server = raw_server(behave)
    reply, took = timed(lambda: client(server.base_url, timeout_s=3).send("GET", "/big"))
    release.set()
    assert reply.status == 200 and reply.oversize
    assert "over the 1 MiB limit; the rest was not read" in reply.error
    assert len(reply.body) <= 1024 * 1024
    assert took < 1.0


@pytest.mark.parametrize("size, oversize", [(1000, False), (1001, True)])
def test_the_size_limit_is_exact(raw_server, size, oversize):
    server = raw_server(answer(body=b"a" * size))
    reply = client(server.base_url, max_body_bytes=1000).send("GET", "/x")
    assert reply.oversize is oversize
    assert len(reply.body) == (0 if oversize else size)


# --- redirects, garbage, the key ------------------------------------------------------


def test_a_redirect_is_returned_not_followed(raw_server):
    target = raw_server(answer())
    server = raw_server(answer("302 Found", b"", f"Location: {target.base_url}/elsewhere"))
    reply = client(server.base_url).send("GET", "/info", auth=Auth.X_API_KEY)
    assert reply.status == 302 and reply.location == f"{target.base_url}/elsewhere"
    time.sleep(0.05)
    assert target.requests == []


@pytest.mark.parametrize("garbage", [b"", b"hello\r\n\r\n", b"HTTP/1.1 abc\r\n\r\n", b"\xff" * 200])
def test_garbage_instead_of_http_is_no_response(raw_server, garbage):
    server = raw_server(lambda connection: connection.sendall(garbage))
    reply = client(server.base_url).send("GET", "/health")
    assert reply.status is None and reply.error


def test_the_key_is_scrubbed_from_body_headers_and_location(raw_server):
    echoed = f"https://elsewhere.example.test/?k={FAKE_KEY}"
    server = raw_server(answer("302 Found", f'{{"detail": "bad {FAKE_KEY}"}}'.encode(), f"Location: {echoed}"))
    reply = client(server.base_url).send("GET", "/info", auth=Auth.BEARER)
    text = repr(reply)
    assert FAKE_KEY not in text and REDACTED in reply.body and REDACTED in reply.location


def test_the_key_is_sent_only_in_the_form_asked_for(raw_server):
    server = raw_server(answer())
    for auth in Auth:
        client(server.base_url).send("GET", "/x", auth=auth)
    none, x_api_key, bearer = (request.decode().lower() for request in server.requests)
    assert FAKE_KEY.lower() not in none
    assert f"x-api-key: {FAKE_KEY}".lower() in x_api_key and "authorization" not in x_api_key
    assert f"authorization: bearer {FAKE_KEY}".lower() in bearer and "x-api-key" not in bearer


def test_nothing_listening_is_no_response_with_the_reason(raw_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reply = client(f"http://127.0.0.1:{port}").send("GET", "/health")
    assert reply.status is None and "refused" in reply.error.lower()


# --- JSON at the boundary -------------------------------------------------------------


@pytest.mark.parametrize(
    "body, parsed",
    [
        ('{"a": 1}', {"a": 1}),
        ("[1, 2]", [1, 2]),
        ("not json", None),
        ("[" * 100_000 + "]" * 100_000, None),  # deeper than the interpreter's stack
        ("9" * 5000, None),  # over Python's 4300-digit limit for int()
        ("\ufffd\ufffd", None),
    ],
)
def test_json_is_parsed_or_none_never_an_exception(body, parsed):
    reply = Reply("http://x", 200, body)
    assert reply.json() == parsed
    assert reply.json_object() == (parsed if isinstance(parsed, dict) else None)


@pytest.mark.parametrize(
    "body, detail",
    [
        ('{"detail": "Model 999 not found"}', "Model 999 not found"),
        ('{"detail": [{"loc": ["body"]}]}', '{"detail": [{"loc": ["body"]}]}'),  # not a string: the excerpt
        ('{"detail": null}', '{"detail": null}'),
        ("[]", "[]"),
        ("", ""),
    ],
)
def test_detail_is_the_string_detail_or_an_excerpt(body, detail):
    assert Reply("http://x", 401, body).detail() == detail
