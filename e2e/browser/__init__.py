"""The front door in a real browser: Debian's Chromium, driven by Playwright, against the stack `mcpstack up` runs."""
