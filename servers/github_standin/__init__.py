"""A TEST DOUBLE of api.github.com for the local stack, where GitHub cannot be reached.

It serves a few read-only REST endpoints over HTTPS with a certificate for api.github.com from a CA it
creates at start (published over plain HTTP at /ca.pem on its private network), and records the
requests it receives with a SHA-256 of each bearer token, so tests can prove which token arrived
without the token itself ever being stored or served.
"""
