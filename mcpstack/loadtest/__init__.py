"""`mcpstack loadtest`: locust capacity runs against the gateway, gated on the catalog's SLOs (docs/capacity.md).

stats     - figures from the recorded requests (pure)
evaluate  - SLO, concurrency, rate-limit and load-generator verdicts (pure)
runner    - the target, the locust subprocess and what is sampled while it runs
report    - report.json, the table, the plots
stress    - knee finding: steps of users until an objective breaks
harness   - the load generator's own ceiling against a trivial endpoint
"""
