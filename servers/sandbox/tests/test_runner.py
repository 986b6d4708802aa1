"""The runner on real child processes, with namespaces (bubblewrap) and without (the fallback):
output, exit codes, timeouts, output caps, limits, and what a run can see and keep."""

from __future__ import annotations

import gc
import os
import signal
import time
import uuid
import warnings
from pathlib import Path

import pytest

from servers.sandbox.layers import NAMESPACES, Layer
from servers.sandbox.runner import ExecutionResult, Sandbox, StopReason, uncaught_exception_line
from servers.sandbox.supervise import Supervised
from servers.sandbox.tests.conftest import MakeSandbox

GENEROUS = 20.0  # never reached by runs that end on their own
SHORT = 2.0  # runs meant to time out: long enough to start and print first


def survivors(marker: str) -> list[int]:
    """Pids of live (not zombie) processes, in any pid namespace, whose command line carries `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def gone(marker: str, within: float = 5.0) -> bool:
    """SIGKILL is delivered asynchronously: give the kernel a moment before calling a process a survivor."""
    deadline = time.monotonic() + within
    while survivors(marker):
        if time.monotonic() > deadline:
            for pid in survivors(marker):
                os.kill(pid, signal.SIGKILL)
            return False
        time.sleep(0.02)
    return True


def grandchild(marker: str, *, detach_output: bool, then: str) -> str:
    """Code that starts a long-lived grandchild recognisable by `marker`, then runs `then`."""
    output = ", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL" if detach_output else ""
    return (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {marker!r}]{output})\n"
        "print('spawned', flush=True)\n"
        f"{then}\n"
    )


# --- output and exit codes --------------------------------------------------------------------


async def test_stdout_stderr_exit_code_and_layers_of_a_clean_run(sandbox: Sandbox) -> None:
    result = await sandbox.run("import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)", GENEROUS)
    assert (result.stdout, result.stderr, result.exit_code) == ("to stdout\n", "to stderr\n", 0)
    assert (result.timed_out, result.truncated, result.stopped_reason, result.message) == (False, False, None, None)
    assert result.duration_ms > 0
    assert set(result.isolation) == set(sandbox.layers)
    assert {"process_group", "scrubbed_env", "rlimits", "seccomp"} <= set(result.isolation)


async def test_empty_program_has_no_output(sandbox: Sandbox) -> None:
    result = await sandbox.run("", GENEROUS)
    assert (result.stdout, result.stderr, result.exit_code) == ("", "", 0)


@pytest.mark.parametrize("code", [3, 1, 255])
async def test_non_zero_exit_code_is_reported(sandbox: Sandbox, code: int) -> None:
    result = await sandbox.run(f"import sys\nprint('before exit')\nsys.exit({code})", GENEROUS)
    assert result.exit_code == code
    assert result.stdout == "before exit\n"
    assert result.stopped_reason is None


async def test_an_exception_gives_a_traceback_naming_main_py(sandbox: Sandbox) -> None:
    result = await sandbox.run("def f():\n    return 1 / 0\nprint('partial', flush=True)\nf()", GENEROUS)
    assert result.exit_code == 1
    assert result.stdout == "partial\n"
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert 'main.py", line 4' in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: division by zero")


async def test_a_syntax_error_is_reported_like_any_failure(sandbox: Sandbox) -> None:
    result = await sandbox.run("print('never runs')\ndef broken(:\n", GENEROUS)
    assert (result.exit_code, result.stdout) == (1, "")
    assert "SyntaxError" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGSEGV, signal.SIGKILL])
async def test_death_by_signal_is_a_negative_exit_code(sandbox: Sandbox, sig: signal.Signals) -> None:
    result = await sandbox.run(f"import os\nos.kill(os.getpid(), {int(sig)})", GENEROUS)
    assert result.exit_code == -sig
    assert result.timed_out is False


async def test_unicode_output_round_trips(sandbox: Sandbox) -> None:
    text = "héllo wörld ✓ 日本語 🐍"
    result = await sandbox.run(f"import sys\nprint({text!r})\nprint({text!r}, file=sys.stderr)", GENEROUS)
    assert (result.stdout, result.stderr) == (text + "\n", text + "\n")


async def test_unicode_source_code(sandbox: Sandbox) -> None:
    result = await sandbox.run("café = 'naïve'\nprint(café.upper(), len('日本'))", GENEROUS)
    assert result.stdout == "NAÏVE 2\n"


async def test_invalid_utf8_output_is_replaced_not_fatal(sandbox: Sandbox) -> None:
    result = await sandbox.run("import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end')", GENEROUS)
    assert (result.stdout, result.exit_code) == ("ok \ufffd\ufffd end", 0)


async def test_multi_line_program_with_functions_classes_and_stdlib(sandbox: Sandbox) -> None:
    code = (
        "import json, math, statistics, collections, itertools, datetime, re, decimal, fractions\n"
        "from dataclasses import dataclass\n\n"
        "@dataclass\nclass Point:\n    x: float\n    y: float\n\n"
        "    def norm(self) -> float:\n        return math.hypot(self.x, self.y)\n\n"
        "def fibonacci(n: int) -> int:\n    a, b = 0, 1\n"
        "    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n"
        "print(fibonacci(10))\n"
        "print(Point(3, 4).norm())\n"
        "print(statistics.mean([1, 2, 3, 4]))\n"
        "print(json.dumps(collections.Counter('abracadabra').most_common(2)))\n"
        "print(list(itertools.islice(itertools.count(5, 5), 3)))\n"
        "print(decimal.Decimal('0.1') + decimal.Decimal('0.2'), fractions.Fraction(1, 3) * 3)\n"
        "print(re.sub(r'\\d+', '#', 'a1b22c333'))\n"
        "print(datetime.date(2024, 2, 29).isoformat())\n"
    )
    result = await sandbox.run(code, GENEROUS)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "55",
        "5.0",
        "2.5",
        '[["a", 5], ["b", 2]]',
        "[5, 10, 15]",
        "0.3 1",
        "a#b#c#",
        "2024-02-29",
    ]


async def test_threads_subprocesses_and_temporary_files_work(sandbox: Sandbox) -> None:
    code = (
        "import concurrent.futures, subprocess, sys, tempfile\n"
        "with concurrent.futures.ThreadPoolExecutor(4) as pool:\n"
        "    print(sum(pool.map(lambda n: n * n, range(10))))\n"
        "print(subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True, text=True).stdout.strip())\n"
        "with tempfile.NamedTemporaryFile('w+') as f:\n"
        "    f.write('kept for the run'); f.flush(); f.seek(0); print(f.read())\n"
    )
    result = await sandbox.run(code, GENEROUS)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "285\n42\nkept for the run\n"


async def test_multiprocessing_works(sandbox: Sandbox) -> None:
    code = (
        "import multiprocessing as mp\n"
        "if __name__ == '__main__':\n"
        "    with mp.Pool(2) as pool:\n        print(pool.map(abs, [-1, -2, -3]))\n"
        "    queue = mp.Queue()\n    queue.put('queued')\n    print(queue.get())\n"
    )
    result = await sandbox.run(code, GENEROUS)
    assert (result.stdout, result.exit_code) == ("[1, 2, 3]\nqueued\n", 0), result.stderr


# --- stdin ------------------------------------------------------------------------------------


async def test_stdin_is_empty(sandbox: Sandbox) -> None:
    code = "import sys\nprint(repr(sys.stdin.read()))\ntry:\n    input()\nexcept EOFError:\n    print('EOFError')"
    result = await sandbox.run(code, GENEROUS)
    assert (result.stdout, result.exit_code) == ("''\nEOFError\n", 0)


async def test_a_bare_input_call_fails_with_a_message_saying_why(sandbox: Sandbox) -> None:
    result = await sandbox.run("name = input('name? ')", GENEROUS)
    assert result.exit_code == 1
    assert "EOFError" in result.stderr
    assert result.message is not None and "stdin" in result.message and "empty" in result.message


# --- timeout ----------------------------------------------------------------------------------


async def test_timeout_stops_the_run_and_keeps_the_output_so_far(sandbox: Sandbox) -> None:
    result = await sandbox.run("import time\nprint('working', flush=True)\nwhile True:\n    time.sleep(0.01)", SHORT)
    assert (result.timed_out, result.stopped_reason, result.exit_code) == (True, StopReason.TIMEOUT, None)
    assert result.truncated is False
    assert result.stdout == "working\n"
    assert "2 s" in (result.message or "")


async def test_timeout_kills_every_process_of_the_run(sandbox: Sandbox) -> None:
    marker = f"sandbox-test-{uuid.uuid4()}"
    result = await sandbox.run(grandchild(marker, detach_output=False, then="while True:\n    time.sleep(0.01)"), SHORT)
    assert result.timed_out is True
    assert result.stdout == "spawned\n"
    assert gone(marker), "a grandchild outlived the timeout"


async def test_background_processes_do_not_outlive_a_run_that_exits_normally(sandbox: Sandbox) -> None:
    marker = f"sandbox-test-{uuid.uuid4()}"
    result = await sandbox.run(grandchild(marker, detach_output=True, then="print('parent done')"), GENEROUS)
    assert result.exit_code == 0
    assert result.stdout == "spawned\nparent done\n"
    assert gone(marker), "a background process survived the run"


async def test_a_grandchild_holding_the_pipes_cannot_keep_a_run_alive(make_sandbox: MakeSandbox, mode: str) -> None:
    """With a pid namespace, the grandchild dies with the run's first process; without one, at the timeout."""
    sandbox = make_sandbox(mode)
    marker = f"sandbox-test-{uuid.uuid4()}"
    started = time.monotonic()
    result = await sandbox.run(grandchild(marker, detach_output=False, then="pass"), 5)
    assert time.monotonic() - started < 30
    if Layer.PID_NAMESPACE in sandbox.layers:
        assert (result.exit_code, result.timed_out) == (0, False)
    else:
        assert result.timed_out is True
    assert gone(marker)


async def test_a_process_cannot_leave_the_process_group(sandbox: Sandbox) -> None:
    """setsid() would escape the group kill: the seccomp filter refuses it."""
    code = (
        "import os, subprocess, sys\n"
        "try:\n    os.setsid()\nexcept PermissionError:\n    print('setsid refused')\n"
        "try:\n    subprocess.Popen([sys.executable, '-c', 'pass'], start_new_session=True).wait()\n"
        "except PermissionError:\n    print('new session refused')\n"
    )
    result = await sandbox.run(code, GENEROUS)
    assert result.stdout == "setsid refused\nnew session refused\n"


# --- output limit -----------------------------------------------------------------------------


async def test_output_over_the_limit_is_truncated_and_the_run_stopped(make_sandbox: MakeSandbox, mode: str) -> None:
    sandbox = make_sandbox(mode, output_limit_bytes=10_000)
    result = await sandbox.run("import sys\nwhile True:\n    sys.stdout.write('x' * 1000)", GENEROUS)
    assert result.stdout == "x" * 10_000
    assert (result.truncated, result.stdout_truncated, result.stderr_truncated) == (True, True, False)
    assert (result.stopped_reason, result.timed_out, result.exit_code) == (StopReason.OUTPUT_LIMIT, False, None)


async def test_output_exactly_at_the_limit_is_not_truncated(make_sandbox: MakeSandbox, mode: str) -> None:
    result = await make_sandbox(mode, output_limit_bytes=1000).run("import sys\nsys.stdout.write('a' * 1000)", GENEROUS)
    assert result.stdout == "a" * 1000
    assert (result.truncated, result.stopped_reason, result.exit_code) == (False, None, 0)


async def test_one_byte_over_the_limit_is_truncated(make_sandbox: MakeSandbox, mode: str) -> None:
    result = await make_sandbox(mode, output_limit_bytes=1000).run("import sys\nsys.stdout.write('a' * 1001)", GENEROUS)
    assert result.stdout == "a" * 1000
    assert (result.truncated, result.stopped_reason) == (True, StopReason.OUTPUT_LIMIT)


async def test_stdout_and_stderr_are_capped_separately(make_sandbox: MakeSandbox, mode: str) -> None:
    code = "import sys\nsys.stdout.write('o' * 900)\nsys.stdout.flush()\nsys.stderr.write('e' * 1500)"
    result = await make_sandbox(mode, output_limit_bytes=1000).run(code, GENEROUS)
    assert result.stdout == "o" * 900
    assert result.stderr == "e" * 1000
    assert (result.stdout_truncated, result.stderr_truncated, result.truncated) == (False, True, True)


async def test_stderr_alone_can_hit_the_limit(make_sandbox: MakeSandbox, mode: str) -> None:
    code = "import sys\nwhile True:\n    sys.stderr.write('e' * 1000)"
    result = await make_sandbox(mode, output_limit_bytes=5000).run(code, GENEROUS)
    assert result.stderr == "e" * 5000
    assert result.stopped_reason is StopReason.OUTPUT_LIMIT


async def test_truncation_inside_a_multibyte_character_is_replaced_not_fatal(make_sandbox: MakeSandbox) -> None:
    result = await make_sandbox(output_limit_bytes=5).run("print('é' * 10)", GENEROUS)
    assert result.stdout == "éé\ufffd"
    assert result.truncated is True


async def test_a_run_stopped_at_the_output_limit_leaves_no_pipe_open(make_sandbox: MakeSandbox) -> None:
    """Every pipe transport must be closed when the run returns, not left for the garbage collector."""
    sandbox = make_sandbox(output_limit_bytes=1000)
    gc.collect()  # what earlier tests left for the collector (e.g. their event loops) is not this run's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = await sandbox.run("print('x' * 1_000_000)", GENEROUS)
        gc.collect()
    assert result.stopped_reason is StopReason.OUTPUT_LIMIT
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


# --- environment, files, persistence ------------------------------------------------------------


async def test_the_environment_is_scrubbed(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "s3cr3t-value")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setenv("LD_PRELOAD", "/evil.so")
    result = await sandbox.run(
        "import os\nfor key in sorted(os.environ):\n    print(key, '=', os.environ[key])", GENEROUS
    )
    assert "s3cr3t-value" not in result.stdout
    keys = {line.split(" = ")[0] for line in result.stdout.splitlines()}
    assert keys - {"PWD"} == {
        "PATH", "HOME", "TMPDIR", "LANG", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE", "USER", "LOGNAME",
        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MPLBACKEND",
    }  # fmt: skip


async def test_home_tmpdir_and_cwd_are_the_runs_own_directory(sandbox: Sandbox) -> None:
    code = "import os, tempfile\nprint(os.getcwd())\nprint(os.environ['HOME'])\nprint(tempfile.gettempdir())"
    cwd, home, tmp = (await sandbox.run(code, GENEROUS)).stdout.splitlines()
    assert home == cwd == tmp
    if sandbox.uses_bwrap:
        assert cwd == "/sandbox"
    else:
        assert Path(cwd).parent == sandbox.runtime_dir


@pytest.mark.parametrize(
    ("code", "timeout_seconds"),
    [
        ("open('left-behind.txt', 'w').write('data')", GENEROUS),
        ("import time\nopen('f', 'w').write('x')\ntime.sleep(60)", SHORT),
        ("open('f', 'w').write('x')\nraise SystemExit(4)", GENEROUS),
    ],
    ids=["clean-exit", "timeout", "failure"],
)
async def test_nothing_of_a_run_is_left_on_the_host(sandbox: Sandbox, code: str, timeout_seconds: float) -> None:
    await sandbox.run(code, timeout_seconds)
    assert sorted(p.name for p in sandbox.runtime_dir.iterdir()) == ["etc"]


async def test_the_system_and_dev_are_read_only_with_namespaces(make_sandbox: MakeSandbox) -> None:
    code = (
        "for path in ('/usr/evil', '/etc/evil', '/evil', '/dev/evil', '/dev/shm/ok', '/sandbox/ok', '/tmp/ok'):\n"
        "    try:\n        open(path, 'a').write('x')\n        print(path, 'written')\n"
        "    except OSError as exc:\n        print(path, 'refused', exc.errno)\n"
    )
    lines = (await make_sandbox("namespaced").run(code, GENEROUS)).stdout.splitlines()
    assert [line.split()[1] for line in lines] == ["refused"] * 4 + ["written"] * 3, lines


async def test_each_run_starts_fresh(sandbox: Sandbox) -> None:
    code = "import os\nprint(sorted(os.listdir('.')))\nopen('mine.txt', 'w').close()\nprint(os.getcwd())"
    first = await sandbox.run(code, GENEROUS)
    second = await sandbox.run(code, GENEROUS)
    assert first.stdout.splitlines()[0] == second.stdout.splitlines()[0] == "['main.py']"


# --- limits -----------------------------------------------------------------------------------


async def test_memory_limit_is_a_memory_error_with_its_reason(make_sandbox: MakeSandbox, mode: str) -> None:
    sandbox = make_sandbox(mode, memory_limit_bytes=256 * 1024 * 1024)
    result = await sandbox.run("data = bytearray(1024 ** 3)\nprint('allocated')", GENEROUS)
    assert result.exit_code == 1
    assert "MemoryError" in result.stderr
    assert result.stopped_reason is StopReason.MEMORY
    assert "256 MiB" in (result.message or "")


async def test_process_limit_stops_a_fork_bomb(make_sandbox: MakeSandbox, mode: str) -> None:
    sandbox = make_sandbox(mode, max_processes=16)
    code = "import os, time\nwhile True:\n    os.fork()\n"
    result = await sandbox.run(code, 5)
    assert result.stopped_reason in (StopReason.PROCESS_LIMIT, StopReason.TIMEOUT), result
    assert "Resource temporarily unavailable" in result.stderr
    after = await sandbox.run("print('still fine')", GENEROUS)
    assert after.stdout == "still fine\n"


async def test_thread_limit_is_the_process_limit(make_sandbox: MakeSandbox, mode: str) -> None:
    sandbox = make_sandbox(mode, max_processes=16)
    code = "import threading, time\nfor _ in range(64):\n"
    code += "    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()"
    result = await sandbox.run(code, GENEROUS)
    assert result.stopped_reason is StopReason.PROCESS_LIMIT, result
    assert "can't start new thread" in result.stderr


async def test_file_size_limit(make_sandbox: MakeSandbox, mode: str) -> None:
    sandbox = make_sandbox(mode, max_file_bytes=1024 * 1024)
    result = await sandbox.run("open('big', 'wb').write(b'x' * (2 * 1024 * 1024))", GENEROUS)
    assert result.stopped_reason is StopReason.FILE_SIZE, result
    assert "File too large" in result.stderr


async def test_open_files_limit(make_sandbox: MakeSandbox, mode: str) -> None:
    sandbox = make_sandbox(mode, max_open_files=32)
    result = await sandbox.run("files = [open('/dev/null') for _ in range(100)]", GENEROUS)
    assert result.stopped_reason is StopReason.OPEN_FILES, result


async def test_disk_quota_of_the_runs_private_tmpfs(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox("namespaced", disk_quota_bytes=8 * 1024 * 1024, max_file_bytes=4 * 1024 * 1024)
    code = "n = 0\nwhile True:\n    open(f'part{n}', 'wb').write(b'x' * (1024 * 1024))\n    n += 1"
    result = await sandbox.run(code, GENEROUS)
    assert result.stopped_reason is StopReason.DISK_QUOTA, result
    assert "No space left on device" in result.stderr


@pytest.mark.parametrize("directory", [".", "/dev/shm"])
async def test_empty_files_stop_at_the_inode_limit(make_sandbox: MakeSandbox, directory: str) -> None:
    """Issue 14, finding 6: empty files cost nothing of the size quota but ~1 KiB of kernel memory each."""
    sandbox = make_sandbox("namespaced", disk_inodes=300)
    assert Layer.INODE_LIMITS in sandbox.layers
    code = (
        "import os\nn = 0\ntry:\n    while n < 100_000:\n"
        f"        open(os.path.join({directory!r}, 'f%d' % n), 'w').close()\n        n += 1\n"
        "finally:\n    print(n)"
    )
    result = await sandbox.run(code, GENEROUS)
    assert int(result.stdout) < 300, result
    assert result.stopped_reason is StopReason.DISK_QUOTA, result
    assert result.message == "the run's disk space is full (64 MiB, 300 files)"


async def test_without_namespaces_there_is_no_inode_limit_layer(make_sandbox: MakeSandbox) -> None:
    assert Layer.INODE_LIMITS not in make_sandbox("direct").layers


async def test_cpu_time_limit_signal_is_reported(sandbox: Sandbox) -> None:
    result = await sandbox.run("import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)", GENEROUS)
    assert result.exit_code == -signal.SIGXCPU
    assert result.stopped_reason is StopReason.CPU_TIME


async def test_the_limits_are_the_configured_ones(make_sandbox: MakeSandbox, mode: str) -> None:
    sandbox = make_sandbox(
        mode, memory_limit_bytes=300 * 1024 * 1024, max_processes=20, max_file_bytes=5 * 1024 * 1024, max_open_files=40
    )
    code = (
        "import resource as r\n"
        "for name in ('RLIMIT_AS', 'RLIMIT_NPROC', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE', 'RLIMIT_CORE', 'RLIMIT_CPU'):\n"
        "    print(name, *r.getrlimit(getattr(r, name)))"
    )
    lines = (await sandbox.run(code, 7.5)).stdout.splitlines()
    assert lines == [
        f"RLIMIT_AS {300 * 1024 * 1024} {300 * 1024 * 1024}",
        "RLIMIT_NPROC 20 20",
        f"RLIMIT_FSIZE {5 * 1024 * 1024} {5 * 1024 * 1024}",
        "RLIMIT_NOFILE 40 40",
        "RLIMIT_CORE 0 0",
        "RLIMIT_CPU 8 9",
    ]


async def test_runs_get_a_low_cpu_priority_and_go_first_when_memory_runs_out(sandbox: Sandbox) -> None:
    code = "import os\nprint(os.getpriority(os.PRIO_PROCESS, 0))"
    if Layer.PRIVATE_PROC in sandbox.layers or not sandbox.uses_bwrap:
        code += "\nprint(open('/proc/self/oom_score_adj').read().strip())"
    lines = (await sandbox.run(code, GENEROUS)).stdout.splitlines()
    assert lines[0] == "10"
    if len(lines) > 1:
        assert lines[1] == "1000"


# --- layer selection and result mapping ---------------------------------------------------------


async def test_layers_can_be_turned_off(make_sandbox: MakeSandbox) -> None:
    bare = make_sandbox("direct", layers=frozenset())
    assert bare.layers == {Layer.PROCESS_GROUP, Layer.SCRUBBED_ENV}
    code = "import resource, socket\nprint(resource.getrlimit(resource.RLIMIT_NPROC)[0] == resource.RLIM_INFINITY)\n"
    code += "socket.socket(socket.AF_INET).close()\nprint('inet socket')"
    result = await bare.run(code, GENEROUS)
    assert result.stdout.splitlines()[-1] == "inet socket"
    assert result.isolation == ["process_group", "scrubbed_env"]


def test_asking_for_any_namespace_brings_the_user_and_mount_namespaces(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox("direct", layers=frozenset({Layer.NETWORK_NAMESPACE}))
    assert {Layer.NETWORK_NAMESPACE, Layer.USER_NAMESPACE, Layer.MOUNT_NAMESPACE} <= sandbox.layers
    assert not sandbox.layers & {Layer.PID_NAMESPACE, Layer.IPC_NAMESPACE, Layer.RLIMITS, Layer.SECCOMP}


def test_an_unusable_interpreter_leaves_only_the_layers_that_need_no_probe(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox("direct", python="/nonexistent/python3", layers=None)
    assert sandbox.host.available == {Layer.PROCESS_GROUP, Layer.SCRUBBED_ENV}
    assert {Layer.RLIMITS, Layer.SECCOMP, *NAMESPACES} <= set(sandbox.host.missing)
    assert all(reason for reason in sandbox.host.missing.values())


def _supervised(returncode: int | None, stderr: str = "", stopped: StopReason | None = None) -> Supervised:
    return Supervised("", stderr, False, False, returncode, stopped, 0.1)


@pytest.mark.parametrize(
    ("namespaced", "returncode", "exit_code", "reason"),
    [
        (True, 128 + 9, -9, None),
        (True, 128 + 24, -24, StopReason.CPU_TIME),
        (True, 128 + 25, -25, StopReason.FILE_SIZE),
        (True, 1, 1, None),
        (False, -24, -24, StopReason.CPU_TIME),
        (False, 137, 137, None),  # without bubblewrap an exit status is what the process returned
    ],
)
def test_exit_status_mapping(
    make_sandbox: MakeSandbox, namespaced: bool, returncode: int, exit_code: int, reason: StopReason | None
) -> None:
    sandbox = make_sandbox("namespaced" if namespaced else "direct")
    result: ExecutionResult = sandbox._result(_supervised(returncode), 5.0, None)
    assert (result.exit_code, result.stopped_reason) == (exit_code, reason)


def test_the_uncaught_exception_is_found_in_interleaved_tracebacks() -> None:
    # as a fork bomb's processes wrote it (CI, 2026-11-23): the very last line is the middle of a traceback
    stderr = (
        "Traceback (most recent call last):\nTraceback (most recent call last):\n"
        '  File "/sandbox/main.py", line 3, in <module>\n    os.fork()\n'
        "BlockingIOError: [Errno 11] Resource temporarily unavailable\n"
        'Traceback (most recent call last):\n  File "/sandbox/main.py", line 3, in <module>\n'
    )
    assert uncaught_exception_line(stderr) == "BlockingIOError: [Errno 11] Resource temporarily unavailable"
    assert uncaught_exception_line("MemoryError\n") == "MemoryError"
    assert uncaught_exception_line("x\nmodule.sub.CustomError: boom\n\n") == "module.sub.CustomError: boom"
    assert uncaught_exception_line("no exception here\n") == "no exception here"
    assert uncaught_exception_line("") == ""
