"""`mcpstack logs`: the container logs of a stack, of one service or of all (each line prefixed with its
service, as `docker compose logs` does), optionally followed. Docker keeps them in rotated json-file logs
(mcpstack.local.containers.LOG_OPTIONS) across restarts of a container."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

import docker
from docker.models.containers import Container

from mcpstack.local.containers import LABEL_SERVICE, LABEL_STACK

Write = Callable[[str], None]


class NoSuchService(LookupError):
    pass


def stack_containers(client: docker.DockerClient, stack: str, service: str | None = None) -> list[Container]:
    """The stack's containers (one service's, when named), by service name."""
    selector = [f"{LABEL_STACK}={stack}"] + ([f"{LABEL_SERVICE}={service}"] if service else [])
    found = client.containers.list(all=True, filters={"label": selector})
    if not found:
        what = f"service {service!r} of stack {stack!r}" if service else f"stack {stack!r}"
        raise NoSuchService(f"no container of {what} (see `mcpstack status`)")
    return sorted(found, key=lambda container: container.labels.get(LABEL_SERVICE, container.name))


def show_logs(containers: list[Container], write: Write, *, follow: bool = False, tail: int | None = None) -> None:
    """Write the containers' log lines; with one container unprefixed, else `service | line`."""
    prefixed = len(containers) > 1
    width = max(len(_service(c)) for c in containers)

    def prefix(container: Container) -> str:
        return f"{_service(container):<{width}} | " if prefixed else ""

    if not follow:
        for container in containers:
            for line in _lines(container.logs(stream=True, follow=False, tail=_tail(tail))):
                write(prefix(container) + line)
        return
    lines: queue.Queue[str | None] = queue.Queue()

    def pump(container: Container) -> None:
        try:
            for line in _lines(container.logs(stream=True, follow=True, tail=_tail(tail))):
                lines.put(prefix(container) + line)
        finally:
            lines.put(None)

    for container in containers:
        threading.Thread(target=pump, args=(container,), daemon=True).start()
    running = len(containers)
    while running:
        line = lines.get()
        if line is None:
            running -= 1
        else:
            write(line)


def _service(container: Container) -> str:
    return container.labels.get(LABEL_SERVICE, container.name)


def _tail(tail: int | None) -> int | str:
    return "all" if tail is None else tail


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Whole lines from a stream of log chunks."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.decode(errors="replace")
    if pending:
        yield pending.decode(errors="replace")
