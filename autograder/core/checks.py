"""The graded checks of each assignment: which inputs, which probe, which judge.

Every assignment is one package under :mod:`autograder.assignments` whose
``ASSIGNMENT`` (an :class:`Assignment`) lists its checks, its mistakes and its
feedback plot.  The engine names none of them: :func:`registry` finds them.

A test cell in an instructor notebook names its check in the hidden-tests part::

    ### BEGIN HIDDEN TESTS
    run_check("shallow_narrow.forward", globals())
    ### END HIDDEN TESTS

The secure grader reads that name, builds the request (inputs seeded by
assignment, student and check, so a regrade sees the same inputs), sends the
probe to the kernel and passes the payload to the judge.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import pkgutil
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .mistakes import GENERIC, Catalogue
from .variants import Variant
from .verdict import Verdict

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
        ``rng -> request``: the inputs, drawn from the grader's generator; ``(rng, values) -> request``
        when `varies`.
    judge : callable
        ``(request, payload) -> Verdict``.
    varies : bool
        The inputs include the student's own values (the assignment's :attr:`Assignment.variant`).
    """

    name: str
    make_request: Callable[..., dict[str, Any]]
    judge: Callable[[dict[str, Any], dict[str, Any] | None], Verdict]
    varies: bool = False


@dataclass(frozen=True)
class Assignment:
    """What the engine needs to know about one assignment.

    Attributes
    ----------
    name : str
        The nbgrader assignment id (the folder in source/), e.g. ``"01_shallow_narrow"``.
    topic : str
        The first part of its check names (``"<topic>.<test>"``); also its package's name.
    checks : tuple of Check
        Its graded tests.
    mistakes : Catalogue
        Every mistake its judges can name (its own and those of the models it uses).
    plot : callable, optional
        ``curves -> matplotlib Figure``: the feedback plot of a verdict's training records.
    variant : Variant, optional
        The values that may differ from student to student (where the course turns variants on).
    """

    name: str
    topic: str
    checks: tuple[Check, ...]
    mistakes: Catalogue
    plot: Callable[[dict[str, Any]], Any] | None = None
    variant: Variant | None = None

    def __post_init__(self) -> None:
        for check in self.checks:
            if not check.name.startswith(f"{self.topic}."):
                raise ValueError(f"check {check.name!r} of {self.name} does not start with {self.topic!r}.")
            if check.varies and self.variant is None:
                raise ValueError(f"check {check.name!r} varies, but {self.name} defines no variant")


ASSIGNMENTS_PACKAGE = "autograder.assignments"
"""Where :func:`registry` looks for assignment packages."""


@functools.cache
def registry() -> dict[str, Assignment]:
    """Every assignment package's ``ASSIGNMENT``, by topic (imported on first use).

    Adding an assignment is adding a package under :mod:`autograder.assignments`.
    """
    package = importlib.import_module(ASSIGNMENTS_PACKAGE)
    found: dict[str, Assignment] = {}
    names: set[str] = set()
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{ASSIGNMENTS_PACKAGE}.{info.name}")
        assignment = getattr(module, "ASSIGNMENT", None)
        if not isinstance(assignment, Assignment):
            raise TypeError(f"{module.__name__} defines no ASSIGNMENT (an autograder.core.checks.Assignment)")
        if assignment.topic != info.name or assignment.topic in found:
            raise ValueError(f"{module.__name__}: its topic must be its package name, once ({assignment.topic!r})")
        if assignment.name in names:
            raise ValueError(f"assignment {assignment.name!r} is defined twice")
        found[assignment.topic] = assignment
        names.add(assignment.name)
    return found


@functools.cache
def all_checks() -> dict[str, Check]:
    """Every graded check of every assignment, by the name a test cell uses."""
    return {check.name: check for assignment in registry().values() for check in assignment.checks}


@functools.cache
def all_mistakes() -> Catalogue:
    """Every mistake any assignment can name (for the class report and the tests)."""
    return Catalogue.union("every assignment", GENERIC, *(a.mistakes for a in registry().values()))


def assignment_of(check: str) -> Assignment | None:
    """The assignment a check name belongs to (by its topic), or None."""
    return registry().get(check.split(".", 1)[0])


def assignment_named(name: str) -> Assignment | None:
    """The assignment whose nbgrader id is `name` (e.g. ``"01_shallow_narrow"``), or None."""
    return next((a for a in registry().values() if a.name == name), None)


def __getattr__(name: str) -> Any:
    # ``checks.CHECKS`` reads as a constant but is built on first use, so that an
    # assignment package can import this module while the registry imports it.
    if name == "CHECKS":
        return all_checks()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def seed_for(assignment: str, student: str, check: str) -> int:
    """A seed that is the same for every regrade of one student's check."""
    digest = hashlib.sha256(f"{assignment}\0{student}\0{check}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def checks_in(source: str) -> list[str]:
    """Names of the checks a test cell's source calls, in order."""
    return CHECK_CALL.findall(source)


def make_request(name: str, assignment: str, student: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request of check `name` for one student's submission of one assignment.

    Parameters
    ----------
    name : str
        The check.
    assignment, student : str
        Whose inputs to draw (the seed of the request).
    values : dict, optional
        The student's own values (:func:`autograder.core.variants.values_for`), for a check that
        `varies`; the worked solution's when not given.
    """
    rng = np.random.default_rng(seed_for(assignment, student, name))
    check = all_checks()[name]
    if not check.varies:
        return check.make_request(rng)
    owner = assignment_of(name)
    assert owner is not None and owner.variant is not None  # Assignment.__post_init__ made sure
    return check.make_request(rng, dict(values) if values else dict(owner.variant.default))
