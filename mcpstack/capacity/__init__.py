"""Capacity: every performance measurement of the platform and the reports they write (docs/capacity.md).

`mcpstack loadtest` - locust runs against the gateway (the locustfiles are in loadtests/), gated on the catalog's SLOs:
  locust_run    - the target, the locust subprocess and what is sampled while it runs
  record        - what a run leaves: the locustfile's record, the samples, the run (typed)
  stats         - figures from the recorded requests (pure)
  evaluate      - SLO, concurrency, rate-limit and load-generator verdicts (pure)
  gate_load     - the load of a gate run: the catalog's slos.load and the command line's overrides
  gate          - the SLO gate: run, evaluate, write;  gate_report - its typed report
  knee          - knee finding: steps of users until an objective breaks;  knee_report - its typed report
  ceiling       - the load generator's own ceiling against a trivial endpoint (`mcpstack bench loadgen`)
`mcpstack bench gateway` and the sandbox benchmark - bench/ (wrk and MCP clients against containers).
Shared by all: machine (what a measurement ran on), report (the one writer of report.json and report.md),
tables (terminal and Markdown), plotting, gate_plots, knee_plot, stack_variants (the catalogs runs deploy).
"""
