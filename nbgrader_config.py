"""nbgrader configuration of the shallow-narrow course.

Run nbgrader from this folder.  The gradebook is SQLite at the repo root unless
SHALLOW_NARROW_DB_URL names another database (e.g. postgresql://user@host/course).
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from nbgrader.converters import GenerateAssignment  # noqa: E402

from autograder.upstream import default_steps  # noqa: E402

from autograder.nbgrader_plugins import (  # noqa: E402
    DrawCurves,
    HideHiddenTests,
    LenientExporter,
    RecogniseSubmission,
    RenderMath,
    RepairCellMetadata,
    RequireRegisteredChecks,
    SecureExecute,
)
from autograder.nbgrader_plugins.offline_math import feedback_template_dirs  # noqa: E402

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "shallow-narrow"
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = os.environ.get(
    "SHALLOW_NARROW_DB_URL", "sqlite:///" + os.path.join(HERE, "gradebook.db")
)
c.CourseDirectory.assignment_id = ""

# A graded test cell must name a registered check, or its verdict would be decided in the
# student's kernel: releasing an assignment with one fails, naming the cell.
c.GenerateAssignment.preprocessors = [
    RequireRegisteredChecks,
    *default_steps(GenerateAssignment, "preprocessors"),
]

# Every submission gets feedback.  What has one meaning is repaired and graded, and the feedback says so:
# a byte-order mark or UTF-16 file, Windows line endings in cells, the notebook handed in under another
# name (the only one of this assignment in the folder), cells that lost their nbgrader metadata but are
# recognised by cell id, unchanged content or place.  What cannot be graded (cut off, not a notebook,
# several candidates, none, another assignment's) gets no score and a feedback page saying what was wrong
# and what to do.  submitted/ is never changed: repairs are made to the copy nbgrader grades.
c.Autograde.exporter_class = LenientExporter
# A student who edits a cell's nbgrader metadata (e.g. its schema version) must not stop
# the grading of everyone after them: the metadata is put back before nbgrader checks it.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    RecogniseSubmission,
    RepairCellMetadata,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]

# Student code runs in a sandboxed kernel and verdicts are decided outside it.
c.Autograde.autograde_preprocessors = [
    SecureExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# Where bubblewrap cannot build the sandbox, grading refuses to start (before anything is recorded)
# and says what to install or enable.  To grade anyway, unprotected, opt in here or on the command
# line (--SecureExecute.allow_unsandboxed=True); every run and feedback file then says so.
# (The hook also picks the file graded as each notebook: one handed in under another name.)
c.Autograde.pre_convert_hook = "autograder.nbgrader_plugins.intake.before_autograde"
c.SecureExecute.allow_unsandboxed = False
c.Execute.timeout = 30  # seconds per cell; a hung cell costs its own points only
c.SecureExecute.timeout = 30
# Deleted test cells come back from the gradebook and are graded like any other (deleting a test
# dodges nothing), instead of leaving the submission waiting for a manual grade.
c.OverwriteCells.add_missing_cells = True

# Feedback shows each test's verdict and the training plot, never the hidden test code.  Formulas become
# MathML when the feedback is written, and the feedback template loads no MathJax: the page reads the same
# offline, runs no script, and a screen reader reads the math as math.
c.GenerateFeedback.preprocessors = [HideHiddenTests, DrawCurves, RenderMath, GetGrades, CSSHTMLHeaderPreprocessor]
c.HTMLExporter.extra_template_basedirs = feedback_template_dirs()
# nbgrader's exchange delivers feedback by the name of the notebook handed in: a renamed one's gets it too.
c.GenerateFeedback.post_convert_hook = "autograder.nbgrader_plugins.intake.after_feedback"
c.HideHiddenTests.enforce_metadata = False

# Grading from an LMS without a hub (README: "Grading from an LMS").  zip_collect reads Canvas's
# bulk-download names (smithjohn[_LATE]_<user id>_<file id>_<file name>), finds each student by their Canvas
# id (the gradebook's lms_user_id), keeps each student's latest upload and says why every other file is left
# out (older, another assignment's, unknown student, no notebook); files left out stay in
# downloaded/<assignment>/extracted/, and a folder --force replaces is kept in downloaded/<assignment>/replaced/.
c.ZipCollectApp.collector_plugin = "autograder.nbgrader_plugins.lms_collect.CanvasCollector"
# Late submissions (timestamp.txt after the due date) lose 10% of their score per day begun, at most 50%.
c.AssignLatePenalties.plugin_class = "autograder.nbgrader_plugins.late_penalty.PerDayLatePenalty"
c.PerDayLatePenalty.percent_per_day = 10.0
c.PerDayLatePenalty.max_percent = 50.0

# The course's own switches (autograder/course/options.py), per assignment.  The class report's similarity
# section: the pairs of students whose work is most alike, each linked to a side-by-side page.
c.CourseOptions.similarity_in_report = []
