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
from .mistakes import CHANGES_ITS_INPUT, NOT_IMPLEMENTED, Mistake

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
    for case, result in zip(request["cases"], results):
        changed = changed_input(case, result)
        if changed:
            return fail(f"`{method}` changed an array it was given, with {describe(case)}: {changed}.", CHANGES_ITS_INPUT)
    return None


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def changed_input(case: dict[str, Any], result: dict[str, Any]) -> str | None:
    """What a call changed in the arrays it was given (compared with the grader's own inputs), or None."""
    after = result.get("args_after")
    if not isinstance(after, list):
        return None
    for index, (given, record) in enumerate(zip(case["args"], after)):
        if not isinstance(given, list) or record is None:
            continue
        before, now = np.asarray(given, dtype=float), values(record)
        if now is None or record.get("truncated"):
            continue
        which = _ORDINALS[index] if index < len(_ORDINALS) else f"argument {index + 1}"
        if now.shape != before.shape:
            return f"its {which} argument went from shape {before.shape} to {now.shape}"
        if np.array_equal(now, before, equal_nan=True):  # the usual case, and the cheap test
            continue
        differ = np.flatnonzero((now != before) & ~(np.isnan(now) & np.isnan(before))).ravel()
        if differ.size:
            first = int(differ[0])
            return (f"{differ.size} of {before.size} values of its {which} argument changed "
                    f"(value {first} went from {before.ravel()[first]:.4g} to {now.ravel()[first]:.4g})")  # fmt: skip
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
