"""The nbgrader plug-ins of the course, one small plug-in a file (named in ``nbgrader_config.py``).

- :class:`SecureExecute` (:mod:`.secure_execute`) -- autograde: runs the student's code in a
  sandboxed kernel and judges each test outside it; :func:`require_sandbox` stops autograde where
  the sandbox cannot be built.
- :class:`RequireRegisteredChecks` (:mod:`.require_checks`) -- generate_assignment: refuses a graded
  test cell that names no registered check.
- :class:`RepairCellMetadata` (:mod:`.repair_metadata`) -- autograde's sanitizing steps: puts edited
  nbgrader metadata right.
- :class:`HideHiddenTests`, :class:`DrawCurves` (:mod:`.feedback`) -- generate_feedback.
- :mod:`.cells` -- what they share: graded test cells and the outputs a verdict is written as.
- :mod:`.workspace`, :mod:`.output_cap` -- two concerns of ``SecureExecute``: the kernel's private copy of
  the submission, and the cap on what a cell keeps.
"""

from .cells import GraderFailure
from .feedback import DrawCurves, HideHiddenTests
from .repair_metadata import RepairCellMetadata
from .require_checks import RequireRegisteredChecks
from .secure_execute import SecureExecute, require_sandbox

__all__ = [
    "DrawCurves",
    "GraderFailure",
    "HideHiddenTests",
    "RepairCellMetadata",
    "RequireRegisteredChecks",
    "SecureExecute",
    "require_sandbox",
]
