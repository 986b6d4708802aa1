"""Runs the GitHub API stand-in: HTTPS API on one port, plain-HTTP control endpoints on another."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

import uvicorn

from servers.common.logs import configure_logging
from servers.github_standin.api import RequestLog, create_api, create_control
from servers.github_standin.tls import issue


async def serve(https_port: int, http_port: int, host: str) -> None:
    credentials = issue()
    log = RequestLog()
    with tempfile.TemporaryDirectory(prefix="github-standin-") as directory:
        certificate, key = Path(directory) / "cert.pem", Path(directory) / "key.pem"
        certificate.write_bytes(credentials.certificate_pem)
        key.write_bytes(credentials.key_pem)
        api = uvicorn.Server(
            uvicorn.Config(
                create_api(log),
                host=host,
                port=https_port,
                ssl_certfile=certificate,
                ssl_keyfile=key,
                access_log=False,
                log_config=None,
            )
        )
        control = uvicorn.Server(
            uvicorn.Config(
                create_control(log, credentials.ca_pem), host=host, port=http_port, access_log=False, log_config=None
            )
        )
        await asyncio.gather(api.serve(), control.serve())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="api.github.com stand-in (test double)")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - containers listen on all interfaces
    parser.add_argument("--https-port", type=int, default=443)
    parser.add_argument("--http-port", type=int, default=8080)
    args = parser.parse_args(argv)
    configure_logging("INFO", quiet=("uvicorn.access",))
    asyncio.run(serve(args.https_port, args.http_port, args.host))


if __name__ == "__main__":
    main()
