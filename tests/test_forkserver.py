"""Forked kernels keep every isolation of the plain sandbox, and start in a fraction of the time."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import psutil
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from conftest import ROOT

# No skip: forked kernels are the fast path of `python -m autograder grade`, as root and as an
# ordinary user (the whole module runs again as one: tests/test_as_instructor.py).


def run(tmp_path: Path, *sources: str, timeout: int = 20) -> list[str]:
    """Run cells in one forked kernel; return each cell's text output (or error name)."""
    from autograder.kernels.forkserver import ForkedKernelManager

    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    client = NotebookClient(
        nb,
        kernel_manager_class=ForkedKernelManager,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    texts = []
    for cell in nb.cells:
        parts = []
        for out in cell.outputs:
            parts.append(out.get("text") or out.get("ename") or ",".join(out.get("data", {})))
        texts.append("".join(parts).strip())
    return texts


def test_kernel_is_an_unprivileged_stranger_to_the_course(tmp_path: Path) -> None:
    assert (ROOT / "autograder").is_dir() and (ROOT / "nbgrader_config.py").is_file()  # what it must not see
    (tmp_path / "helper.py").write_text("X = 42\n")
    out = run(
        tmp_path,
        "import os; print(os.getuid(), os.getgid())",
        f"print(os.path.exists({str(ROOT / 'autograder')!r}), os.path.exists({str(ROOT / 'nbgrader_config.py')!r}))",
        "from helper import X; print(X)",
        "import autograder",
        "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])",
    )
    uid = int(out[0].split()[0])
    assert uid != 0 and out[0] == f"{uid} {uid}"
    assert out[1] == "False False"
    assert out[2] == "42"  # the notebook's own files are there
    assert out[3] == "ModuleNotFoundError"
    assert int(out[4], 16) == 0  # no capabilities


def test_no_network_no_writes_outside_and_a_private_tmp(tmp_path: Path) -> None:
    # A real listener on the host's loopback: only isolation can make the connection fail.
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    with server:
        out = _no_network_run(tmp_path, port)
    assert out[0] == "refused"
    assert out[1] == "done"
    assert "mine" in out[2] and "pytest-of" not in out[2]  # the host's /tmp is out of sight
    assert out[3].count("job") == 1  # its own job folder only, never another kernel's


def _no_network_run(tmp_path: Path, port: int) -> list[str]:
    return run(
        tmp_path,
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "except OSError as e:\n    print('refused')",
        "import os\nfrom ipykernel.connect import get_connection_file\n"
        "run = os.path.dirname(get_connection_file())  # on the host's disk: sealed once the kernel listens\n"
        "for p in ('/usr/evil', '/etc/evil', os.path.expanduser('~/../evil'), run + '/evil', '/evil'):\n"
        "    try:\n        open(p, 'w')\n        print('wrote', p)\n    except OSError:\n        pass\nprint('done')",
        "open('/tmp/mine', 'w').write('x'); import os; print(sorted(os.listdir('/tmp')))",
        "import os; print(sorted(os.listdir(os.path.dirname(os.path.dirname(os.getcwd())))))",
    )


def test_processes_die_with_the_kernel(tmp_path: Path) -> None:
    marker = f"autograder-orphan-{os.getpid()}"
    run(tmp_path, f"import subprocess\nsubprocess.Popen(['sleep', '300', '{marker}'], start_new_session=True)")
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    assert left == []


def test_timeout_interrupts_and_the_kernel_goes_on(tmp_path: Path) -> None:
    out = run(tmp_path, "x = 1", "while True:\n    pass", "print(x + 1)", timeout=3)
    assert out[1] == "KeyboardInterrupt" and out[2] == "2"


def test_memory_and_process_limits_hold(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "import numpy as np\ntry:\n    a = np.ones(3 * 2**30 // 8)\nexcept MemoryError:\n    print('MemoryError')",
        "import subprocess\nkids = []\ntry:\n    for _ in range(200):\n        kids.append(subprocess.Popen(['sleep', '30']))\n"
        "except OSError:\n    print('limited', len(kids) < 200)\nfor k in kids:\n    k.kill()",
    )
    assert out[0] == "MemoryError"
    assert out[1] == "limited True"


def test_plots_render_inline(tmp_path: Path) -> None:
    out = run(tmp_path, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")
    assert "image/png" in out[0]


def test_each_kernel_draws_its_own_random_numbers(tmp_path: Path) -> None:
    # numpy is imported once in the zygote; a fresh Python would seed it from the OS, so must a fork.
    draw = "import numpy as np, random; print(np.random.randint(2**62), random.getrandbits(62))"
    first, second = run(tmp_path, draw)[0], run(tmp_path, draw)[0]
    assert first.split()[0] != second.split()[0] and first.split()[1] != second.split()[1]


def test_kernels_die_with_a_worker_that_is_killed(tmp_path: Path) -> None:
    # A worker killed mid-run (out of memory, Ctrl-C, kill -9) must not leave a student's
    # kernel spinning: the zygote dies with the worker, and its kernels with the zygote.
    import signal
    import subprocess
    import sys

    marker = f"autograder-worker-orphan-{os.getpid()}"
    worker = f"""
import sys
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from autograder.kernels.forkserver import ForkedKernelManager
nb = new_notebook(cells=[
    new_code_cell("import subprocess; subprocess.Popen(['sleep', '300', '{marker}'])"),
    new_code_cell("while True: pass"),
])
def started(cell, cell_index, **_):
    if cell_index == 0:
        print("kernel busy", flush=True)
client = NotebookClient(nb, kernel_manager_class=ForkedKernelManager, timeout=600,
                        resources={{"metadata": {{"path": {str(tmp_path)!r}}}}})
client.on_cell_executed = started
client.execute()
"""
    proc = subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "kernel busy"
        left = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
        assert len(left) == 1  # the student's background process runs while its kernel does
        kernel = psutil.Process(proc.pid).children(recursive=True)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    gone, alive = psutil.wait_procs(left + kernel, timeout=15)
    assert alive == [], [p.info for p in alive]
    # Its folders outlive it, until the next fork server starts and sweeps them away.
    from autograder.kernels import forkserver

    leftovers = lambda: list(Path(tempfile.gettempdir()).glob(f"autograder-*-{proc.pid}-*"))  # noqa: E731
    assert len(leftovers()) == 2  # its jobs and its zygote's runtime folder
    forkserver._remove_leftovers()
    assert leftovers() == []


def _start_a_fork_server(report) -> None:
    from autograder.kernels.forkserver import ForkServer

    server = ForkServer.shared()
    report.put([server.jobs_root, server._runtime])


def test_a_worker_process_removes_its_folders_when_it_ends() -> None:
    # multiprocessing's workers leave through os._exit, which skips atexit handlers.
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    report = context.Queue()
    worker = context.Process(target=_start_a_fork_server, args=(report,))
    worker.start()
    folders = [Path(p) for p in report.get(timeout=60)]
    worker.join(timeout=60)
    assert worker.exitcode == 0 and all(f.name.startswith("autograder-") for f in folders)
    assert [f for f in folders if f.exists()] == []
