"""Benchmarks that write reports: the gateway against stock mcpo and direct MCP calls."""
