"""The offline base image: Debian bookworm with python3, bootstrapped from Debian's archive.

For machines that cannot reach a container registry. Needs root and `debootstrap`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
from docker.errors import ImageNotFound

OFFLINE_BASE = "mcpstack/base:bookworm-python3.11-2"
PACKAGES = "python3,python3-venv,ca-certificates"
MIRROR = "http://deb.debian.org/debian"
# debootstrap configures the release only; like the official images, follow its updates and security fixes
SOURCES = (
    "deb http://deb.debian.org/debian bookworm main\n"
    "deb http://deb.debian.org/debian bookworm-updates main\n"
    "deb http://deb.debian.org/debian-security bookworm-security main\n"
)


class BaseImageError(RuntimeError):
    pass


def has_image(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except ImageNotFound:
        return False
    return True


def ensure_offline_base(client: docker.DockerClient, log: callable, mirror: str | None = None) -> str:
    if has_image(client, OFFLINE_BASE):
        return OFFLINE_BASE
    if shutil.which("debootstrap") is None:
        raise BaseImageError("building the offline base image needs debootstrap (apt-get install debootstrap)")
    log(f"bootstrapping {OFFLINE_BASE} from Debian packages (about a minute)")
    with tempfile.TemporaryDirectory(prefix="mcpstack-rootfs-") as tmp:
        rootfs, tarball = Path(tmp) / "rootfs", Path(tmp) / "rootfs.tar"
        command = [
            "debootstrap",
            "--variant=minbase",
            f"--include={PACKAGES}",
            "bookworm",
            str(rootfs),
            mirror or MIRROR,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.splitlines()[-15:] + done.stderr.splitlines()[-15:])
            raise BaseImageError(f"debootstrap failed (exit {done.returncode}):\n{tail}")
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        (rootfs / "etc/apt/sources.list").write_text(SOURCES)
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        repository, tag = OFFLINE_BASE.split(":")
        client.api.import_image(
            src=str(tarball),
            repository=repository,
            tag=tag,
            changes=[
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8",
                'CMD ["python3"]',
            ],
        )
    if not has_image(client, OFFLINE_BASE):
        raise BaseImageError(f"docker import did not produce {OFFLINE_BASE}")
    return OFFLINE_BASE
