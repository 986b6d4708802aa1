"""Benchmarks that write reports: the gateway against stock mcpo and direct MCP calls (gateway_overhead), and what
each isolation layer of the sandbox costs (sandbox_layers)."""
