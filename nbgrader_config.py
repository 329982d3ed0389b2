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
    RepairCellMetadata,
    RequireRegisteredChecks,
    SecureExecute,
)

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

# A student who edits a cell's nbgrader metadata (e.g. its schema version) must not stop
# the grading of everyone after them: the metadata is put back before nbgrader checks it.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
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
c.Autograde.pre_convert_hook = "autograder.nbgrader_plugins.require_sandbox"
c.SecureExecute.allow_unsandboxed = False
c.Execute.timeout = 30  # seconds per cell; a hung cell costs its own points only
c.SecureExecute.timeout = 30
# Deleted test cells come back from the gradebook and are graded like any other (deleting a test
# dodges nothing), instead of leaving the submission waiting for a manual grade.
c.OverwriteCells.add_missing_cells = True

# Feedback shows each test's verdict and the training plot, never the hidden test code.
c.GenerateFeedback.preprocessors = [HideHiddenTests, DrawCurves, GetGrades, CSSHTMLHeaderPreprocessor]
c.HideHiddenTests.enforce_metadata = False
