"""Sandboxed kernels forked from a pre-imported zygote: the fast path of parallel grading.

:class:`ForkServer` starts :mod:`autograder.kernels.zygote` once per grading process,
inside bubblewrap with the same read-only view as :mod:`autograder.kernels.sandbox`
(but as root of the sandbox, which it needs to build each kernel's own
namespaces).  :class:`ForkedKernelManager` is a jupyter_client kernel manager
whose kernels come from it: nbclient and :class:`~autograder.nbgrader_plugins.SecureExecute`
use it like any other, through :class:`ForkProvisioner`.

Each kernel keeps every isolation of the plain sandbox: its own PID, mount,
network and IPC namespaces, a private ``/tmp``, an unprivileged uid without
capabilities, resource limits, and a view of its own job folder only.  What it
no longer pays is the interpreter start and the imports of ipykernel, numpy and
matplotlib.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty
from typing import Any

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from traitlets import Unicode

from ..upstream import KernelClientHooks, KernelManagerHooks, at_process_exit
from . import sandbox

log = logging.getLogger(__name__)
ZYGOTE_SOURCE = sandbox.ZYGOTE_SOURCE
ZYGOTE_MARK = "autograder-kernel-zygote"
"""The zygote's last command-line argument: how tools (tests, benchmarks, ps) tell a zygote from its kernels' builder."""


class ForkServer:
    """One zygote process and the folder its kernels' jobs live in."""

    _instance: ForkServer | None = None
    _lock = threading.Lock()

    def __init__(self, limits: sandbox.SandboxLimits | None = None, bwrap: str = "bwrap") -> None:
        found = sandbox.isolation(bwrap)
        if found.bwrap is None:
            raise sandbox.SandboxUnavailable(found.problem)
        self.rootless = found.rootless
        self.limits = limits or sandbox.SandboxLimits()
        # Not listable by others: a kernel sees only its own job inside it anyway.
        _remove_leftovers()
        self.jobs_root = tempfile.mkdtemp(prefix=f"autograder-jobs-{os.getpid()}-")
        os.chmod(self.jobs_root, 0o711)
        self._ids = itertools.count()
        self._requests = threading.Lock()
        runtime = tempfile.mkdtemp(prefix=f"autograder-zygote-{os.getpid()}-")
        self._runtime = runtime
        args = sandbox.bwrap_args(
            found.bwrap, self.jobs_root, runtime, self.limits.uid, self.limits.tmp_bytes, found.rootless, writable=True
        )
        # The zygote stays in the grader's PID namespace (each kernel gets its own), so the
        # PIDs it reports are the grader's to signal.
        args = [a for a in args if a != "--unshare-pid"]
        env = self._kernel_env()
        setenv = [arg for item in env.items() for arg in ("--setenv", *item)]
        command = [*args, "--clearenv", *setenv, "--", sys.executable, "-I", "-c", ZYGOTE_SOURCE.read_text(),
                   ZYGOTE_MARK]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, start_new_session=True
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        if '"ready"' not in ready:
            raise RuntimeError(f"the kernel zygote did not start: {ready!r}")
        # A worker process of multiprocessing leaves through os._exit, which skips atexit:
        # its own finalizers (run in every process it starts, and at exit here) do not.
        at_process_exit(self, self.close)

    @staticmethod
    def _kernel_env() -> dict[str, str]:
        env = {
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1",  # and no BLAS threads in a process that forks
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            # Caches and profiles in the kernel's private /tmp, not in the student's folder.
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "IPYTHONDIR": "/tmp/ipython",
            "XDG_CACHE_HOME": "/tmp/cache",
        }
        env.update({k: os.environ[k] for k in sandbox._COPIED_ENV if k in os.environ})
        return env

    @classmethod
    def shared(cls, bwrap: str = "bwrap") -> ForkServer:
        """The process's fork server, started on first use (and again if it died)."""
        with cls._lock:
            if cls._instance is None or cls._instance.process.poll() is not None:
                cls._instance = cls(bwrap=bwrap)
            return cls._instance

    def kernel_uid(self) -> int:
        """The uid of this process's kernels.

        As root, one uid per grading process, so that ``RLIMIT_NPROC`` (counted per
        uid) is not shared between workers.  Rootless, every kernel has a user
        namespace of its own, where the count is its own anyway.
        """
        return self.limits.uid if self.rootless else self.limits.uid + 1 + os.getpid() % 4000

    def new_job(self, uid: int) -> tuple[str, str, str]:
        """A job folder: ``(job, workdir, runtime)``; the last two are the kernel's.

        The kernel builder puts a bounded tmpfs with a copy of `workdir` over it, so
        the host's folder is only read.  Rootless, the kernel's uid is the grader's
        own user seen through a user namespace: nothing to give away.
        """
        job = os.path.join(self.jobs_root, f"job{next(self._ids)}")
        os.mkdir(job, 0o711)
        workdir, runtime = os.path.join(job, "work"), os.path.join(job, "run")
        for path in (workdir, runtime):
            os.mkdir(path, 0o700)
            if not self.rootless:
                os.chown(path, uid, uid)
        return job, workdir, runtime

    def spawn(self, job: str, workdir: str, conn: str, uid: int, argv: list[str], env: dict[str, str]) -> int:
        """Fork a kernel for `job`; return its PID."""
        request = {
            **sandbox.kernel_request(self.limits, uid, self.rootless),
            "id": os.path.basename(job),
            "job": job,
            "workdir": workdir,
            "conn": conn,
            "env": env,
            "argv": argv,
            # The Python environment, wherever it lives (a clone under /tmp included).
            "keep": sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}),
        }
        assert self.process.stdin is not None and self.process.stdout is not None
        with self._requests:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = json.loads(self.process.stdout.readline() or "{}")
        if "pid" not in answer:
            raise RuntimeError(f"the kernel zygote could not fork a kernel: {answer}")
        return int(answer["pid"])

    def close(self) -> None:
        """Stop the zygote and remove the job folders."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.jobs_root, ignore_errors=True)
        shutil.rmtree(self._runtime, ignore_errors=True)


def _remove_leftovers() -> None:
    """Remove the folders of fork servers whose process is gone (killed before it could clean up)."""
    for path in Path(tempfile.gettempdir()).glob("autograder-[jz]*-*-*"):
        kind, _, rest = path.name.removeprefix("autograder-").partition("-")
        owner = rest.split("-", 1)[0]
        if kind not in ("jobs", "zygote") or not owner.isdigit() or _alive(int(owner)):
            continue
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ForkedProcess:
    """Enough of ``subprocess.Popen`` for jupyter_client, for a kernel that is not our child."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.stdin = self.stdout = self.stderr = None
        self.returncode: int | None = None

    def poll(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                alive = stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (FileNotFoundError, ProcessLookupError):
            alive = False
        if not alive:
            self.returncode = 0
        return None if alive else 0

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Launches the kernel by asking the fork server, not by running a command."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        km = self.parent
        # Keep the kernel's own options (e.g. an in-memory history) from its command line.
        argv = cmd[cmd.index("-f") + 2 :] if "-f" in cmd else []
        env = {**km.fork_server._kernel_env(), **km.extra_env, "HOME": km.job_workdir}
        if "NBGRADER_EXECUTION" in os.environ:  # as in stock nbgrader, the notebook may ask
            env["NBGRADER_EXECUTION"] = os.environ["NBGRADER_EXECUTION"]
        pid = km.fork_server.spawn(km.job, km.job_workdir, km.connection_file, km.uid, argv, env)
        self.process = ForkedProcess(pid)
        self.pid, self.pgid = pid, None  # signals go to the kernel, PID 1 of its namespace
        return self.connection_info


class PromptClient(KernelClientHooks, AsyncKernelClient):  # type: ignore[misc]
    """A kernel client that starts talking as soon as the kernel answers.

    jupyter_client ends its wait for a new kernel by listening for 0.2 s of
    silence on IOPub, a fixed cost per kernel that here is a third of the
    kernel's start.  nbclient already ignores IOPub messages that answer other
    requests, so what is queued is drained without waiting.
    """

    def start_channels(self, *args: Any, **kwargs: Any) -> None:
        # The kernel binds its sockets a moment after it is forked; ZeroMQ retries a
        # connection every 100 ms by default, so try every 5 ms instead.
        self.context.setsockopt(zmq.RECONNECT_IVL, 5)
        # As for the plain sandbox: a kernel cannot make the grader swallow a huge message.
        self.context.setsockopt(zmq.MAXMSGSIZE, sandbox.SandboxLimits().max_message_bytes)
        super().start_channels(*args, **kwargs)

    async def wait_until_ready(self, timeout: float | None) -> None:
        """Ask for kernel info until the shell answers and IOPub carries the answer's status."""
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # IOPub is connected once it carries the status of our request
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self.accept_kernel_info(reply)
                    break
            if not await self.kernel_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break


class ForkedKernelManager(KernelManagerHooks, AsyncKernelManager):
    """A kernel manager whose kernels are forked, sandboxed, from the shared zygote."""

    sandboxed = True  # SecureExecute warns about any kernel manager that does not say so
    extra_env: dict[str, str] = {}  # noqa: RUF012 - replaced, never changed in place (SecureExecute sets it)

    bwrap = Unicode("bwrap", config=True, help="Name or path of bubblewrap.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_factory = PromptClient
        self.fork_server = ForkServer.shared(self.bwrap)
        self.uid = self.fork_server.kernel_uid()
        self.job: str | None = None

    def before_start(self, kw: dict[str, Any]) -> dict[str, Any]:
        """A job folder from the fork server (once: kept across restarts), ipc transport, the fork provisioner."""
        if self.job is None:  # kept across restarts
            self.job, self.job_workdir, runtime = self.fork_server.new_job(self.uid)
            cwd = kw.get("cwd")
            if cwd and os.path.isdir(cwd):
                # The notebook's files (helper modules...): the kernel gets a copy of them in its own folder.
                shutil.copytree(cwd, self.job_workdir, symlinks=True, dirs_exist_ok=True)
            self.transport = "ipc"
            self.ip = os.path.join(runtime, "kernel")
            self.cache_ports = False
            self.connection_file = os.path.join(runtime, "connection.json")
        kw["cwd"] = None
        self.provisioner = self.provisioner or ForkProvisioner(
            kernel_id=self.kernel_id or "forked", kernel_spec=self.kernel_spec, parent=self
        )
        return kw

    def before_launch(self, cmd: list[str], kw: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """The connection file is written: the kernel's uid reads and rewrites it."""
        if not self.fork_server.rootless:
            os.chown(self.connection_file, self.uid, self.uid, follow_symlinks=False)
        return cmd, kw

    def after_cleanup(self, restart: bool) -> None:
        """jupyter_client cleaned up: remove the job folder (kept across a restart)."""
        if os.environ.get("AUTOGRADER_KEEP_KERNEL_LOG") and self.job is not None:
            log.warning("kernel log of %s:\n%s", self.job, Path(self.job, "kernel.log").read_text(errors="replace"))
        if not restart and self.job is not None:
            shutil.rmtree(self.job, ignore_errors=True)
            self.job = None
