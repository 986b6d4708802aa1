"""The stack a preflight checks: its settings as `pulumi up` would read them (stacks/Pulumi.yaml defaults,
stacks/Pulumi.STACK.yaml), without running the program."""

from __future__ import annotations

from pathlib import Path

from infra.render import STACKS_DIR, stack_config
from infra.settings import PROVIDER_KEYS, SETTINGS, StackSettings


def stack_settings(stack: str, project_dir: Path = STACKS_DIR, config_dir: Path | None = None) -> StackSettings:
    project, values, _secrets = stack_config(stack, project_dir, {"configDir": str(config_dir)} if config_dir else None)
    known = {s.key for s in SETTINGS}
    typed = {
        key.partition(":")[2]: value
        for key, value in values.items()
        if key.startswith(f"{project}:") and key.partition(":")[2] in known
    }
    provider = {key: value for key, value in values.items() if key in PROVIDER_KEYS}
    return StackSettings.from_values(stack, project_dir, typed | provider)
