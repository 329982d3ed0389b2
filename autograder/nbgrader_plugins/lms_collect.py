"""``zip_collect``: submissions from an LMS's bulk download (Canvas's by default), latest first, nothing lost."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from textwrap import dedent

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Bool, Unicode

from ..course import lms


class CanvasCollector(FileNameCollectorPlugin):
    """For ``nbgrader zip_collect``: reads Canvas's names and decides, for the whole download at once, what to collect.

    Stock ``zip_collect`` hands its collector one file at a time and then copies
    what it returns into ``submitted/<student>/<assignment>/``.  Canvas's names
    (``smithjohn_LATE_12345_6789012_shallow_narrow-1.ipynb``) hold the student's
    Canvas user id, not the course's id, and no time; a student who uploaded twice
    has two files, which stock nbgrader cannot order without a time (it stops the
    whole run).  So on the first file this plug-in plans the whole download
    (:func:`autograder.course.lms.plan_collection`): it maps each Canvas user id
    to the course's student through the gradebook (``lms_user_id``), keeps each
    student's latest upload (the highest Canvas file id), recognizes a notebook
    renamed on the way, and leaves out, each with one line that says why, older
    uploads, a notebook of another assignment, a student the gradebook does not
    know and anything that is no notebook of the assignment.  Files left out stay
    in ``downloaded/<assignment>/extracted/`` (and in the download itself).

    A student whose folder in ``submitted/`` already holds exactly what would be
    collected is left as is (so a ``timestamp.txt`` written there stays).  A
    folder that would change is replaced only with ``--force`` (stock nbgrader's
    rule), and then kept first in ``downloaded/<assignment>/replaced/<student>/<time>/``;
    without ``--force`` nothing is collected and the message names those students.
    Configure it in ``nbgrader_config.py``::

        c.ZipCollectApp.collector_plugin = "autograder.nbgrader_plugins.lms_collect.CanvasCollector"
    """

    named_regexp = Unicode(
        lms.CANVAS_FILE_NAME,
        help=dedent(
            """
            The LMS's file name, matched against the whole name of each file (or of the folder a zip the student
            handed in was unpacked to).  It must provide (?P<file_id>...) (the name the student gave the file)
            and (?P<lms_user_id>...) (looked up in the gradebook's lms_user_id) or (?P<student_id>...); optional:
            (?P<submission_id>...) (a number that grows with each upload), (?P<timestamp>...), (?P<late>...),
            (?P<name>...).  The default reads Canvas's names.
            """
        ),
    ).tag(config=True)

    lms_id_is_student_id = Bool(
        False,
        help="Collect a student the gradebook does not know by LMS id under the LMS id itself (instead of leaving "
        "their file out with a message).",
    ).tag(config=True)

    _plan: lms.Plan | None = None

    def collect(self, submitted_file: str) -> dict | None:
        """What stock ``zip_collect`` should do with one extracted file: ``student_id``/``file_id``, or None to skip.

        Parameters
        ----------
        submitted_file : str
            The absolute path of a file in the extracted folder.
        """
        if self._plan is None:
            self._plan = self._make_plan()
        path = Path(submitted_file)
        target = self._plan.collect.get(path)
        if target is None:
            return None  # said why when planning (stock nbgrader adds its own "Skipped submission" line)
        student, notebook = target
        info = {"student_id": student, "file_id": notebook}
        hand_in = self._plan.hand_ins[path]
        if hand_in.timestamp is not None:
            info["timestamp"] = hand_in.timestamp.isoformat(" ")
        return info

    # -- planning ------------------------------------------------------------------------------------

    def _make_plan(self) -> lms.Plan:
        app = self.parent
        coursedir = app.coursedir
        assignment = coursedir.assignment_id
        extracted = self._step_folder(app.extracted_directory)
        files = [Path(root) / name for root, _, names in os.walk(extracted) for name in names]
        # Every assignment's notebooks, to tell one handed in for the wrong assignment by its cells.
        root = Path(coursedir.root)
        folders = [root / coursedir.release_directory, root / coursedir.source_directory]
        plan = lms.plan_collection(
            files,
            extracted=extracted,
            assignment=assignment,
            released=lms.released_notebooks(folders),
            students_by_lms_id=self._students_by_lms_id(),
            pattern=self.named_regexp,
            lms_id_is_student_id=self.lms_id_is_student_id,
            valid_ext=self.valid_ext,
        )
        for level, message in plan.messages:
            getattr(self.log, level)(message)
        self._keep_what_is_there(plan)
        self.log.info(plan.summary(assignment))
        return plan

    def _step_folder(self, step: str) -> Path:
        """A folder of zip_collect's layout (``downloaded/<assignment>/<step>``), from its public settings."""
        app = self.parent
        return Path(
            os.path.join(app.coursedir.root, app.collect_directory_structure).format(
                downloaded=app.downloaded_directory, assignment_id=app.coursedir.assignment_id, collect_step=step
            )
        )

    def _students_by_lms_id(self) -> dict[str, str]:
        from nbgrader.api import Gradebook

        coursedir = self.parent.coursedir
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            return {s.lms_user_id: s.id for s in gb.students if s.lms_user_id}

    def _keep_what_is_there(self, plan: lms.Plan) -> None:
        """Leave unchanged students alone; keep a copy of a folder ``--force`` replaces; refuse without it.

        Stock nbgrader empties a student's folder before copying the new files in
        (with ``--force``; without it, it stops at the first such student, halfway).
        """
        coursedir = self.parent.coursedir
        changed: list[tuple[str, Path]] = []
        for student, notebooks in sorted(plan.students().items()):
            folder = Path(coursedir.format_path(coursedir.submitted_directory, student, coursedir.assignment_id))
            if not folder.is_dir() or not any(folder.iterdir()):
                continue
            same = all(
                (folder / notebook).is_file() and (folder / notebook).read_bytes() == path.read_bytes()
                for notebook, path in notebooks.items()
            )
            if same:
                self.log.info("%s: already collected, unchanged: left as it is", student)
                for path in notebooks.values():
                    del plan.collect[path]
                continue
            changed.append((student, folder))
        if not changed:
            return
        replaced = self._step_folder("replaced")
        if not self.parent.force:
            names = ", ".join(student for student, _ in changed)
            self.parent.fail(
                f"{len(changed)} student(s) already have a different submission collected in "
                f"{coursedir.submitted_directory}/: {names}. Nothing was collected. Run again with --force to replace "
                f"them with this download's (each replaced folder is kept in {replaced}/<student>/<time>/)"
            )
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.%fZ")
        for student, folder in changed:
            keep = replaced / student / stamp
            shutil.copytree(folder, keep)
            self.log.warning(
                "%s: replacing the submission collected earlier with this download's; the earlier one is kept in %s",
                student, keep,
            )  # fmt: skip
