"""Hostile requests against the gateway, each as a function returning what the attacker saw (a status, or 0 when
the connection was closed on it). Shared by the edge, fault-isolation and poison suites; `run_attacks` runs them
all at once in a process of its own (the poison test's attacker). Traffic goes to the gateway's published port on
127.0.0.1 only."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx


class Gateway(Protocol):
    """What an attack needs of the gateway: its URL and its clients' keys (e2e.gateway.conftest.Gateway has it)."""

    @property
    def url(self) -> str: ...

    def key(self, client: str) -> str: ...


@dataclass(frozen=True)
class Target:
    """A gateway's URL and keys, picklable: for an attacker in a process of its own."""

    url: str
    keys: dict[str, str]

    def key(self, client: str) -> str:
        return self.keys[client]


MiB = 1024 * 1024
LONE_SURROGATE = b'{"timezone": "\\ud800"}'


def address(gw: Gateway) -> tuple[str, int]:
    parts = urlsplit(gw.url)
    assert parts.hostname == "127.0.0.1", "hostile traffic goes to the published loopback port only"
    return parts.hostname, parts.port or 80


def head(gw: Gateway, path: str, client: str, extra: list[str] = ()) -> bytes:  # type: ignore[assignment]
    lines = [f"POST {path} HTTP/1.1", "Host: gateway", f"Authorization: Bearer {gw.key(client)}", *extra]
    return ("\r\n".join(lines) + "\r\n").encode()


def status_of(sock: socket.socket, timeout: float) -> int:
    """The status of the response on a socket, or 0 when it was closed without one (or nothing came in time)."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except (TimeoutError, ConnectionError):
        return 0
    if not data.startswith(b"HTTP/1.1 "):
        return 0
    return int(data.split(b" ", 2)[1])


def is_closed(sock: socket.socket, timeout: float = 0.5) -> bool:
    """True when the server closed (or answered and then closed) the connection."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass  # an answer (e.g. 408) before the close
        return True
    except TimeoutError:
        return False
    except ConnectionError:
        return True


@contextmanager
def slow_headers(gw: Gateway, count: int) -> Iterator[list[socket.socket]]:
    """Connections that send the start of a request's headers and never finish them (slowloris)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(address(gw), timeout=5)
            sock.sendall(b"POST /time/get_current_time HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


@contextmanager
def slow_bodies(gw: Gateway, count: int, client: str = "e2e") -> Iterator[list[socket.socket]]:
    """Authenticated tool calls that announce 100 bytes of body and send 10 (then nothing)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(address(gw), timeout=5)
            extra = ["Content-Type: application/json", "Content-Length: 100", "", '{"timezon']
            sock.sendall(head(gw, "/time/get_current_time", client, extra))
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def big_body(gw: Gateway, size: int, *, chunked: bool, client: str = "e2e", timeout: float = 60) -> int:
    """A tool call with a body of `size` bytes (one huge string argument), with Content-Length or chunked."""
    prefix, suffix = b'{"timezone": "', b'"}'
    filler = size - len(prefix) - len(suffix)

    def chunks() -> Iterator[bytes]:
        yield prefix
        sent = 0
        while sent < filler:
            piece = min(256 * 1024, filler - sent)
            yield b"A" * piece
            sent += piece
        yield suffix

    headers = {"Authorization": f"Bearer {gw.key(client)}", "Content-Type": "application/json"}
    try:
        if chunked:
            response = httpx.post(gw.url + "/time/get_current_time", content=chunks(), headers=headers, timeout=timeout)
        else:
            body = b"".join(chunks())
            response = httpx.post(gw.url + "/time/get_current_time", content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError:
        return 0  # the gateway closed the connection on a body it refused, before the client finished sending
    return response.status_code


def deep_json(depth: int) -> bytes:
    return b'{"timezone": "UTC", "extra": ' + b"[" * depth + b"]" * depth + b"}"


def two_authorizations(gw: Gateway, client: str = "e2e") -> httpx.Response:
    headers = [
        ("Authorization", "Bearer not-the-key-0000000000"),
        ("Authorization", f"Bearer {gw.key(client)}"),
        ("Content-Type", "application/json"),
    ]
    return httpx.post(gw.url + "/time/get_current_time", content=b'{"timezone": "UTC"}', headers=headers, timeout=10)


def hang_up_mid_call(gw: Gateway, client: str = "e2e", after: float = 0.2) -> int:
    """A sandbox call whose client disconnects before the answer."""
    body = b'{"code": "import time; time.sleep(1)"}'
    with socket.create_connection(address(gw), timeout=5) as sock:
        extra = ["Content-Type: application/json", f"Content-Length: {len(body)}", ""]
        sock.sendall(head(gw, "/sandbox/execute_python", client, extra) + body)
        time.sleep(after)
    return 0


def raw_post(
    gw: Gateway, path: str, body: bytes, client: str = "e2e", request_id: str | None = None, timeout: float = 30
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {gw.key(client)}", "Content-Type": "application/json"}
    if request_id:
        headers["X-Request-ID"] = request_id
    return httpx.post(gw.url + path, content=body, headers=headers, timeout=timeout)


def sample_rss(pid: int, until: Callable[[], bool], every: float = 0.05) -> list[int]:
    """The resident memory (bytes) of a host process, sampled until `until()`; read from /proc on the host."""
    samples = []
    while not until():
        with open(f"/proc/{pid}/status") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        samples.append(kib * 1024)
        time.sleep(every)
    return samples


def attacks(gw: Gateway, client: str) -> dict[str, Callable[[], int]]:
    """Every kind of hostile request of issue 14, as `client` (and one forging an admin with Open WebUI's key)."""

    def post(path: str, body: bytes) -> Callable[[], int]:
        return lambda: raw_post(gw, path, body, client=client).status_code

    def hold(opener: Callable[[], object]) -> Callable[[], int]:
        def run() -> int:
            with opener():  # type: ignore[attr-defined]
                time.sleep(1.0)
            return 0

        return run

    def forged_admin() -> int:
        headers = {"Authorization": f"Bearer {gw.key('open-webui')}", "X-OpenWebUI-User-Role": "admin"}
        headers["X-OpenWebUI-User-Id"] = "x"
        return httpx.post(gw.url + "/sandbox/execute_python", json={"code": "print(1)"}, headers=headers).status_code

    return {
        "lone surrogate": post("/time/get_current_time", LONE_SURROGATE),
        "NaN number": post("/sandbox/execute_python", b'{"code": "print(1)", "timeout_seconds": NaN}'),
        "5 MiB argument": post("/time/get_current_time", b'{"timezone": "' + b"A" * (5 * MiB) + b'"}'),
        "deep JSON": post("/time/get_current_time", deep_json(50_000)),
        "10 MB body": lambda: big_body(gw, 10 * MiB, chunked=False, client=client),
        "10 MB chunked body": lambda: big_body(gw, 10 * MiB, chunked=True, client=client),
        "unfinished headers": hold(lambda: slow_headers(gw, 20)),
        "unfinished body": hold(lambda: slow_bodies(gw, 4, client=client)),
        "two Authorization headers": lambda: two_authorizations(gw, client).status_code,
        "garbage upstream reply": post("/broken/garbage", b"{}"),
        "HTTP 500 upstream reply": post("/broken/http_500", b"{}"),
        "upstream hangs up": post("/broken/hang_up", b"{}"),
        "client hangs up mid-call": lambda: hang_up_mid_call(gw, client),
        "forged admin": forged_admin,
    }


def run_attacks(target: Target, client: str, seconds: float, pause: float = 0.2) -> dict[str, Counter[int]]:
    """Every attack in a loop of its own for `seconds`; what each attacker saw, by status."""
    kinds = attacks(target, client)
    seen: dict[str, Counter[int]] = {kind: Counter() for kind in kinds}
    stop = threading.Event()

    def attacker(kind: str) -> None:
        while not stop.is_set():
            seen[kind][kinds[kind]()] += 1
            stop.wait(pause)

    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        futures = [pool.submit(attacker, kind) for kind in kinds]
        time.sleep(seconds)
        stop.set()
        for future in futures:
            future.result(timeout=120)
    return seen
