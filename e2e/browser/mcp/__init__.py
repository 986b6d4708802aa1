"""The browser journeys with Open WebUI connected to the gateway natively over MCP (issue 17)."""
