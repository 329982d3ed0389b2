"""The nbgrader plug-ins of the course, one small plug-in a file (named in ``nbgrader_config.py``).

- :class:`SecureExecute` (:mod:`.secure_execute`) -- autograde: runs the student's code in a
  sandboxed kernel and judges each test outside it; :func:`require_sandbox` stops autograde where
  the sandbox cannot be built.
- :class:`RequireRegisteredChecks` (:mod:`.require_checks`) -- generate_assignment: refuses a graded
  test cell that names no registered check.
- :class:`RepairCellMetadata` (:mod:`.repair_metadata`) -- autograde's sanitizing steps: puts edited
  nbgrader metadata right.
- :class:`LenientExporter`, :class:`RecogniseSubmission` (:mod:`.intake`) -- autograde: every submission gets
  feedback; what has one meaning (a byte-order mark, a renamed notebook, lost metadata) is repaired and
  graded, what cannot be graded is explained to the student and not scored (with the hooks
  ``intake.before_autograde`` and ``intake.after_feedback``).
- :class:`HideHiddenTests`, :class:`DrawCurves` (:mod:`.feedback`), :class:`RenderMath` (:mod:`.offline_math`)
  -- generate_feedback: hidden tests hidden, training plots drawn, formulas written as MathML.
- :class:`CanvasCollector` (:mod:`.lms_collect`) -- zip_collect of an LMS's bulk download;
  :class:`PerDayLatePenalty` (:mod:`.late_penalty`) -- autograde's late penalty;
  :class:`CanvasGradebookExport` (:mod:`.lms_export`) -- export for an LMS gradebook.
- :mod:`.cells` -- what they share: graded test cells and the outputs a verdict is written as.
- :mod:`.workspace`, :mod:`.output_cap` -- two concerns of ``SecureExecute``: the kernel's private copy of
  the submission, and the cap on what a cell keeps.
"""

from .cells import GraderFailure
from .feedback import DrawCurves, HideHiddenTests
from .intake import LenientExporter, RecogniseSubmission, Ungradable
from .late_penalty import PerDayLatePenalty
from .lms_collect import CanvasCollector
from .lms_export import CanvasGradebookExport
from .offline_math import RenderMath
from .repair_metadata import RepairCellMetadata
from .require_checks import RequireRegisteredChecks
from .secure_execute import SecureExecute, require_sandbox

__all__ = [
    "CanvasCollector",
    "CanvasGradebookExport",
    "DrawCurves",
    "GraderFailure",
    "HideHiddenTests",
    "LenientExporter",
    "PerDayLatePenalty",
    "RecogniseSubmission",
    "RenderMath",
    "RepairCellMetadata",
    "RequireRegisteredChecks",
    "SecureExecute",
    "Ungradable",
    "require_sandbox",
]
