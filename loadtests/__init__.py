"""Locust capacity tests of the gateway (docs/capacity.md): one locustfile per scenario, named `SCENARIO_users.py`
(slo, rate_limit, knee, ceiling), and what they share. mcpstack/capacity runs them as a subprocess (locust's gevent
patching clashes with pytest) and turns what they record into verdicts, a report and plots."""
