"""Locust capacity tests of the gateway (docs/capacity.md). `mcpstack loadtest` runs them as a subprocess
(locust's gevent patching clashes with pytest) and turns what they record into verdicts, a report and plots."""
