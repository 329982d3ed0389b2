"""Verdicts: the outcome of one graded test, and the helpers every judge shares.

A judge takes the request the grader sent (its inputs) and the payload the probe
sent back (plain JSON data, parsed in the grading process), computes the right
answer itself, and returns a :class:`Verdict`.  A missing, malformed or
self-inconsistent payload scores 0 with a message that says so
(:func:`structural_problem`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import mistakes
from .mistakes import NOT_IMPLEMENTED, Mistake

RTOL = 1e-9
"""Relative tolerance of a right answer (floating-point reordering stays far below it)."""

TRAIN_RTOL = 1e-6
"""Relative tolerance on training records, where rounding accumulates over the epochs."""

PRECISION_RTOL = 1e-3
"""Values this close but not within :data:`RTOL` are diagnosed as lost precision."""


@dataclass
class Verdict:
    """The outcome of one graded test.

    Attributes
    ----------
    score : float
        Fraction of the test's points earned, from 0 to 1.
    message : str
        What the student reads.
    mistakes : list of str
        Codes of the diagnosed mistakes (see :mod:`autograder.core.mistakes`).
    curves : dict, optional
        Student and reference training records, for the feedback plot.
    """

    score: float
    message: str
    mistakes: list[str] = field(default_factory=list)
    curves: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return self.score >= 1.0


def fail(message: str, *mistakes: Mistake) -> Verdict:
    """A zero verdict whose message ends with each mistake's explanation."""
    text = " ".join([message, *(m.message() for m in mistakes)])
    return Verdict(0.0, text, [m.code for m in mistakes])


def structural_problem(
    request: dict[str, Any],
    payload: dict[str, Any] | None,
    method: str,
    describe: Callable[[dict[str, Any]], str],
) -> Verdict | None:
    """A zero verdict when the payload cannot be judged at all, else None.

    Parameters
    ----------
    request : dict
        The grader's request.
    payload : dict or None
        What the probe sent back (None when nothing valid came back).
    method : str
        The method or function under test, for the message.
    describe : callable
        Names the inputs of a case in a message (e.g. "w1 = 0.5, w2 = -1 and 3 samples").
    """
    if payload is None:
        return fail(
            f"The test could not collect a result from your notebook while calling `{method}` "
            "(the kernel may have died, timed out, or the output was tampered with). "
            "Restart the kernel and run all cells from the top to reproduce."
        )
    if "missing" in payload:
        return fail(
            f"`{payload['missing']}` is not defined when the tests run. Did a cell fail, "
            "or was it renamed or deleted? Restart the kernel and run all cells."
        )
    results = payload.get("results")
    if not isinstance(results, list) or len(results) != len(request["cases"]):
        return fail("The test's result is malformed (wrong number of cases), so it scores 0.")
    for case, result in zip(request["cases"], results):
        if not isinstance(result, dict):
            return fail("The test's result is malformed, so it scores 0.")
        if "error" in result:
            error = str(result["error"])
            if error.startswith("NotImplementedError"):
                return fail(f"`{method}` raised NotImplementedError.", NOT_IMPLEMENTED)
            return fail(f"`{method}` raised an error with {describe(case)}: {error}")
    return None


def values(record: Any) -> np.ndarray | None:
    """The numbers of one collected value, or None if it carried none."""
    if not isinstance(record, dict) or "error" in record or record.get("truncated"):
        return None
    try:
        numbers = np.array(record["values"], dtype=float)
        return numbers.reshape(tuple(int(s) for s in record["shape"]))
    except (KeyError, TypeError, ValueError):
        return None


def close(student: np.ndarray, expected: np.ndarray, rtol: float = RTOL) -> bool:
    """Equal within `rtol`, relative to the size of the expected value."""
    return mistakes.close(student, expected, rtol, 1 + float(np.max(np.abs(expected), initial=0.0)))
