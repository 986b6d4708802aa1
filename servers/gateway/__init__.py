"""mcpstack's gateway: mcpo (pinned) assembled in-process, so mcpstack can wrap its ASGI app.

Runs in its own image: mcpo 0.0.20 needs mcp<2 and fastapi<0.130, which the rest of mcpstack
(mcp 2.x) cannot share an environment with.
"""
