"""The SLO scenario: virtual users, each one person chatting with tools (loadtests/common.py): a weighted mix of
time, sandbox (trivial code), reference-server and discovery calls, one per think time, with health probes
keeping each user's connection open. `mcpstack loadtest` runs it with the catalog's `slos.load`."""

from __future__ import annotations

from loadtests.common import Chatting


class ChatUser(Chatting):
    pass
