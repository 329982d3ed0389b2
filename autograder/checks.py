"""The graded checks of each assignment: which inputs, which probe, which judge.

A test cell in an instructor notebook names its check in the hidden-tests part::

    ### BEGIN HIDDEN TESTS
    run_check("shallow_narrow.forward", globals())
    ### END HIDDEN TESTS

The secure grader reads that name, builds the request (inputs seeded by
assignment, student and check, so a regrade sees the same inputs), sends the
probe to the kernel and passes the payload to the judge.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .judge import Verdict

CHECK_CALL = re.compile(r"""run_check\(\s*["']([\w.]+)["']""")
"""How a test cell names its check (matched on the cell source restored from the gradebook)."""


@dataclass(frozen=True)
class Check:
    """One graded test.

    Attributes
    ----------
    name : str
        ``"<assignment topic>.<test>"``, as written in the test cell.
    make_request : callable
        ``rng -> request``: the inputs, drawn from the grader's generator.
    judge : callable
        ``(request, payload) -> Verdict``.
    """

    name: str
    make_request: Callable[[np.random.Generator], dict[str, Any]]
    judge: Callable[[dict[str, Any], dict[str, Any] | None], Verdict]


def seed_for(assignment: str, student: str, check: str) -> int:
    """A seed that is the same for every regrade of one student's check."""
    digest = hashlib.sha256(f"{assignment}\0{student}\0{check}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _load_checks() -> dict[str, Check]:
    """Collect ``CHECKS`` from every module of :mod:`autograder.assignments`.

    An assignment adds its graded tests by adding a module there; nothing else changes.
    """
    import importlib
    import pkgutil

    from . import assignments

    found: dict[str, Check] = {}
    for info in pkgutil.iter_modules(assignments.__path__):
        module = importlib.import_module(f"{assignments.__name__}.{info.name}")
        for check in getattr(module, "CHECKS", []):
            if check.name in found:
                raise ValueError(f"check {check.name!r} is defined twice")
            found[check.name] = check
    return found


def checks_in(source: str) -> list[str]:
    """Names of the checks a test cell's source calls, in order."""
    return CHECK_CALL.findall(source)


def make_request(name: str, assignment: str, student: str) -> dict[str, Any]:
    """The request of check `name` for one student's submission of one assignment."""
    rng = np.random.default_rng(seed_for(assignment, student, name))
    return CHECKS[name].make_request(rng)


CHECKS: dict[str, Check] = _load_checks()
"""Every graded check, by the name a test cell uses."""
