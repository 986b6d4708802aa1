"""`mcpstack images`: build the images the stack runs, push them to a registry and record their digests."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from infra.render import images as stack_images
from mcpstack.cli.options import (
    BaseOption,
    ConfigDir,
    EnvOption,
    RealOption,
    base_mode,
    config_dir,
    local_catalog,
    read_catalog,
)
from mcpstack.cli.output import console, fail, info
from mcpstack.cli.rendering import rendered_stack
from mcpstack.deployment.images import normalized, record_path, write_record
from mcpstack.local.docker_engine import DockerUnavailable, docker_client
from mcpstack.local.registry import PushError, push_images

images_app = typer.Typer(help="Build the catalog's container images.", no_args_is_help=True)


@images_app.command("push")
def images_push(
    registry: Annotated[str, typer.Option(help="where to push, e.g. registry.example.com/team or 127.0.0.1:5000")],
    env: Annotated[str, typer.Option("--env", "-e", help="Pulumi stack whose images to push")] = "prod",
    config: ConfigDir = None,
) -> None:
    """Push every image of ours the stack runs and record each digest (.mcpstack/image-digests.json): with
    mcpstack:imageRegistry set to REGISTRY, the stack deploys them by digest."""
    rendered = rendered_stack(env, config_dir(config), imageRegistry="", imagePullSecret="")
    built = stack_images(rendered)["built"]  # local names: the render without a registry
    try:
        pushed = push_images(docker_client(), built, registry, info)
    except (DockerUnavailable, PushError) as exc:
        raise fail(str(exc)) from None
    path = record_path()
    write_record(path, registry, {p.image: p.digest for p in pushed})
    table = Table("image", "pushed", "digest", title=f"{env}: {len(pushed)} image(s) -> {registry}")
    for item in pushed:
        table.add_row(item.image, item.target, item.digest)
    console.print(table)
    console.print(f"digests recorded in {path}")
    if normalized(registry) != rendered.settings.image_registry.rstrip("/"):
        console.print(f"the stack deploys them once: pulumi config set -s {env} mcpstack:imageRegistry {registry}")


@images_app.command("build")
def images_build(
    env: EnvOption = "dev",
    base: BaseOption = "auto",
    force: Annotated[bool, typer.Option(help="rebuild even when the inputs are unchanged")] = False,
    service: Annotated[list[str] | None, typer.Option(help="only the images of these services")] = None,
    every: Annotated[bool, typer.Option("--all", help="every buildable image, not only what `up` runs")] = False,
    real: RealOption = None,
    config: ConfigDir = None,
) -> None:
    """Build the images the local stack runs (skips images whose inputs are unchanged)."""
    from mcpstack.local.images import ImageBuilder, ImageBuildError

    config = config_dir(config)
    catalog = read_catalog(config, env) if every else local_catalog(read_catalog(config, env), real)
    try:
        builder = ImageBuilder(docker_client(), base=base_mode(base), log=info)
        outcomes = builder.ensure(catalog, force=force, only=set(service) if service else None)
    except (DockerUnavailable, ImageBuildError) as exc:
        raise fail(str(exc)) from None
    table = Table("image", "result")
    for outcome in outcomes:
        table.add_row(outcome.ref, f"built in {outcome.seconds:.0f} s" if outcome.action == "built" else "current")
    console.print(table)
