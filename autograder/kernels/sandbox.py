"""Start Jupyter kernels for untrusted student code inside a sandbox.

The kernel command is wrapped as::

    python -I -S -c <LIFELINE> <grader pid> bwrap <mounts, namespaces, env> -- \\
        env --default-signal=INT python -I -c <zygote.py> once <request>

* the *lifeline* (:data:`LIFELINE`) stays between the grader and bwrap: it kills
  the sandbox when the grader dies, even when the grader is killed while the
  kernel is still being started, and lets bwrap ignore the SIGINT of an
  interrupt (only the kernel should get it).

* ``bwrap`` (bubblewrap) builds a private mount tree (read-only ``/usr``, the
  Python installation and the virtualenv; nothing else of the host), a private
  ``/tmp``, and new pid/net/ipc/uts namespaces.  When the kernel exits or is
  killed, the pid namespace dies and takes every process the student started
  with it, daemons included.  Run by root, bwrap uses the host's namespaces of
  users; run by an ordinary user (the instructor on a hub or a workstation), it
  makes a user namespace in which that user is root, with no setuid helper.
* :mod:`autograder.kernels.zygote`'s ``once`` then puts a size- and file-limited tmpfs
  with a copy of the submission's files over the job folder, drops to an
  unprivileged uid with no capabilities (a nested user namespace when rootless),
  sets the resource limits and ``exec``\\ s the kernel.

There is no network in the sandbox, so the kernel talks to the grader over
ZeroMQ ``ipc`` sockets in a private directory bound into the sandbox.

Use it from nbclient / nbconvert / nbgrader with
``kernel_manager_class=SandboxedKernelManager``.  **It fails closed**: where
bubblewrap cannot build the sandbox (not installed, user namespaces disabled,
not Linux), starting a kernel raises :class:`SandboxUnavailable`, whose message
says what to install or enable, unless ``allow_unsandboxed`` is set; then the
kernel runs with resource limits only and every start logs that it is unprotected.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Instance, Integer, Unicode, default

from ..upstream import KernelManagerHooks
from .zygote import chown_tree  # the kernel builder's own: stdlib only, no symlink followed

__all__ = [
    "Isolation",
    "SandboxLimits",
    "SandboxUnavailable",
    "SandboxedKernelManager",
    "UNPROTECTED_NOTICE",
    "isolation",
    "require_isolation",
]

log = logging.getLogger(__name__)

ZYGOTE_SOURCE = Path(__file__).with_name("zygote.py")
"""The kernel builder, run inside bubblewrap as source: the sandbox has no view of this package."""

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

UNPROTECTED_NOTICE = (
    "Graded WITHOUT the sandbox (the instructor allowed it): student code ran with resource limits "
    "only, able to read what the grader's user can read."
)
"""What every run and every feedback file says when grading ran unprotected."""


class SandboxUnavailable(RuntimeError):
    """Bubblewrap cannot build the sandbox here, and running unprotected was not allowed."""


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
        ``RLIMIT_NPROC``.  Counts every process *and thread* of the kernel's
        uid (in its user namespace, when rootless); the kernel itself uses
        about ten threads.
    max_file_bytes : int
        ``RLIMIT_FSIZE``: largest file the kernel may write.
    job_bytes : int
        Size of the tmpfs that holds the job folder (the submission's files and
        all the kernel writes there): a submission cannot fill the disk.
    job_files : int
        Files and folders the job folder can hold (the tmpfs's ``nr_inodes``).
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
    job_bytes: int = 128 * 1024**2
    job_files: int = 4096
    tmp_bytes: int = 512 * 1024**2
    uid: int = 60001
    max_message_bytes: int = 32 * 1024**2


KERNEL_LIMITS = ("memory_bytes", "cpu_seconds", "max_processes", "max_file_bytes", "job_bytes", "job_files")
"""The limits the kernel builder (:mod:`autograder.kernels.zygote`) applies."""


@dataclass(frozen=True)
class Isolation:
    """How student kernels can be walled off on this machine, as this user.

    Attributes
    ----------
    bwrap : str or None
        Absolute path of a bubblewrap that works here, or None.
    rootless : bool
        True when the grader is not root: bubblewrap then makes a user namespace.
    problem : str or None
        Why there is no sandbox and what to install or enable, or None.
    """

    bwrap: str | None
    rootless: bool
    problem: str | None = None


def _fix_for(reason: str, rootless: bool) -> str:
    """The one message an instructor gets when the sandbox cannot be built."""
    if not sys.platform.startswith("linux"):
        how = "bubblewrap needs Linux: grade on a Linux machine or in a Linux container or VM"
    elif rootless:
        how = (
            "install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap) and allow unprivileged user "
            "namespaces (sudo sysctl kernel.unprivileged_userns_clone=1 user.max_user_namespaces=10000; on "
            "Ubuntu 24.04 and later also sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an "
            "AppArmor profile for bwrap)"
        )
    else:
        how = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap); a container must allow namespaces"
    return (
        f"No sandbox for student code: {reason}. To grade safely, {how}. To grade anyway, WITHOUT protection "
        "(student code could read every file you can), opt in explicitly: c.SecureExecute.allow_unsandboxed "
        "= True in nbgrader_config.py, or --SecureExecute.allow_unsandboxed=True for nbgrader, or "
        "--unsandboxed for python -m autograder grade."
    )


@functools.lru_cache(maxsize=8)
def isolation(bwrap: str = "bwrap") -> Isolation:
    """Find bubblewrap and check that it can build the sandbox as the current user.

    The check runs bwrap once per process and path (the result is cached), in the
    shape of the real command: containers often forbid namespaces, distributions
    may disable unprivileged user namespaces, old coreutils' env lacks
    --ignore-signal (needed for interrupts).

    Parameters
    ----------
    bwrap : str
        Name or path of the bubblewrap executable.

    Returns
    -------
    Isolation
    """
    rootless = os.geteuid() != 0
    if not sys.platform.startswith("linux"):
        return Isolation(None, rootless, _fix_for(f"this is {sys.platform}, not Linux", rootless))
    path = shutil.which(bwrap)
    if path is None:
        return Isolation(None, rootless, _fix_for(f"bubblewrap ({bwrap}) is not installed", rootless))
    env, true = shutil.which("env") or "/usr/bin/env", shutil.which("true") or "/bin/true"
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    cmd = [
        env, "--ignore-signal=INT", path, *_user_args(rootless), "--cap-add", "ALL",
        "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--unshare-net",
        "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--", env, "--default-signal=INT",
        # Rootless, the kernel builder makes one more (nested) user namespace: try that too.
        *([unshare, "--user", true] if rootless else [true]),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation(None, rootless, _fix_for(f"{path} does not work: {exc}", rootless))
    if proc.returncode != 0:
        why = proc.stderr.strip() or f"exit status {proc.returncode}"
        return Isolation(None, rootless, _fix_for(f"{path} cannot build the sandbox here ({why})", rootless))
    return Isolation(path, rootless)


def require_isolation(bwrap: str = "bwrap", allow_unsandboxed: bool = False) -> Isolation:
    """The sandbox as :func:`isolation` finds it, or SandboxUnavailable unless running unprotected was allowed.

    The one fail-closed rule of every grading path (the kernel manager, SecureExecute,
    ``python -m autograder grade``).  The result's ``bwrap`` is None when grading runs unprotected.
    """
    found = isolation(bwrap)
    if found.bwrap is None and not allow_unsandboxed:
        raise SandboxUnavailable(found.problem)
    return found


def _user_args(rootless: bool) -> list[str]:
    """bwrap options for the namespace of users: root of a new one when the grader is not root."""
    return ["--unshare-user", "--uid", "0", "--gid", "0"] if rootless else []


def _require(tool: str) -> str:
    """Return the absolute path of `tool`, or raise if it is not installed."""
    path = shutil.which(tool)
    if path is None:
        raise FileNotFoundError(f"{tool} is required to start a kernel")
    return path


@functools.lru_cache(maxsize=8)
def _python_runs_as(uid: int) -> bool:
    """Tell whether `uid` can start an ipykernel with this Python on the host (unprotected, as root).

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


def _prlimit_args(limits: SandboxLimits) -> list[str]:
    """Build the ``prlimit`` prefix of an unprotected kernel (soft = hard, so it cannot raise them)."""
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


def kernel_request(limits: SandboxLimits, uid: int, rootless: bool) -> dict[str, Any]:
    """The part of a request to the kernel builder that says who the kernel is and what it may use."""
    return {
        "uid": uid,
        "rootless": rootless,
        "limits": {k: v for k, v in asdict(limits).items() if k in KERNEL_LIMITS},
    }


def bwrap_args(
    bwrap: str, workdir: str, runtime_dir: str, uid: int, tmp_bytes: int, rootless: bool, writable: bool = False
) -> list[str]:
    """Build the bwrap options: mounts and namespaces, without the command.

    The process inside keeps every capability of the sandbox (``--cap-add ALL``):
    it is the kernel builder, which drops them before any student code runs.
    Also writes the sandbox's /etc/passwd and /etc/group into `runtime_dir`.

    Parameters
    ----------
    bwrap : str
        Path of bwrap.
    workdir : str
        The host folder the kernel builder copies into the job folder (bound
        at the same path; the kernel never writes to it).
    runtime_dir : str
        Folder with the connection file and ipc sockets; bound read-write.
    uid : int
        Uid and gid the kernel will run as.
    tmp_bytes : int
        Size of the tmpfs mounted on /tmp and /dev/shm.
    rootless : bool
        The grader is not root: make a user namespace.
    writable : bool
        Bind `workdir` read-write (the zygote's folder of jobs, where it writes kernel logs).

    Returns
    -------
    list of str
    """
    args = [bwrap, *_user_args(rootless)]
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
    mount("--bind" if writable else "--ro-bind", workdir)
    # The kernel builder's scratch mount points (see zygote.STAGE), made before / turns read-only.
    args += ["--dir", "/.stage", *(a for name in ("bounded", "0", "1", "2", "3") for a in ("--dir", f"/.stage/{name}"))]
    args += [
        # The root of the sandbox is bwrap's own tmpfs, owned by its root: when rootless, the kernel's
        # uid maps to that owner, so only a read-only root keeps every write in the bounded folders.
        "--remount-ro", "/",
        "--chdir", "/",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        # Kill the sandbox if the grader dies.  Note: this follows the *thread*
        # that started bwrap, so start kernels from a long-lived thread.
        "--die-with-parent",
        "--cap-add", "ALL",
    ]  # fmt: skip
    return args


# Run by a fresh ``python -I -S`` between the grader and bwrap, for the life of the kernel.
#
# bwrap's --die-with-parent asks Linux to kill bwrap when the grader dies, but only from
# the moment bwrap asks, and bwrap asks again after changing its credentials (which
# clears the request): a grader killed in either gap leaves bwrap and the kernel running
# for good (seen: `nbgrader autograde` killed while a kernel started).  So the lifeline
# stays between them:
#
# - it asks for SIGTERM when the grader dies, then checks that its parent is still the
#   grader (else the grader is already gone and it exits): there is no gap;
# - it is a subreaper: whatever bwrap leaves becomes its child, never init's;
# - on SIGTERM (the grader died, or jupyter_client stops the kernel) it kills every child
#   it has until none is left (killing the sandbox's first process kills its whole PID
#   namespace), then goes;
# - when bwrap ends by itself, it ends the same way (same exit status, same signal).
#
# A signal ignored here stays ignored across exec: bwrap ignores the SIGINT of an interrupt.
LIFELINE = """\
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
    sys.exit("lifeline: prctl(PR_SET_PDEATHSIG) failed")
if os.getppid() != int(sys.argv[1]):
    sys.exit("lifeline: the grader is gone")
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("lifeline: prctl(PR_SET_CHILD_SUBREAPER) failed")
signal.signal(signal.SIGINT, signal.SIG_IGN)

def children():
    me, found = os.getpid(), []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                        found.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return found

def kill_all():
    while True:
        left = children()
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in left:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

def stop(signum, frame):
    kill_all()
    os._exit(128 + signal.SIGTERM)

signal.signal(signal.SIGTERM, stop)
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])  # a mask is inherited: the starter's may block it
child = os.fork()
if child == 0:
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
while True:
    pid, status = os.waitpid(-1, 0)
    if pid == child:
        break
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
kill_all()
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [os.WTERMSIG(status)])
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.waitstatus_to_exitcode(status))
"""


def lifeline() -> list[str]:
    """The command prefix that ties what follows it to this process's life (see :data:`LIFELINE`).

    The command must be started by this process (``subprocess.Popen`` here),
    and it must not be setuid (a setuid exec clears the parent-death signal).
    """
    return [sys.executable, "-I", "-S", "-c", LIFELINE, str(os.getpid())]


class SandboxedKernelManager(KernelManagerHooks, AsyncKernelManager):
    """Kernel manager that runs the kernel inside a bubblewrap sandbox.

    Works wherever a jupyter_client ``AsyncKernelManager`` does, e.g. as
    ``kernel_manager_class`` of nbclient's ``NotebookClient`` or of nbconvert's
    / nbgrader's ``ExecutePreprocessor``.

    The kernel sees read-only ``/usr``, the Python installation and the
    virtualenv, a private ``/tmp``, and its job folder: a bounded tmpfs at the
    path of `workdir` holding a copy of it (its cwd and ``$HOME``); nothing else
    of the host.  It has no network, runs as `uid` with `limits`, and all its
    processes die with it.  The host's `workdir` is only read.

    Traits
    ------
    workdir : str
        The folder to copy into the job folder.  If empty, the ``cwd`` given to
        ``start_kernel`` is used (nbclient passes the notebook's folder).
    limits : SandboxLimits
        Resource limits.
    uid : int
        Uid and gid of the kernel; defaults to ``limits.uid``.
    bwrap : str
        Name or path of bubblewrap.
    allow_unsandboxed : bool
        Where the sandbox cannot be built, run the kernel with resource limits
        only (logged at every start) instead of refusing.
    """

    sandboxed = True
    """Read by :class:`~autograder.nbgrader_plugins.SecureExecute`: it warns about managers without it."""

    workdir = Unicode("", config=True, help="Folder copied into the kernel's job folder (its cwd and HOME).")
    limits = Instance(SandboxLimits, args=(), help="Resource limits of the kernel.")
    uid = Integer(config=True, help="Unprivileged uid/gid of the kernel (default: limits.uid).")
    bwrap = Unicode("bwrap", config=True, help="Name or path of bubblewrap.")
    allow_unsandboxed = Bool(
        False, config=True, help="Run kernels with resource limits only where bubblewrap cannot sandbox them."
    )

    _runtime_dir: str | None = None
    _sandbox_workdir: str = ""
    _isolation: Isolation | None = None
    _kernel_env: dict[str, str] | None = None
    extra_env: dict[str, str] = {}  # noqa: RUF012 - replaced, never changed in place (SecureExecute sets it)

    @default("uid")
    def _uid_default(self) -> int:
        return self.limits.uid

    @property
    def unprotected(self) -> bool:
        """True when the last kernel started without the sandbox (allowed by `allow_unsandboxed`)."""
        return self._isolation is not None and self._isolation.bwrap is None

    def _resolve_workdir(self, cwd: str | None) -> str:
        """Pick and check the folder to copy into the job folder."""
        chosen = self.workdir or cwd
        if not chosen:
            raise ValueError("SandboxedKernelManager needs a workdir (or a cwd from the caller)")
        workdir = os.path.realpath(chosen)
        if not os.path.isdir(workdir):
            raise NotADirectoryError(workdir)
        # The job folder is mounted over this path: refuse folders that hold the
        # Python installation, the venv or all temporary files.
        for protected in (sys.prefix, sys.base_prefix, tempfile.gettempdir()):
            if _is_within(os.path.realpath(protected), workdir):
                raise ValueError(f"refusing to use {workdir} as kernel workdir: it contains {protected}")
        return workdir

    def _make_runtime_dir(self, rootless: bool) -> str:
        """Create the folder for the connection file, ipc sockets and caches.

        The folder itself stays the grader's (mode 0711): the kernel must not be
        able to swap its entries for symlinks that the grader would later write or
        chown through (e.g. the connection file, on a restart).  Only its
        ``private`` subfolder (mode 0700) is the kernel's: given to its uid when
        the grader is root; when rootless, the kernel's uid *is* the grader's own
        user, seen through the kernel's user namespace.
        """
        path = os.path.realpath(tempfile.mkdtemp(prefix="autograder-kernel-"))
        os.chmod(path, 0o711)
        os.mkdir(os.path.join(path, "private"), 0o700)
        if not rootless:
            os.chown(os.path.join(path, "private"), self.uid, self.uid)
        return path

    def _scratch(self) -> str:
        """Where the kernel keeps caches: /tmp in the sandbox, the private runtime folder without one."""
        assert self._runtime_dir is not None and self._isolation is not None
        return "/tmp" if self._isolation.bwrap else os.path.join(self._runtime_dir, "private")

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
            # Caches and profiles go to the sandbox's private, bounded /tmp, not into the
            # student's folder (HOME) nor into the runtime dir, which is sealed once the
            # kernel listens.  Unprotected, the runtime dir is all there is.
            "MPLCONFIGDIR": os.path.join(self._scratch(), "matplotlib"),
            "IPYTHONDIR": os.path.join(self._scratch(), "ipython"),
            "XDG_CACHE_HOME": os.path.join(self._scratch(), "cache"),
        }
        env.update({k: os.environ[k] for k in _COPIED_ENV if k in os.environ})
        env.update(self.extra_env)
        return env

    def before_start(self, kw: dict[str, Any]) -> dict[str, Any]:
        """Prepare folders and ipc transport; jupyter_client then builds the command (:meth:`format_kernel_cmd`)."""
        self._isolation = found = require_isolation(self.bwrap, self.allow_unsandboxed)
        if found.bwrap is None:
            log.warning("!!! %s %s !!!", UNPROTECTED_NOTICE, found.problem)
        self._sandbox_workdir = self._resolve_workdir(kw.get("cwd"))
        kw["cwd"] = self._sandbox_workdir if found.bwrap is None else "/"
        if found.bwrap is None and not found.rootless and _python_runs_as(self.uid):
            # Unprotected, the kernel works in the host's folder itself, as the uid it drops to.
            chown_tree(self._sandbox_workdir, self.uid)
        if self._runtime_dir is None:  # kept across restarts
            self._runtime_dir = self._make_runtime_dir(found.rootless)
        # No network in the sandbox, so no TCP: ZeroMQ over unix sockets.
        self.transport = "ipc"
        self.ip = os.path.join(self._runtime_dir, "private", "kernel")  # sockets: kernel-<n>
        self.cache_ports = False
        self.connection_file = os.path.join(self._runtime_dir, "connection.json")
        self._kernel_env = self._build_env()
        return kw

    def before_launch(self, cmd: list[str], kw: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """The connection file is written: hand it to the kernel's uid, and give the launch its environment."""
        assert self._isolation is not None and self._kernel_env is not None
        # ipykernel reads and rewrites its connection file.  Safe to chown: the
        # kernel cannot replace the file in the grader's runtime dir.
        if not self._isolation.rootless:
            os.chown(self.connection_file, self.uid, self.uid, follow_symlinks=False)
        kw["env"] = dict(self._kernel_env)  # the Popen env: all the unprotected kernel gets
        return cmd, kw

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
        assert self._isolation is not None
        if self._isolation.bwrap is None:
            limits = _prlimit_args(self.limits)
            # Dropping root is optional here: better limited root than nothing.
            if self._isolation.rootless or not _python_runs_as(self.uid):
                if not self._isolation.rootless:
                    log.warning("!!! uid %d cannot run %s: the unprotected kernel runs as ROOT !!!", self.uid,
                                sys.executable)  # fmt: skip
                return limits + kernel_cmd
            return _setpriv_args(self.uid) + limits + kernel_cmd

        assert self._runtime_dir is not None and self._kernel_env is not None
        env = _require("env")
        request = {
            **kernel_request(self.limits, self.uid, self._isolation.rootless),
            "workdir": self._sandbox_workdir,
            "conn": self.connection_file,
            "argv": kernel_cmd,
            # --clearenv matters: launch_kernel adds the grader's pid as
            # JPY_PARENT_PID, and the kernel, whose parent in the sandbox is
            # bwrap's init, would think the grader died and exit.  JPY_PARENT_PID=1
            # disables that watch (and a Ctrl-C note).
            "env": {**self._kernel_env, "JPY_PARENT_PID": "1"},
        }
        return [
            # jupyter_client interrupts by sending SIGINT to the whole process
            # group, which includes bwrap itself: by default bwrap would die of
            # it and --die-with-parent would take the kernel along.  So bwrap
            # ignores SIGINT (the lifeline sets that), and the kernel gets the
            # default handling back.
            *lifeline(),
            *bwrap_args(
                self._isolation.bwrap, self._sandbox_workdir, self._runtime_dir, self.uid,
                self.limits.tmp_bytes, self._isolation.rootless,
            ),
            "--clearenv", "--setenv", "PATH", self._kernel_env["PATH"], "--setenv", "LANG", "C.UTF-8",
            "--", env, "--default-signal=INT",
            # -I: no student file in the job folder can stand in for a module the builder imports.
            sys.executable, "-I", "-c", ZYGOTE_SOURCE.read_text(), "once", json.dumps(request),
        ]  # fmt: skip

    def after_cleanup(self, restart: bool) -> None:
        """jupyter_client cleaned up: remove the runtime dir (kept across a restart)."""
        if not restart and self._runtime_dir is not None:
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            self._runtime_dir = None

    def client(self, **kwargs: Any) -> Any:
        """A client whose sockets refuse messages above ``limits.max_message_bytes``."""
        kc = super().client(**kwargs)
        # The client's own context (created here, destroyed with the client); the
        # default applies to the sockets start_channels() creates next.
        kc.context.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
        return kc
