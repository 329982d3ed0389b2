"""Run a check in-process: for the instructor's own notebook, never for grading.

The hidden tests of an instructor notebook call :func:`run_check`.  Where the
instructor executes the notebook (JupyterLab, building notebooks/, ``nbgrader
validate`` of source/), the kernel is the instructor's own and trusted, so the
probe and the judge both run right there.  Under the secure grader the test
cell's source is never executed: :mod:`autograder.nbgrader_plugins` reads the
check's name from it and runs the same probe in the student's sandboxed kernel,
judging outside.
"""

from __future__ import annotations

import sys
from typing import Any

from . import checks, probe
from .verdict import Verdict


def judge_in_process(
    name: str, namespace: dict[str, Any], assignment: str, student: str, values: dict[str, Any] | None = None
) -> Verdict:
    """Probe and judge check `name` in this process, on one student's inputs.

    For trusted code only (the instructor's notebook, the tests): nothing here is sandboxed.

    Parameters
    ----------
    name : str
        A key of :func:`autograder.core.checks.all_checks`.
    namespace : dict
        Where the code under test is defined.
    assignment, student : str
        Whose inputs to draw (the seed of the request).
    values : dict, optional
        The values the notebook ran with, for a check that varies (default: the worked solution's).
    """
    request = checks.make_request(name, assignment, student, values)
    return checks.CHECKS[name].judge(request, probe.collect(namespace, request))


def run_check(name: str, namespace: dict[str, Any], student: str = "instructor") -> None:
    """Probe and judge check `name` against the code defined in `namespace`.

    Parameters
    ----------
    name : str
        A key of :func:`autograder.core.checks.all_checks`.
    namespace : dict
        The notebook's globals (pass ``globals()``).
    student : str, optional
        Whose inputs to draw (the seed of the request).

    Raises
    ------
    AssertionError
        With the verdict's message, when it does not.
    """
    # The values the notebook's helpers chose (course_helpers.variant_values): an instructor who tries
    # a student's values in their own notebook has the run checked on those.
    helpers = sys.modules.get("course_helpers")
    values = getattr(helpers, "_chosen_values", None) if helpers is not None else None
    verdict = judge_in_process(name, namespace, "instructor", student, values)
    if not verdict.passed:
        raise AssertionError(verdict.message)
    # Print, don't return: a value would become an execute_result, which nbgrader reads as partial credit.
    print(verdict.message)
