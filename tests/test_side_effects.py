"""A function or method that changes the arrays it was given loses that test, and is told what changed.

For every check of every assignment, the instructor's own solution is wrapped so that it
returns the right answer and then changes one array it was given (as `x *= 2` would): the
verdict must fail, name the mistake and say which argument changed and how.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from autograder.core import checks, probe
from autograder.core.verdict import changed_input
from conftest import as_if_the_notebook_ran
from series import SERIES, Assignment


def _has_array_argument(request: dict[str, Any]) -> bool:
    return any(isinstance(arg, list) and arg for case in request["cases"] for arg in case["args"])


CASES = [
    (a, test, name)
    for a in SERIES
    for test, name in a.check_of.items()
    # Checks whose function takes only numbers (02's saddle test) have no array to change.
    if _has_array_argument(checks.make_request(name, a.name, "side-effects"))
]


def _spoil_first_array(args: tuple[Any, ...]) -> bool:
    for arg in args:
        if isinstance(arg, np.ndarray) and arg.size:
            arg *= -2.0  # in place: the caller's array
            arg += 1.0
            return True
    return False


def _mutating(namespace: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The namespace with the checked function or method changing its first array argument after the call."""
    spoiled = dict(namespace)
    if "function" in request:
        original = namespace[request["function"]]

        @functools.wraps(original)
        def function(*args: Any) -> Any:
            out = original(*args)
            _spoil_first_array(args)
            return out

        spoiled[request["function"]] = function
    else:
        cls, method = namespace[request["class"]], request["method"]

        def patched(self: Any, *args: Any) -> Any:
            out = getattr(cls, method)(self, *args)
            _spoil_first_array(args)
            return out

        spoiled[request["class"]] = type(cls.__name__, (cls,), {method: patched})
    return spoiled


@pytest.mark.parametrize("assignment, test, name", CASES, ids=lambda v: v.name if isinstance(v, Assignment) else v)
def test_changing_an_input_array_loses_the_test_and_says_what_changed(
    assignment: Assignment, test: str, name: str
) -> None:
    namespace = assignment.namespace(assignment.source_notebook())
    request = checks.make_request(name, assignment.name, "side-effects")
    check = checks.all_checks()[name]
    with np.errstate(all="ignore"):
        right = check.judge(request, as_if_the_notebook_ran(request, probe.collect(namespace, request), namespace))
        assert right.passed, right.message  # the solution itself passes
        spoiling = _mutating(namespace, request)
        verdict = check.judge(request, as_if_the_notebook_ran(request, probe.collect(spoiling, request), spoiling))
    assert not verdict.passed and "changes_its_input" in verdict.mistakes, verdict.message
    assert "changed an array it was given" in verdict.message and "argument changed" in verdict.message


def test_the_comparison_is_with_the_grader_s_inputs_not_the_kernel_s_word() -> None:
    case = {"args": [[1.0, 2.0, 3.0], 0.5]}
    same = {"args_after": [{"shape": [3], "values": [1.0, 2.0, 3.0]}, None]}
    doubled = {"args_after": [{"shape": [3], "values": [2.0, 4.0, 6.0]}, None]}
    reshaped = {"args_after": [{"shape": [1, 3], "values": [1.0, 2.0, 3.0]}, None]}
    assert changed_input(case, same) is None and changed_input(case, {}) is None
    assert changed_input(case, doubled) == (
        "3 of 3 values of its first argument changed (value 0 went from 1 to 2)"
    )
    assert changed_input(case, reshaped) == "its first argument went from shape (3,) to (1, 3)"
