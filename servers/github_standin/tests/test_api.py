"""The GitHub API stand-in: canned REST answers, token digests recorded, a certificate for api.github.com."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from cryptography import x509

from servers.github_standin.api import RequestLog, create_api, create_control
from servers.github_standin.tls import issue


@pytest.fixture
def log() -> RequestLog:
    return RequestLog()


async def test_issues_need_a_token_and_the_token_is_recorded_only_as_a_digest(log: RequestLog) -> None:
    transport = httpx.ASGITransport(app=create_api(log))
    async with httpx.AsyncClient(transport=transport, base_url="https://api.github.com") as github:
        refused = await github.get("/repos/octo-org/mcpstack/issues")
        found = await github.get("/repos/octo-org/mcpstack/issues", headers={"Authorization": "Bearer ghp_secret123"})
        missing = await github.get("/repos/octo-org/mcpstack/issues/99", headers={"Authorization": "token ghp_x"})
    assert refused.status_code == 401
    assert [i["number"] for i in found.json()] == [1, 2]
    assert found.json()[0]["html_url"] == "https://github.com/octo-org/mcpstack/issues/1"
    assert missing.status_code == 404
    entries = list(log.entries)
    assert entries[1]["token_sha256"] == hashlib.sha256(b"ghp_secret123").hexdigest()
    assert "ghp_secret123" not in repr(entries)


async def test_control_port_serves_the_ca_and_the_request_log(log: RequestLog) -> None:
    credentials = issue()
    transport = httpx.ASGITransport(app=create_control(log, credentials.ca_pem))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.github.com:8080") as control:
        assert (await control.get("/ca.pem")).content == credentials.ca_pem
        assert (await control.get("/_standin/requests")).json() == []
        assert (await control.get("/_standin/health")).json() == {"status": "ok"}


def test_certificate_is_for_api_github_com_and_signed_by_the_served_ca() -> None:
    credentials = issue()
    server, chained_ca = x509.load_pem_x509_certificates(credentials.certificate_pem)
    ca = x509.load_pem_x509_certificate(credentials.ca_pem)
    assert chained_ca == ca
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["api.github.com"]
    server.verify_directly_issued_by(ca)
