"""The deployment's commands, on the Pulumi stack: `render` what it would create, `preflight` its cluster,
check it against the `policy`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from infra.render import RenderError
from mcpstack.catalog import CatalogError, load_catalog
from mcpstack.cli.options import ConfigDir, config_dir
from mcpstack.cli.output import EXIT_INVALID, console, errors, fail
from mcpstack.cli.rendering import rendered_stack
from mcpstack.preflight import ClusterError, Status, connect, run_checks, stack_settings

StackArgument = Annotated[str, typer.Argument(help="Pulumi stack: dev or prod (stacks/Pulumi.STACK.yaml)")]
RequirePushed = Annotated[
    bool,
    typer.Option(
        "--require-pushed",
        help="fail when an image of ours has no pushed digest (default: render it with a placeholder, named)",
    ),
]


def render(
    stack: StackArgument,
    out: Annotated[Path, typer.Option("--out", help="directory for manifests/, helm/ and index.yaml")],
    config: ConfigDir = None,
    require_pushed: RequirePushed = False,
) -> None:
    """Write every Kubernetes object the Pulumi stack would create (Helm releases: chart and values), offline."""
    from infra.render import kinds, write

    rendered = rendered_stack(stack, config_dir(config), require_pushed=require_pushed)
    write(rendered, out)
    table = Table(
        "kind", "count", title=f"stack {stack} ({rendered.settings.deployment}, catalog {rendered.catalog.environment})"
    )
    for kind, count in kinds(rendered):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(f"{len(rendered.objects())} objects, {len(rendered.releases())} Helm releases -> {out}")


def preflight(stack: StackArgument, config: ConfigDir = None) -> None:
    """Check the stack's cluster before `pulumi up` (read only): RuntimeClass, GPU nodes, storage and ingress
    classes, operator CRDs, pushed images; exit 1 when a required precondition fails."""
    try:
        settings = stack_settings(stack, config_dir=config_dir(config).resolve())
        catalog = load_catalog(settings.config_dir, settings.environment)
    except (RenderError, ValueError, CatalogError) as exc:
        raise fail(str(exc), EXIT_INVALID) from None
    try:
        checks = run_checks(settings, catalog, connect(settings.kubeconfig, settings.kube_context))
    except ClusterError as exc:
        raise fail(f"cannot read the cluster of stack {stack}: {exc}") from None
    colours = {Status.OK: "green", Status.FAIL: "red", Status.WARN: "yellow", Status.NOT_CHECKED: "dim"}
    title = f"preflight {stack} ({settings.kube_context or 'current context'})"
    table = Table("check", "expected", "found", "status", title=title)
    for item in checks:
        table.add_row(item.check, item.expected, item.found, f"[{colours[item.status]}]{item.status}[/]")
    console.print(table)
    failed = [c for c in checks if c.status is Status.FAIL]
    if failed:
        errors.print(f"[red]{len(failed)} required precondition(s) missing[/red]: {', '.join(c.check for c in failed)}")
        raise typer.Exit(1)
    console.print(f"[green]ok[/green] {stack}: {len(checks)} checks ('not checked': only the cluster or DB shows)")


def policy(stack: StackArgument, config: ConfigDir = None, require_pushed: RequirePushed = False) -> None:
    """Check what the Pulumi stack would create: Kubernetes schema, hardening, production invariants; exit 1 on any."""
    from mcpstack.policy import RULES, check

    rendered = rendered_stack(stack, config_dir(config), require_pushed=require_pushed)
    violations = check(rendered)
    for violation in violations:
        errors.print(str(violation), markup=False, highlight=False)
    checked = f"{len(rendered.objects())} objects, {len(rendered.releases())} Helm releases, {len(RULES)} rules"
    if violations:
        errors.print(f"[red]{len(violations)} violation(s)[/red] ({checked})")
        raise typer.Exit(1)
    console.print(f"[green]ok[/green] {stack}: {checked}")
