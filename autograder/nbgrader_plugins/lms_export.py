"""``nbgrader export``: grades as the CSV a Canvas gradebook imports."""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Dict, Enum

from ..course import lms


class CanvasGradebookExport(ExportPlugin):
    """For ``nbgrader export``: one row per student, one column per assignment, as Canvas's Grades → Import reads.

    Columns ``Student`` ("Last, First"), ``ID`` (the student's Canvas user id, nbgrader's
    ``lms_user_id``), ``SIS User ID`` (the course's student id; see ``id_column``), ``SIS
    Login ID``, ``Section``, then each assignment, with a "Points Possible" row first.  Canvas
    finds each student by any of the ids.  A score is the submission's score less its late
    penalty.  A cell is left blank (Canvas then keeps what it has) where the student handed
    nothing in and, unless ``partial`` is set, where written answers still wait for grading
    in the formgrader (the log names those students).  Run::

        nbgrader export --exporter=autograder.nbgrader_plugins.lms_export.CanvasGradebookExport --to canvas.csv
    """

    assignment_columns = Dict(
        {},
        help="The Canvas column title of each nbgrader assignment, as Canvas's own export writes it "
        '(e.g. {"01_shallow_narrow": "Shallow narrow network (4567)"}): then the import updates that '
        "assignment.  An assignment not named here gets its nbgrader name, and the import makes a new "
        "Canvas assignment of that name (with the points of the Points Possible row).",
    ).tag(config=True)

    id_column = Enum(
        lms.CANVAS_ID_COLUMNS,
        "SIS User ID",
        help="The Canvas column the course's student ids go in (the one they came from).",
    ).tag(config=True)

    partial = Bool(
        False,
        help="Export the score of a submission whose written answers are not graded yet (they count 0), "
        "instead of leaving its cell blank.",
    ).tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        """Write the CSV to ``--to`` (default ``canvas_grades.csv``)."""
        dest = Path(self.to or "canvas_grades.csv")
        wanted_students = {str(s) for s in self.student}
        wanted_assignments = {str(a) for a in self.assignment}
        assignments = [a for a in gradebook.assignments if not wanted_assignments or a.name in wanted_assignments]
        columns = [(self.assignment_columns.get(a.name, a.name), a.max_score) for a in assignments]
        waiting: list[str] = []
        rows = []
        for student in gradebook.students:
            if wanted_students and student.id not in wanted_students:
                continue
            scores: dict[str, float | None] = {}
            for assignment, (title, _) in zip(assignments, columns):
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    scores[title] = None
                    continue
                if submission.needs_manual_grade and not self.partial:
                    waiting.append(f"{student.id} ({assignment.name})")
                    scores[title] = None
                    continue
                scores[title] = max(0.0, submission.score - (submission.late_submission_penalty or 0.0))
            rows.append(lms.GradeRow(student.id, student.first_name, student.last_name, student.lms_user_id, scores))
        with dest.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(lms.canvas_import_rows(columns, rows, self.id_column))
        self.log.info("Wrote %d students' grades for Canvas to %s", len(rows), dest)
        if waiting:
            self.log.warning(
                "Left blank, as written answers still wait for grading in the formgrader (or export with "
                "--CanvasGradebookExport.partial=True): %s",
                ", ".join(waiting),
            )
