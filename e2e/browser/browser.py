"""Debian's Chromium under Playwright: no browser is ever downloaded (Playwright's CDN is not reachable here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Browser, Playwright, ViewportSize

from mcpstack import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 1400}  # tall: an answer and its opened tool calls in one shot
SCREENSHOTS = REPO_ROOT / "reports" / "e2e" / "browser"


def launch(playwright: Playwright) -> Browser:
    """Chromium as the bootstrap installs it (scripts/bootstrap.sh); a fresh user-data dir per launch."""
    if not CHROMIUM.exists():
        found = shutil.which("chromium")
        raise AssertionError(
            f"{CHROMIUM} is missing (chromium on PATH: {found or 'none'}): run scripts/bootstrap.sh, which installs "
            "Debian's chromium package"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
