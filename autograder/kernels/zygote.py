"""The kernel builder: walls a sandboxed kernel off, then becomes it, alone or as a fork-server zygote.

Runs inside bubblewrap (read-only system, no network: see :mod:`autograder.kernels.sandbox`
and :mod:`autograder.kernels.forkserver`) with every capability *of that sandbox*: as
real root when the grader is root, as root of a user namespace when the grader
is an ordinary user.  It is shipped as source (``python -I -c``), so the sandbox
needs no view of the course repository, and no file a student handed in can
stand in for a module it imports.

Two ways in:

* **zygote** (no arguments): imports ipykernel, numpy and matplotlib once, then
  answers fork requests, one JSON line each on stdin.  Each request forks a
  child that unshares a new mount, PID, network, IPC and UTS namespace, forks
  again so that the kernel is PID 1 of its own PID namespace (when it dies,
  every process it started dies with it), walls itself off and becomes the
  kernel in-process.  stdout answers ``{"id", "pid"}`` (the kernel's PID as the
  grader sees it) or ``{"id", "error"}``.
* **once** (``once REQUEST_JSON``): bubblewrap already made the namespaces; the
  process walls itself off and replaces itself (``exec``) with the kernel command of the request.

Walling off is the same in both (:func:`_bounded_folder`, :func:`_become_student`):

1. the job folder becomes a size- and inode-limited tmpfs holding a copy of the
   submission's files, so a submission can fill neither the disk nor memory,
   and what it writes vanishes with the kernel;
2. the process drops to the job's unprivileged uid: with ``setresuid`` when it
   is real root, in a nested user namespace that maps that uid when the grader
   is an ordinary user; either way with no capabilities (bounding set
   included), ``no_new_privs`` and the resource limits.

Request keys: ``id``, ``job``, ``workdir``, ``conn`` (zygote), ``argv``,
``uid``, ``rootless``, ``limits``, ``env``, ``keep``.
"""

import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
from typing import Any

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 4096, 16384, 1 << 18, 1 << 21
ST_NOATIME, ST_NODIRATIME, ST_RELATIME = 1024, 2048, 4096
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
LIMITS = {
    "memory_bytes": resource.RLIMIT_AS,
    "cpu_seconds": resource.RLIMIT_CPU,
    "max_processes": resource.RLIMIT_NPROC,
    "max_file_bytes": resource.RLIMIT_FSIZE,
}
STAGE = "/.stage"
"""Scratch mount points (bubblewrap creates the folder)."""


def _preload() -> None:
    """What every kernel imports anyway, while it starts or runs its first cells: paid once, shared copy-on-write."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets a debugger note at import
    import sqlite3  # noqa: F401 - IPython's history

    import ipykernel.debugger  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import IPython  # noqa: F401
    import IPython.core.completerlib  # noqa: F401
    import IPython.extensions.storemagic  # noqa: F401
    import matplotlib
    import matplotlib.patheffects  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import numpy.random  # noqa: F401 - numpy imports it lazily; nearly every notebook asks

    matplotlib.font_manager.fontManager  # noqa: B018 - load the font list once


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def chown_tree(root: str, owner: int) -> None:
    """Give `root` and everything below it to `owner`, never following a symlink."""
    os.chown(root, owner, owner, follow_symlinks=False)
    for _dirpath, dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        for name in dirnames + filenames:
            os.chown(name, owner, owner, dir_fd=dirfd, follow_symlinks=False)


def _bounded_folder(path: str, owner: int, limits: dict[str, int]) -> None:
    """Put a tmpfs of bounded size and file count over `path`, holding a copy of what `path` held.

    The copy belongs to `owner` (the uid the kernel will have in this namespace).
    The grader needs nothing back from it: verdicts, outputs and figures travel as
    kernel messages.
    """
    stage = os.path.join(STAGE, "bounded")
    os.makedirs(stage, exist_ok=True)
    _mount(path, stage, None, MS_BIND | MS_REC)
    options = f"mode=0700,size={int(limits['job_bytes'])},nr_inodes={int(limits['job_files'])}"
    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
    # symlinks=True: a link a student handed in stays a link (pointing nowhere in the sandbox).
    shutil.copytree(stage, path, symlinks=True, dirs_exist_ok=True)
    _check(_libc.umount2(stage.encode(), MNT_DETACH), "umount stage")
    chown_tree(path, owner)


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
        stage = f"{STAGE}/{i}"
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
    # The job folder is on the host's disk: read-only, but for run/ (sockets, sealed once the
    # kernel listens: _seal) and work/ (replaced by a bounded tmpfs: _bounded_folder).
    run = os.path.join(job, "run")
    _mount(run, run, None, MS_BIND)
    _remount_read_only(job)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _remount_read_only(path: str) -> None:
    """Make the mount at `path` (not those below it) read-only, keeping the flags it was given.

    Flags such as nosuid that the mount inherited from a more privileged namespace are
    locked: a remount must repeat them.
    """
    current = os.statvfs(path).f_flag
    keep = current & (MS_NOSUID | MS_NODEV | MS_NOEXEC | ST_NOATIME | ST_NODIRATIME)
    if current & ST_RELATIME:
        keep |= MS_RELATIME
    _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | keep)


def _socket_paths(conn: str) -> list[str]:
    """The ipc socket files a kernel creates for the connection file `conn` (``<ip>-<port>``)."""
    with open(conn) as f:
        info = json.load(f)
    return [f"{info['ip']}-{info[name]}" for name in ("shell_port", "iopub_port", "stdin_port", "control_port",
                                                      "hb_port")]  # fmt: skip


def _seal(run: str, conn: str, kernel: int, seconds: float = 120.0) -> None:
    """Make `run` read-only in the kernel's mount namespace once the kernel listens on its sockets.

    `run` holds the connection file and the ipc sockets, on the host's disk, where the
    kernel must create its sockets as it starts; after that, nothing may be written
    there (a submission could fill the disk).  The grader connects through the host's
    own view, which stays writable.  Runs in the privileged process that watches the
    kernel, never in the kernel.
    """
    deadline = time.monotonic() + seconds
    paths: list[str] = []
    while time.monotonic() < deadline:
        if not paths:
            try:  # while the kernel walls itself off, the folder is briefly out of sight: try again
                paths = _socket_paths(conn)
            except (OSError, ValueError):
                pass
        if paths and all(os.path.exists(p) for p in paths):
            break
        if os.waitpid(kernel, os.WNOHANG)[0]:  # gone before it listened: nothing left to seal
            return
        time.sleep(0.005)  # a kernel takes tens of milliseconds to listen; this process only watches
    _remount_read_only(run)


def _drop_bounding_set() -> None:
    """Empty the capability bounding set: nothing exec'd later can regain a capability."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop bounding capability")


def _clear_capabilities() -> None:
    """No effective, permitted, inheritable or ambient capability left."""
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # two 32-bit halves of effective, permitted, inheritable: all zero
    _check(_libc.capset(header, data), "capset")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _become_student(uid: int, limits: dict[str, int], rootless: bool) -> None:
    """Drop to `uid` for good: no capabilities, no_new_privs, resource limits.

    As real root: ``setresuid`` to a uid of the host that owns nothing.  As an
    ordinary user (root only of bubblewrap's user namespace, which maps one uid,
    the instructor's): a nested user namespace in which that one uid is `uid`,
    so the kernel has its own uid and no capability anywhere.
    """
    if rootless:
        _check(_libc.unshare(CLONE_NEWUSER), "unshare user namespace")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} 0 1\n")
        _write("/proc/self/gid_map", f"{uid} 0 1\n")
        _drop_bounding_set()
    else:
        _drop_bounding_set()
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to a plain uid: every capability is gone
    _clear_capabilities()
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    for name, which in LIMITS.items():
        if name in limits:
            resource.setrlimit(which, (limits[name], limits[name]))


def _owner(request: dict[str, Any]) -> int:
    """The uid, in the namespace the folder is prepared in, that the kernel will be."""
    return 0 if request.get("rootless") else int(request["uid"])


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
    import numpy

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
        # The middle process: report the kernel's pid, seal its sockets' folder, outlive it, then go.
        os.close(watch)
        os.write(request["_report"], f"{pid}\n".encode())
        try:
            _seal(os.path.dirname(request["conn"]), request["conn"], pid)
        except BaseException:  # noqa: BLE001 - an unsealed kernel is no kernel: take it down
            traceback.print_exc()
            os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # reaped while sealing
            pass
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
    _bounded_folder(request["workdir"], _owner(request), request["limits"])
    os.chdir(request["workdir"])
    _become_student(int(request["uid"]), request.get("limits", {}), bool(request.get("rootless")))
    _die_with_parent(watch)
    os.environ.clear()
    os.environ.update(request.get("env", {}))
    os.environ["JPY_PARENT_PID"] = "1"
    sys.argv = ["ipykernel_launcher", "-f", request["conn"], *request.get("argv", [])]
    # As `python -m ipykernel_launcher` would: the notebook's folder first, so its helper modules
    # import.  Only now: the zygote runs isolated (-I), and what it imported stays imported.
    sys.path.insert(0, "")
    try:
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:])
        app.start()
    except BaseException:
        traceback.print_exc()
        raise


def once(request: dict[str, Any]) -> None:
    """Wall off in the namespaces bubblewrap made, then exec the kernel command (the plain sandbox).

    This process stays, privileged and apart from the kernel, to seal the folder of
    the kernel's sockets once it listens (:func:`_seal`); it exits with the kernel.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _bounded_folder(request["workdir"], _owner(request), request["limits"])
    run = os.path.dirname(request["conn"])
    _mount(run, run, None, MS_BIND)  # its own mount, to be made read-only alone
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts are for the kernel (same process group)
    kernel = os.fork()
    if kernel == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            os.chdir(request["workdir"])
            _become_student(int(request["uid"]), request.get("limits", {}), bool(request.get("rootless")))
            argv = request["argv"]
            os.execve(shutil.which(argv[0], path=request["env"].get("PATH")) or argv[0], argv, request["env"])
        finally:
            traceback.print_exc()
            os._exit(127)
    try:
        _seal(run, request["conn"], kernel)
    except BaseException:  # noqa: BLE001 - an unsealed kernel is no kernel: take it down
        traceback.print_exc()
        os.kill(kernel, signal.SIGKILL)
    try:
        _, status = os.waitpid(kernel, 0)
    except ChildProcessError:  # reaped while sealing
        status = 0
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF if status else 0)


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
    _preload()
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
    if sys.argv[1:2] == ["once"]:
        once(json.loads(sys.argv[2]))
    else:
        main()
