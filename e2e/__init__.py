"""End-to-end suites: run against real containers started from the catalog."""
