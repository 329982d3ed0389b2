"""What the plug-ins share: which cells are graded tests, and how a verdict is written into one.

A verdict is written as the test cell's outputs (:func:`verdict_outputs`), so
nbgrader's stock ``GetGrades`` scores it and the class report reads it back.
"""

from __future__ import annotations

import json
import textwrap

from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.utils import is_grade, is_solution

from ..core import checks
from ..core.verdict import Verdict
from ..kernels.sandbox import UNPROTECTED_NOTICE

VERDICT_KEY = "autograder"
"""Output metadata key under which a verdict's details are kept (read by the class report)."""

VERDICT_MIME = "application/x-autograder-verdict+json"
"""The verdict's details as data: an output that no notebook view draws."""

CURVES_MIME = "application/x-autograder-curves+json"
"""Training records of a check, drawn as a plot only when feedback is generated."""


class GraderFailure(RuntimeError):
    """The grader, not the submission, failed: the submission stays ungraded, for the next run.

    nbgrader's autograde catches it per submission: it logs the message, removes
    the autograded copy and records no score, grades the other students, and
    exits non-zero.  ``python -m autograder grade`` lists it as failed, leaves it
    unrecorded and exits non-zero.
    """


RESTART_HINT = "Restart your kernel and run all cells to reproduce it."
"""Added to a failure only when the student's own code stopped the kernel."""


def is_test_cell(cell: NotebookNode) -> bool:
    """True for a graded code cell that is not an answer: a test, autograded by nbgrader."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def unchecked_tests(nb: NotebookNode) -> list[str]:
    """Grade ids (or positions) of the test cells that do not name only registered checks.

    Such a cell would have its verdict decided by its own code, in the student's
    kernel; building, releasing and grading refuse it.
    """
    bad = []
    for index, cell in enumerate(nb.cells):
        if not is_test_cell(cell):
            continue
        names = checks.checks_in(cell.source)
        unknown = [name for name in names if name not in checks.CHECKS]
        if not names or unknown:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
            what = f"unknown check {', '.join(map(repr, unknown))}" if unknown else "no run_check(...)"
            bad.append(f"{grade_id} ({what})")
    return bad


def is_checked_test(cell: NotebookNode) -> bool:
    """True for an autograded test cell whose source names at least one check."""
    return (
        cell.cell_type == "code"
        and is_grade(cell)
        and not is_solution(cell)
        and bool(checks.checks_in(cell.source))
    )


def verdict_outputs(name: str, verdict: Verdict) -> list[NotebookNode]:
    """The outputs that carry a verdict in the autograded notebook.

    A pass is a line on stdout (full marks for nbgrader); a failure is an error
    output (zero for nbgrader) whose text is the judge's message.  The verdict's
    details follow in a ``display_data`` output, under :data:`VERDICT_KEY` in its
    metadata (stream and error outputs have no metadata in nbformat), for the
    class report; nbgrader does not score display data.
    """
    details = {"check": name, "score": verdict.score, "mistakes": list(verdict.mistakes)}
    if verdict.passed:
        outputs = [new_output("stream", name="stdout", text=f"✔ {verdict.message}\n")]
    else:
        outputs = [
            new_output(
                "error",
                ename="TestFailed",
                evalue=verdict.message,
                # Shown as preformatted text (in JupyterLab and in the feedback HTML): wrapped, so
                # a long explanation is read, not scrolled sideways.
                traceback=[f"\x1b[0;31mTestFailed\x1b[0m: {textwrap.fill(verdict.message, 100)}"],
            )
        ]
    outputs.append(
        new_output("display_data", data={VERDICT_MIME: json.dumps(details)}, metadata={VERDICT_KEY: details})
    )
    if verdict.curves:
        outputs.append(new_output("display_data", data={CURVES_MIME: json.dumps(verdict.curves)}))
    return outputs


UNPROTECTED_KEY = "autograder_unprotected"
"""Notebook metadata flag, and the id of the notice cell, of a notebook graded without the sandbox."""


def mark_unprotected(nb: NotebookNode) -> None:
    """Say, at the top of a graded notebook (so in its feedback), that it was graded without the sandbox."""
    nb.metadata[UNPROTECTED_KEY] = True
    if not (nb.cells and nb.cells[0].get("id") == UNPROTECTED_KEY):
        notice = new_markdown_cell(f"**⚠ {UNPROTECTED_NOTICE}**")
        notice["id"] = UNPROTECTED_KEY
        nb.cells.insert(0, notice)
