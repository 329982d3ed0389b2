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


# -- code without its notebook ---------------------------------------------------------------------
#
# Some checks also read what the notebook's training cell left (``"globals"`` in the request, e.g.
# ``weight_log``).  Synthetic submissions judged in-process (the tests' catalogues, the benchmarks)
# have the student's code but no notebook run: these stand in for the training cell, which trains
# the student's class on the run the request describes (``"own_run"``).  Trusted code only.


def training_cell_run(request: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any] | None:
    """What the training cell would leave as ``weight_log``, as the probe describes a value.

    ``{"missing": True}`` when the class fails to train (the cell fails); None when the
    request reads no notebook run.
    """
    import numpy as np

    run = request.get("own_run")
    if not request.get("globals") or run is None:
        return None
    try:
        model = namespace[request["class"]](list(run["init"]))
        args = [np.array(a, dtype=float) if isinstance(a, list) else a for a in run["args"]]
        with np.errstate(all="ignore"):
            _, weight_log = model.train(*args)
        return probe.describe_value(weight_log)
    except Exception:  # noqa: BLE001 - a wrong class: the training cell fails
        return {"missing": True}


def with_training_cell_run(
    request: dict[str, Any], payload: dict[str, Any], ran: dict[str, Any] | None
) -> dict[str, Any]:
    """`payload` with `ran` (:func:`training_cell_run`) where the probed namespace had no ``weight_log``."""
    if ran is None:
        return payload
    found = dict(payload.get("globals") or {})
    for name in request["globals"]:
        if found.get(name, {"missing": True}) == {"missing": True}:
            found[name] = ran if name == "weight_log" else {"missing": True}
    return {**payload, "globals": found}


def judge_without_the_notebook(name: str, namespace: dict[str, Any], assignment: str, student: str) -> Verdict:
    """:func:`judge_in_process` for code whose notebook was not run (its training cell stood in for)."""
    import numpy as np

    request = checks.make_request(name, assignment, student)
    with np.errstate(all="ignore"):
        payload = probe.collect(namespace, request)
        payload = with_training_cell_run(request, payload, training_cell_run(request, namespace))
    return checks.CHECKS[name].judge(request, payload)
