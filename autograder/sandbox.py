"""Start Jupyter kernels for untrusted student code inside a sandbox.

The kernel command is wrapped as::

    env --ignore-signal=INT bwrap <mounts, namespaces, env> -- \\
        env --default-signal=INT setpriv --reuid=UID ... prlimit ... -- <kernel argv>

* ``bwrap`` (bubblewrap) builds a private mount tree (read-only ``/usr``, the
  Python installation and the virtualenv; nothing else of the host), a private
  ``/tmp``, and new pid/net/ipc/uts namespaces.  When the kernel exits or is
  killed, the pid namespace dies and takes every process the student started
  with it, daemons included.
* ``setpriv`` drops root: the kernel runs as an unprivileged uid/gid, so it
  cannot undo the mounts, and ``RLIMIT_NPROC`` is enforced.
* ``prlimit`` sets memory, CPU, process and file-size limits.

There is no network in the sandbox, so the kernel talks to the grader over
ZeroMQ ``ipc`` sockets in a private directory bound into the sandbox.

Use it from nbclient / nbconvert / nbgrader with
``kernel_manager_class=SandboxedKernelManager``.  If bubblewrap is missing or
unusable, the kernel is started with the resource limits (and the uid drop)
only, and a loud warning is logged at every start.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Instance, Integer, Unicode, default

__all__ = [
    "SandboxLimits",
    "SandboxedKernelManager",
    "bwrap_path",
    "sandbox_warning",
]

log = logging.getLogger("autograder.sandbox")

# Read-only files and folders of /etc that the kernel stack needs:
# ld.so.cache so the loader finds Debian's multiarch libraries, localtime for
# time zones, fonts for fontconfig (matplotlib runs ``fc-list``), alternatives
# because many /usr/bin tools are symlinks into it (e.g. ``which``).
_ETC_BINDS = ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts", "/etc/alternatives")
# Prebuilt fontconfig cache, so fc-list neither rebuilds nor writes one.
_OTHER_RO_BINDS = ("/var/cache/fontconfig",)
# Top-level names that are usually symlinks into /usr ("merged /usr").
_ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Tells the course's plotting helpers whether to draw while grading ("draw" or "skip"):
# SecureExecute.draw_figures puts it in a kernel manager's `extra_env`.
FIGURES_ENV = "AUTOGRADER_FIGURES"
# Copied as they are: settings tuned for this CPU, and nbgrader's NBGRADER_EXECUTION, which
# stock nbgrader lets a notebook read (e.g. to skip work during autograde).
_COPIED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ", "NBGRADER_EXECUTION")


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for a sandboxed kernel.

    Attributes
    ----------
    memory_bytes : int
        ``RLIMIT_AS`` (address space) of each process.  Allocations beyond
        it raise ``MemoryError`` instead of swapping the machine to death.
    cpu_seconds : int
        ``RLIMIT_CPU`` of each process: the kernel gets ``SIGXCPU`` (and
        dies) after this much CPU time in total, over all its cells.
    max_processes : int
        ``RLIMIT_NPROC``.  Counts every process *and thread* of `uid` on the
        whole machine, so kernels running at the same time under the same uid
        share it; the kernel itself uses about ten threads.
    max_file_bytes : int
        ``RLIMIT_FSIZE``: largest file the kernel may write.
    tmp_bytes : int
        Size of the private tmpfs on ``/tmp`` (and of ``/dev/shm``).  It is
        held in RAM, so it must be bounded separately from `memory_bytes`.
    uid : int
        Unprivileged uid (and gid) the kernel runs as.
    max_message_bytes : int
        Largest message the grader accepts from the kernel (ZeroMQ's
        ``MAXMSGSIZE`` on the client's sockets): a bigger one is dropped
        before the grader reads it, so one huge output cannot exhaust the
        grader's memory.  The cell then looks hung and is handled as such.
    """

    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 600
    max_processes: int = 64
    max_file_bytes: int = 256 * 1024**2
    tmp_bytes: int = 512 * 1024**2
    uid: int = 60001
    max_message_bytes: int = 32 * 1024**2


@functools.lru_cache(maxsize=1)
def _probe_bwrap() -> tuple[str | None, str | None]:
    """Find bwrap and check that it can create the namespaces we need.

    Returns
    -------
    tuple of (str or None, str or None)
        The path of a working bwrap, or None, and the reason it is unusable.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "bubblewrap (bwrap) is not installed"
    # Same shape as the real command: containers often forbid namespaces, and
    # old coreutils' env lacks --ignore-signal (needed for interrupts).
    env, true = shutil.which("env") or "/usr/bin/env", shutil.which("true") or "/bin/true"
    cmd = [
        env, "--ignore-signal=INT", bwrap, "--ro-bind", "/", "/", "--proc", "/proc",
        "--dev", "/dev", "--unshare-pid", "--unshare-net", "--unshare-ipc",
        "--unshare-uts", "--die-with-parent", "--", env, "--default-signal=INT", true,
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{bwrap} does not work: {exc}"
    if proc.returncode != 0:
        return None, f"{bwrap} does not work here: {proc.stderr.strip() or proc.returncode}"
    return bwrap, None


def bwrap_path() -> str | None:
    """Return the path of a working ``bwrap``, or None.

    The check runs bwrap once per process (the result is cached).

    Returns
    -------
    str or None
        Absolute path of bwrap if it is installed and can create the pid,
        network, ipc and uts namespaces, else None.
    """
    return _probe_bwrap()[0]


def sandbox_warning() -> str | None:
    """Explain loudly that kernels will not be sandboxed, if that is the case.

    Returns
    -------
    str or None
        A warning message when bwrap is missing or unusable, else None.
    """
    reason = _probe_bwrap()[1]
    if reason is None:
        return None
    return (
        f"!!! NO SANDBOX: {reason}. Student code will run with resource limits "
        "only: it can read every file the kernel's uid can read and use the "
        "network. Install bubblewrap (apt-get install bubblewrap) and allow "
        "namespaces before grading untrusted notebooks. !!!"
    )


def _require(tool: str) -> str:
    """Return the absolute path of `tool`, or raise if it is not installed."""
    path = shutil.which(tool)
    if path is None:
        raise FileNotFoundError(f"{tool} is required to start a sandboxed kernel")
    return path


@functools.lru_cache(maxsize=8)
def _python_runs_as(uid: int) -> bool:
    """Tell whether `uid` can start an ipykernel with this Python on the host.

    Not a given without bwrap: e.g. a pyenv Python under /root (mode 0700)
    is out of reach.  The check runs the fallback's real chain once, because
    setpriv still holds root's capabilities while it execs, so a direct
    ``setpriv ... python`` can succeed where ``setpriv ... prlimit ... python``
    fails.
    """
    try:
        cmd = [*_setpriv_args(uid), _require("prlimit"), "--core=0", "--"]
    except FileNotFoundError:
        return False
    cmd += [sys.executable, "-c", "import ipykernel"]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60, cwd="/", check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _is_within(path: str, parent: str) -> bool:
    """Tell whether `path` is `parent` or lies below it."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _chown_tree(root: str, uid: int) -> None:
    """Give `root` and everything below it to `uid`, never following symlinks.

    os.fwalk works on directory file descriptors, so a symlink planted by a
    student (in a submission or by a still-running process) cannot redirect
    the chown to files outside `root`.
    """
    os.chown(root, uid, uid, follow_symlinks=False)
    for _dirpath, dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        for name in dirnames + filenames:
            os.chown(name, uid, uid, dir_fd=dirfd, follow_symlinks=False)


def _prlimit_args(limits: SandboxLimits) -> list[str]:
    """Build the ``prlimit`` prefix (soft = hard, so the kernel cannot raise them)."""
    return [
        _require("prlimit"),
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--nproc={limits.max_processes}",
        f"--fsize={limits.max_file_bytes}",
        "--core=0",  # a crashing kernel must not dump 2 GiB into the workdir
        "--",
    ]


def _setpriv_args(uid: int) -> list[str]:
    """Build the ``setpriv`` prefix that drops root for good (saved uid too)."""
    return [
        _require("setpriv"),
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]


def _bwrap_args(bwrap: str, workdir: str, runtime_dir: str, uid: int, tmp_bytes: int) -> list[str]:
    """Build the bwrap options: mounts and namespaces, without the command.

    Also writes the sandbox's /etc/passwd and /etc/group into `runtime_dir`.

    Parameters
    ----------
    bwrap : str
        Path of bwrap.
    workdir : str
        The only host folder the kernel can write to; also its cwd.
    runtime_dir : str
        Folder with the connection file and ipc sockets; bound read-write.
    uid : int
        Uid and gid the kernel will run as.
    tmp_bytes : int
        Size of the tmpfs mounted on /tmp and /dev/shm.

    Returns
    -------
    list of str
    """
    args = [bwrap]
    made: set[str] = set()

    def mount(option: str, path: str, source: str | None = None) -> None:
        # bwrap creates missing parents of a mount point with mode 0700, which
        # the unprivileged uid cannot traverse (/root/.pyenv, even /etc): make
        # them 0755 first, shallowest first.
        for parent in reversed(Path(path).parents[:-1]):  # without "/"
            if str(parent) not in made:
                made.add(str(parent))
                args.extend(["--perms", "0755", "--dir", str(parent)])
        args.extend([option, source or path, path])

    mount("--ro-bind", "/usr")
    for name in _ROOT_LINKS:
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            mount("--ro-bind", path)
    for path in _ETC_BINDS + _OTHER_RO_BINDS:
        mount("--ro-bind-try", path)
    # A user database that knows the kernel's uid: getpass.getuser(), ps, ...
    # fail or print "I have no name!" otherwise.
    for name, text in {
        "passwd": f"root:x:0:0:root:/root:/bin/sh\nstudent:x:{uid}:{uid}:student:{workdir}:/bin/sh\n",
        "group": f"root:x:0:\nstudent:x:{uid}:\n",
    }.items():
        Path(runtime_dir, name).write_text(text)
        mount("--ro-bind", f"/etc/{name}", source=os.path.join(runtime_dir, name))
    args += ["--proc", "/proc", "--dev", "/dev"]
    # /tmp first: mounts below /tmp (runtime dir, pytest's tmp_path) must land
    # on top of this tmpfs, not under it.  /dev/shm for multiprocessing locks.
    for path in ("/tmp", "/dev/shm"):
        args += ["--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", path]
    # The interpreter and the venv only, never the venv's parent (the course
    # repo): the venv's .pth pointing at the repo then finds nothing.
    for prefix in dict.fromkeys(os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)):
        if not _is_within(prefix, "/usr"):
            mount("--ro-bind", prefix)
    mount("--bind", runtime_dir)
    mount("--bind", workdir)
    args += [
        "--chdir", workdir,
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        # Kill the sandbox if the grader dies.  Note: this follows the *thread*
        # that started bwrap, so start kernels from a long-lived thread.
        "--die-with-parent",
    ]  # fmt: skip
    return args


class SandboxedKernelManager(AsyncKernelManager):
    """Kernel manager that runs the kernel inside a bubblewrap sandbox.

    Works wherever a jupyter_client ``AsyncKernelManager`` does, e.g. as
    ``kernel_manager_class`` of nbclient's ``NotebookClient`` or of nbconvert's
    / nbgrader's ``ExecutePreprocessor``.

    The kernel sees read-only ``/usr``, the Python installation and the
    virtualenv, a private ``/tmp``, and `workdir` read-write (its cwd and
    ``$HOME``); nothing else of the host.  It has no network, runs as `uid`
    with `limits`, and all its processes die with it.

    Before each start, `workdir` and everything in it is chowned to `uid`:
    the caller's files there change owner.  Files the kernel writes belong
    to `uid` too.

    Traits
    ------
    workdir : str
        The only writable host folder.  If empty, the ``cwd`` given to
        ``start_kernel`` is used (nbclient passes the notebook's folder).
    limits : SandboxLimits
        Resource limits.
    uid : int
        Uid and gid of the kernel; defaults to ``limits.uid``.
    use_bwrap : bool
        Set to False to skip bubblewrap (limits only; logs a warning).
    """

    sandboxed = True
    """Read by :class:`~autograder.preprocessors.SecureExecute`: it warns about managers without it."""

    workdir = Unicode("", config=True, help="Only writable folder; kernel cwd and HOME.")
    limits = Instance(SandboxLimits, args=(), help="Resource limits of the kernel.")
    uid = Integer(config=True, help="Unprivileged uid/gid of the kernel (default: limits.uid).")
    use_bwrap = Bool(True, config=True, help="Sandbox with bubblewrap if it works.")

    _runtime_dir: str | None = None
    _sandbox_workdir: str = ""
    _bwrap: str | None = None
    _kernel_env: dict[str, str] | None = None
    extra_env: dict[str, str] = {}  # noqa: RUF012 - replaced, never changed in place (SecureExecute sets it)

    @default("uid")
    def _uid_default(self) -> int:
        return self.limits.uid

    def _resolve_workdir(self, cwd: str | None) -> str:
        """Pick, check and chown the writable folder."""
        chosen = self.workdir or cwd
        if not chosen:
            raise ValueError("SandboxedKernelManager needs a workdir (or a cwd from the caller)")
        workdir = os.path.realpath(chosen)
        if not os.path.isdir(workdir):
            raise NotADirectoryError(workdir)
        # The workdir is chowned and writable: refuse folders that hold the
        # Python installation, the venv or all temporary files.
        for protected in (sys.prefix, sys.base_prefix, tempfile.gettempdir()):
            if _is_within(os.path.realpath(protected), workdir):
                raise ValueError(f"refusing to use {workdir} as kernel workdir: it contains {protected}")
        _chown_tree(workdir, self.uid)
        return workdir

    def _make_runtime_dir(self) -> str:
        """Create the folder for the connection file, ipc sockets and caches.

        The folder itself stays root's (mode 0711): the kernel must not be able
        to swap its entries for symlinks that root would later write or chown
        through (e.g. the connection file, on a restart).  Only its
        ``private`` subfolder (mode 0700) belongs to the kernel's uid.
        """
        path = os.path.realpath(tempfile.mkdtemp(prefix="autograder-kernel-"))
        os.chmod(path, 0o711)
        os.mkdir(os.path.join(path, "private"), 0o700)
        os.chown(os.path.join(path, "private"), self.uid, self.uid)
        return path

    def _build_env(self) -> dict[str, str]:
        """The kernel's whole environment: nothing of the grader's leaks in."""
        assert self._runtime_dir is not None
        env = {
            "HOME": self._sandbox_workdir,
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            # One BLAS/OpenMP thread: threads count against RLIMIT_NPROC and
            # each reserves address space against RLIMIT_AS.
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            # Caches and profiles go to the private runtime dir, not into the
            # student's folder (HOME) nor into a /tmp shared with others.
            "MPLCONFIGDIR": os.path.join(self._runtime_dir, "private", "matplotlib"),
            "IPYTHONDIR": os.path.join(self._runtime_dir, "private", "ipython"),
            "XDG_CACHE_HOME": os.path.join(self._runtime_dir, "private", "cache"),
        }
        env.update({k: os.environ[k] for k in _COPIED_ENV if k in os.environ})
        env.update(self.extra_env)
        return env

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        """Prepare folders and ipc transport, then let jupyter_client build the command."""
        self._sandbox_workdir = self._resolve_workdir(kw.get("cwd"))
        kw["cwd"] = self._sandbox_workdir
        if self._runtime_dir is None:  # kept across restarts
            self._runtime_dir = self._make_runtime_dir()
        # No network in the sandbox, so no TCP: ZeroMQ over unix sockets.
        self.transport = "ipc"
        self.ip = os.path.join(self._runtime_dir, "private", "kernel")  # sockets: kernel-<n>
        self.cache_ports = False
        self.connection_file = os.path.join(self._runtime_dir, "connection.json")

        self._bwrap = bwrap_path() if self.use_bwrap else None
        if self._bwrap is None:
            log.warning(sandbox_warning() or "!!! NO SANDBOX: bwrap disabled (use_bwrap=False) !!!")
        self._kernel_env = env = self._build_env()

        # Writes the connection file and calls format_kernel_cmd below.
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        # ipykernel reads and rewrites its connection file.  Safe to chown: the
        # kernel cannot replace the file in the root-owned runtime dir.
        os.chown(self.connection_file, self.uid, self.uid, follow_symlinks=False)
        kw["env"] = dict(env)  # the Popen env: all the fallback's kernel gets
        return cmd, kw

    pre_start_kernel = _async_pre_start_kernel

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """Wrap the kernel spec's command in the sandbox.

        Parameters
        ----------
        extra_arguments : list of str, optional
            Extra kernel arguments (nbclient passes e.g. the history file).

        Returns
        -------
        list of str
            The full command line to launch.
        """
        kernel_cmd = super().format_kernel_cmd(extra_arguments)
        limits = _prlimit_args(self.limits)
        if self._bwrap is None:
            # Dropping root is optional here: better limited root than nothing.
            if not _python_runs_as(self.uid):
                log.warning(
                    "!!! uid %d cannot run %s (setpriv missing or the interpreter is "
                    "not reachable): the unsandboxed kernel runs as ROOT !!!",
                    self.uid,
                    sys.executable,
                )
                return limits + kernel_cmd
            return _setpriv_args(self.uid) + limits + kernel_cmd

        assert self._runtime_dir is not None and self._kernel_env is not None
        env = _require("env")
        setenv = [arg for item in self._kernel_env.items() for arg in ("--setenv", *item)]
        return [
            # jupyter_client interrupts by sending SIGINT to the whole process
            # group, which includes bwrap itself: by default bwrap would die of
            # it and --die-with-parent would take the kernel along.  So bwrap
            # ignores SIGINT, and the kernel gets the default handling back.
            env, "--ignore-signal=INT",
            *_bwrap_args(
                self._bwrap, self._sandbox_workdir, self._runtime_dir, self.uid, self.limits.tmp_bytes
            ),
            # --clearenv matters: launch_kernel adds the grader's pid as
            # JPY_PARENT_PID, and the kernel, whose parent in the sandbox is
            # pid 1, would think the grader died and exit.  JPY_PARENT_PID=1
            # is the truth in here and disables that watch (and a Ctrl-C note).
            "--clearenv", *setenv, "--setenv", "JPY_PARENT_PID", "1",
            "--", env, "--default-signal=INT",
            *_setpriv_args(self.uid), *limits, *kernel_cmd,
        ]  # fmt: skip

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        """Clean up as jupyter_client does, then remove the runtime dir."""
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._runtime_dir is not None:
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            self._runtime_dir = None

    # AsyncKernelManager aliases the base class's coroutine; re-point it.
    cleanup_resources = _async_cleanup_resources

    def client(self, **kwargs: Any) -> Any:
        """A client whose sockets refuse messages above ``limits.max_message_bytes``."""
        kc = super().client(**kwargs)
        # The client's own context (created here, destroyed with the client); the
        # default applies to the sockets start_channels() creates next.
        kc.context.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
        return kc
