"""nbgrader's default exchange, closed so that one student cannot reach another's work.

nbgrader 0.9.6's file-system exchange (``nbgrader.exchange.default``) is plugged in here
through ``ExchangeFactory`` (``hub/jupyter/common/nbgrader_config.py`` names these two
classes); everything else is stock.  What stock leaves open, and what closes it:

- **A submission folder is world-writable** (``0777`` "so the instructor can delete later"),
  its files world-readable: only its random name hides it.  :class:`PrivateSubmit` runs
  the stock submit, then makes the folder ``0770`` and its files ``0640``.  They belong to
  the course's grading group (the grader account's), which the set-group-id inbound folder
  gives everything made in it -- as long as nothing copies modes over it, as stock's
  ``shutil.copytree`` does (:class:`LinkFreeCopy` makes fresh folders instead): the grader
  account reads (and may delete) them, other students cannot, even knowing the name.
- **A student can hand in under another student's name** (``nbgrader submit --student=X``):
  stock ``collect`` takes the newest folder per name and only *warns* that its owner
  differs (``CollectApp.check_owner``), so a later impostor replaces the real submission.
  :class:`CheckedCollect` first sets aside every inbound entry that is not a real folder
  owned by the Unix user it names (renamed ``.refused+<name>``, kept for the instructor to
  look at), then collects as stock does.
- **Collecting follows symbolic links** (``shutil.copytree``): a link in a submission (or a
  submission folder swapped for one) would copy whatever the grader account can read --
  the instructor's solutions, the gradebook -- into the student's graded folder, whose
  outputs come back as feedback.  :meth:`CheckedCollect.do_copy` never follows a link: it
  opens every folder and file with ``O_NOFOLLOW`` and copies regular files only, from a
  folder opened once and checked to belong to the student it names.

The rest is file-system permissions, which the hub's setup creates (``hub/serve.py``):
an exchange root ``1777`` (stock insists everyone may write there; the sticky bit stops a
student from renaming the course's folder away and putting their own in its place), the
course folder and ``outbound`` ``0755`` and ``feedback`` ``0711`` of the grader account,
``inbound`` ``3733`` (write-only for students, sticky: nobody renames or deletes another's
entry), and home folders ``0700`` (a student's notebooks and the submission secrets in
their nbgrader cache, from which the names of their feedback files derive).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import ignore_patterns

SUBMISSION_FOLDER_MODE = 0o770
"""A submission folder: its author and the course's grading group (its group, from the set-group-id inbound).

No set-group-id bit of its own: Linux clears it when someone outside the group (the student) sets the mode.
"""
SUBMISSION_FILE_MODE = 0o640
REFUSED_PREFIX = ".refused+"
"""Inbound entries set aside by :class:`CheckedCollect` (hidden from nbgrader's ``*`` patterns)."""


def claimed_student(entry_name: str) -> str:
    """The student id an inbound entry's name claims (``<student>+<assignment>+<timestamp>[+<random>]``).

    Split as stock ``collect`` splits it, from the right, so that ids with ``+`` work.
    """
    return entry_name.rsplit("+", 3)[0]


def uid_of(user: str) -> int | None:
    """The uid of a local user, or None when there is none of that name."""
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def is_genuine(path: Path) -> bool:
    """Whether an inbound entry is a real folder (not a link) owned by the user its name claims."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    owner = uid_of(claimed_student(path.name))
    return stat.S_ISDIR(info.st_mode) and owner is not None and info.st_uid == owner


class LinkFreeCopy:
    """``do_copy`` for an exchange class: regular files and folders only, never following a link.

    Stock ``do_copy`` is ``shutil.copytree``, which follows links and copies the source's
    modes (so a submission loses the group the set-group-id inbound folder gave it).
    Here every folder and file is opened relative to its parent's handle with
    ``O_NOFOLLOW``; folders are made fresh (they take the group of a set-group-id parent)
    and files get the process's umask.  Links, devices and FIFOs are left out, with a
    warning; nbgrader's ``CourseDirectory.ignore``, ``include``, ``max_file_size`` and
    ``max_dir_size`` apply as in stock.
    """

    def copy_folder(self, source_fd: int, dest: Path) -> None:
        """Copy the open folder `source_fd` to the new folder `dest`."""
        self._copy_folder(source_fd, dest, [1000 * self.coursedir.max_dir_size])

    def _copy_folder(self, folder_fd: int, dest: Path, budget: list[float]) -> None:
        dest.mkdir()
        names = sorted(os.listdir(folder_fd))
        skipped = set(
            ignore_patterns(
                exclude=self.coursedir.ignore,
                include=self.coursedir.include,
                max_file_size=self.coursedir.max_file_size,
                log=self.log,
            )(f"/proc/self/fd/{folder_fd}", names)
        )
        for name in names:
            if name in skipped:
                continue
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # NONBLOCK: a FIFO must not hang us
            try:
                fd = os.open(name, flags, dir_fd=folder_fd)
            except OSError as error:  # a link (ELOOP), gone, unreadable
                self.log.warning("Left out %s: %s", dest / name, error.strerror)
                continue
            try:
                info = os.fstat(fd)
                if stat.S_ISDIR(info.st_mode):
                    self._copy_folder(fd, dest / name, budget)
                elif stat.S_ISREG(info.st_mode):
                    budget[0] -= info.st_size
                    if budget[0] < 0:
                        raise RuntimeError(f"Directory size is too big: over {self.coursedir.max_dir_size} kB")
                    os.set_blocking(fd, True)
                    with os.fdopen(os.dup(fd), "rb") as source, open(dest / name, "xb") as target:
                        shutil.copyfileobj(source, target)
                else:
                    self.log.warning("Left out %s: not a regular file", dest / name)
            finally:
                os.close(fd)

    def do_copy(self, src: str, dest: str, log=None) -> None:
        fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            self.copy_folder(fd, Path(dest))
        finally:
            os.close(fd)


class PrivateSubmit(LinkFreeCopy, ExchangeSubmit):
    """Stock ``nbgrader submit``, then the submission is closed to other students."""

    def copy_files(self) -> None:
        super().copy_files()
        folder = Path(self.inbound_path) / self.assignment_filename
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), SUBMISSION_FILE_MODE)
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), SUBMISSION_FOLDER_MODE)
        os.chmod(folder, SUBMISSION_FOLDER_MODE)


class CheckedCollect(LinkFreeCopy, ExchangeCollect):
    """Stock ``nbgrader collect`` of genuine submissions only, never following a link."""

    def init_src(self) -> None:
        if self.coursedir.course_id:
            self.set_aside_impostors(Path(self.root) / self.coursedir.course_id / "inbound")
        super().init_src()

    def set_aside_impostors(self, inbound: Path) -> None:
        """Rename each entry of this assignment that is not genuine to ``.refused+<name>``.

        The grader account owns the (sticky) inbound folder, so it may rename any entry
        in it.  An entry that appears after this still cannot be copied: see :meth:`do_copy`.
        """
        try:
            names = os.listdir(inbound)
        except OSError:
            return  # stock init_src says what is wrong with the folder
        for name in names:
            if name.startswith(".") or "+" not in name:
                continue
            if name.rsplit("+", 3)[1:2] != [self.coursedir.assignment_id]:
                continue
            path = inbound / name
            if not is_genuine(path):
                self.log.error(
                    "Refused %s: not a folder owned by the user %r its name claims; renamed %s%s",
                    path, claimed_student(name), REFUSED_PREFIX, name,
                )  # fmt: skip
                try:
                    os.rename(path, inbound / f"{REFUSED_PREFIX}{name}")
                except OSError as error:
                    self.log.error("Could not set %s aside: %s", path, error)

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """Copy a submission folder (see :class:`LinkFreeCopy`) if it belongs to the student it names.

        The folder is opened once (``O_NOFOLLOW``) and checked on that handle, so renaming
        or swapping entries while this runs can only make a file go missing, never bring in
        one from elsewhere.
        """
        student = claimed_student(os.path.basename(src))
        try:
            fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            self.log.error("Not collected: %s is not a folder that can be opened (%s)", src, error)
            return
        try:
            if os.fstat(fd).st_uid != uid_of(student):
                self.log.error("Not collected: %s does not belong to %r", src, student)
                return
            self.copy_folder(fd, Path(dest))
        finally:
            os.close(fd)
