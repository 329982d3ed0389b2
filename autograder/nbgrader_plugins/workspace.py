"""The kernel's private folder: a copy of the submission's files, never the targets of links a student handed in."""

from __future__ import annotations

import os
import shutil
from typing import Any


def copy_submission(source_dir: str, workdir: str, leave_out: set[str]) -> None:
    """Copy the submission's files (not its notebooks) into the kernel's private folder.

    Symbolic links are copied as links, so they point nowhere in the sandbox.
    nbgrader itself copies the *target* of a link a student handed in into the
    autograded folder; such files are left out (unless nbgrader replaced them
    with the assignment's own version), or a link to the instructor's notebook
    or the gradebook would hand the kernel their contents: `leave_out` names them
    (:func:`linked_in_submission`).
    """
    for dirpath, dirnames, filenames in os.walk(source_dir):
        rel_dir = os.path.relpath(dirpath, source_dir)
        os.makedirs(os.path.join(workdir, rel_dir), exist_ok=True)
        for name in dirnames + filenames:
            src, rel = os.path.join(dirpath, name), os.path.normpath(os.path.join(rel_dir, name))
            dest = os.path.join(workdir, rel)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dest)
            elif name in filenames and not name.endswith(".ipynb") and rel not in leave_out:
                if os.path.isfile(src):  # never a FIFO or a device: reading one would hang or worse
                    shutil.copy2(src, dest)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]


def linked_in_submission(config: Any, info: dict[str, Any]) -> set[str]:
    """Relative paths that were symlinks in the submitted folder and are not the assignment's own files."""
    if "student" not in info or "assignment" not in info:
        return set()
    try:
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=config)
        submitted = coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"])
        source = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
    except Exception:  # noqa: BLE001 - no course directory (e.g. a parallel worker)
        return set()
    # nbgrader walks the submission as os.walk does (not into linked folders) and copies each file.
    linked = {
        os.path.normpath(os.path.relpath(os.path.join(d, f), submitted))
        for d, _, fs in os.walk(submitted)
        for f in fs
        if os.path.islink(os.path.join(d, f))
    }
    own = {
        os.path.normpath(os.path.relpath(os.path.join(d, f), source)) for d, _, fs in os.walk(source) for f in fs
    }
    return linked - own
