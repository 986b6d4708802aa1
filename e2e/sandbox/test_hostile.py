"""Hostile code against the real sandbox container: each case asserts that the attack was contained,
and (conftest's `healthy_afterwards`) that the server is still healthy, still runs code, and has no
process of the run left.

Network attempts target only the stack's own containers, the Docker host's bridge address and
192.0.2.1 (TEST-NET-1, never routed): one attempt each, with short time limits.
"""

from __future__ import annotations

import docker
import pytest

from e2e.sandbox.conftest import MAX_PACKAGE_BYTES, SandboxClient, dump
from mcpstack.local.containers import container_name

pytestmark = pytest.mark.docker
BLOCKED = "blocked"


def attempt(body: str) -> str:
    """Code that prints 'reached' if `body` succeeds and 'blocked <exception>' if it raises."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return (
        f"import socket, os\ntry:\n{indented}\n    print('reached')\n"
        "except Exception as exc:\n    print('blocked', type(exc).__name__, exc)\n"
    )


@pytest.fixture(scope="module")
def addresses(sandbox: SandboxClient) -> dict[str, str]:
    """Addresses the sandbox container could reach if it had a network: the time container, the host."""
    client = docker.from_env()
    network = client.networks.get(sandbox.stack.network)
    time_container = client.containers.get(container_name(sandbox.stack.name, "time"))
    return {
        "time": time_container.attrs["NetworkSettings"]["Networks"][sandbox.stack.network]["IPAddress"],
        "host": network.attrs["IPAM"]["Config"][0]["Gateway"],
    }


# --- network ----------------------------------------------------------------------------------


def test_tcp_to_another_container_of_the_stack(sandbox: SandboxClient, addresses: dict[str, str]) -> None:
    result = sandbox.run(attempt(f"socket.create_connection(({addresses['time']!r}, 8003), timeout=2)"))
    assert result["stdout"].startswith(BLOCKED), dump(result)


def test_tcp_to_the_docker_host(sandbox: SandboxClient, addresses: dict[str, str]) -> None:
    result = sandbox.run(attempt(f"socket.create_connection(({addresses['host']!r}, 22), timeout=2)"))
    assert result["stdout"].startswith(BLOCKED), dump(result)


def test_tcp_to_an_unrouted_address(sandbox: SandboxClient) -> None:
    result = sandbox.run(attempt("socket.create_connection(('192.0.2.1', 80), timeout=2)"))
    assert result["stdout"].startswith(BLOCKED), dump(result)


def test_udp_datagram(sandbox: SandboxClient) -> None:
    body = "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('192.0.2.1', 53))"
    result = sandbox.run(attempt(body))
    assert result["stdout"].startswith(BLOCKED), dump(result)


def test_ipv6(sandbox: SandboxClient) -> None:
    result = sandbox.run(attempt("socket.create_connection(('::1', 8001), timeout=2)"))
    assert result["stdout"].startswith(BLOCKED), dump(result)


@pytest.mark.parametrize("name", ["time", "pypi", "mcpo", "pypi.org"])
def test_dns_resolution(sandbox: SandboxClient, name: str) -> None:
    result = sandbox.run(attempt(f"socket.getaddrinfo({name!r}, 80)"))
    assert result["stdout"].startswith(BLOCKED), dump(result)


def test_the_sandbox_servers_own_port(sandbox: SandboxClient) -> None:
    """The server listens on port 8001 of the container; the run's loopback is its own and unusable."""
    result = sandbox.run(attempt("socket.create_connection(('127.0.0.1', 8001), timeout=2)"))
    assert result["stdout"].startswith(BLOCKED), dump(result)


def test_raw_and_packet_sockets(sandbox: SandboxClient) -> None:
    body = "socket.socket(socket.AF_PACKET, socket.SOCK_RAW)"
    assert sandbox.run(attempt(body))["stdout"].startswith(BLOCKED)
    body = "socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"
    assert sandbox.run(attempt(body))["stdout"].startswith(BLOCKED)


def test_network_through_a_subprocess(sandbox: SandboxClient) -> None:
    code = (
        "import subprocess, sys\n"
        "probe = \"import socket\\ntry:\\n    socket.create_connection(('192.0.2.1', 80), timeout=2)\\n"
        "    print('reached')\\nexcept OSError as exc:\\n    print('blocked', exc)\"\n"
        "print(subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True).stdout.strip())\n"
        "print(subprocess.run('getent hosts time || echo blocked-getent', shell=True, capture_output=True, "
        "text=True).stdout.strip())\n"
    )
    lines = sandbox.run(code)["stdout"].splitlines()
    assert lines[0].startswith(BLOCKED)
    assert lines[1] == "blocked-getent"


# --- secrets, the server's environment, the host ---------------------------------------------


def test_the_servers_environment_is_not_inherited(sandbox: SandboxClient) -> None:
    result = sandbox.run("import os\nprint(sorted(os.environ))")
    assert "SANDBOX" not in result["stdout"]
    assert "PROMETHEUS" not in result["stdout"]
    assert "VIRTUAL_ENV" not in result["stdout"]
    assert "/opt/venv" not in sandbox.run("import os\nprint(os.environ['PATH'])")["stdout"]


def test_the_servers_code_venv_and_secrets_are_not_visible(sandbox: SandboxClient) -> None:
    code = (
        "import os\n"
        "for path in ['/app', '/app/servers/sandbox/server.py', '/opt/venv', '/opt/sandbox-pip', '/run/secrets', "
        "'/etc/mcpstack-sandbox', '/etc/shadow', '/etc/hostname', '/root', '/home', '/var', '/sys', '/proc']:\n"
        "    print(path, os.path.exists(path))\n"
    )
    lines = sandbox.run(code)["stdout"].splitlines()
    assert all(line.endswith(" False") for line in lines), lines


def test_proc_snooping(sandbox: SandboxClient) -> None:
    code = attempt("print(open('/proc/1/environ', 'rb').read()[:50])") + attempt("print(os.listdir('/proc'))")
    code += "import os\nprint('pids visible:', [p for p in os.listdir('/') if p.isdigit()])\n"
    lines = sandbox.run(code)["stdout"].splitlines()
    assert lines[0].startswith(BLOCKED) and lines[1].startswith(BLOCKED), lines
    assert lines[2] == "pids visible: []"


def test_only_the_runs_own_processes_are_visible(sandbox: SandboxClient) -> None:
    code = "import os, signal\nprint(os.getpid(), os.getppid(), os.getuid(), os.getgid())"
    assert sandbox.run(code)["stdout"].split() == ["2", "1", "1000", "1000"]


def test_passwd_is_the_sandboxs_own(sandbox: SandboxClient) -> None:
    result = sandbox.run("import pwd\nprint(open('/etc/passwd').read().strip())\nprint(pwd.getpwuid(1000).pw_name)")
    assert result["stdout"] == "sandbox:x:1000:1000::/sandbox:/usr/sbin/nologin\nsandbox\n"


def test_devices(sandbox: SandboxClient) -> None:
    code = (
        "import os\nprint(sorted(os.listdir('/dev')))\n"
        + attempt("open('/dev/mem', 'rb')")
        + attempt("open('/dev/kmsg', 'rb')")
    )
    lines = sandbox.run(code)["stdout"].splitlines()
    assert "mem" not in lines[0] and "kmsg" not in lines[0] and "null" in lines[0]
    assert lines[1].startswith(BLOCKED) and lines[2].startswith(BLOCKED)


# --- the filesystem ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/usr/evil", "/etc/evil", "/evil", "/dev/evil", "/usr/lib/python3.11/os.py"])
def test_writing_outside_the_runs_directory(sandbox: SandboxClient, path: str) -> None:
    result = sandbox.run(attempt(f"open({path!r}, 'a').write('x')"))
    assert result["stdout"].startswith(BLOCKED), dump(result)


def test_nothing_persists_between_runs(sandbox: SandboxClient) -> None:
    first = sandbox.run(
        "import os, sys\nopen('marker', 'w').write('1')\nopen('/tmp/marker2', 'w').write('2')\n"
        "os.makedirs(os.path.expanduser('~/.config'), exist_ok=True)\nprint(sorted(os.listdir('.')))"
    )
    assert "marker" in first["stdout"]
    second = sandbox.run("import os\nprint(sorted(os.listdir('.')), os.path.exists('/tmp/marker2'))")
    assert second["stdout"] == "['main.py'] False\n"
    host_side = sandbox.exec("sh", "-c", "ls /tmp/mcpstack-sandbox-*/")
    assert host_side.split() == ["etc"], host_side


def test_symlink_escapes(sandbox: SandboxClient) -> None:
    code = (
        "import os\n"
        "os.symlink('/app/servers/sandbox/server.py', 'code')\nos.symlink('../../../../etc/shadow', 'shadow')\n"
        "os.symlink('/proc/1/root/app', 'root')\n"
        "for name in ('code', 'shadow', 'root'):\n"
        "    try:\n        open(name).read(); print(name, 'read')\n"
        "    except OSError as exc:\n        print(name, 'blocked', type(exc).__name__)\n"
        "try:\n    os.link('/usr/bin/python3', 'hard'); print('hardlink made')\n"
        "except OSError as exc:\n    print('hardlink blocked', type(exc).__name__)\n"
    )
    lines = sandbox.run(code)["stdout"].splitlines()
    assert [line.split()[1] for line in lines] == ["blocked"] * 4, lines


def test_filling_the_disk_is_stopped_at_the_runs_quota(sandbox: SandboxClient) -> None:
    code = "n = 0\nwhile True:\n    open(f'part{n}', 'wb').write(b'x' * (4 * 1024 * 1024))\n    n += 1"
    result = sandbox.run(code)
    assert result["stopped_reason"] == "disk_quota", dump(result)
    assert "No space left on device" in result["stderr"]
    assert sandbox.run("open('after', 'wb').write(b'x' * 1024 * 1024)\nprint('room again')")["stdout"] == "room again\n"
    usage = sandbox.exec("df", "-k", "/tmp").splitlines()[-1].split()
    assert int(usage[2]) < 16 * 1024, usage  # the container's own /tmp did not fill up


def test_one_huge_file(sandbox: SandboxClient) -> None:
    result = sandbox.run("open('big', 'wb').write(b'x' * (32 * 1024 * 1024))")
    assert result["stopped_reason"] in ("file_size", "memory"), dump(result)


# --- processes, memory, CPU, output -------------------------------------------------------------


def test_fork_bomb(sandbox: SandboxClient) -> None:
    result = sandbox.run("import os\nwhile True:\n    os.fork()", timeout_seconds=5)
    assert result["stopped_reason"] in ("process_limit", "timeout"), dump(result)
    assert "Resource temporarily unavailable" in result["stderr"]


def test_thread_bomb(sandbox: SandboxClient) -> None:
    code = (
        "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()"
    )
    result = sandbox.run(code, timeout_seconds=5)
    assert result["stopped_reason"] == "process_limit", dump(result)


def test_memory_bomb(sandbox: SandboxClient) -> None:
    result = sandbox.run("blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))")
    assert result["stopped_reason"] == "memory", dump(result)
    assert "MemoryError" in result["stderr"]


def test_memory_bomb_in_many_processes(sandbox: SandboxClient) -> None:
    """Each process has its own address-space limit; together they must not take the server down."""
    code = (
        "import os, time\n"
        "for _ in range(6):\n    if os.fork() == 0:\n        try:\n            keep = bytearray(200 * 1024 * 1024)\n"
        "            keep[::4096] = b'x' * len(keep[::4096])\n        except MemoryError:\n            pass\n"
        "        time.sleep(30)\n        os._exit(0)\n"
        "time.sleep(30)\n"
    )
    result = sandbox.run(code, timeout_seconds=8)
    assert result["stopped_reason"] in ("timeout", "memory"), dump(result)


def test_cpu_spin(sandbox: SandboxClient) -> None:
    result = sandbox.run("while True:\n    pass", timeout_seconds=2)
    assert (result["stopped_reason"], result["timed_out"], result["exit_code"]) == ("timeout", True, None)


def test_sleeping_forever(sandbox: SandboxClient) -> None:
    result = sandbox.run("import time\nprint('going to sleep', flush=True)\ntime.sleep(10**6)", timeout_seconds=2)
    assert result["stopped_reason"] == "timeout"
    assert result["stdout"] == "going to sleep\n"


def test_huge_output(sandbox: SandboxClient) -> None:
    result = sandbox.run("import sys\nwhile True:\n    sys.stdout.write('A' * 65536)")
    assert result["stopped_reason"] == "output_limit", dump(result)
    assert (result["truncated"], result["stdout_truncated"]) == (True, True)
    assert len(result["stdout"]) == 65536


def test_infinite_recursion(sandbox: SandboxClient) -> None:
    result = sandbox.run("def f():\n    return f()\nf()")
    assert result["exit_code"] == 1
    assert "RecursionError" in result["stderr"]


def test_recursion_past_the_c_stack(sandbox: SandboxClient) -> None:
    code = "import sys\nsys.setrecursionlimit(10**7)\ndef f(n):\n    return f(n + 1)\nf(0)"
    result = sandbox.run(code, timeout_seconds=20)
    assert result["exit_code"] != 0, dump(result)  # a crash or an error, inside the run only


def test_a_daemon_that_detaches_does_not_survive(sandbox: SandboxClient) -> None:
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n    try:\n        os.setsid()\n    except OSError as exc:\n        print('setsid', exc)\n"
        "    if os.fork() == 0:\n        time.sleep(600)\n    os._exit(0)\n"
        "time.sleep(0.5)\nprint('parent exits')\n"
    )
    result = sandbox.run(code)
    assert "parent exits" in result["stdout"]
    assert sandbox.leftovers() == []


# --- signals and the parent -------------------------------------------------------------------


def test_ignoring_signals_does_not_outlast_the_time_limit(sandbox: SandboxClient) -> None:
    code = (
        "import signal\nfor sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGXCPU):\n"
        "    signal.signal(sig, signal.SIG_IGN)\nwhile True:\n    pass\n"
    )
    result = sandbox.run(code, timeout_seconds=2)
    assert result["stopped_reason"] in ("timeout", "cpu_time"), dump(result)


def test_killing_the_parent_and_everything_in_reach(sandbox: SandboxClient) -> None:
    code = (
        "import os, signal\n"
        "for target in (os.getppid(), 1, -1):\n"
        "    try:\n        os.kill(target, signal.SIGKILL)\n    except OSError as exc:\n        print(target, exc)\n"
        "print('still here')\n"
    )
    result = sandbox.call(code)  # whatever happens to the run itself, the server must survive (checked afterwards)
    assert "error" not in result, result


def test_killing_every_pid_it_can_guess(sandbox: SandboxClient) -> None:
    code = (
        "import os, signal\nkilled = 0\nfor pid in range(2, 70000):\n"
        "    if pid == os.getpid():\n        continue\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n        killed += 1\n    except OSError:\n        pass\n"
        "print('killed', killed)\n"
    )
    result = sandbox.run(code)
    assert result["stdout"] == "killed 0\n", dump(result)


def test_ptrace(sandbox: SandboxClient) -> None:
    code = (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\n"  # PTRACE_ATTACH to pid 1
        "print(libc.ptrace(0, 0, 0, 0), ctypes.get_errno())\n"  # PTRACE_TRACEME
    )
    assert sandbox.run(code)["stdout"] == "-1 1\n-1 1\n"


# --- subprocesses, shells, ctypes, privileges ---------------------------------------------------


def test_subprocess_and_os_system_stay_inside(sandbox: SandboxClient) -> None:
    code = (
        "import os, subprocess\n"
        "os.system('id -u; touch /usr/owned 2>/dev/null || echo cannot-write-usr')\n"
        "print(subprocess.run(['sh', '-c', 'echo $SANDBOX_PIP; ls /app 2>&1 || true'], capture_output=True, "
        "text=True).stdout.strip())\n"
    )
    lines = sandbox.run(code)["stdout"].splitlines()
    assert lines[0] == "1000"
    assert lines[1] == "cannot-write-usr"
    assert "No such file or directory" in lines[2]


def test_ctypes_system_calls(sandbox: SandboxClient) -> None:
    code = (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())\n"
        "print('mount', libc.mount(b'none', b'/sandbox', b'tmpfs', 0, None), ctypes.get_errno())\n"
        "print('chroot', libc.chroot(b'/'), ctypes.get_errno())\n"
        "print('setuid', libc.setuid(0), ctypes.get_errno())\n"
    )
    lines = sandbox.run(code)["stdout"].splitlines()
    assert lines[:3] == ["unshare -1 1", "mount -1 1", "chroot -1 1"]
    assert lines[3] in ("setuid -1 1", "setuid -1 22")  # EPERM, or EINVAL: uid 0 does not exist in its namespace


def test_a_segfault_through_ctypes(sandbox: SandboxClient) -> None:
    result = sandbox.run("import ctypes\nctypes.string_at(0)")
    assert result["exit_code"] == -11, dump(result)


def test_nested_namespaces_and_setuid_tools(sandbox: SandboxClient) -> None:
    code = (
        "import subprocess\n"
        "for command in (['unshare', '-r', 'id'], ['unshare', '-n', 'true'], ['su', '-c', 'id'], "
        "['mount', '-t', 'tmpfs', 'x', '/sandbox']):\n"
        "    done = subprocess.run(command, capture_output=True, text=True)\n"
        "    print(command[0], done.returncode != 0)\n"
    )
    assert sandbox.run(code)["stdout"] == "unshare True\nunshare True\nsu True\nmount True\n"


def test_open_files_exhaustion(sandbox: SandboxClient) -> None:
    result = sandbox.run("files = []\nwhile True:\n    files.append(open('/dev/null'))")
    assert result["stopped_reason"] == "open_files", dump(result)


# --- packages ---------------------------------------------------------------------------------


def test_a_setup_py_hook_never_runs(sandbox: SandboxClient) -> None:
    """The only package with an install hook is source-only: wheels-only pip refuses it, nothing runs."""
    result = sandbox.run("print('never')", packages=["mcpstack-sdist-only"])
    assert result["stopped_reason"] == "install_failed", dump(result)
    assert "No matching distribution found for mcpstack-sdist-only" in result["message"]
    assert result["stdout"] == ""
    assert "mcpstack-sdist-setup-ran" not in sandbox.exec("ls", "-a", "/tmp")


def test_a_pth_hook_in_a_wheel_does_not_run(sandbox: SandboxClient) -> None:
    code = "import mcpstack_pth, os\nprint(mcpstack_pth.LOADED, os.path.exists(os.path.expanduser('~/pth-ran')))"
    result = sandbox.run(code, packages=["mcpstack-pth"])
    assert result["stdout"] == "True False\n", dump(result)


@pytest.mark.parametrize(
    ("package", "reason"),
    [("reqeusts", "typosquat"), ("python3-dateutil", "blocklisted"), ("colourama", "blocklisted")],
)
def test_typosquatted_and_blocklisted_packages(sandbox: SandboxClient, package: str, reason: str) -> None:
    before = sandbox.metric("sandbox_package_denials_total", reason=reason)
    result = sandbox.run("print('never')", packages=[package])
    assert result["stopped_reason"] == "denied_package", dump(result)
    assert f"({reason})" in result["message"]
    assert sandbox.metric("sandbox_package_denials_total", reason=reason) == before + 1


@pytest.mark.parametrize(
    "package", ["python-sqlite", "ctx", "torchtriton", "ssh-decorator", "fastapi-toolkit", "requests-darwin-lite"]
)
def test_publicly_reported_malicious_names_are_denied(sandbox: SandboxClient, package: str) -> None:
    """Issue 14, finding 8: these were accepted (and looked up on the index)."""
    result = sandbox.run("print('never')", packages=[package])
    assert result["stopped_reason"] == "denied_package", dump(result)
    assert "(blocklisted)" in result["message"], dump(result)


def test_a_blocklisted_dependency(sandbox: SandboxClient) -> None:
    result = sandbox.run("print('never')", packages=["mcpstack-wrapper"])
    assert result["stopped_reason"] == "denied_package"
    assert "blocklisted_dependency" in result["message"]


def test_a_package_over_the_size_limit(sandbox: SandboxClient) -> None:
    result = sandbox.run("print('never')", packages=["mcpstack-bulky"])
    assert result["stopped_reason"] == "denied_package", dump(result)
    assert f"{MAX_PACKAGE_BYTES // (1024 * 1024)} MiB" in result["message"]
