"""The journeys can fail, readably: with the sandbox route pointing at an unreachable upstream (a test-only
variant of the catalog), the seed-sentence journey fails and its message says what the page lacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser

from e2e.browser.browser import SCREENSHOTS
from e2e.browser.journeys import check_fibonacci_and_the_time
from e2e.browser.tabs import Tabs
from e2e.target import Target
from mcpstack.local.stack import LocalStack
from mcpstack.local.variants import variant_stack

pytestmark = pytest.mark.docker
NOWHERE = 8009  # nothing in the sandbox's container listens here


def unreachable_sandbox(catalog: dict[str, Any], overlay: dict[str, Any]) -> None:
    """The gateway reaches the sandbox's MCP endpoint on a port nothing listens on; the sandbox itself stays up."""
    sandbox = catalog["services"]["sandbox"]
    sandbox["ports"].append({"name": "nowhere", "port": NOWHERE})
    sandbox["mcp"]["port"] = "nowhere"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    config = tmp_path_factory.mktemp("browser") / "config"
    with variant_stack(config, unreachable_sandbox, "mcpstack-brw") as stack:
        yield Target.from_stack(stack)


def test_the_seed_sentence_journey_fails_readably_when_the_sandbox_is_unreachable(
    browser: Browser, broken: Target, request: pytest.FixtureRequest
) -> None:
    assert broken.open_webui is not None and isinstance(broken.local, LocalStack)
    tabs = Tabs(browser, broken.open_webui.url, request.node.name)
    try:
        chat = tabs.open()
        chat.sign_in(broken.open_webui.email, broken.open_webui.password)
        with pytest.raises(AssertionError) as failure:
            check_fibonacci_and_the_time(chat)
    finally:
        tabs.close(SCREENSHOTS)
    message = str(failure.value)
    assert message.startswith("the answer shows no 55 (fibonacci(10) from the sandbox); it reads: "), message
