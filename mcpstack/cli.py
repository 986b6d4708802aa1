"""The `mcpstack` command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.render import RenderError
from infra.render import images as stack_images
from mcpstack import REPO_ROOT, __version__
from mcpstack.catalog import Catalog, CatalogError, environments, load_catalog
from mcpstack.catalog.discovery import find_config_dir
from mcpstack.deployment.images import normalized, record_path, write_record
from mcpstack.generate import GENERATORS, redacted
from mcpstack.local.compose import write_compose
from mcpstack.local.docker_engine import DockerUnavailable, docker_client
from mcpstack.local.logs import NoSuchService, show_logs, stack_containers
from mcpstack.local.registry import PushError, push_images
from mcpstack.local.stack import LocalStack, StackError
from mcpstack.preflight import ClusterError, Status, connect, run_checks, stack_settings

if TYPE_CHECKING:
    from mcpstack.capacity.knee_report import KneeReport

app = typer.Typer(
    help="Deploy, verify and capacity-test an Open WebUI + MCP tools platform from one catalog.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
images_app = typer.Typer(help="Build the catalog's container images.", no_args_is_help=True)
app.add_typer(images_app, name="images")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one problem per line, never wrapped

ConfigDir = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="catalog directory (default: $MCPSTACK_CONFIG, else ./config when it holds catalog.yaml, "
        "else the mcpstack checkout's config/)",
    ),
]
EnvOption = Annotated[str, typer.Option("--env", "-e", help="environment overlay (config/environments/ENV.yaml)")]
StackOption = Annotated[str | None, typer.Option("--stack", help="stack name (default: mcpstack-ENV)")]
BaseOption = Annotated[
    str,
    typer.Option(
        "--base",
        help="base image: 'registry' (catalog build.base_image), 'offline' (bootstrapped from "
        "Debian packages) or 'auto' (registry, falling back to offline)",
    ),
]
RealOption = Annotated[
    list[str] | None, typer.Option("--real", help="run this service itself, not its local stand-in (repeatable)")
]
EXIT_INVALID = 2
OutputOption = Annotated[str, typer.Option("--output", help="text (tables) or json (one JSON document on stdout)")]
WIDE = 250  # columns when stdout is a pipe or a log: tables keep whole URLs and image names


def _version(value: bool) -> None:
    if value:
        console.print(f"mcpstack {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print mcpstack's version and exit")
    ] = False,
) -> None:
    if not console.is_terminal:
        console.width = WIDE  # rich would wrap and cut at 80 columns


def _output(value: str) -> bool:
    """True for --output json."""
    if value not in ("text", "json"):
        raise _fail(f"--output must be text or json, not {value!r}", EXIT_INVALID)
    return value == "json"


def _print_json(document: object) -> None:
    from mcpstack.capacity.report import plain

    sys.stdout.write(json.dumps(plain(document), indent=1, allow_nan=False, default=str) + "\n")


def _config_dir(option: Path | None) -> Path:
    """The catalog directory this command reads (catalog/discovery.py), announced on stderr."""
    choice = find_config_dir(option)
    errors.print(str(choice), style="dim", markup=False, highlight=False)
    return choice.path


def _load(config: Path, env: str) -> Catalog:
    try:
        return load_catalog(config, env)
    except CatalogError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False)
        errors.print(f"[red]{len(exc.problems)} problem(s) in the catalog[/red]")
        raise typer.Exit(EXIT_INVALID) from None


def _local(catalog: Catalog, real: list[str] | None) -> Catalog:
    from mcpstack.local.view import UnknownService, local_view

    try:
        return local_view(catalog, real or ())
    except UnknownService as exc:
        raise _fail(str(exc), EXIT_INVALID) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _e2e_command(config: Path | None, *selection: str) -> tuple[list[str], dict[str, str]]:
    """pytest over e2e/ with `selection`, the results table plugin, and the catalog the command reads."""
    command = [sys.executable, "-m", "pytest", str(REPO_ROOT / "e2e"), *selection, "-p", "e2e.results_table"]
    command += ["-q", "--no-header", "-p", "no:cacheprovider"]
    environ = {**os.environ, "MCPSTACK_CONFIG": str(_config_dir(config))}  # the suite reads the same catalog
    return command, environ


@app.command()
def validate(
    env: Annotated[str | None, typer.Argument(help="environment to check (default: every environment)")] = None,
    output: OutputOption = "text",
    config: ConfigDir = None,
) -> None:
    """Check the catalog and its environment overlays; exit 2 listing every problem, each labelled with the
    environments it occurs in (a problem every environment shares is listed once)."""
    from mcpstack.catalog.by_environment import label_problems

    as_json = _output(output)
    config = _config_dir(config)
    names = tuple([env] if env else environments(config))
    if not names:
        raise _fail(f"no environments in {config / 'environments'}", EXIT_INVALID)
    found: dict[str, list] = {}
    services: dict[str, list[str]] = {}
    for name in names:
        try:
            services[name] = list(load_catalog(config, name).services)
            found[name] = []
        except CatalogError as exc:
            found[name] = exc.problems
    labelled = label_problems(found)
    if as_json:
        _print_json(
            {
                "catalog": str(config),
                "environments": {n: {"ok": not found[n], "services": services.get(n, [])} for n in names},
                "problems": [p.to_json() for p in labelled],
            }
        )
    else:
        for item in labelled:
            errors.print(f"{item.label(names)}: {item.problem}", markup=False, highlight=False)
        for name in (n for n in names if n in services):
            console.print(f"[green]ok[/green] {name}: {len(services[name])} services ({', '.join(services[name])})")
    if labelled:
        errors.print(f"[red]{len(labelled)} problem(s) in the catalog[/red]")
        raise typer.Exit(EXIT_INVALID)


@app.command()
def generate(
    generator: Annotated[str, typer.Argument(help=f"one of: {', '.join(GENERATORS)}")],
    env: EnvOption = "dev",
    config: ConfigDir = None,
) -> None:
    """Print a config file generated from the catalog (secret values shown as <secret:NAME>)."""
    catalog = _load(_config_dir(config), env)
    if generator not in GENERATORS:
        raise _fail(f"unknown generator {generator!r} (known: {', '.join(GENERATORS)})", EXIT_INVALID)
    users = [
        name
        for name, service in catalog.services.items()
        if any(f.generator == generator for f in service.files) or generator in service.generated_env.values()
    ]
    if not users:
        raise _fail(f"no service in {env} mounts {generator!r} or takes it as environment")
    sys.stdout.write(GENERATORS[generator].render(catalog, users[0], redacted))


@images_app.command("push")
def images_push(
    registry: Annotated[str, typer.Option(help="where to push, e.g. registry.example.com/team or 127.0.0.1:5000")],
    env: Annotated[str, typer.Option("--env", "-e", help="Pulumi stack whose images to push")] = "prod",
    config: ConfigDir = None,
) -> None:
    """Push every image of ours the stack runs and record each digest (.mcpstack/image-digests.json): with
    mcpstack:imageRegistry set to REGISTRY, the stack deploys them by digest."""
    rendered = _render_stack(env, _config_dir(config), imageRegistry="", imagePullSecret="")
    built = stack_images(rendered)["built"]  # local names: the render without a registry
    try:
        pushed = push_images(docker_client(), built, registry, _info)
    except (DockerUnavailable, PushError) as exc:
        raise _fail(str(exc)) from None
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
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client
    from mcpstack.local.images import ImageBuilder, ImageBuildError

    config = _config_dir(config)
    catalog = _load(config, env) if every else _local(_load(config, env), real)
    try:
        builder = ImageBuilder(docker_client(), base=_base_mode(base), log=_info)
        outcomes = builder.ensure(catalog, force=force, only=set(service) if service else None)
    except (DockerUnavailable, ImageBuildError) as exc:
        raise _fail(str(exc)) from None
    table = Table("image", "result")
    for outcome in outcomes:
        table.add_row(outcome.ref, f"built in {outcome.seconds:.0f} s" if outcome.action == "built" else "current")
    console.print(table)


@app.command()
def up(
    env: EnvOption = "dev",
    stack: StackOption = None,
    build: Annotated[bool, typer.Option(help="build missing or outdated images first")] = True,
    base: BaseOption = "auto",
    timeout: Annotated[float, typer.Option(help="seconds to wait for every service to be healthy")] = 90.0,
    real: RealOption = None,
    config: ConfigDir = None,
) -> None:
    """Start the stack on the local Docker engine and wait until every service is healthy."""
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client
    from mcpstack.local.grafana import ImageUnavailable, ensure_registry_images
    from mcpstack.local.images import ImageBuildError
    from mcpstack.local.stack import LocalStack, StackError

    catalog = _load(_config_dir(config), env)
    try:
        view = _local(catalog, real)  # reject an unknown --real before anything starts
        # a --real service whose image is not built here (Grafana): on the engine, or pulled, or a clear refusal
        for pulled in ensure_registry_images(docker_client(), view, [n for n in real or () if n in view.services]):
            _info(f"pulled {pulled}")
        local = LocalStack(catalog, name=stack, log=_info, real=real or (), long_lived=True)
        for original, stand_in in local.substitutions.items():
            _info(f"{original} runs as {stand_in} here (local.substitutes; --real {original} for the real one)")
        statuses = local.up(build=build, base=_base_mode(base), timeout=timeout)
    except (DockerUnavailable, ImageBuildError, StackError, ImageUnavailable) as exc:
        raise _fail(str(exc)) from None
    _print_status(local.name, statuses)


@app.command()
def down(
    env: EnvOption = "dev",
    stack: StackOption = None,
    volumes: Annotated[
        bool, typer.Option(help="also delete the stack's volumes (Open WebUI's chats, Prometheus' data): listed, asked")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="delete the volumes without asking")] = False,
    config: ConfigDir = None,
) -> None:
    """Remove the stack's containers and network (and, with --volumes, its data: listed first, then asked)."""
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client
    from mcpstack.local.stack import LocalStack

    name = stack or f"mcpstack-{env}"
    try:
        client = docker_client()
    except DockerUnavailable as exc:
        raise _fail(str(exc)) from None
    catalog = _load(_config_dir(config), env)
    if volumes:
        _confirm_volumes(client, name, catalog, yes)
    removed = LocalStack(catalog, name=name, client=client, log=_info).down(volumes=volumes)
    console.print(f"removed {len(removed)} object(s) of {name}" if removed else f"nothing of {name} was running")


@app.command()
def compose(
    env: EnvOption = "dev",
    stack: StackOption = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="the Compose file to write")] = Path("compose.yaml"),
    real: RealOption = None,
    config: ConfigDir = None,
) -> None:
    """Write the stack `up` starts as a Compose file, to run with `docker compose -f compose.yaml up -d`."""
    catalog = _load(_config_dir(config), env)
    _local(catalog, real)  # reject an unknown --real
    local = LocalStack(catalog, name=stack, log=_info, real=real or (), long_lived=True)
    console.print(f"wrote {write_compose(local, out)} (stack {local.name}; secrets stay in {local.state_dir})")


@app.command()
def logs(
    service: Annotated[str | None, typer.Argument(help="one service (default: every service, prefixed)")] = None,
    env: EnvOption = "dev",
    stack: StackOption = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    tail: Annotated[int | None, typer.Option("--tail", help="only the last N lines of each service")] = None,
) -> None:
    """Show the logs of the stack's services, like `docker compose logs`."""
    try:
        containers = stack_containers(docker_client(), stack or f"mcpstack-{env}", service)
        show_logs(containers, lambda line: print(line, flush=True), follow=follow, tail=tail)
    except (DockerUnavailable, NoSuchService) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        pass


@app.command()
def status(stack: StackOption = None, output: OutputOption = "text", config: ConfigDir = None) -> None:
    """Show the services of running stacks, their health and URLs."""
    import dataclasses

    from mcpstack.local.docker_engine import DockerUnavailable
    from mcpstack.local.stack import LocalStack, StackError, running_stacks

    config = _config_dir(config)
    try:
        as_json = _output(output)
        names = [stack] if stack else sorted(running_stacks())
        if not names and not as_json:
            console.print("no mcpstack stack is running")
            return
        stacks = {name: LocalStack.attach(name, config_dir=config, log=_info).status() for name in names}
        if as_json:
            _print_json({"stacks": {n: [dataclasses.asdict(item) for item in items] for n, items in stacks.items()}})
            return
        for name, items in stacks.items():
            _print_status(name, items)
    except (DockerUnavailable, StackError) as exc:
        raise _fail(str(exc)) from None


@app.command()
def smoke(
    env: EnvOption = "dev",
    stack: StackOption = None,
    output: OutputOption = "text",
    config: ConfigDir = None,
) -> None:
    """Run the e2e smoke suite against a running local stack and print the results."""
    import tempfile

    as_json = _output(output)
    name = stack or f"mcpstack-{env}"
    command, environ = _e2e_command(config, "-m", "smoke", "--stack", name)
    if not as_json:
        raise typer.Exit(subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False).returncode)
    with tempfile.TemporaryDirectory(prefix="mcpstack-smoke-") as work:
        results = Path(work) / "results.json"
        environ["MCPSTACK_RESULTS_JSON"] = str(results)  # e2e/results_table.py writes it; pytest talks on stderr
        code = subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False, stdout=sys.stderr).returncode
        checks = json.loads(results.read_text()) if results.is_file() else []
    _print_json({"stack": name, "passed": code == 0, "exit_code": code, "checks": checks})
    raise typer.Exit(code)


@app.command()
def backup(
    env: EnvOption = "dev",
    stack: StackOption = None,
    out: Annotated[Path | None, typer.Option(help="archive to write (default: open-webui-STACK-TIME.tar.gz)")] = None,
    config: ConfigDir = None,
) -> None:
    """Copy Open WebUI's data (users, chats, settings; SQLite, copied consistently) of a local stack to a file."""
    import time

    from mcpstack.local.backup import BackupError, WebUIData
    from mcpstack.local.backup import backup as write_backup
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client

    name = stack or f"mcpstack-{env}"
    catalog = _load(_config_dir(config), env)
    target = out or Path(f"open-webui-{name}-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz")
    try:
        written = write_backup(docker_client(), WebUIData.of(catalog, name), target)
    except (DockerUnavailable, BackupError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"backed up Open WebUI's data of {name} to {written} ({written.stat().st_size} bytes)")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="a file `mcpstack backup` wrote")],
    env: EnvOption = "dev",
    stack: StackOption = None,
    config: ConfigDir = None,
) -> None:
    """Replace Open WebUI's data of a local stack with a backup (Open WebUI is stopped meanwhile)."""
    from mcpstack.local.backup import BackupError, WebUIData
    from mcpstack.local.backup import restore as read_backup
    from mcpstack.local.docker_engine import DockerUnavailable, docker_client

    name = stack or f"mcpstack-{env}"
    catalog = _load(_config_dir(config), env)
    try:
        restarted = read_backup(docker_client(), WebUIData.of(catalog, name), archive)
    except (DockerUnavailable, BackupError) as exc:
        raise _fail(str(exc)) from None
    after = "Open WebUI restarted" if restarted else "Open WebUI was not running: `mcpstack up` starts it"
    console.print(f"restored Open WebUI's data of {name} from {archive}; {after}")


docs_app = typer.Typer(help="References generated from the catalog's models.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("catalog")
def docs_catalog(config: ConfigDir = None) -> None:
    """Print the catalog reference (docs/catalog-reference.md): every key, type, default, description, example."""
    from mcpstack.catalog.reference import catalog_reference

    sys.stdout.write(catalog_reference(_config_dir(config)))


@docs_app.command("schema")
def docs_schema(
    overlay: Annotated[bool, typer.Option(help="the schema of an environment overlay (every key optional)")] = False,
) -> None:
    """Print the catalog's JSON Schema (config/catalog.schema.json; --overlay: config/environment.schema.json)."""
    from mcpstack.catalog.schema import catalog_schema, overlay_schema, schema_text

    sys.stdout.write(schema_text(overlay_schema() if overlay else catalog_schema()))


dashboards_app = typer.Typer(help="The catalog's Grafana dashboards.", no_args_is_help=True)
app.add_typer(dashboards_app, name="dashboards")


@dashboards_app.command("snapshot")
def dashboards_snapshot(
    env: EnvOption = "dev",
    stack: StackOption = None,
    prometheus: Annotated[str | None, typer.Option(help="Prometheus URL (default: the local stack's)")] = None,
    dashboard: Annotated[str, typer.Option(help="dashboard file under config/dashboards, without .json")] = "overview",
    minutes: Annotated[float, typer.Option(help="period to draw, ending now")] = 30,
    out: Annotated[Path, typer.Option(help="directory for the PNG files")] = REPO_ROOT / "reports" / "snapshots",
    config: ConfigDir = None,
) -> None:
    """Draw a dashboard's panels from the live Prometheus as PNG charts (no Grafana needed)."""
    import json

    from mcpstack.local.stack import LocalStack, StackError
    from mcpstack.observability.snapshot import SnapshotError, snapshot

    config = _config_dir(config)
    path = config / "dashboards" / f"{dashboard}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in (config / "dashboards").glob("*.json")))
        raise _fail(f"no dashboard {dashboard!r} (known: {known})", EXIT_INVALID)
    if prometheus is None:
        try:
            prometheus = LocalStack.attach(stack or f"mcpstack-{env}", log=_info).url("prometheus")
        except StackError as exc:
            raise _fail(f"{exc}; give --prometheus URL for another stack") from None
    try:
        files = snapshot(prometheus, json.loads(path.read_text()), out, minutes)
    except SnapshotError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{len(files)} charts in {out} (all panels: {files[0]})")


@app.command()
def e2e(
    target: Annotated[Path, typer.Option(help="YAML file describing a deployed stack (see e2e/target.py)")],
    select: Annotated[str, typer.Option("-m", help="pytest marker expression")] = "smoke or chat",
    config: ConfigDir = None,
) -> None:
    """Run the e2e suites that need no local containers against a deployed stack (e.g. after `pulumi up`)."""
    if not target.is_file():
        raise _fail(f"--target {target}: no such file", EXIT_INVALID)
    command, environ = _e2e_command(config, "-m", f"({select}) and not docker", "--target", str(target.resolve()))
    raise typer.Exit(subprocess.run(command, cwd=REPO_ROOT, env=environ, check=False).returncode)


StackArgument = Annotated[str, typer.Argument(help="Pulumi stack: dev or prod (stacks/Pulumi.STACK.yaml)")]


def _render_stack(stack: str, config: Path, *, require_pushed: bool = True, **overrides: object):
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
        raise _fail(str(exc), EXIT_INVALID) from None
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


RequirePushed = Annotated[
    bool,
    typer.Option(
        "--require-pushed",
        help="fail when an image of ours has no pushed digest (default: render it with a placeholder, named)",
    ),
]


@app.command()
def render(
    stack: StackArgument,
    out: Annotated[Path, typer.Option("--out", help="directory for manifests/, helm/ and index.yaml")],
    config: ConfigDir = None,
    require_pushed: RequirePushed = False,
) -> None:
    """Write every Kubernetes object the Pulumi stack would create (Helm releases: chart and values), offline."""
    from infra.render import kinds, write

    rendered = _render_stack(stack, _config_dir(config), require_pushed=require_pushed)
    write(rendered, out)
    table = Table(
        "kind", "count", title=f"stack {stack} ({rendered.settings.deployment}, catalog {rendered.catalog.environment})"
    )
    for kind, count in kinds(rendered):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(f"{len(rendered.objects())} objects, {len(rendered.releases())} Helm releases -> {out}")


@app.command()
def preflight(stack: StackArgument, config: ConfigDir = None) -> None:
    """Check the stack's cluster before `pulumi up` (read only): RuntimeClass, GPU nodes, storage and ingress
    classes, operator CRDs, pushed images; exit 1 when a required precondition fails."""
    try:
        settings = stack_settings(stack, config_dir=_config_dir(config).resolve())
        catalog = load_catalog(settings.config_dir, settings.environment)
    except (RenderError, ValueError, CatalogError) as exc:
        raise _fail(str(exc), EXIT_INVALID) from None
    try:
        checks = run_checks(settings, catalog, connect(settings.kubeconfig, settings.kube_context))
    except ClusterError as exc:
        raise _fail(f"cannot read the cluster of stack {stack}: {exc}") from None
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


@app.command()
def policy(stack: StackArgument, config: ConfigDir = None, require_pushed: RequirePushed = False) -> None:
    """Check what the Pulumi stack would create: Kubernetes schema, hardening, production invariants; exit 1 on any."""
    from mcpstack.policy import RULES, check

    rendered = _render_stack(stack, _config_dir(config), require_pushed=require_pushed)
    violations = check(rendered)
    for violation in violations:
        errors.print(str(violation), markup=False, highlight=False)
    checked = f"{len(rendered.objects())} objects, {len(rendered.releases())} Helm releases, {len(RULES)} rules"
    if violations:
        errors.print(f"[red]{len(violations)} violation(s)[/red] ({checked})")
        raise typer.Exit(1)
    console.print(f"[green]ok[/green] {stack}: {checked}")


bench_app = typer.Typer(help="Benchmarks that write reports.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("gateway")
def bench_gateway(
    report: Annotated[Path, typer.Option(help="report directory")] = REPO_ROOT / "reports" / "gateway-benchmark",
    seconds: Annotated[float, typer.Option(help="seconds per measurement")] = 8.0,
    rounds: Annotated[int, typer.Option(help="interleaved rounds (medians are reported)")] = 2,
    output: OutputOption = "text",
) -> None:
    """Direct MCP calls vs the gateway (MCP front, OpenAPI) vs stock mcpo, at 1 and 100 connections, with CPU per
    call (needs wrk); exit 1 when a goal is missed."""
    from mcpstack.capacity.bench.gateway_overhead import markdown, run_benchmark

    as_json = _output(output)
    result = run_benchmark(report, seconds=seconds, rounds=rounds, log=_info)
    if as_json:
        _print_json(result.to_json())
    else:
        sys.stdout.write(markdown(result).rstrip("\n") + "\n")  # markdown as written: never re-wrapped
        console.print(f"report: {report / 'report.json'}, {report / 'report.md'}", soft_wrap=True, highlight=False)
    if not result.passed:
        raise typer.Exit(1)


@bench_app.command("loadgen")
def bench_loadgen(
    report: Annotated[Path, typer.Option(help="report directory")] = REPO_ROOT / "reports" / "loadtest-harness",
    seconds: Annotated[float, typer.Option(help="seconds per measurement")] = 15.0,
    output: OutputOption = "text",
) -> None:
    """The load generator's ceiling: req/s one locust process drives against a trivial local endpoint."""
    as_json = _output(output)
    from mcpstack.capacity.ceiling import measure_ceiling
    from mcpstack.capacity.locust_run import LoadTestError

    try:
        result = measure_ceiling(report, seconds=seconds, log=_info)
    except LoadTestError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        _print_json(result.to_json())
        return
    table = Table(
        "users", "req/s", "p50 ms", "p95 ms", "locust CPU %", "server CPU %", title="one locust process, closed loop"
    )
    for run in result.runs:
        table.add_row(
            str(run.users),
            f"{run.rps:.0f}",
            f"{run.p50_ms:.1f}",
            f"{run.p95_ms:.1f}",
            f"{run.cpu:.0f}",
            f"{run.server_cpu:.0f}",
        )
    console.print(table)
    console.print(f"ceiling {result.ceiling.rps:.0f} req/s; report: {report / 'report.json'}")


LOADTEST_SCENARIOS = ("slo", "rate-limit", "stress", "webui-users")
WEBUI_USERS_DEFAULT = 10  # real Open WebUI accounts of a webui-users run (at most 50)


@app.command()
def loadtest(
    target: Annotated[
        str | None, typer.Option(help="gateway URL of a deployed stack; its key from --key-env (default: local stack)")
    ] = None,
    stack: StackOption = None,
    env: EnvOption = "dev",
    scenario: Annotated[
        str, typer.Option(help="slo, rate-limit, stress (knee finding) or webui-users (Open WebUI accounts chatting)")
    ] = "slo",
    users: Annotated[int | None, typer.Option(help="concurrent users (default: the catalog's slos.load.users)")] = None,
    duration: Annotated[
        str | None, typer.Option(help="measured time after the ramp-up, e.g. 60s (default: slos.load.duration)")
    ] = None,
    spawn_rate: Annotated[float | None, typer.Option(help="users started per second (default: slos)")] = None,
    think: Annotated[
        str | None, typer.Option(help="think time range in seconds, e.g. 8-16 (default: slos.load.think_time_seconds)")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="report directory (default: reports/loadtest/SCENARIO)")] = None,
    key_env: Annotated[str, typer.Option(help="variable holding the API key for --target")] = "MCPSTACK_LOADTEST_KEY",
    output: OutputOption = "text",
    config: ConfigDir = None,
) -> None:
    """Capacity test through the gateway with locust (docs/capacity.md); exit 1 when an SLO is missed.

    slo and rate-limit run against the running local stack (--stack, default mcpstack-ENV) or --target URL.
    stress without --stack/--target starts its own stack with the rate limits lifted, and removes it.
    """
    from mcpstack.capacity.gate import gate
    from mcpstack.capacity.gate_load import seconds, think_range
    from mcpstack.capacity.knee import knee_on_fresh_stack, run_knee
    from mcpstack.capacity.locust_run import LoadTestError, local_target, preflight, remote_target
    from mcpstack.capacity.tables import print_summary
    from mcpstack.local.docker_engine import DockerUnavailable
    from mcpstack.local.stack import LocalStack, StackError

    as_json = _output(output)
    if scenario not in LOADTEST_SCENARIOS:
        raise _fail(f"--scenario must be one of {', '.join(LOADTEST_SCENARIOS)}, not {scenario!r}", EXIT_INVALID)
    if target and stack:
        raise _fail("give --target or --stack, not both", EXIT_INVALID)
    try:
        duration_seconds = seconds(duration) if duration else None
        think_seconds = think_range(think) if think else None
    except ValueError as exc:
        raise _fail(str(exc), EXIT_INVALID) from None
    report_dir = report or REPO_ROOT / "reports" / "loadtest" / scenario
    if scenario == "webui-users":
        if target:
            raise _fail("webui-users runs against a local stack (it creates Open WebUI accounts as its admin)")
        name = stack or f"mcpstack-{env}"
        _webui_users(name, _config_dir(config), report_dir, users, duration_seconds, as_json)
    # The table is the point: in a log (CI, make up) it is not wrapped into an 80-column terminal's width.
    wide = console if console.is_terminal else Console(width=max(console.width, 170))
    try:
        if scenario == "stress" and not (target or stack):
            _info("stress: starting a stack with the rate limits lifted (docs/capacity.md#finding-the-knee)")
            _finish_stress(knee_on_fresh_stack(report_dir, log=_info), report_dir, wide, as_json)
            return
        if target:
            chosen = remote_target(target, _load(_config_dir(config), env), key_env)
        else:
            chosen = local_target(
                LocalStack.attach(stack or f"mcpstack-{env}", config_dir=_config_dir(config), log=_info)
            )
        preflight(chosen)
        if scenario == "stress":
            _finish_stress(run_knee(chosen, report_dir, log=_info), report_dir, wide, as_json)
            return
        result = gate(
            chosen,
            report_dir,
            scenario=scenario,
            users=users,
            duration=duration_seconds,
            spawn_rate=spawn_rate,
            think=think_seconds,
            log=_info,
        )
    except (DockerUnavailable, StackError, LoadTestError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        _print_json(result.to_json())
        raise typer.Exit(0 if result.passed else 1)
    print_summary(result, wide)
    files = result.files
    wide.print(
        f"report: {report_dir / files['report']}, {report_dir / files['locust_html']}; plots: "
        f"{report_dir / files['timeline']}, {report_dir / files['histograms']}",
        highlight=False,
    )
    if not result.passed:
        raise typer.Exit(1)


def _webui_users(
    stack: str, config: Path, report_dir: Path, users: int | None, seconds: float | None, as_json: bool
) -> None:
    """Real Open WebUI accounts chatting with tools (mcpstack.capacity.webui_load); exit 1 when a turn failed."""
    from mcpstack.capacity.locust_run import LoadTestError
    from mcpstack.capacity.webui_load import MAX_USERS, run_webui_load, table

    count = users or WEBUI_USERS_DEFAULT
    if not 1 <= count <= MAX_USERS:
        raise _fail(f"--users: give 1 to {MAX_USERS} for webui-users (one Open WebUI account each)", EXIT_INVALID)
    try:
        attached = LocalStack.attach(stack, config_dir=config, log=_info)
        load = run_webui_load(attached, report_dir, users=count, seconds=seconds or 60.0, log=_info)
    except (DockerUnavailable, StackError, LoadTestError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        _print_json(load.to_json())
    else:
        sys.stdout.write(table(load) + "\n")
        console.print(f"gateway requests by client/tenant: {load.gateway.client_requests}", highlight=False)
    (errors if as_json else console).print(f"report: {report_dir / 'report.json'}", highlight=False)
    raise typer.Exit(1 if load.failures else 0)


def _finish_stress(result: KneeReport, report_dir: Path, wide: Console, as_json: bool = False) -> None:
    """Print the knee; exit 1 when not even the first step was within the objectives (there is no knee)."""
    from mcpstack.capacity.tables import print_knee

    if as_json:
        _print_json(result.to_json())
    else:
        print_knee(result, wide)
    (errors if as_json else wide).print(
        f"report: {report_dir / 'report.json'}; plot: {report_dir / 'knee.png'}", highlight=False
    )
    if result.knee.users is None:
        raise typer.Exit(1)


def _confirm_volumes(client, stack: str, catalog: Catalog, yes: bool) -> None:
    """List the volumes `down --volumes` deletes; go on only with --yes or a yes at the terminal."""
    from mcpstack.local.volumes import stack_volumes

    doomed = stack_volumes(client, stack, catalog)
    if not doomed:
        return
    errors.print(f"--volumes deletes {len(doomed)} volume(s) of {stack}:", highlight=False)
    for volume in doomed:
        errors.print(f"  {volume.name}  ({volume.holds})", markup=False, highlight=False)
    if yes:
        return
    if not sys.stdin.isatty():
        raise _fail("not deleting without confirmation: give --yes (nothing was removed)")
    if not typer.confirm("Delete them?", default=False, err=True):
        raise _fail("nothing was removed")


def _print_status(name: str, statuses: list) -> None:
    table = Table("service", "state", "health", title=f"stack {name}")
    table.add_column("URL", overflow="fold")  # folded, never cut, when wider than the terminal
    table.add_column("image", overflow="fold")
    for item in statuses:
        colour = "green" if item.health in ("healthy", "running") else "red"
        table.add_row(
            item.service, item.state, f"[{colour}]{item.health}[/{colour}]", " ".join(item.urls.values()), item.image
        )
    console.print(table)


def _base_mode(value: str):
    if value not in ("auto", "registry", "offline"):
        raise _fail(f"--base must be auto, registry or offline, not {value!r}", EXIT_INVALID)
    return value


def _info(message: str) -> None:
    errors.print(f"[dim]{message}[/dim]", highlight=False)


def main() -> None:
    app()
