"""The Pulumi stack rendered offline, for the commands that read what a deployment would create."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from mcpstack.cli.output import EXIT_INVALID, errors, fail


def rendered_stack(stack: str, config: Path, *, require_pushed: bool = True, **overrides: object):
    """The Pulumi program of stacks/ under Pulumi's mocks (no CLI, no cluster). Without `require_pushed`,
    images not pushed to the stack's registry render with a placeholder digest and are named on stderr."""
    import pulumi

    from infra.render import RenderError, render_stack
    from mcpstack.deployment.images import PLACEHOLDER_DIGEST, UNPUSHED_ENV

    previous = os.environ.pop(UNPUSHED_ENV, None)
    if not require_pushed:
        os.environ[UNPUSHED_ENV] = "placeholder"
    try:
        rendered = render_stack(stack, overrides={"configDir": str(config.resolve()), **overrides})
    except (RenderError, ValueError, pulumi.RunError) as exc:  # unknown stack, bad settings, invalid catalog
        raise fail(str(exc), EXIT_INVALID) from None
    finally:
        os.environ.pop(UNPUSHED_ENV, None)
        if previous is not None:
            os.environ[UNPUSHED_ENV] = previous
    text = json.dumps([r.body for r in rendered.resources], default=str)
    unpushed = sorted(set(re.findall(r"([\w.:/-]+)@" + PLACEHOLDER_DIGEST, text)))
    if unpushed:
        errors.print(
            f"note: not pushed yet, rendered with a placeholder digest: {', '.join(unpushed)} "
            "(`mcpstack images push` records their digests; `pulumi up` refuses until then)",
            markup=False,
            highlight=False,
        )
    return rendered
