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

from autograder import sandbox
from autograder.sandbox import SandboxedKernelManager, SandboxLimits, bwrap_path, sandbox_warning

REPO = Path(__file__).resolve().parents[1]
UID = SandboxLimits().uid

# The sandbox chowns the workdir and drops root: it is meant to run as root.
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root")
needs_bwrap = pytest.mark.skipif(bwrap_path() is None, reason=str(sandbox_warning()))
needs_util_linux = pytest.mark.skipif(
    not (shutil.which("setpriv") and shutil.which("prlimit")), reason="needs setpriv and prlimit"
)


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
    if bwrap_path() is None:
        pytest.skip(str(sandbox_warning()))
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
        f"plt.savefig({name!r})\nplt.show()\nprint(float(np.sum(x)))",
    )
    assert errors(cell) == []
    assert stdout(cell).strip() == "25.0"
    assert any("image/png" in out.get("data", {}) for out in cell.outputs)
    assert (workdir / name).read_bytes().startswith(b"\x89PNG")


def test_course_repo_is_invisible(kernel: NotebookClient) -> None:
    secret = REPO / "autograder" / "sandbox.py"
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
    targets = ["/usr/evil", f"{sys.prefix}/evil", "/evil", "/etc/evil", f"{REPO}/evil"]
    cell = run(
        kernel,
        f"for path in {targets!r}:\n"
        "    try:\n        open(path, 'w')\n        print('wrote', path)\n"
        "    except OSError as exc:\n        print(type(exc).__name__)",
    )
    lines = stdout(cell).splitlines()
    assert len(lines) == len(targets) and not any(line.startswith("wrote") for line in lines)
    assert not any(os.path.exists(path) for path in targets)


def test_tmp_is_private(kernel: NotebookClient) -> None:
    path = f"/tmp/sandbox-{uuid.uuid4().hex}"
    cell = run(kernel, f"open({path!r}, 'w').write('hidden')\nprint(open({path!r}).read())")
    assert stdout(cell).strip() == "hidden"
    assert not os.path.exists(path)


def test_workdir_is_writable_and_shared(kernel: NotebookClient, workdir: Path) -> None:
    name = f"answer-{uuid.uuid4().hex}.txt"
    assert errors(run(kernel, f"open({name!r}, 'w').write('42')")) == []
    assert (workdir / name).read_text() == "42"
    assert (workdir / name).stat().st_uid == UID


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


@needs_bwrap
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


@needs_bwrap
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


@needs_util_linux
def test_fallback_without_bwrap(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sandbox, "_probe_bwrap", lambda: (None, "bwrap broken for this test"))
    assert "bwrap broken for this test" in str(sandbox_warning())
    caplog.set_level(logging.WARNING, logger="autograder.sandbox")
    # Without a private mount tree the uid must reach the workdir on the host,
    # so no 0700 pytest folder here.
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        with sandboxed_kernel(Path(tmp)) as client:
            cell = run(
                client,
                "import os, resource\nprint(os.getuid(), resource.getrlimit(resource.RLIMIT_AS)[0])\n"
                "open('out.txt', 'w').write('ok')",
            )
        # Root only if this uid cannot reach the interpreter (e.g. under /root).
        uid = UID if sandbox._python_runs_as(UID) else 0
        assert stdout(cell).split() == [str(uid), str(SandboxLimits().memory_bytes)]
        assert Path(tmp, "out.txt").read_text() == "ok"
    assert "NO SANDBOX" in caplog.text and "bwrap broken for this test" in caplog.text
    assert uid == UID or "runs as ROOT" in caplog.text


def test_options_come_from_traitlets_config() -> None:
    # How nbgrader / nbconvert configure it: c.SandboxedKernelManager.<trait>.
    config = Config({"SandboxedKernelManager": {"use_bwrap": False, "uid": 60002}})
    client = NotebookClient(new_notebook(), kernel_manager_class=SandboxedKernelManager, config=config)
    km = client.create_kernel_manager()
    assert isinstance(km, SandboxedKernelManager)
    assert (km.use_bwrap, km.uid, km.limits) == (False, 60002, SandboxLimits())


# --- workdir preparation, no kernel --------------------------------------------------


def test_workdir_chown_does_not_follow_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("root's")
    workdir = tmp_path / "work"
    (workdir / "sub").mkdir(parents=True)
    (workdir / "sub" / "file.txt").write_text("student's")
    (workdir / "link").symlink_to(outside)
    SandboxedKernelManager(workdir=str(workdir))._resolve_workdir(None)
    assert (workdir / "sub" / "file.txt").stat().st_uid == UID
    assert (workdir / "link").lstat().st_uid == UID
    assert outside.stat().st_uid == os.getuid()


@pytest.mark.parametrize("protected", [sys.prefix, str(Path(sys.prefix).parent), "/"])
def test_refuses_workdir_holding_the_venv(protected: str) -> None:
    with pytest.raises(ValueError, match="refusing"):
        SandboxedKernelManager(workdir=protected)._resolve_workdir(None)


def test_needs_a_workdir() -> None:
    with pytest.raises(ValueError, match="workdir"):
        SandboxedKernelManager()._resolve_workdir(None)


def test_runtime_dir_entries_cannot_be_swapped_by_the_kernel() -> None:
    path = SandboxedKernelManager()._make_runtime_dir()
    try:
        top, private = os.stat(path), os.stat(os.path.join(path, "private"))
        assert (stat.S_IMODE(top.st_mode), top.st_uid) == (0o711, os.getuid())
        assert (stat.S_IMODE(private.st_mode), private.st_uid) == (0o700, UID)
    finally:
        shutil.rmtree(path)
