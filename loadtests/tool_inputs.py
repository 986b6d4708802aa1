"""What the virtual users ask the tools for (no locust import: loadtests/fake_gateway.py answers the same)."""

TIMEZONES = ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
# Trivial code an LLM would run for a user, and what it prints.
SNIPPETS = [
    (
        "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\nprint(fib(10))",
        "55",
    ),
    ("print(sum(i * i for i in range(10)))", "285"),
    ("import statistics\nprint(statistics.mean([3, 5, 7]))", "5"),
    ("print(' '.join(sorted('tools call me'.split())))", "call me tools"),
]
DISCOVERY_ROUTES = ["time", "sandbox", "time-reference"]
