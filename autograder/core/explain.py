"""Explaining a wrong output in words, when no known mistake fits: how far off, and where.

Feedback teaches without giving the answer away: these helpers say by how much and in which direction a
value is off, and on which kind of input an output is wrong, never what the right value is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def how_far_off(student: float, expected: float, scale: float | None = None) -> str:
    """How far one number is from the right one, without saying the right one.

    Parameters
    ----------
    student, expected : float
        The student's value and the right one.
    scale : float, optional
        What "by how much" is relative to (default: the right value's size).

    Returns
    -------
    str
        E.g. "off by 50% (too large in magnitude)", to follow "your value is".
    """
    if not np.isfinite(student):
        return f"not a finite number ({student})"
    gap = student - expected
    size = abs(expected) if scale is None else scale
    if size < 1e-12:
        return f"off by {abs(gap):.3g} where it should be (almost) zero"
    if student * expected < 0:
        direction = "of the wrong sign"
    elif abs(student) > abs(expected):
        direction = "too large in magnitude"
    else:
        direction = "too small in magnitude"
    relative = "" if scale is None else " of the values' size there"
    return f"off by {100 * abs(gap) / size:.3g}%{relative} ({direction})"


def where_pattern(wrong: Sequence[bool], patterns: Sequence[tuple[str, Sequence[bool]]], every: str) -> str:
    """Say on which kind of input an output is wrong, when a simple rule says it exactly.

    Parameters
    ----------
    wrong : sequence of bool
        Per test input, whether the output is wrong there.
    patterns : sequence
        ``(phrase, holds per input)``, checked in order; the first that holds exactly where the output
        is wrong is named.
    every : str
        What to say when every input is wrong.

    Returns
    -------
    str
        `every`, "exactly those <phrase>, and right on the others", or "" when no pattern fits.
    """
    wrong = list(wrong)
    if all(wrong):
        return every
    for phrase, holds in patterns:
        if list(holds) == wrong:
            return f"exactly those {phrase}, and right on the others"
    return ""
