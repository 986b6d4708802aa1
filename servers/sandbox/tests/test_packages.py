"""Package requests: names, versions, the blocklist and the typosquatting check (pure), then real
installs from a local index on 127.0.0.1 in both modes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from servers.sandbox import packages as pkgs
from servers.sandbox.runner import PipSettings, Sandbox, StopReason
from servers.sandbox.tests.conftest import Index, MakeSandbox
from servers.sandbox.tests.local_index import SDIST_MARKER

# --- names and versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Requests", "requests"),
        ("Python_Dateutil", "python-dateutil"),
        ("zope.interface", "zope-interface"),
        ("a--_.b", "a-b"),
        ("NumPy", "numpy"),
    ],
)
def test_pep503_normalisation(name: str, normalised: str) -> None:
    assert pkgs.normalise(name) == normalised


@pytest.mark.parametrize(
    ("request_text", "name", "version"),
    [
        ("six", "six", None),
        ("Six==1.16.0", "six", "1.16.0"),
        (" numpy == 2.1.3 ", "numpy", "2.1.3"),
        ("mcpstack-demo==1.0rc1", "mcpstack-demo", "1.0rc1"),
        ("pkg==1!2.0.post3.dev4", "pkg", "1!2.0.post3.dev4"),
        ("a", "a", None),
    ],
)
def test_names_and_exact_pins_are_accepted(request_text: str, name: str, version: str | None) -> None:
    assert pkgs.parse(request_text) == pkgs.Requirement(name, version)


@pytest.mark.parametrize(
    ("request_text", "reason"),
    [
        ("numpy>=1.0", pkgs.DenialReason.INVALID_VERSION),
        ("numpy~=1.0", pkgs.DenialReason.INVALID_VERSION),
        ("numpy[extra]", pkgs.DenialReason.INVALID_NAME),
        ("pkg @ https://example.invalid/pkg.whl", pkgs.DenialReason.INVALID_NAME),
        ("numpy; python_version<'4'", pkgs.DenialReason.INVALID_NAME),
        ("git+https://example.invalid/x.git", pkgs.DenialReason.INVALID_NAME),
        ("numpy==1.*", pkgs.DenialReason.INVALID_VERSION),
        ("numpy==latest", pkgs.DenialReason.INVALID_VERSION),
        ("numpy===1.0", pkgs.DenialReason.INVALID_VERSION),
        ("numpy=1.0", pkgs.DenialReason.INVALID_VERSION),
        ("numpy==1.0,!=1.1", pkgs.DenialReason.INVALID_VERSION),
        ("numpy==1.0+local", pkgs.DenialReason.INVALID_VERSION),
        ("-e .", pkgs.DenialReason.INVALID_NAME),
        ("--index-url=http://evil", pkgs.DenialReason.INVALID_NAME),
        ("../../etc/passwd", pkgs.DenialReason.INVALID_NAME),
        ("", pkgs.DenialReason.INVALID_NAME),
        ("-leading-dash", pkgs.DenialReason.INVALID_NAME),
        ("trailing-", pkgs.DenialReason.INVALID_NAME),
        ("naïve", pkgs.DenialReason.INVALID_NAME),
        ("x" * 101, pkgs.DenialReason.INVALID_NAME),
    ],
)
def test_anything_but_a_name_or_an_exact_pin_is_refused(request_text: str, reason: pkgs.DenialReason) -> None:
    with pytest.raises(pkgs.PackageDenied) as denied:
        pkgs.parse(request_text)
    assert denied.value.denial.reason is reason
    assert denied.value.denial.request == request_text


# --- blocklist and typosquatting ----------------------------------------------------------------


# Publicly reported malicious or hijacked names; issue 14 found the last six accepted.
REPORTED_MALICIOUS = [
    *("colourama", "python3-dateutil", "jeIlyfish", "setup-tools", "urlib3", "Pymafka"),
    *("python-sqlite", "ctx", "torchtriton", "ssh-decorator", "fastapi-toolkit", "requests-darwin-lite"),
    *("secretslib", "vmconnect", "typesutil", "Python_SQLite", "CTX", "SSH.Decorator"),  # PEP 503 spellings
]


@pytest.mark.parametrize("name", REPORTED_MALICIOUS)
def test_known_malicious_names_are_blocklisted(name: str) -> None:
    with pytest.raises(pkgs.PackageDenied) as denied:
        pkgs.validate([name], max_packages=5)
    assert denied.value.denial.reason is pkgs.DenialReason.BLOCKLISTED


@pytest.mark.parametrize(
    ("name", "target", "how"),
    [
        ("reqeusts", "requests", "typing mistake"),  # two characters swapped
        ("requets", "requests", "typing mistake"),  # one dropped
        ("requestss", "requests", "typing mistake"),  # one added
        ("requezts", "requests", "typing mistake"),  # one changed
        ("nunpy", "numpy", "typing mistake"),
        ("djnago", "django", "typing mistake"),
        ("tensorfow", "tensorflow", "typing mistake"),
        ("matplotlbi", "matplotlib", "typing mistake"),  # two edits, long name
        ("beautiful-soup4", "beautifulsoup4", "separators"),
        ("scikitlearn", "scikit-learn", "separators"),
        ("python-requests", "requests", "prefix or suffix"),
        ("py-numpy", "numpy", "prefix or suffix"),
        ("pynumpy", "numpy", "prefix or suffix"),
        ("requests-python", "requests", "prefix or suffix"),
        ("numpy-py3", "numpy", "prefix or suffix"),
        ("dateutil", "python-dateutil", "prefix or suffix"),
        ("python3-yaml", "pyyaml", "prefix or suffix"),
    ],
)
def test_look_alikes_of_popular_packages_are_refused(name: str, target: str, how: str) -> None:
    with pytest.raises(pkgs.PackageDenied) as denied:
        pkgs.validate([name], max_packages=5)
    denial = denied.value.denial
    assert denial.reason is pkgs.DenialReason.TYPOSQUAT
    assert f"'{target}'" in denial.detail
    assert how in denial.detail


@pytest.mark.parametrize(
    "name",
    ["requests", "numpy", "python-dateutil", "pyyaml", "scipy", "scapy", "attrs", "attr", "pytest", "pytest-cov"],
)
def test_popular_packages_themselves_pass(name: str) -> None:
    assert pkgs.validate([name], max_packages=5) == [pkgs.Requirement(name)]


@pytest.mark.parametrize(
    "name", ["mcpstack-demo", "pytest-randomly-extra", "numpy-financial", "flask-login", "six", "sympy-plot-x"]
)
def test_unrelated_names_pass(name: str) -> None:
    assert [r.name for r in pkgs.validate([name], max_packages=5)] == [name]


def test_osa_distance_counts_a_swap_as_one_edit_and_stops_past_the_limit() -> None:
    assert pkgs.osa_distance("requests", "reqeusts", 2) == 1
    assert pkgs.osa_distance("requests", "requests", 2) == 0
    assert pkgs.osa_distance("abc", "xyz", 2) == 3  # limit + 1: "more than the limit"
    assert pkgs.osa_distance("kitten", "sitting", 5) == 3


def test_too_many_and_duplicate_packages_are_refused() -> None:
    with pytest.raises(pkgs.PackageDenied) as too_many:
        pkgs.validate(["six", "attrs", "toml"], max_packages=2)
    assert too_many.value.denial.reason is pkgs.DenialReason.TOO_MANY
    with pytest.raises(pkgs.PackageDenied) as duplicate:
        pkgs.validate(["six", "Six==1.16.0"], max_packages=5)
    assert duplicate.value.denial.reason is pkgs.DenialReason.DUPLICATE


def test_downloaded_files_must_be_wheels_of_allowed_projects() -> None:
    assert pkgs.check_downloaded(["Six-1.16.0-py2.py3-none-any.whl", "mcpstack_demo-2.0.0-py3-none-any.whl"]) == [
        "mcpstack-demo==2.0.0",
        "six==1.16.0",
    ]
    with pytest.raises(pkgs.PackageDenied) as sdist:
        pkgs.check_downloaded(["evil-1.0.tar.gz"])
    assert sdist.value.denial.reason is pkgs.DenialReason.INVALID_NAME
    with pytest.raises(pkgs.PackageDenied) as blocked:
        pkgs.check_downloaded(["colourama-0.1.0-py3-none-any.whl"])
    assert blocked.value.denial.reason is pkgs.DenialReason.BLOCKLISTED_DEPENDENCY


def test_the_data_files_are_well_formed() -> None:
    for filename, minimum in (("blocklist.txt", 30), ("popular.txt", 300)):
        path = Path(pkgs.__file__).with_name("data") / filename
        entries = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
        names = [entry for entry in entries if entry]
        assert len(names) >= minimum, filename
        assert all(pkgs.NAME.match(name) for name in names), filename
    assert not pkgs.blocklist() & pkgs.popular()


# --- installs from the local index ------------------------------------------------------------


WithPip = Callable[..., Sandbox]


@pytest.fixture
def with_pip(make_sandbox: MakeSandbox, mode: str, pip_settings: PipSettings) -> WithPip:
    """with_pip(**PipSettings fields) -> a sandbox of this mode that installs from the local index."""

    def make(**pip_fields: object) -> Sandbox:
        return make_sandbox(mode, pip=replace(pip_settings, **pip_fields))

    return make


def exists(path: str) -> bool:
    return Path(path).exists()


async def test_a_package_is_installed_for_the_run(with_pip: WithPip) -> None:
    result = await with_pip().run(
        "import mcpstack_demo\nprint(mcpstack_demo.VERSION, mcpstack_demo.greet())", 20, ["mcpstack-demo"]
    )
    assert (result.stdout, result.exit_code, result.stopped_reason) == ("2.0.0 hello from a wheel\n", 0, None)
    assert result.packages == ["mcpstack-demo==2.0.0"]


async def test_a_pinned_version_is_installed(with_pip: WithPip) -> None:
    result = await with_pip().run("import mcpstack_demo\nprint(mcpstack_demo.VERSION)", 20, ["MCPStack_Demo==1.0.0"])
    assert result.stdout == "1.0.0\n"
    assert result.packages == ["mcpstack-demo==1.0.0"]


async def test_packages_do_not_outlive_their_run(with_pip: WithPip) -> None:
    sandbox = with_pip()
    await sandbox.run("import mcpstack_demo", 20, ["mcpstack-demo"])
    after = await sandbox.run("import mcpstack_demo", 20)
    assert after.exit_code == 1
    assert "ModuleNotFoundError" in after.stderr
    assert sorted(p.name for p in sandbox.runtime_dir.iterdir()) == ["etc"]


async def test_a_source_only_package_is_never_built(with_pip: WithPip) -> None:
    """Its setup.py would write a marker and phone home: pip --only-binary never runs it."""
    result = await with_pip().run("print('never runs')", 20, ["mcpstack-sdist-only"])
    assert result.stopped_reason is StopReason.INSTALL_FAILED
    assert "No matching distribution" in (result.message or "")
    assert (result.stdout, result.exit_code) == ("", None)
    assert not exists(SDIST_MARKER)


async def test_pth_files_of_installed_packages_do_not_run(with_pip: WithPip) -> None:
    code = "import mcpstack_pth, os\nprint(mcpstack_pth.LOADED, os.path.exists(os.path.expanduser('~/pth-ran')))"
    result = await with_pip().run(code, 20, ["mcpstack-pth"])
    assert result.stdout == "True False\n"


async def test_a_blocklisted_dependency_stops_the_install(with_pip: WithPip) -> None:
    result = await with_pip().run("print('never runs')", 20, ["mcpstack-wrapper"])
    assert result.stopped_reason is StopReason.DENIED_PACKAGE
    assert result.denial is not None and result.denial.reason is pkgs.DenialReason.BLOCKLISTED_DEPENDENCY
    assert "colourama" in (result.message or "")


async def test_downloads_over_the_size_limit_are_refused(with_pip: WithPip) -> None:
    result = await with_pip(max_bytes=1024 * 1024).run("print('never runs')", 20, ["mcpstack-bulky"])
    assert result.stopped_reason is StopReason.DENIED_PACKAGE
    assert result.denial is not None and result.denial.reason is pkgs.DenialReason.TOO_LARGE


async def test_a_package_with_more_files_than_an_install_may_create_is_refused(with_pip: WithPip, mode: str) -> None:
    """Issue 14, finding 6: the install's tmpfs is capped in files, so 3000 empty files never reach /tmp."""
    result = await with_pip(max_inodes=1000).run("print('never runs')", 20, ["mcpstack-many-files"])
    if mode == "direct":  # no namespaces, no tmpfs of its own: only the bytes are limited
        assert result.stopped_reason is None
        return
    assert result.stopped_reason is StopReason.DENIED_PACKAGE, result
    assert result.denial is not None and result.denial.reason is pkgs.DenialReason.TOO_LARGE
    assert "at most 2 MiB and 1000 files" in (result.message or "")


@pytest.mark.parametrize("packages", [[], ["mcpstack-demo"]])
async def test_pips_environment_is_mounted_only_for_the_install_steps(
    make_sandbox: MakeSandbox, pip_settings: PipSettings, packages: list[str]
) -> None:
    """Issue 14, finding 10: the code of a run never sees pip's venv, whether or not the run installs."""
    sandbox = make_sandbox("namespaced", pip=pip_settings)
    result = await sandbox.run("import os\nprint(os.path.exists('/opt/pip'))", 20, packages)
    assert result.stdout == "False\n", result


async def test_an_unknown_package_is_an_install_failure(with_pip: WithPip) -> None:
    result = await with_pip().run("print('never runs')", 20, ["mcpstack-does-not-exist"])
    assert result.stopped_reason is StopReason.INSTALL_FAILED
    assert "mcpstack-does-not-exist" in (result.message or "")


async def test_installs_are_time_limited(with_pip: WithPip) -> None:
    result = await with_pip(timeout_seconds=0.05).run("print('never runs')", 20, ["mcpstack-demo"])
    assert result.stopped_reason is StopReason.INSTALL_FAILED
    assert "longer than 0.05 s" in (result.message or "")


async def test_the_run_has_no_network_even_after_an_install_had_it(with_pip: WithPip, package_index: Index) -> None:
    port = int(package_index.url.split(":")[2].split("/")[0])
    code = (
        "import socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('reached the index')\n"
        "except OSError as exc:\n    print('blocked', type(exc).__name__)\n"
    )
    result = await with_pip().run(code, 20, ["mcpstack-demo"])
    assert result.stdout.startswith("blocked"), result.stdout


@pytest.mark.parametrize("request_text", ["reqeusts", "colourama", "numpy>=1", "mcpstack-demo==1.*"])
async def test_denied_requests_never_reach_the_index(
    with_pip: WithPip, package_index: Index, request_text: str
) -> None:
    before = len(package_index.requests)
    result = await with_pip().run("print('never runs')", 20, [request_text])
    assert result.stopped_reason is StopReason.DENIED_PACKAGE
    assert result.message is not None and request_text in result.message
    assert package_index.requests[before:] == []


async def test_without_pip_every_package_is_refused(make_sandbox: MakeSandbox) -> None:
    result = await make_sandbox().run("print('never runs')", 20, ["six"])
    assert result.stopped_reason is StopReason.DENIED_PACKAGE
    assert result.denial is not None and result.denial.reason is pkgs.DenialReason.DISABLED
