"""Pieces every mcpstack MCP server shares: the HTTP app (transports, /health, /metrics),
tool metrics, and the command line."""
