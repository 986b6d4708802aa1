"""Dashboards and alert rules as code: their queries, the metrics they use, and snapshots for people."""
