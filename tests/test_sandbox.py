"""Tests for autograder.sandbox: kernels for untrusted code, driven by nbclient.

Most checks share one sandboxed kernel (module fixture); each of those cells
leaves no state the others depend on.  Tests that interrupt, kill or
configure a kernel differently start their own.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograder.kernels import sandbox
from autograder.kernels.sandbox import SandboxedKernelManager, SandboxLimits, SandboxUnavailable, isolation

REPO = Path(__file__).resolve().parents[1]
UID = SandboxLimits().uid
ROOTLESS = os.geteuid() != 0
"""No skips: as root, and as an ordinary user (tests/test_as_instructor.py runs this module as one)."""


@contextmanager
def sandboxed_kernel(workdir: Path, **client_options: Any) -> Iterator[NotebookClient]:
    """Start a SandboxedKernelManager kernel the way nbclient does; shut it down after."""
    options: dict[str, Any] = {"timeout": 60, "allow_errors": True, **client_options}
    client = NotebookClient(
        new_notebook(),
        kernel_manager_class=SandboxedKernelManager,
        resources={"metadata": {"path": str(workdir)}},
        **options,
    )
    with client.setup_kernel():
        yield client


def run(client: NotebookClient, code: str) -> NotebookNode:
    """Execute `code` as a new cell of the client's notebook and return the cell."""
    cell = new_code_cell(code)
    client.nb.cells.append(cell)
    client.execute_cell(cell, len(client.nb.cells) - 1)
    return cell


def stdout(cell: NotebookNode) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def errors(cell: NotebookNode) -> list[str]:
    return [out.ename for out in cell.outputs if out.output_type == "error"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox")


@pytest.fixture(scope="module")
def kernel(workdir: Path) -> Iterator[NotebookClient]:
    (workdir / "given.txt").write_text("handed in")
    os.chmod(workdir, 0o755)
    with sandboxed_kernel(workdir) as client:
        yield client


# --- one shared sandboxed kernel -------------------------------------------------


def test_runs_unprivileged_with_limits(kernel: NotebookClient) -> None:
    cell = run(
        kernel,
        "import os, resource\n"
        "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "print(status['Uid'].split(), status['Gid'].split(), status['CapEff'].strip())\n"
        "print(resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_NPROC))",
    )
    assert errors(cell) == []
    limits = SandboxLimits()
    assert stdout(cell).splitlines() == [
        f"{[str(UID)] * 4} {[str(UID)] * 4} 0000000000000000",
        f"{(limits.memory_bytes,) * 2} {(limits.max_processes,) * 2}",
    ]


def test_numpy_and_matplotlib_plot(kernel: NotebookClient, workdir: Path) -> None:
    name = f"plot-{uuid.uuid4().hex}.png"
    cell = run(
        kernel,
        "import numpy as np\nimport matplotlib.pyplot as plt\n"
        "x = np.linspace(0, 1, 50)\nplt.plot(x, x**2)\n"
        f"plt.savefig({name!r})\nplt.show()\nprint(float(np.sum(x)), open({name!r}, 'rb').read(4))",
    )
    assert errors(cell) == []
    assert stdout(cell).strip() == "25.0 b'\\x89PNG'"
    assert any("image/png" in out.get("data", {}) for out in cell.outputs)
    assert not (workdir / name).exists()  # written to the kernel's own job folder, not the host's


def test_course_repo_is_invisible(kernel: NotebookClient) -> None:
    secret = REPO / "nbgrader_config.py"
    assert secret.exists()
    cell = run(
        kernel,
        f"import os\nrepo = {str(REPO)!r}\n"
        "print(sorted(os.listdir(repo)) if os.path.isdir(repo) else [])\n"
        f"try:\n    open({str(secret)!r})\nexcept OSError as exc:\n    print(type(exc).__name__)",
    )
    venv = [Path(sys.prefix).name] if Path(sys.prefix).parent == REPO else []
    assert stdout(cell).splitlines() == [str(venv), "FileNotFoundError"]


def test_import_autograder_fails(kernel: NotebookClient) -> None:
    assert errors(run(kernel, "import autograder")) == ["ModuleNotFoundError"]


def test_writes_outside_workdir_fail(kernel: NotebookClient) -> None:
    # The runtime folder (connection file, sockets) is on the host's disk: sealed once the kernel listens.
    runtime = kernel.km._runtime_dir
    targets = ["/usr/evil", f"{sys.prefix}/evil", "/evil", "/etc/evil", f"{REPO}/evil", f"{runtime}/private/evil"]
    cell = run(
        kernel,
        f"for path in {targets!r}:\n"
        "    try:\n        open(path, 'w')\n        print('wrote', path)\n"
        "    except OSError as exc:\n        print(type(exc).__name__)",
    )
    lines = stdout(cell).splitlines()
    assert len(lines) == len(targets)
    wrote = {target for target, line in zip(targets, lines) if line.startswith("wrote")}
    # In a clone under /tmp, the folders above the venv's mount point exist only in the sandbox's own
    # private /tmp: writable there, and gone with the kernel.  Nothing reaches the host.
    assert wrote <= ({f"{REPO}/evil"} if REPO.is_relative_to("/tmp") else set())
    assert not any(os.path.exists(path) for path in targets)


def test_tmp_is_private(kernel: NotebookClient) -> None:
    path = f"/tmp/sandbox-{uuid.uuid4().hex}"
    cell = run(kernel, f"open({path!r}, 'w').write('hidden')\nprint(open({path!r}).read())")
    assert stdout(cell).strip() == "hidden"
    assert not os.path.exists(path)


def test_job_folder_is_a_private_copy_the_kernel_owns(kernel: NotebookClient, workdir: Path) -> None:
    name = f"answer-{uuid.uuid4().hex}.txt"
    cell = run(
        kernel,
        f"import os\nopen({name!r}, 'w').write('42')\n"
        f"print(open('given.txt').read(), os.stat({name!r}).st_uid, os.stat('given.txt').st_uid, os.getcwd())",
    )
    assert stdout(cell).strip() == f"handed in {UID} {UID} {workdir}"
    assert not (workdir / name).exists()  # nothing the kernel writes reaches the host
    assert (workdir / "given.txt").stat().st_uid == os.getuid()  # and the host's files keep their owner


def test_job_folder_is_bounded_in_bytes_and_files(kernel: NotebookClient, workdir: Path) -> None:
    limits = SandboxLimits()
    before = shutil.disk_usage(tempfile.gettempdir()).used
    cell = run(
        kernel,
        "import errno, os\nwritten = 0\n"
        "try:\n    with open('big', 'wb') as f:\n        while True:\n"
        "            f.write(b'x' * 2**20)\n            f.flush()\n            written += 2**20\n"
        "except OSError as exc:\n    print(errno.errorcode[exc.errno], written)",
    )
    stopped_by, written = stdout(cell).split()
    # Measured while the file exists: the host's disk never saw it (a tmpfs, in memory, gone with
    # the kernel).  Half of it is far more than anything else on this machine writes meanwhile.
    grew = shutil.disk_usage(tempfile.gettempdir()).used - before
    assert stopped_by == "ENOSPC" and limits.job_bytes - 2**21 <= int(written) <= limits.job_bytes
    assert grew < int(written) // 2
    cell = run(
        kernel,
        "import errno, os\nos.remove('big')\nfiles = 0\n"
        "try:\n    while True:\n        open(f'f{files}', 'w').close()\n        files += 1\n"
        "except OSError as exc:\n    print(errno.errorcode[exc.errno], files)\n"
        "for i in range(files):\n    os.remove(f'f{i}')",
    )
    stopped_by, files = stdout(cell).split()
    assert stopped_by == "ENOSPC" and limits.job_files - 16 <= int(files) < limits.job_files
    assert sorted(p.name for p in workdir.iterdir()) == ["given.txt"]


def test_no_network(kernel: NotebookClient) -> None:
    # A real listener on the host's loopback: only isolation can make this fail.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        cell = run(
            kernel,
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n    print('connected')\n"
            "except OSError as exc:\n    print('blocked')",
        )
    assert stdout(cell).strip() == "blocked"


def test_memory_limit_raises_memory_error(kernel: NotebookClient) -> None:
    cell = run(kernel, "import numpy as np\nbig = np.ones(3 * 2**30 // 8)")
    assert errors(cell) == ["MemoryError"]
    assert stdout(run(kernel, "print('still alive')")).strip() == "still alive"


def test_process_limit_stops_fork_bomb(kernel: NotebookClient) -> None:
    cell = run(
        kernel,
        "import subprocess\nprocs, error = [], None\ntry:\n"
        "    for _ in range(200):\n        procs.append(subprocess.Popen(['sleep', '60']))\n"
        "except OSError as exc:\n    error = exc\nfinally:\n"
        "    for p in procs:\n        p.kill()\n        p.wait()\n"
        "print(len(procs), type(error).__name__)",
    )
    count, error = stdout(cell).split()
    assert int(count) < SandboxLimits().max_processes
    assert error == "BlockingIOError"


# --- kernels of their own -----------------------------------------------------------


def test_interrupt_on_timeout_keeps_kernel(tmp_path: Path) -> None:
    timeout_error = {"ename": "CellTimeoutError", "evalue": "", "traceback": []}
    with sandboxed_kernel(tmp_path, timeout=3, interrupt_on_timeout=True, error_on_timeout=timeout_error) as client:
        looping = run(
            client,
            "state = 'started'\ntry:\n    while True:\n        pass\n"
            "except KeyboardInterrupt:\n    state = 'interrupted'\n    raise",
        )
        after = run(client, "print(state)")
    # nbclient waits for the cell's iopub messages after interrupting, so the
    # kernel's own KeyboardInterrupt traceback lands in the cell.
    assert "KeyboardInterrupt" in errors(looping)
    assert stdout(after).strip() == "interrupted"


@pytest.mark.parametrize("shutdown", ["graceful", "immediate"])
def test_processes_die_with_kernel(tmp_path: Path, shutdown: str) -> None:
    marker = f"sandbox-marker-{uuid.uuid4().hex}"
    with sandboxed_kernel(tmp_path, shutdown_kernel=shutdown) as client:
        assert isinstance(client.km, SandboxedKernelManager)
        runtime_dir = client.km._runtime_dir
        # A child and a double-forked daemon in its own session; each writes
        # to the pipe once it runs, so the cell returns when both exist.
        cell = run(
            client,
            "import os, subprocess, sys\nr, w = os.pipe()\n"
            "code = f'import os, time; os.write({w}, b\"x\"); time.sleep(1000)'\n"
            f"subprocess.Popen([sys.executable, '-c', code, '{marker}'], pass_fds=[w])\n"
            f"subprocess.run(['setsid', '-f', sys.executable, '-c', code, '{marker}'], pass_fds=[w], check=True)\n"
            "os.close(w)\ngot = b''\nwhile len(got) < 2:\n    got += os.read(r, 2)\nprint(len(got))",
        )
        assert stdout(cell).strip() == "2"
        procs = [proc for proc in psutil.process_iter(["cmdline"]) if marker in (proc.info["cmdline"] or [])]
        assert len(procs) == 2
    _gone, alive = psutil.wait_procs(procs, timeout=10)
    assert alive == []
    assert runtime_dir is not None and not os.path.exists(runtime_dir)


def test_fails_closed_without_bubblewrap(tmp_path: Path) -> None:
    client = NotebookClient(
        new_notebook(),
        kernel_manager_class=SandboxedKernelManager,
        config=Config({"SandboxedKernelManager": {"bwrap": "/nonexistent/bwrap"}}),
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with pytest.raises(SandboxUnavailable, match="not installed") as refused:
        with client.setup_kernel():
            pass
    message = str(refused.value)
    assert "apt-get install bubblewrap" in message and "allow_unsandboxed" in message
    assert ("user namespaces" in message) == ROOTLESS  # rootless, the kernel's namespaces need them too


def test_unprotected_only_when_allowed_and_then_loudly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="autograder.kernels.sandbox")
    config = Config({"SandboxedKernelManager": {"bwrap": "/nonexistent/bwrap", "allow_unsandboxed": True}})
    # Without a private mount tree the uid must reach the workdir on the host,
    # so no 0700 pytest folder here.
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        client = NotebookClient(
            new_notebook(), kernel_manager_class=SandboxedKernelManager, config=config, timeout=60,
            allow_errors=True, resources={"metadata": {"path": tmp}},
        )  # fmt: skip
        with client.setup_kernel():
            assert client.km.unprotected
            cell = run(client, "import os, resource\nprint(os.getuid(), resource.getrlimit(resource.RLIMIT_AS)[0])")
    # As root, dropped to UID unless that uid cannot reach the interpreter (e.g. under /root).
    uid = os.getuid() if ROOTLESS else (UID if sandbox._python_runs_as(UID) else 0)
    assert stdout(cell).split() == [str(uid), str(SandboxLimits().memory_bytes)]
    assert "WITHOUT the sandbox" in caplog.text and "not installed" in caplog.text


def test_options_come_from_traitlets_config() -> None:
    # How nbgrader / nbconvert configure it: c.SandboxedKernelManager.<trait>.
    config = Config({"SandboxedKernelManager": {"bwrap": "/opt/bwrap", "allow_unsandboxed": True, "uid": 60002}})
    client = NotebookClient(new_notebook(), kernel_manager_class=SandboxedKernelManager, config=config)
    km = client.create_kernel_manager()
    assert isinstance(km, SandboxedKernelManager)
    assert (km.bwrap, km.allow_unsandboxed, km.uid, km.limits) == ("/opt/bwrap", True, 60002, SandboxLimits())


def test_the_sandbox_works_here_as_this_user() -> None:
    # `make setup` installs bubblewrap; CI runs as root, and the instructor's own user runs this
    # module through tests/test_as_instructor.py. Either way the grader must find a sandbox.
    found = isolation()
    assert found.problem is None and found.bwrap is not None
    assert found.rootless == ROOTLESS


# --- workdir preparation, no kernel --------------------------------------------------


def test_a_symlink_handed_in_stays_a_link_to_nowhere(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("the instructor's")
    workdir = tmp_path / "work"
    (workdir / "sub").mkdir(parents=True)
    (workdir / "sub" / "file.txt").write_text("student's")
    (workdir / "link").symlink_to(outside)
    os.chmod(tmp_path, 0o755)
    with sandboxed_kernel(workdir) as client:
        cell = run(
            client,
            "import os\nprint(open('sub/file.txt').read(), os.path.islink('link'), os.path.exists('link'))",
        )
    assert stdout(cell).split() == ["student's", "True", "False"]
    assert outside.stat().st_uid == os.getuid() and outside.read_text() == "the instructor's"


@pytest.mark.parametrize("protected", [sys.prefix, str(Path(sys.prefix).parent), "/"])
def test_refuses_workdir_holding_the_venv(protected: str) -> None:
    with pytest.raises(ValueError, match="refusing"):
        SandboxedKernelManager(workdir=protected)._resolve_workdir(None)


def test_needs_a_workdir() -> None:
    with pytest.raises(ValueError, match="workdir"):
        SandboxedKernelManager()._resolve_workdir(None)


def test_runtime_dir_entries_cannot_be_swapped_by_the_kernel() -> None:
    path = SandboxedKernelManager()._make_runtime_dir(ROOTLESS)
    try:
        top, private = os.stat(path), os.stat(os.path.join(path, "private"))
        assert (stat.S_IMODE(top.st_mode), top.st_uid) == (0o711, os.getuid())
        # Rootless, the kernel's uid is the instructor's own user seen through its namespace.
        assert (stat.S_IMODE(private.st_mode), private.st_uid) == (0o700, os.getuid() if ROOTLESS else UID)
    finally:
        shutil.rmtree(path)


def test_the_lifeline_starts_nothing_when_the_grader_is_already_gone() -> None:
    # A parent pid that is not the parent: as if the grader died before the lifeline ran.
    wrong_parent = str(os.getpid() + 1_000_000)
    argv = [*sandbox.lifeline()[:-1], wrong_parent, shutil.which("echo") or "/bin/echo", "started"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "started" not in done.stdout
    assert "the grader is gone" in done.stderr


def test_what_the_lifeline_starts_dies_with_its_starter() -> None:
    # A stand-in grader starts `sleep` through the lifeline, then is killed outright.
    starter = (
        "import subprocess, sys\n"
        "from autograder.kernels import sandbox\n"
        "child = subprocess.Popen([*sandbox.lifeline(), sys.argv[1], '600'])\n"
        "print(child.pid, flush=True)\n"
        "child.wait()\n"
    )
    grader = subprocess.Popen([sys.executable, "-c", starter, shutil.which("sleep") or "/bin/sleep"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert grader.stdout is not None
    sleeper = psutil.Process(int(grader.stdout.readline()))
    try:
        grader.kill()
        grader.wait(timeout=60)
        gone, alive = psutil.wait_procs([sleeper], timeout=30)
        assert alive == [], "the command outlived the process that started it"
    finally:
        if sleeper.is_running():
            sleeper.kill()


def test_a_command_that_drops_its_parent_death_signal_still_dies_with_the_grader() -> None:
    """bwrap asks to die with its parent late, and asks again after changing its credentials (which
    clears the request): a grader killed in those gaps used to leave bwrap and the kernel running.
    Here the command drops the request for good; the lifeline still takes it down with the grader."""
    marker = f"dropped-{uuid.uuid4().hex}"
    drops = (
        "import ctypes, signal, sys\n"
        "ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG: none\n"
        "print('dropped', flush=True)\n"
        "signal.pause()\n"
    )
    starter = (
        "import subprocess, sys\n"
        "from autograder.kernels import sandbox\n"
        "child = subprocess.Popen([*sandbox.lifeline(), sys.executable, '-c', sys.argv[1], sys.argv[2]],\n"
        "                         stdout=subprocess.PIPE, text=True)\n"
        "print(child.stdout.readline().strip(), flush=True)\n"
        "child.wait()\n"
    )
    grader = subprocess.Popen([sys.executable, "-c", starter, drops, marker], stdout=subprocess.PIPE, text=True)
    assert grader.stdout is not None
    try:
        assert grader.stdout.readline().strip() == "dropped"
        started = [p for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]
        assert len(started) >= 2  # the grader and the command (and the lifeline between them)
    finally:
        grader.kill()
        grader.wait(timeout=60)
    _, alive = psutil.wait_procs(started, timeout=15)
    for p in alive:
        p.kill()
    assert alive == [], "the command outlived the grader"


def test_an_interrupt_reaches_the_kernel_not_bwrap() -> None:
    argv = [*sandbox.lifeline(), sys.executable, "-c",
            "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"
