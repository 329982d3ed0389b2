"""Mistakes: the known wrong ways to get an answer, named from outputs alone.

The grader never reads a student's source.  An assignment (or a model several
assignments share) lists the typical wrong ways to write a function, each as a
:class:`Mistake` with a function that computes what that wrong version returns;
:func:`match_variant` reports the one whose outputs match the student's on every
case.  A match says *what* is wrong and the hint says *where to look*, without
giving the formula away.

Three matchers, for three shapes of evidence (each names nothing when two
different explanations fit the same numbers: a guess misleads more than silence):

- :func:`match_variant` -- variants as functions of ``(w1, w2, x[, y])``, one mistake each;
- :func:`match_outputs` -- variants as outputs per case, computed lazily; nan and inf
  match where the variant has them (:func:`same_numbers`);
- :func:`match_shared` -- every variant's output precomputed in one array per case, each a
  combination of slips; names the slips every fitting variant shares.

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

Slips = tuple[Mistake, ...]
"""One explanation of a wrong output: the mistakes a variant combines (empty: the right one)."""

MATCH_RTOL = 1e-6
"""How closely a known mistake's outputs must reproduce the student's to be named."""


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
    rtol: float = MATCH_RTOL,
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
    found = unique_mistake(matched)
    return found[0] if found else None


def same_numbers(student: Array, variant: Array, rtol: float = MATCH_RTOL) -> bool:
    """``student`` reproduces ``variant``: same shape, nan and inf where it has them, close elsewhere.

    Unlike :func:`close`, a nan matches a nan: a wrong variant may well produce one (the mean of no
    samples), and a student who made that mistake produces it too.

    Parameters
    ----------
    student, variant : numpy.ndarray
        The student's output and a wrong variant's.
    rtol : float
        Tolerance, relative to the variant's size (``1 +`` its largest finite value) and to each value.
    """
    student, variant = np.asarray(student, dtype=float), np.asarray(variant, dtype=float)
    if student.shape != variant.shape:
        return False
    finite = np.isfinite(variant)
    if finite.all():  # the common case, in few numpy calls: judges run this thousands of times
        scale = 1 + float(np.abs(variant).max(initial=0.0))
        with np.errstate(invalid="ignore"):
            return bool((np.abs(student - variant) <= rtol * scale + rtol * np.abs(variant)).all())
    if not np.array_equal(finite, np.isfinite(student)):
        return False
    if not np.array_equal(student[~finite], variant[~finite], equal_nan=True):
        return False
    scale = 1 + float(np.max(np.abs(variant[finite]), initial=0.0))
    return bool(np.allclose(student[finite], variant[finite], rtol=rtol, atol=rtol * scale))


def near(a: float, b: float, rtol: float) -> bool:
    """``a`` equals ``b`` to relative tolerance `rtol` (plain floats: no numpy call per comparison).

    Parameters
    ----------
    a, b : float
        The numbers compared; the tolerance is relative to ``b``.
    rtol : float
        Relative tolerance.
    """
    return abs(a - b) <= rtol * abs(b) or a == b


def unique_mistake(candidates: Sequence[Mistake | Slips]) -> Slips | None:
    """The mistakes of the one explanation found (several variants may stand for the same one), or None.

    Two different explanations of the same numbers do not decide: naming one would be a guess.

    Parameters
    ----------
    candidates : sequence of Mistake or tuple of Mistake
        What each fitting variant stands for.
    """
    found = {(c,) if isinstance(c, Mistake) else tuple(c) for c in candidates}
    return next(iter(found)) if len(found) == 1 else None


def match_outputs(
    student: Sequence[Array],
    expected: Sequence[Array],
    variants: Sequence[tuple[Mistake | Slips, Callable[[int], Array]]],
) -> Slips | None:
    """The known mistake whose outputs reproduce the student's on every case, if exactly one does.

    Parameters
    ----------
    student, expected : sequence of numpy.ndarray
        The student's and the right output, per case.
    variants : sequence
        ``(mistake or mistakes, output)`` of each wrong variant, where ``output(i)`` is its output on
        case ``i`` (computed only as long as it keeps matching); a variant that never differs from
        the right answer proves nothing and is skipped.
    """
    matched = []
    for mistake, output in variants:
        differs = False
        for i, (s, e) in enumerate(zip(student, expected)):
            o = np.asarray(output(i), dtype=float)
            if not same_numbers(s, o):
                break
            differs = differs or not same_numbers(o, e, 1e-9)
        else:
            if differs:
                matched.append(mistake)
    return unique_mistake(matched)


def match_shared(
    student: Sequence[Array],
    expected: Sequence[Array],
    outputs: Sequence[Array],
    explanations: Sequence[Slips],
    rtol: float = MATCH_RTOL,
) -> Slips | None:
    """The mistakes that every explanation reproducing the student's numbers on every case shares, or None.

    Unlike :func:`match_variant`, a variant may be a combination of slips (a factor 2 *and* a sign), and
    the variants' outputs come precomputed, all variants of a case in one array.  A variant only counts
    where it differs from the right answer somewhere.  Of the variants that fit, only the slips they all
    share are named: where two explanations give the same numbers and share nothing, nothing is named.

    Parameters
    ----------
    student, expected : sequence of numpy.ndarray
        Per case, the student's output and the right one.
    outputs : sequence of numpy.ndarray
        Per case, every variant's output stacked along the first axis.
    explanations : sequence of tuple of Mistake
        The slips of each variant, in the order of `outputs`' first axis.
    rtol : float
        Tolerance of a match, relative to 1 + the largest value of the variant's output.
    """
    matches = np.ones(len(explanations), dtype=bool)
    differs = np.zeros(len(explanations), dtype=bool)
    with np.errstate(all="ignore"):
        for s, e, out in zip(student, expected, outputs):
            out = out.reshape(len(explanations), -1)
            s, e = np.asarray(s, dtype=float).ravel(), np.asarray(e, dtype=float).ravel()
            scale = 1 + np.max(np.abs(out), axis=1, initial=0.0)
            matches &= np.all(np.abs(out - s) <= rtol * scale[:, None], axis=1) & np.all(np.isfinite(out), axis=1)
            differs |= np.any(~(np.abs(out - e) <= 1e-9 * (1 + np.max(np.abs(e), initial=0.0))), axis=1)
    found = [explanations[i] for i in np.flatnonzero(matches & differs)]
    if not found:
        return None
    # Name only what every fitting explanation shares: in 03, (sign) and (sign, target for residual) both
    # fit where the prediction is 0, and the sign is certain; (no division) and (times w_k) both fit there
    # too, and neither is.
    shared = set.intersection(*({m.code for m in f} for f in found))
    named = tuple(m for m in found[0] if m.code in shared)
    return named or None
