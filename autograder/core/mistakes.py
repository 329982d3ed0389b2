"""Mistakes: the known wrong ways to get an answer, named from outputs alone.

The grader never reads a student's source.  An assignment (or a model several
assignments share) lists the typical wrong ways to write a function, each as a
:class:`Mistake` with a function that computes what that wrong version returns;
:func:`match_variant` reports the one whose outputs match the student's on every
case.  A match says *what* is wrong and the hint says *where to look*, without
giving the formula away.

Mistakes live in catalogues (:class:`Catalogue`): one per assignment or model,
plus :data:`GENERIC` for mistakes of any function.  Codes are stable (the class
report counts them) and unique across every catalogue an assignment uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Mistake:
    """A known way to get it wrong.

    Attributes
    ----------
    code : str
        Stable identifier, used to count mistakes across a class.
    title : str
        What is wrong, in a few words.
    hint : str
        How to find and fix it, without the answer.
    """

    code: str
    title: str
    hint: str

    def message(self) -> str:
        """The sentence a student reads."""
        return f"Likely mistake: {self.title}. {self.hint}"


Array = NDArray[np.float64]


class Catalogue:
    """The mistakes one assignment or model can name, by code.

    Parameters
    ----------
    name : str
        Whose mistakes these are (for messages).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._by_code: dict[str, Mistake] = {}

    def register(self, code: str, title: str, hint: str) -> Mistake:
        """Create a mistake and add it here."""
        if code in self._by_code:
            raise ValueError(f"mistake {code!r} registered twice in {self.name}")
        mistake = Mistake(code, title, hint)
        self._by_code[code] = mistake
        return mistake

    def __getitem__(self, code: str) -> Mistake:
        return self._by_code[code]

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Mistake]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Mistake | None:
        """The mistake with this code, or None."""
        return self._by_code.get(code)

    @classmethod
    def union(cls, name: str, *catalogues: Catalogue) -> Catalogue:
        """One catalogue holding every mistake of `catalogues` (the same one twice is fine, a clash is not)."""
        merged = cls(name)
        for catalogue in catalogues:
            for mistake in catalogue:
                known = merged._by_code.setdefault(mistake.code, mistake)
                if known is not mistake:
                    raise ValueError(f"mistake code {mistake.code!r} means two things ({catalogue.name}, {name})")
        return merged


GENERIC = Catalogue("generic")
"""Mistakes of any function, whichever assignment it belongs to."""

CHANGES_ITS_INPUT = GENERIC.register(
    "changes_its_input",
    "the function changes an array it was given",
    "`x *= 2`, `x[...] = ...`, `x.sort()` or `np.add(x, 1, out=x)` change the caller's array, and the caller "
    "(the training loop, the plots) then works with changed data: compute a new array instead (`x * 2`), or "
    "work on a copy (`x = x.copy()`).",
)

LOST_PRECISION = GENERIC.register(
    "lost_precision",
    "the values are close but only to a few significant digits",
    "Look for float32, rounding, or a conversion through int or str; compute in float64.",
)
NOT_IMPLEMENTED = GENERIC.register(
    "not_implemented",
    "the method is not implemented yet",
    "Replace the `raise NotImplementedError` with your code.",
)


def close(a: Sequence[float] | Array, b: Sequence[float] | Array, rtol: float, scale: float) -> bool:
    """True where ``a`` equals ``b`` to relative tolerance `rtol` (absolute ``rtol * scale``)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale))


def match_variant(
    cases: list[tuple[float, float, Array, Array]],
    student: list[Array],
    variants: list[tuple[Mistake, Callable[..., object]]],
    expected: list[Array],
    rtol: float = 1e-6,
) -> Mistake | None:
    """The one known mistake whose outputs match the student's on every case, or None.

    A variant only counts if it also differs from the right answer somewhere:
    otherwise matching it proves nothing.

    Parameters
    ----------
    cases : list of tuple
        ``(w1, w2, x, y)`` of each test case.
    student : list of numpy.ndarray
        The student's output on each case.
    variants : list
        ``(Mistake, function)`` pairs; the function takes ``(w1, w2, x)`` for a
        forward variant (when ``y`` is None) or ``(w1, w2, x, y)``.
    expected : list of numpy.ndarray
        The right output on each case.
    rtol : float
        Tolerance of a match.
    """
    matched: list[Mistake] = []
    for mistake, variant in variants:
        outputs = []
        for w1, w2, x, y in cases:
            value = variant(w1, w2, x) if y is None else variant(w1, w2, x, y)  # type: ignore[call-arg]
            outputs.append(np.asarray(value, dtype=float))
        differs = any(not close(o, e, 1e-9, 1 + float(np.max(np.abs(e), initial=0))) for o, e in zip(outputs, expected))
        if not differs:
            continue
        if all(close(s, o, rtol, 1 + float(np.max(np.abs(o), initial=0))) for s, o in zip(student, outputs)):
            matched.append(mistake)
    # Two mistakes that explain the same numbers (a zero weight, a symmetric start) do not decide:
    # naming one of them would be a guess, and a wrong name misleads more than none.
    return matched[0] if len({m.code for m in matched}) == 1 else None
