"""The HTTP requests smoke sends: bounded in time and size, never redirected, the key scrubbed.

Why not urllib: its timeout applies to each socket operation, so a server that
sends a byte every few seconds holds a request for as long as it likes, and it
reads a body of any size. Here:

- every request has a wall-clock deadline: name resolution runs in a worker
  thread that is abandoned when the time is up, the connect, the TLS handshake
  and the upload wait at most the time left, and the answer is read in chunks,
  each read waiting only for the time left (so a trickle is cut at the deadline);
- the whole run has a deadline too: a request never waits beyond it, and none
  is sent after it (RunDeadlineReached);
- a body over `max_body_bytes` is not read further (a declared Content-Length
  over the limit is refused before any of the body is read);
- a 3xx is returned as it is: following it would send the key to wherever the
  Location points;
- whatever is received (body, headers, error text) has the key replaced before
  anything can cut it, so not even half a key survives an excerpt.

smoke connects directly: HTTP(S)_PROXY is not used (a proxy would see the key,
and the deadline would not cover it).
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

API_KEY_ENV = "HOKUSAI_API_KEY"
REDACTED = f"[{API_KEY_ENV} redacted]"

# The API's answers are a few kilobytes; a megabyte is already something else.
MAX_BODY_BYTES = 1 << 20
READ_CHUNK_BYTES = 64 * 1024
BODY_EXCERPT_CHARS = 200


class RunDeadlineReached(Exception):
    """The run's deadline left no time for a request, or cut one short: the check is not run."""


class _RequestDeadline(TimeoutError):
    """This request's own time is up."""


@dataclass(frozen=True)
class Reply:
    """What one HTTP request came back with; pure data so the judges are testable without HTTP."""

    url: str
    status: int | None  # None when no complete HTTP response arrived (refused, DNS, timeout, reset)
    body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""  # why no response arrived, or why the body was not read
    location: str = ""  # the Location header of a 3xx, which is not followed
    # Header names in lower case (HTTP header names are case-insensitive); repeated
    # headers joined with ", " as HTTP allows.
    headers: Mapping[str, str] = field(default_factory=dict)
    oversize: bool = False  # the body was over the limit and was not read to the end

    @property
    def answered(self) -> bool:
        return self.status is not None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @cached_property
    def parsed(self) -> Any:
        """The body as JSON, or None when it is not JSON. Parsed once (the judges ask several times)."""
        try:
            return json.loads(self.body)
        # ValueError: not JSON, or an integer over Python's 4300-digit limit;
        # RecursionError: brackets nested deeper than the interpreter's stack.
        except (ValueError, RecursionError):
            return None

    def json(self) -> Any:
        return self.parsed

    def json_object(self) -> dict[str, Any] | None:
        """The body when it is a JSON object: the only shape the API answers with."""
        body = self.json()
        return body if isinstance(body, dict) else None

    def detail(self) -> str:
        """The API's error text: FastAPI's `detail` when it is a string, else an excerpt of the body."""
        body = self.json_object()
        detail = body.get("detail") if body is not None else None
        if isinstance(detail, str) and detail.strip():
            return _squeeze(detail)
        return self.excerpt()

    def excerpt(self) -> str:
        return _squeeze(self.body)


def _squeeze(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_EXCERPT_CHARS else text[:BODY_EXCERPT_CHARS] + "..."


class Auth(Enum):
    NONE = "none"
    X_API_KEY = "x-api-key"
    BEARER = "bearer"

    @property
    def header_form(self) -> str:
        """How the key travels, as on-call would write it."""
        return {Auth.X_API_KEY: "X-API-Key", Auth.BEARER: "Authorization: Bearer"}.get(self, "no key")


def auth_headers(auth: Auth, api_key: str) -> dict[str, str]:
    """The headers that present the key the way `auth` says (clients use both forms)."""
    if auth is Auth.X_API_KEY:
        return {"X-API-Key": api_key}
    if auth is Auth.BEARER:
        return {"Authorization": f"Bearer {api_key}"}
    return {}


class Client:
    """Sends the smoke requests: a deadline on each and on the run, a size cap, no redirects."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_s: float,
        *,
        run_deadline: float = float("inf"),
        max_body_bytes: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.run_deadline = run_deadline  # on `clock`'s scale
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._tls_context: ssl.SSLContext | None = None

    def url(self, path: str, base_url: str | None = None) -> str:
        return (base_url or self.base_url) + path

    def out_of_time(self) -> bool:
        return self._clock() >= self.run_deadline

    def send(
        self,
        method: str,
        path: str,
        *,
        auth: Auth = Auth.NONE,
        payload: Any = None,
        base_url: str | None = None,
    ) -> Reply:
        """One request; RunDeadlineReached when the run's deadline forbids it or cuts it short."""
        url = self.url(path, base_url)
        now = self._clock()
        if now >= self.run_deadline:
            raise RunDeadlineReached(url)
        deadline = min(now + self.timeout_s, self.run_deadline)
        headers = {"Accept": "application/json", "User-Agent": "hokusai-smoke/2", **auth_headers(auth, self._api_key)}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            return self._exchange(method, url, headers, data, deadline, started)
        except (OSError, http.client.HTTPException, ValueError) as error:
            # Refused, DNS failure, TLS failure, reset, garbage instead of HTTP, or the
            # deadline: no usable answer at all.
            if isinstance(error, TimeoutError) and deadline >= self.run_deadline:
                raise RunDeadlineReached(url) from None
            return Reply(url, None, elapsed_ms=_ms_since(started), error=self._scrub(self._describe(error)))

    # --- one exchange ---------------------------------------------------------

    def _exchange(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None, deadline: float, started: float
    ) -> Reply:
        parts = urllib.parse.urlsplit(url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sock = self._connect(host, port, https, deadline)
        # HTTPSConnection only for its default port (the Host header omits :443);
        # the socket it gets is already connected and, for https, already TLS.
        connection = (http.client.HTTPSConnection if https else http.client.HTTPConnection)(host, port)
        connection.sock = sock
        try:
            sock.settimeout(self._time_left(deadline))  # sendall: a total limit, not per chunk
            connection.request(method, target, body=data, headers=headers)
            # HTTPResponse only calls makefile() on what it is given; the wrapper's makefile
            # enforces the deadline on every read (typeshed asks for a real socket).
            response = http.client.HTTPResponse(
                _DeadlineSocket(sock, deadline, self._clock),  # type: ignore[arg-type]
                method=method,
            )
            try:
                response.begin()
                body, oversize, why = self._read_body(response)
            finally:
                response.close()
            received = {name: self._scrub(value) for name, value in _header_items(response)}
            return Reply(
                url,
                response.status,
                self._scrub(body),
                _ms_since(started),
                error=why,
                location=received.get("location", ""),
                headers=received,
                oversize=oversize,
            )
        finally:
            connection.close()

    def _connect(self, host: str, port: int, https: bool, deadline: float) -> socket.socket:
        addresses = _resolve(host, port, self._time_left(deadline))
        error: OSError = OSError(f"no address for {host}")
        for family, kind, protocol, _, address in addresses:
            sock = socket.socket(family, kind, protocol)
            try:
                sock.settimeout(self._time_left(deadline))
                sock.connect(address)
                if https:
                    sock.settimeout(self._time_left(deadline))
                    return self._tls().wrap_socket(sock, server_hostname=host)
                return sock
            except OSError as failed:
                sock.close()
                if isinstance(failed, TimeoutError):
                    raise
                error = failed
        raise error

    def _tls(self) -> ssl.SSLContext:
        # Made on first use: loading the system's CA certificates takes tens of milliseconds.
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    def _read_body(self, response: http.client.HTTPResponse) -> tuple[bytes, bool, str]:
        """The body in chunks up to the limit: (body, over the limit, why it was not read)."""
        limit = self.max_body_bytes
        if response.length is not None and response.length > limit:
            return b"", True, f"the body declares {response.length} bytes, over the {_size(limit)} limit; not read"
        chunks: list[bytes] = []
        total = 0
        while chunk := response.read1(READ_CHUNK_BYTES):
            total += len(chunk)
            if total > limit:
                return b"".join(chunks), True, f"the body is over the {_size(limit)} limit; the rest was not read"
            chunks.append(chunk)
        return b"".join(chunks), False, ""

    def _time_left(self, deadline: float) -> float:
        left = deadline - self._clock()
        if left <= 0:
            raise _RequestDeadline()
        return left

    def _scrub(self, received: bytes | str) -> str:
        """Received text with the key redacted, before anything can cut it (excerpts are
        truncated, and half a key would survive the report-wide redaction)."""
        text = received.decode("utf-8", errors="replace") if isinstance(received, bytes) else received
        return text.replace(self._api_key, REDACTED) if self._api_key else text

    def _describe(self, error: BaseException) -> str:
        if isinstance(error, TimeoutError):
            return f"timed out after {self.timeout_s:g} s (no complete response within the deadline of one request)"
        if isinstance(error, ssl.SSLError):
            return f"TLS failed: {error.reason or error}"
        if isinstance(error, http.client.HTTPException | ValueError):
            return f"not a valid HTTP response ({type(error).__name__}: {_squeeze(str(error)) or 'no detail'})"
        return str(error) or type(error).__name__


class _DeadlineSocket:
    """What HTTPResponse needs of a socket (makefile), every read bounded by the deadline."""

    def __init__(self, sock: socket.socket, deadline: float, clock: Callable[[], float]) -> None:
        self._sock, self._deadline, self._clock = sock, deadline, clock

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline, self._clock))


class _DeadlineReader(io.RawIOBase):
    """Raw reads from a socket, each waiting only for the time left before the deadline.

    A per-read timeout alone would let a server sending one byte per second keep
    the request open forever; re-arming the timeout with the time left does not.
    """

    def __init__(self, sock: socket.socket, deadline: float, clock: Callable[[], float]) -> None:
        super().__init__()
        self._sock, self._deadline, self._clock = sock, deadline, clock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - self._clock()
        if left <= 0:
            raise _RequestDeadline()
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


def _resolve(host: str, port: int, seconds: float) -> list[tuple[Any, ...]]:
    """getaddrinfo within `seconds`: the system resolver has its own, longer, timeouts.

    It runs in a daemon thread that is abandoned when the time is up (getaddrinfo
    cannot be interrupted); the thread ends when the resolver gives up.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # an address literal: nothing to look up, no thread needed
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: dict[str, Any] = {}

    def resolve() -> None:
        try:
            found["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:  # UnicodeError: a host name IDNA cannot encode
            found["error"] = error

    worker = threading.Thread(target=resolve, name=f"smoke-resolve-{host}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _RequestDeadline()
    if "error" in found:
        error = found["error"]
        raise error if isinstance(error, OSError) else OSError(f"cannot resolve {host!r}: {error}")
    return found["addresses"]


def _header_items(response: http.client.HTTPResponse) -> list[tuple[str, str]]:
    """The headers by lower-case name, repeats joined (a proxied MLflow answer has two `server`)."""
    merged: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return list(merged.items())


def _size(limit: int) -> str:
    return f"{limit // (1 << 20)} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
