"""Backup and restore of Open WebUI's data volume in a local stack (users, chats, settings, uploads).

The database is SQLite locally: the backup copies it with SQLite's online backup API (consistent even while
Open WebUI writes), in a short-lived container of the Open WebUI image that mounts the volume, and packs it
with the rest of the data directory (uploads, vector store; not the model cache) into one .tar.gz. A restore
stops Open WebUI's container, replaces the volume's content with the archive's, and starts it again.
Production keeps its data in PostgreSQL instead: docs/deploy.md "Backups" (pg_dump / pg_restore).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import ContainerError, ImageNotFound, NotFound

from mcpstack.catalog.models import Catalog, OpenWebUIService
from mcpstack.local.containers import LABEL_STACK, container_name, volume_name

ARCHIVE = "backup.tar.gz"
DATABASE = "webui.db"
SKIPPED = ("cache",)  # downloaded models and caches: rebuilt by Open WebUI, often large
DATA, OUT = "/data", "/out"

BACKUP_SCRIPT = f"""
import os, sqlite3, tarfile
source, copy = sqlite3.connect("{DATA}/{DATABASE}"), sqlite3.connect("{OUT}/{DATABASE}")
source.backup(copy)
copy.close(); source.close()
with tarfile.open("{OUT}/{ARCHIVE}", "w:gz") as tar:
    tar.add("{OUT}/{DATABASE}", arcname="{DATABASE}")
    for entry in sorted(os.listdir("{DATA}")):
        if not entry.startswith("{DATABASE}") and entry not in {SKIPPED!r}:
            tar.add(os.path.join("{DATA}", entry), arcname=entry)
os.remove("{OUT}/{DATABASE}")
"""

RESTORE_SCRIPT = f"""
import os, shutil, tarfile
with tarfile.open("{OUT}/{ARCHIVE}") as tar:
    members = tar.getmembers()
    if "{DATABASE}" not in [m.name for m in members]:
        raise SystemExit("not an mcpstack backup of Open WebUI: no {DATABASE} in it")
    for member in members:  # the image's Python 3.11.2 has no extraction filters: checked here, before any change
        if member.name.startswith("/") or ".." in member.name.split("/") or not (member.isfile() or member.isdir()):
            raise SystemExit(f"refusing archive member {{member.name}}")
    for entry in os.listdir("{DATA}"):
        if entry not in {SKIPPED!r}:
            path = os.path.join("{DATA}", entry)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
    tar.extractall("{DATA}", members=members)
"""


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class WebUIData:
    """Where a stack keeps Open WebUI's data: its service, image, volume and the user that owns the files."""

    stack: str
    service: str
    image: str
    volume: str
    container: str
    user: str

    @classmethod
    def of(cls, catalog: Catalog, stack: str) -> WebUIData:
        found = [(n, s) for n, s in catalog.services.items() if isinstance(s, OpenWebUIService) and s.volumes]
        if not found:
            raise BackupError(f"the {catalog.environment} catalog has no Open WebUI service with a data volume")
        name, service = found[0]
        return cls(
            stack=stack,
            service=name,
            image=service.image.ref,
            volume=volume_name(stack, name, service.volumes[0].name),
            container=container_name(stack, name),
            user=f"{service.security.user}:{service.security.group}",
        )


def backup(client: docker.DockerClient, data: WebUIData, out: Path) -> Path:
    """Write Open WebUI's data of the stack to `out` (.tar.gz); the service may keep running."""
    if not client.volumes.list(filters={"name": f"^{data.volume}$"}):
        raise BackupError(f"no volume {data.volume}: is the stack running (`mcpstack status`)?")
    with tempfile.TemporaryDirectory(prefix="mcpstack-backup-") as work:
        Path(work).chmod(0o777)  # the container runs as Open WebUI's user
        _run(client, data, BACKUP_SCRIPT, work, writes_out=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(work) / ARCHIVE, out)
    return out


def restore(client: docker.DockerClient, data: WebUIData, archive: Path) -> bool:
    """Replace Open WebUI's data of the stack with the archive's; True when its container was restarted."""
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    try:
        container = client.containers.get(data.container)
    except NotFound:
        container = None
    if not client.volumes.list(filters={"name": f"^{data.volume}$"}):
        client.volumes.create(data.volume, labels={LABEL_STACK: data.stack})
    was_running = container is not None and container.status == "running"
    if was_running:
        container.stop(timeout=20)
    try:
        with tempfile.TemporaryDirectory(prefix="mcpstack-restore-") as work:
            Path(work).chmod(0o755)
            shutil.copyfile(archive, Path(work) / ARCHIVE)
            (Path(work) / ARCHIVE).chmod(0o644)
            _run(client, data, RESTORE_SCRIPT, work, writes_out=False)
    finally:
        if was_running:
            container.start()
    return was_running


def _run(client: docker.DockerClient, data: WebUIData, script: str, work: str, *, writes_out: bool) -> None:
    try:
        client.containers.run(
            data.image,
            entrypoint=["python", "-c", script],
            command=[],
            user=data.user,
            network_mode="none",
            volumes={
                data.volume: {"bind": DATA, "mode": "rw"},
                work: {"bind": OUT, "mode": "rw" if writes_out else "ro"},
            },
            remove=True,
            stdout=True,
            stderr=True,
        )
    except ImageNotFound:
        raise BackupError(f"image {data.image} is not here (run `mcpstack images build`)") from None
    except ContainerError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise BackupError(f"{data.image}: {detail[-1] if detail else exc}") from None
