"""Per-student variants: each student's own numbers, drawn from their student id.

An assignment that offers variants describes them with a :class:`Variant`: the values
of the worked solution (the seed's) and, for each value that varies, the range inside
which the exercise still teaches the same lesson.  Where the course turns variants on
for the assignment (``c.CourseOptions.variants`` in ``nbgrader_config.py``), a student's
values are drawn from a hash of the assignment and the student id; elsewhere everyone
gets the worked solution's.

Two places compute a student's values and must agree:

- the grader (:func:`values_for`), from the id nbgrader files the submission under,
  whatever the notebook says;
- the student's notebook (``variant_values`` in ``source/course_helpers.py``, given
  code that must run without this package), from the spec :func:`spec` writes into the
  assignment folder as :data:`SPEC_FILE` when the assignment is built.

The draw is a few lines of standard-library hashing on purpose, so that both are
plainly the same; ``tests/test_variants.py`` checks them against each other for
hundreds of ids.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

SPEC_FILE = "variant.json"
"""The file in an assignment folder that tells the notebook its ranges (and whether variants are on)."""

ENV = "AUTOGRADER_VARIANT"
"""Set by the grader in the student's kernel: ``{"student": id, "values": {...}}``, the values to run with."""


@dataclass(frozen=True)
class Variant:
    """The values of one assignment that differ from student to student.

    Attributes
    ----------
    default : dict
        The worked solution's values (the seed's), e.g. ``{"a": 2.0, "seed": 2021}``.
    ranges : dict
        ``name -> (low, high, digits)``: the value is drawn uniformly from ``[low, high]``
        and rounded to `digits` decimals.  A ``"seed"`` in `default` is replaced by a
        drawn integer seed for the data.
    """

    default: dict[str, Any]
    ranges: dict[str, tuple[float, float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, (low, high, _digits) in self.ranges.items():
            if name not in self.default or not low <= self.default[name] <= high:
                raise ValueError(f"variant value {name!r}: the worked solution's value must lie in its range")


def _unit(assignment: str, student: str, name: str) -> float:
    """A number in [0, 1) fixed by the assignment, the student and the value's name."""
    digest = hashlib.sha256(f"{assignment}\0{student}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def draw(variant: Variant, assignment: str, student: str) -> dict[str, Any]:
    """The values of `student` (whatever the course's setting: see :func:`values_for`)."""
    values = dict(variant.default)
    for name, (low, high, digits) in sorted(variant.ranges.items()):
        values[name] = round(low + (high - low) * _unit(assignment, student, name), digits)
    if "seed" in values:
        values["seed"] = int(_unit(assignment, student, "seed") * 2**31)
    return values


def values_for(variant: Variant | None, assignment: str, student: str | None, on: bool) -> dict[str, Any]:
    """The values the grader uses for one submission.

    Parameters
    ----------
    variant : Variant or None
        The assignment's variant (None: it has no per-student values).
    assignment : str
        The nbgrader assignment id (part of the hash: a student's values differ between assignments).
    student : str or None
        The id nbgrader files the submission under; None for the instructor's own notebook.
    on : bool
        Whether the course turned variants on for this assignment.
    """
    if variant is None:
        return {}
    if not on or not student:
        return dict(variant.default)
    return draw(variant, assignment, student.strip())


def spec(variant: Variant, assignment: str, on: bool) -> str:
    """The text of :data:`SPEC_FILE` for the notebook: the ranges, the defaults and the switch."""
    ranges = {name: list(bounds) for name, bounds in sorted(variant.ranges.items())}
    body = {"assignment": assignment, "on": on, "default": variant.default, "ranges": ranges}
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def kernel_env(student: str | None, values: dict[str, Any]) -> dict[str, str]:
    """What the grader puts in the student's kernel environment so the notebook runs with `values`."""
    return {ENV: json.dumps({"student": student, "values": values}, sort_keys=True)} if values else {}
