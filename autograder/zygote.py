"""The kernel zygote: a pre-imported Python that forks one sandboxed kernel per request.

Starting a kernel costs an interpreter, ipykernel, numpy and matplotlib: most of
the time a short submission takes.  The zygote pays that once.  It runs inside
bubblewrap (read-only system, no network: see :mod:`autograder.forkserver`) as
root *of that sandbox*, and for each request forks a child that walls itself
off further before it becomes a kernel:

1. ``unshare`` a new mount, PID, network, IPC and UTS namespace;
2. fork once more, so the kernel is PID 1 of its own PID namespace: when it
   dies, every process it started dies with it;
3. hide every other job's folder, mount a private ``/tmp``, ``/dev/shm`` and ``/proc``;
4. drop to the job's unprivileged uid with no capabilities, ``no_new_privs``
   and the resource limits, and clear the environment;
5. become an ipykernel listening on the job's connection file.

No student code ever runs in the zygote itself: it only imports libraries and
forks.  This file is shipped as source (``python -c``), so the sandbox needs no
view of the course repository.

Protocol (one JSON object per line): stdin receives ``{"id", "job", "conn",
"workdir", "uid", "limits", "env", "argv"}``; stdout answers ``{"id", "pid"}``
(the kernel's PID as seen by the grader) or ``{"id", "error"}``.
"""

import ctypes
import json
import os
import resource
import select
import signal
import sys
import traceback
from typing import Any

os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets a debugger note at import

# What every kernel imports anyway, while it starts or runs its first cells: paid once,
# shared copy-on-write.
import sqlite3  # noqa: E402,F401 - IPython's history

import ipykernel.debugger  # noqa: E402,F401
import ipykernel.ipkernel  # noqa: E402,F401
import ipykernel.kernelapp  # noqa: E402,F401
import ipykernel.zmqshell  # noqa: E402,F401
import IPython  # noqa: E402,F401
import IPython.core.completerlib  # noqa: E402,F401
import IPython.extensions.storemagic  # noqa: E402,F401
import matplotlib  # noqa: E402
import matplotlib.patheffects  # noqa: E402,F401
import matplotlib.pyplot  # noqa: E402,F401
import numpy  # noqa: E402,F401
import numpy.random  # noqa: E402,F401 - numpy imports it lazily; nearly every notebook asks

matplotlib.font_manager.fontManager  # noqa: B018 - load the font list once

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
LIMITS = {
    "memory_bytes": resource.RLIMIT_AS,
    "cpu_seconds": resource.RLIMIT_CPU,
    "max_processes": resource.RLIMIT_NPROC,
    "max_file_bytes": resource.RLIMIT_FSIZE,
}


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _wall_off(job: str, workdir: str, keep: list[str]) -> None:
    """In the new mount namespace: see only this job's folder, with private scratch space.

    `keep` lists read-only paths (the Python environment) that must survive the fresh
    /tmp when they live under it, as in a course cloned into /tmp.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    scratch = ("/tmp", "/dev/shm")
    under = lambda path: any(path == d or path.startswith(d + "/") for d in scratch)  # noqa: E731
    staged = []
    for i, (path, read_only) in enumerate([(job, False)] + [(p, True) for p in keep if under(p)]):
        stage = f"/.stage/{i}"
        os.makedirs(stage, exist_ok=True)
        _mount(path, stage, None, MS_BIND | MS_REC)
        staged.append((stage, path, read_only))
    # A fresh /tmp and /dev/shm: this hides every job folder (they live under /tmp) ...
    for path in scratch:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=512m")
    # ... and this job's own folder (and the environment) come back, at the paths they had.
    for stage, path, read_only in staged:
        os.makedirs(path, mode=0o755, exist_ok=True)
        os.chmod(path, 0o711 if path == job else 0o755)
        _mount(stage, path, None, MS_BIND | MS_REC)
        if read_only:
            _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
        _check(_libc.umount2(stage.encode(), MNT_DETACH), "umount stage")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(workdir)


def _become_student(uid: int, limits: dict[str, int]) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # from root to a plain uid: every capability is gone
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    for name, which in LIMITS.items():
        if name in limits:
            resource.setrlimit(which, (limits[name], limits[name]))


def _die_with_parent(watch: int) -> None:
    """PID 1 of the kernel's namespace: die when the middle process dies (grader or zygote gone).

    Set only now: Linux clears a parent-death signal when the process changes its uid, as
    :func:`_become_student` just did.  And the middle process may already be gone: `watch`,
    the read end of a pipe only it writes to, then reads as closed.
    """
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    poller = select.poll()
    poller.register(watch, select.POLLIN)
    if poller.poll(0):  # end of file (or anything at all): the middle process is gone
        os._exit(1)
    os.close(watch)


def _kernel(request: dict[str, Any], zygote: int) -> None:
    """The forked child: wall off, fork the PID-1 kernel, wait for it."""
    # Die with the zygote: it dies with its worker (bwrap --die-with-parent), so a worker that is
    # killed or interrupted takes its kernels along instead of leaving them running as orphans.
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    if os.getppid() != zygote:  # the zygote died before the line above: nobody would reap us
        os._exit(1)
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    # The middle process holds `alive` open as long as it lives: the kernel can tell it is gone.
    watch, alive = os.pipe()
    pid = os.fork()
    if pid:
        # The middle process: report the kernel's pid, outlive it, then go.
        os.close(watch)
        os.write(request["_report"], f"{pid}\n".encode())
        os.waitpid(pid, 0)
        os._exit(0)
    os.close(alive)
    os.close(request["_report"])
    # The zygote's stdin and stdout carry its protocol: the kernel must not touch them.
    # Its low-level stdout and stderr go to a log in the job folder, for the grader to read.
    devnull = os.open(os.devnull, os.O_RDONLY)
    logfile = os.open(os.path.join(request["job"], "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(devnull, 0)
    os.dup2(logfile, 1)
    os.dup2(logfile, 2)
    os.close(devnull)
    os.close(logfile)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Python's `random` reseeds itself after a fork; numpy's global generator, imported in the
    # zygote, would hand every kernel the same draws: give each its own, as a fresh Python has.
    numpy.random.seed()
    _wall_off(request["job"], request["workdir"], request.get("keep", []))
    _become_student(int(request["uid"]), request.get("limits", {}))
    _die_with_parent(watch)
    os.environ.clear()
    os.environ.update(request.get("env", {}))
    os.environ["JPY_PARENT_PID"] = "1"
    sys.argv = ["ipykernel_launcher", "-f", request["conn"], *request.get("argv", [])]
    try:
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:])
        app.start()
    except BaseException:
        traceback.print_exc()
        raise


def _reap(*_: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> None:
    """Answer fork requests, one JSON line each on stdin, with the kernel's pid on stdout."""
    signal.signal(signal.SIGCHLD, _reap)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        read_end, write_end = os.pipe()
        request["_report"] = write_end
        zygote = os.getpid()
        child = os.fork()
        if child == 0:
            os.close(read_end)
            try:
                _kernel(request, zygote)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(1)
        os.close(write_end)
        with os.fdopen(read_end) as report:
            pid = report.readline().strip()
        answer = {"id": request["id"], "pid": int(pid)} if pid else {"id": request["id"], "error": "fork failed"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
