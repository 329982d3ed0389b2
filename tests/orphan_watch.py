"""Run a command as the only child of a subreaper and report what outlives it.

Usage: ``python orphan_watch.py LOG -- COMMAND...``.  Prints the command's PID on the
first line of stdout, waits for it to end (the test kills it), then waits up to 15 s
for every process it left behind and prints one JSON line:
``{"returncode": N, "orphans": K, "survivors": [[pid, cmdline], ...]}``.  Survivors are
killed before this process exits, so nothing leaks into the tests that follow.

Why a process of its own: the test suite runs other graders at the same time (the
instructor's run in the background).  Making the pytest process the subreaper would
count their processes as orphans of the killed run, and killing them would break them.
Here the only descendants are the command's own.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys

import psutil

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    """Run ``argv[2:]`` (after ``LOG --``), writing its output to ``argv[0]``."""
    log, separator, *command = argv
    assert separator == "--", "usage: orphan_watch.py LOG -- COMMAND..."
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        print(proc.pid, flush=True)
        returncode = proc.wait()
    left = psutil.Process().children(recursive=True)
    _, alive = psutil.wait_procs(left, timeout=15)
    survivors = []
    for p in alive:
        try:
            survivors.append([p.pid, p.cmdline()[:4]])
            p.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=15)
    print(json.dumps({"returncode": returncode, "orphans": len(left), "survivors": survivors}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
