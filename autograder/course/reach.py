"""Make this checkout's Python reachable by other users, without changing a permission on disk.

An instructor's checkout often lives under a home folder others cannot enter (Debian's
``/home/<user>`` is 0700 or 0750), while the hub's users (``hub/serve.py``) and the suite's
ordinary instructor (``tests/instructor.py``) must run its virtual environment.  The lines
below, run as root in a private mount namespace (``unshare --mount``), lay a 0755 tmpfs over
each folder that blocks the way and bind back only the child on the way: everything else in
that folder stays hidden, and nothing outside the namespace changes.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path


def blocked(path: Path) -> tuple[Path, Path] | None:
    """The first folder on the way to `path` that others cannot enter, and its child on that way."""
    parts = path.parts
    for depth in range(1, len(parts) - 1):
        folder = Path(*parts[: depth + 1])
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder, Path(*parts[: depth + 2])
    return None


def reachable_script(paths: list[Path], stage: str) -> str:
    """Shell lines (run as root, in a new mount namespace) that make `paths` reachable by every user.

    Parameters
    ----------
    paths : list of pathlib.Path
        What others must reach (e.g. the Python, the virtual environment, the checkout).
    stage : str
        The name the temporary mount points under /tmp start with (one caller's own).

    Returns
    -------
    str
        The lines; empty when every path is reachable already.
    """
    needed: dict[Path, set[Path]] = {}
    for path in paths:
        hit = blocked(path.resolve())
        if hit is not None:
            needed.setdefault(hit[0], set()).add(hit[1])
    lines = []
    for n, (folder, children) in enumerate(sorted(needed.items())):
        stages = [f"/tmp/.{stage}-{os.getpid()}-{n}-{m}" for m in range(len(children))]
        for where, child in zip(stages, sorted(children)):
            lines += [f"mkdir -p {where}", f"mount --bind {shlex.quote(str(child))} {where}"]
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs {shlex.quote(str(folder))}")
        for where, child in zip(stages, sorted(children)):
            kind = "mkdir -p" if child.is_dir() else "touch"
            lines += [f"{kind} {shlex.quote(str(child))}", f"mount --move {where} {shlex.quote(str(child))}",
                      f"rmdir {where} 2>/dev/null || rm -f {where}"]  # fmt: skip
    return "\n".join(lines)
