"""Every upstream tools/call names its caller and correlation ID in `_meta`; the end user only when verified."""

from __future__ import annotations

import contextvars

from servers.gateway.context import begin_request, set_caller
from servers.gateway.tenancy import Caller
from servers.gateway.upstream_meta import CALLER_KEY, CORRELATION_KEY, name_caller, upstream_meta
from servers.sandbox.caller import caller_key


def in_fresh_context(*steps: object) -> dict:
    def run() -> dict:
        begin_request("corr-42")
        for step in steps:
            step()  # type: ignore[operator]
        return upstream_meta()

    return contextvars.copy_context().run(run)


def test_a_verified_user_is_named_and_gets_a_share_of_their_own() -> None:
    meta = in_fresh_context(lambda: name_caller(Caller("open-webui", "staff", "u-1", verified=True)))
    assert meta[CORRELATION_KEY] == "corr-42"
    assert meta[CALLER_KEY] == {"client": "open-webui", "tenant": "staff", "user": "u-1"}
    other = in_fresh_context(lambda: name_caller(Caller("open-webui", "staff", "u-2", verified=True)))
    assert caller_key(meta) != caller_key(other)  # the sandbox's pool shares: one per user


def test_an_asserted_user_counts_as_the_client() -> None:
    meta = in_fresh_context(lambda: name_caller(Caller("loadtest", "platform", "u-rotating", verified=False)))
    assert meta[CALLER_KEY] == {"client": "loadtest", "tenant": "platform", "user": ""}
    assert caller_key(meta) == "client:loadtest"


def test_an_unnamed_call_carries_the_client_of_the_log_context() -> None:
    meta = in_fresh_context(lambda: set_caller(client="ci", tenant="-"))
    assert meta[CALLER_KEY] == {"client": "ci", "tenant": "", "user": ""}
