"""Judges of ``02_learning_landscape``: compare collected data with :mod:`.reference`.

Same contract as every judge (:mod:`autograder.core.verdict`): ``(request, payload) -> Verdict``, a missing or
malformed payload scores 0, and a wrong answer is explained without printing the formula:

- by a known mistake (:data:`MISTAKES`, and the shallow model's gradient slips), named only when it alone
  explains every case the student got wrong: where two mistakes give the same numbers, neither is named;
- otherwise by which output is off, on which inputs (a pattern when there is one: "where w1 is negative",
  "near the line but not on it", "at the unbalanced minima"), and by how much.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...core.mistakes import LOST_PRECISION, Catalogue, Mistake
from ...core.verdict import PRECISION_RTOL, RTOL, Verdict, close, fail, structural_problem, values
from ...models import shallow as reference
from ...models import shallow_mistakes
from . import reference as ref

MISTAKES = Catalogue("02_learning_landscape")
"""The mistakes only this assignment names (its gradient shares the shallow model's)."""

LR_RTOL = 1e-3
"""Relative tolerance on the largest learning rate (a numerical Hessian or a careful search gets there)."""

MATCH_RTOL = 1e-6
"""How closely a known mistake's outputs must reproduce the student's to be named."""


# -- what every judge here shares (generic: belongs in autograder.core) ----------------------------


def same_numbers(student: np.ndarray, variant: np.ndarray, rtol: float = MATCH_RTOL) -> bool:
    """``student`` reproduces ``variant``: same shape, nan and inf where it has them, close elsewhere.

    Unlike :func:`autograder.core.verdict.close`, a nan matches a nan: a wrong variant may well
    produce one (the mean of no samples), and a student who made that mistake produces it too.
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
    """``a`` equals ``b`` to relative tolerance `rtol` (plain floats: no numpy call per comparison)."""
    return abs(a - b) <= rtol * abs(b) or a == b


def unique_mistake(candidates: Sequence[Mistake | tuple[Mistake, ...]]) -> tuple[Mistake, ...] | None:
    """The mistakes of the one explanation found (several variants may stand for the same one), or None.

    Two different explanations of the same numbers do not decide: naming one would be a guess.
    """
    found = {(c,) if isinstance(c, Mistake) else tuple(c) for c in candidates}
    return next(iter(found)) if len(found) == 1 else None


def match_outputs(
    student: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    variants: Sequence[tuple[Mistake | tuple[Mistake, ...], Callable[[int], np.ndarray]]],
) -> tuple[Mistake, ...] | None:
    """The known mistake whose outputs reproduce the student's on every case, if exactly one does.

    Parameters
    ----------
    student, expected : list of numpy.ndarray
        The student's and the right output, per case.
    variants : list
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


def how_far_off(student: float, expected: float, scale: float | None = None) -> str:
    """How far one number is from the right one, without saying the right one.

    Parameters
    ----------
    student, expected : float
        The student's value and the right one.
    scale : float, optional
        What "by how much" is relative to (default: the right value's size).
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
    wrong : list of bool
        Per test input, whether the output is wrong there.
    patterns : list
        ``(phrase, holds per input)``, checked in order.
    every : str
        What to say when every input is wrong.
    """
    wrong = list(wrong)
    if all(wrong):
        return every
    for phrase, holds in patterns:
        if list(holds) == wrong:
            return f"exactly those {phrase}, and right on the others"
    return ""


# -- the grids: loss_grid and loss_gradient --------------------------------------------------------


def _grid_case(case: dict[str, Any]) -> str:
    w1 = np.array(case["args"][0], dtype=float)
    return f"a grid of shape {w1.shape} and {len(case['args'][2])} sample(s)"


def _arrays(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.array(a, dtype=float) for a in case["args"][:4])  # type: ignore[return-value]


TRANSPOSED = MISTAKES.register(
    "grid_transposed",
    "the result is transposed (rows and columns swapped)",
    "Entry [i, j] of the result belongs to W1[i, j] and W2[i, j]; check how your loops or axes index the grid.",
)
UNFILLED = MISTAKES.register(
    "grid_unfilled",
    "some rows or columns of the result are never computed: they keep the value the array started with",
    "Check the bounds of your loops: range(m) runs over 0, …, m − 1; the rows of the grid follow W1.shape[0] "
    "and its columns W1.shape[1].",
)


def _position_patterns(cases: list[dict[str, Any]]) -> list[tuple[str, list[bool]]]:
    """Kinds of grid point a mistake may show on only, over every point of every grid."""
    points = [(w1, w2, len(c["args"][2])) for c in cases for w1, w2 in zip(*(np.ravel(a) for a in _arrays(c)[:2]))]
    kinds: list[tuple[str, Callable[[float, float, int], bool]]] = [
        ("where w1 is negative", lambda w1, w2, n: w1 < 0),
        ("where w2 is negative", lambda w1, w2, n: w2 < 0),
        ("where exactly one weight is negative", lambda w1, w2, n: (w1 < 0) != (w2 < 0)),
        ("where both weights are negative", lambda w1, w2, n: w1 < 0 and w2 < 0),
        ("where a weight is negative", lambda w1, w2, n: w1 < 0 or w2 < 0),
        ("where a weight is zero", lambda w1, w2, n: w1 == 0 or w2 == 0),
        ("where no weight is zero", lambda w1, w2, n: w1 != 0 and w2 != 0),
        ("where w1 is not zero", lambda w1, w2, n: w1 != 0),
        ("where w2 is not zero", lambda w1, w2, n: w2 != 0),
        ("with a single sample", lambda w1, w2, n: n == 1),
        ("with more than one sample", lambda w1, w2, n: n > 1),
    ]
    return [(phrase, [holds(*p) for p in points]) for phrase, holds in kinds]


def _entries_close(student: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Entry by entry, whether a grid output is right (the tolerance of :func:`~autograder.core.verdict.close`)."""
    return np.isclose(student, expected, rtol=RTOL, atol=RTOL * (1 + float(np.max(np.abs(expected)))))


def _unfilled(student: list[np.ndarray], expected: list[np.ndarray], cases: list[dict[str, Any]]) -> str | None:
    """Where loops left whole rows or columns at a starting value, if that explains every wrong grid."""
    fill: float | None = None
    example = ""
    for s, e, case in zip(student, expected, cases):
        bad = ~_entries_close(s, e)
        if not bad.any():
            continue
        values_there = s[bad]
        if not np.all(np.isfinite(values_there)) or np.ptp(values_there) != 0:
            return None
        if fill is None:
            fill = float(values_there[0])
        elif float(values_there[0]) != fill:
            return None
        rows, cols = np.all(s == fill, axis=1), np.all(s == fill, axis=0)
        if np.any(bad & ~(rows[:, None] | cols[None, :])):
            return None  # a wrong value outside the rows and columns left at the starting value
        if bad.all() or example:
            continue
        parts = []
        if rows.any() and not rows.all():
            parts.append(f"row(s) {np.flatnonzero(rows).tolist()} of {len(rows)}")
        if cols.any() and not cols.all():
            parts.append(f"column(s) {np.flatnonzero(cols).tolist()} of {len(cols)}")
        example = f"With {_grid_case(case)}, {' and '.join(parts)} keep the value {fill:.3g}."
    return example or None  # only a grid that is partly right shows the loops' bounds


def _grid_fallback(
    what: str,
    cases: list[dict[str, Any]],
    student: list[np.ndarray],
    expected: list[np.ndarray],
    hint: str,
    output: str = "value",
) -> Verdict:
    """Say which output is off, at which grid points, and by how much (no known mistake fits)."""
    masks = [~_entries_close(s, e) for s, e in zip(student, expected)]
    wrong = [bool(b) for m in masks for b in m.ravel()]
    pattern = where_pattern(wrong, _position_patterns(cases), "at every grid point of every grid")
    where = f"at {sum(wrong)} of {len(wrong)} grid points" + (f": {pattern}" if pattern else "")
    first = next(i for i, m in enumerate(masks) if m.any())
    s, e = student[first], expected[first]
    with np.errstate(invalid="ignore"):
        gaps = np.where(masks[first], np.abs(s - e), -1.0)
    worst = np.unravel_index(int(np.nanargmax(np.nan_to_num(gaps, nan=np.inf))), s.shape)
    w1, w2 = (float(a[worst]) for a in _arrays(cases[first])[:2])
    scale = float(np.max(np.abs(e))) if output != "loss" else None
    detail = how_far_off(float(s[worst]), float(e[worst]), scale)
    extra = ""
    if np.ptp(np.concatenate([x.ravel() for x in student])) == 0:
        extra = f" Every {output} you return is {float(student[0].ravel()[0]):.4g}, whatever the grid."
    elif output == "loss" and any(np.any(x < 0) for x in student):
        extra = " Some of your values are negative, which a mean of squares cannot be."
    return fail(
        f"{what} is wrong {where}. With {_grid_case(cases[first])}, the worst is at grid point "
        f"{tuple(int(i) for i in worst)} (w1 = {w1:.3g}, w2 = {w2:.3g}): your {output} there is {detail}.{extra} {hint}"
    )


# -- loss_grid ------------------------------------------------------------------------------------


def _mean(values: np.ndarray) -> np.ndarray:
    """The mean over the samples' axis (nan for no samples, without a warning)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(values, axis=-1) / values.shape[-1]


def _residuals(prediction: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def residual(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return y - prediction(w1[..., None], w2[..., None], x)

    return residual


_RIGHT_RESIDUAL = _residuals(lambda w1, w2, x: w1 * w2 * x)


def _on_residual(transform: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def variant(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return transform(_RIGHT_RESIDUAL(w1, w2, x, y))

    return variant


def _on_prediction(prediction: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    residual = _residuals(prediction)

    def variant(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _mean(residual(w1, w2, x, y) ** 2)

    return variant


LOSS_MISTAKES: list[tuple[Mistake, Callable[..., np.ndarray]]] = [
    (
        MISTAKES.register(
            "grid_loss_half",
            "the values are half the mean squared error",
            "This assignment's loss is the plain mean of the squared residuals, without a factor 1/2.",
        ),
        _on_residual(lambda r: _mean(r**2) / 2),
    ),
    (
        MISTAKES.register(
            "grid_loss_sum",
            "the values are n times too large (a sum over the samples where the mean belongs)",
            "The loss is a mean over the samples: average along the samples' axis.",
        ),
        _on_residual(lambda r: np.sum(r**2, axis=-1)),
    ),
    (
        MISTAKES.register(
            "grid_loss_rmse",
            "the values are the square root of the loss (a root-mean-square error)",
            "Return the mean of the squared residuals itself, not its square root.",
        ),
        _on_residual(lambda r: np.sqrt(_mean(r**2))),
    ),
    (
        MISTAKES.register(
            "grid_loss_abs",
            "the values are the mean absolute error",
            "Square the residuals instead of taking their absolute value.",
        ),
        _on_residual(lambda r: _mean(np.abs(r))),
    ),
    (
        MISTAKES.register(
            "grid_loss_no_square",
            "the residuals are averaged without being squared",
            "Square each residual before averaging over the samples.",
        ),
        _on_residual(_mean),
    ),
    (
        MISTAKES.register(
            "grid_loss_square_of_mean",
            "the mean residual is squared (square and mean in the wrong order)",
            "Square each residual first, then average.",
        ),
        _on_residual(lambda r: _mean(r) ** 2),
    ),
    (
        MISTAKES.register(
            "grid_loss_variance",
            "the values are the variance of the residuals: their mean is taken out first",
            "The loss measures the residuals around 0, not around their own mean: square them as they are.",
        ),
        _on_residual(lambda r: np.var(r, axis=-1)),
    ),
]
"""Wrong losses of the right residuals: each a ``(W1, W2, x, y) -> L`` variant."""

_SKIPS = MISTAKES.register(
    "grid_loss_skips_a_sample",
    "one sample is left out of the loss (the first or the last)",
    "Check the bounds of your loop or slice over the samples: range(n) runs over 0, …, n − 1, and "
    "r[:-1] or r[1:] drop one; every sample counts, and the mean divides by all n of them.",
)
LOSS_MISTAKES += [
    (_SKIPS, _on_residual(lambda r: _mean(r[..., :-1] ** 2))),
    (_SKIPS, _on_residual(lambda r: _mean(r[..., 1:] ** 2))),
    (_SKIPS, _on_residual(lambda r: np.sum(r[..., :-1] ** 2, axis=-1) / r.shape[-1])),
    (_SKIPS, _on_residual(lambda r: np.sum(r[..., 1:] ** 2, axis=-1) / r.shape[-1])),
    (
        MISTAKES.register(
            "grid_loss_adds_weights",
            "the model adds the weights instead of multiplying them",
            "The prediction at grid point (i, j) is W1[i, j] · W2[i, j] · x.",
        ),
        _on_prediction(lambda w1, w2, x: (w1 + w2) * x),
    ),
    (
        MISTAKES.register(
            "grid_loss_drops_w2",
            "the prediction ignores W2 (the values do not change along the grid's columns of W2)",
            "The network has two layers and each scales what it receives by its weight: both weights appear.",
        ),
        _on_prediction(lambda w1, w2, x: w1 * x),
    ),
    (
        MISTAKES.register(
            "grid_loss_drops_w1",
            "the prediction ignores W1 (the values do not change along the grid's rows of W1)",
            "The network has two layers and each scales what it receives by its weight: both weights appear.",
        ),
        _on_prediction(lambda w1, w2, x: w2 * x),
    ),
    (
        MISTAKES.register(
            "grid_loss_prediction_sign",
            "the prediction enters with the wrong sign: the landscape is mirrored, lowest where it should be highest",
            "The residual is the target minus the prediction; look for a sign that adds them.",
        ),
        _on_prediction(lambda w1, w2, x: -w1 * w2 * x),
    ),
    (
        MISTAKES.register(
            "grid_loss_x_squared",
            "the prediction uses x twice (it grows like x²)",
            "Each input passes through the network once: the prediction is linear in x.",
        ),
        _on_prediction(lambda w1, w2, x: w1 * w2 * x * x),
    ),
]


def _shape_problem(case: dict[str, Any], got: np.ndarray, want: np.ndarray, what: str) -> Verdict:
    """A result of the wrong shape: transposed values are named, anything else is described."""
    if got.shape == want.shape[::-1] and close(got.T, want):
        return fail(f"{what} returned the right numbers in the wrong layout, with {_grid_case(case)}.", TRANSPOSED)
    return fail(
        f"{what} returned shape {got.shape} for {_grid_case(case)}: it should return one value per grid point, "
        "an array shaped like W1."
    )


def _transposed(student: list[np.ndarray], expected: list[np.ndarray]) -> bool:
    """Every wrong grid is square and right once transposed (non-square ones fail on their shape)."""
    wrong = [(s, e) for s, e in zip(student, expected) if not close(s, e)]
    return bool(wrong) and all(s.shape[0] == s.shape[-1] and close(s.T, e) for s, e in wrong)


def _grid_mistake(
    what: str, cases: list[dict[str, Any]], student: list[np.ndarray], expected: list[np.ndarray]
) -> Verdict | None:
    """The grid-level mistakes of any grid output: transposed, unfilled rows or columns, lost precision."""
    if _transposed(student, expected):
        return fail(f"{what} is wrong on the square grid(s) only.", TRANSPOSED)
    unfilled = _unfilled(student, expected, cases)
    if unfilled:
        return fail(f"{what} is wrong on whole rows or columns of the grid. {unfilled}", UNFILLED)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"{what} is only approximately right: off in the later digits.", LOST_PRECISION)
    return None


def judge_loss_grid(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss_grid`` on grids of the grader's choosing."""
    problem = structural_problem(request, payload, "loss_grid", _grid_case)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        want = ref.loss_grid(*_arrays(case))
        got = values(result.get("out"))
        if got is None:
            return fail(f"`loss_grid` did not return numbers with {_grid_case(case)}.")
        if got.shape != want.shape:
            return _shape_problem(case, got, want, "`loss_grid`")
        student.append(got)
        expected.append(want)
    if all(close(s, e) for s, e in zip(student, expected)):
        return Verdict(1.0, f"`loss_grid` is right on all {len(cases)} grids.")
    what = "`loss_grid`"
    wrong = sum(not close(s, e) for s, e in zip(student, expected))
    arrays = [_arrays(c) for c in cases]
    variants = [(m, lambda i, f=f: f(*arrays[i])) for m, f in LOSS_MISTAKES]
    mistake = match_outputs(student, expected, variants)
    if mistake:
        return fail(f"{what} is wrong on {wrong} of {len(cases)} grids.", *mistake)
    known = _grid_mistake(what, cases, student, expected)
    if known:
        return known
    return _grid_fallback(
        what,
        cases,
        student,
        expected,
        "Check one grid point by hand: with W1 = [[2.0]], W2 = [[-1.0]], x = [1, 2], y = [0, 0] the loss is "
        "(4 + 16) / 2 = 10.",
        output="loss",
    )


# -- loss_gradient -------------------------------------------------------------------------------

PRODUCT_OF_MEANS = MISTAKES.register(
    "grad_product_of_means",
    "the mean of x and the mean of the residual are multiplied, where the mean of their product belongs",
    "A mean of products is not the product of the means: multiply each sample's input by its own residual, "
    "then average.",
)


def _gradient_variants(
    w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray
) -> list[tuple[Mistake, np.ndarray]]:
    """Whole-gradient wrong variants that are not a slip of one component (those are in gradient_forms)."""
    right = np.stack(ref.gradient_grid(w1, w2, x, y))
    r = _RIGHT_RESIDUAL(w1, w2, x, y)
    means = -2 * np.mean(x) * _mean(r)
    return [
        (shallow_mistakes.SWAPPED_WEIGHTS, right[::-1]),
        (shallow_mistakes.POSITIVE_ONLY, np.stack(ref.gradient_grid(np.abs(w1), np.abs(w2), x, y))),
        (PRODUCT_OF_MEANS, np.stack([w2 * means, w1 * means])),
    ]


def _pair(
    result: dict[str, Any], shape: tuple[int, ...], case: dict[str, Any], want: np.ndarray
) -> tuple[np.ndarray | None, Verdict | None]:
    """The two gradient grids the student returned, stacked; or the verdict that says why they cannot be judged."""
    out = result.get("out", {})
    if not isinstance(out, dict) or "items" not in out or out.get("length") != 2:
        return None, fail("`loss_gradient` must return a pair (dL_dW1, dL_dW2).")
    parts = [values(item) for item in out["items"]]
    if any(p is None for p in parts):
        return None, fail("`loss_gradient` returned something that is not numbers.")
    if any(p.shape != shape for p in parts):  # type: ignore[union-attr]
        got = [p.shape for p in parts]  # type: ignore[union-attr]
        if all(p.shape == shape[::-1] and close(p.T, w) for p, w in zip(parts, want)):  # type: ignore[union-attr]
            layout = f"`loss_gradient` returned the right numbers in the wrong layout, with {_grid_case(case)}."
            return None, fail(layout, TRANSPOSED)
        return None, fail(
            f"with {_grid_case(case)}, each of the two gradients should have the grid's shape {shape}; "
            f"`loss_gradient` returned shapes {got}."
        )
    return np.stack(parts), None  # type: ignore[arg-type]


def _titles(mistakes: Sequence[Mistake]) -> str:
    return " and ".join(m.title for m in mistakes)


def _forms_message(forms: list[tuple[Mistake, ...] | None]) -> tuple[str, list[Mistake]] | None:
    """What the gradient forms say, when they explain every wrong component; else None."""
    first, second = forms
    if first is None or second is None or (not first and not second):
        return None  # a component no known slip explains: naming the other's would not explain every case
    if first == second:
        return "", list(first)
    mistakes: list[Mistake] = []
    for found in (first, second):
        mistakes.extend(m for m in found if m not in mistakes)
    states = []
    for name, found in (("dL_dW1", first), ("dL_dW2", second)):
        if not found:
            states.append(f"{name} is right")
        elif first and second:
            states.append(f"{name} is wrong ({_titles(found)})")
        else:
            states.append(f"{name} is wrong")
    return "; ".join(states) + ".", mistakes


def _slope_check(w1: float, w2: float, x: np.ndarray, y: np.ndarray, pair: np.ndarray) -> str:
    """What finite differences of the loss say about the student's gradient at one point."""
    numeric = np.array(reference.finite_difference_gradients(w1, w2, x, y))
    norm_s, norm_n = float(np.linalg.norm(pair)), float(np.linalg.norm(numeric))
    if not np.all(np.isfinite(pair)) or norm_s == 0 or norm_n < 1e-9:
        return ""
    cosine = float(pair @ numeric) / (norm_s * norm_n)
    prefix = "A finite difference of the loss there shows that"
    if cosine < 0:
        return f" {prefix} a small step against your gradient would raise the loss, not lower it."
    if cosine > 0.9999 and abs(norm_s / norm_n - 1) > 0.05:
        ratio = norm_s / norm_n
        return f" {prefix} your gradient points the right way but is {ratio:.3g} times as long as it should be."
    return f" {prefix} your gradient does not point where the loss rises fastest."


def _points_close(student: np.ndarray, expected: np.ndarray, rtol: float = RTOL) -> np.ndarray:
    """Row by row, what :func:`autograder.core.verdict.close` says of each point's values (vectorised)."""
    scale = 1 + np.max(np.abs(expected), axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        near = np.abs(student - expected) <= rtol * scale + rtol * np.abs(expected)
    return np.all(near & np.isfinite(student), axis=1)


def judge_gradient(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss_gradient`` at every point of the grader's grids; diagnose with the shallow model's slips."""
    problem = structural_problem(request, payload, "loss_gradient", _grid_case)
    if problem:
        return problem
    cases = request["cases"]
    grids, wants = [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        w1, w2, x, y = _arrays(case)
        want = np.stack(ref.gradient_grid(w1, w2, x, y))
        pair, why = _pair(result, w1.shape, case, want)
        if why is not None:
            return why
        grids.append(pair)
        wants.append(want)
    total = sum(w1.size for w1 in (np.asarray(c["args"][0]) for c in cases))
    if all(close(s, e) for s, e in zip(grids, wants)):
        return Verdict(1.0, f"`loss_gradient` is right at all {total} grid points, negative and zero weights included.")
    what = "`loss_gradient`"
    points = []
    for case in cases:
        w1, w2, x, y = _arrays(case)  # one x and y per grid: gradient_forms computes a grid's points together
        points += [(float(a), float(b), x, y) for a, b in zip(w1.ravel(), w2.ravel())]
    student = np.concatenate([g.reshape(2, -1).T for g in grids])  # (points, 2)
    expected = np.concatenate([w.reshape(2, -1).T for w in wants])
    right = _points_close(student, expected).tolist()
    message = f"{what} is wrong at {right.count(False)} of {len(points)} grid points."
    explained = _forms_message(shallow_mistakes.gradient_forms(points, student, unique=True))
    if explained is not None:
        detail, mistakes = explained
        return fail(f"{message} {detail}".rstrip(), *mistakes)
    per_case = [_gradient_variants(*_arrays(c)) for c in cases]
    variants = [(m, lambda i, k=k: per_case[i][k][1]) for k, (m, _) in enumerate(per_case[0])]
    found = match_outputs(grids, wants, variants)
    if found:
        return fail(message, *found)
    components = [[g[k] for g in grids] for k in (0, 1)]
    component_wants = [[w[k] for w in wants] for k in (0, 1)]
    known = _grid_mistake(what, cases + cases, components[0] + components[1], component_wants[0] + component_wants[1])
    if known:
        return known
    ok = [_points_close(student[:, k : k + 1], expected[:, k : k + 1]).tolist() for k in (0, 1)]
    patterns = _position_patterns(cases)
    states = []
    for k, name in enumerate(("dL_dW1", "dL_dW2")):
        if all(ok[k]):
            states.append(f"{name} is right")
        else:
            pattern = where_pattern([not o for o in ok[k]], patterns, "at every grid point")
            where = f" ({pattern})" if pattern else ""
            states.append(f"{name} is wrong at {ok[k].count(False)} of {len(points)} grid points{where}")
    first = right.index(False)
    w1, w2, x, y = points[first]
    sizes = "; ".join(
        f"dL_dW{k + 1} is {how_far_off(float(student[first][k]), float(expected[first][k]))}"
        for k in (0, 1)
        if not ok[k][first]
    )
    return fail(
        f"{what}: {'; '.join(states)}. For example at w1 = {w1:.3g}, w2 = {w2:.3g} with {len(x)} sample(s), {sizes}."
        f"{_slope_check(w1, w2, x, y, student[first])} Compare your gradient with a finite difference of the loss, "
        "(L(w1 + h, w2) − L(w1 − h, w2)) / 2h with h = 1e-6, at a few points of the grid."
    )


# -- ends_at_saddle -------------------------------------------------------------------------------

SADDLE_IGNORES_SIGN = MISTAKES.register(
    "saddle_ignores_slope_sign",
    "the answer does not change when the slope's sign flips: the same line is used for both signs",
    "Draw the landscape for a = 1 and for a = −1: the valley of minima moves to the other quadrants, and so does "
    "the ridge that leads into the saddle.",
)
SADDLE_WRONG_DIAGONAL = MISTAKES.register(
    "saddle_wrong_diagonal",
    "the answer picks the diagonal that leads to a minimum, not the one that flows into the saddle",
    "On one diagonal the product w1·w2 has the slope's sign (downhill from the saddle, towards a minimum); on the "
    "other it has the opposite sign: which one does gradient descent follow back into (0, 0)?",
)
SADDLE_BOTH_DIAGONALS = MISTAKES.register(
    "saddle_both_diagonals",
    "the answer is True on both diagonals, where |w1| = |w2|",
    "The conserved quantity allows both diagonals, but only on one of them does the loss go down all the way to "
    "the saddle; on the other, gradient descent walks away from it.",
)
SADDLE_SLOPE_VALUE = MISTAKES.register(
    "saddle_uses_slope_value",
    "the line of starting points changes with the slope's size",
    "Which starting points flow into the saddle depends on the slope's sign only: compare the landscapes for "
    "a = 0.5 and a = 2.",
)
SADDLE_ORIGIN_ONLY = MISTAKES.register(
    "saddle_origin_only",
    "the answer is True only at (or close to) the saddle itself",
    "Starting points far from the origin can end there too: look at the trajectories that end at (0, 0) in the "
    "landscape plot.",
)
SADDLE_QUADRANT = MISTAKES.register(
    "saddle_sign_test",
    "the answer tests the signs of the weights, so it is True on a whole quadrant, not only on a line",
    "Points with the right signs but off the diagonal end at a minimum: gradient descent conserves a quantity "
    "that must be 0 at the saddle.",
)
SADDLE_TOLERANCE = MISTAKES.register(
    "saddle_tolerance_too_loose",
    "the answer is True for starting points near the line into the saddle but not on it",
    "Only points exactly on the line flow into the saddle: anything off it, however little, ends at a minimum "
    "(after a long plateau). Compare exactly, or with a tolerance at the level of rounding errors (say 1e-9).",
)
SADDLE_CONSTANT = MISTAKES.register(
    "saddle_constant_answer",
    "the answer is the same for every starting point",
    "Some starting points end at the saddle and others at a minimum: the answer depends on w1, w2 and the slope.",
)

NEAR_LINE = 0.1
"""How far from the line into the saddle a point still counts as near it (the loosest tolerance named)."""


def _line_distance(w1: float, w2: float, a: float) -> float:
    """Distance (along w2) from the line that flows into the saddle."""
    return abs(w1 + float(np.sign(a)) * w2)


SADDLE_LINES: list[tuple[tuple[Mistake, ...], Callable[[float, float, float], float]]] = [
    ((SADDLE_IGNORES_SIGN,), lambda w1, w2, a: abs(w1 + w2)),
    ((SADDLE_WRONG_DIAGONAL,), lambda w1, w2, a: abs(w1 - float(np.sign(a)) * w2)),
    ((SADDLE_BOTH_DIAGONALS,), lambda w1, w2, a: abs(abs(w1) - abs(w2))),
    ((SADDLE_SLOPE_VALUE,), lambda w1, w2, a: abs(w1 + a * w2)),
    ((SADDLE_SLOPE_VALUE,), lambda w1, w2, a: abs(a * w1 + w2)),
    ((SADDLE_SLOPE_VALUE,), lambda w1, w2, a: abs(w1 + w2 / a)),
    ((SADDLE_ORIGIN_ONLY,), lambda w1, w2, a: max(abs(w1), abs(w2))),
]
"""Wrong lines: ``(mistakes, distance)``; the student's True set is the points at distance 0 (or up to a tolerance)."""

SADDLE_SIGN_TESTS: list[tuple[tuple[Mistake, ...], Callable[[float, float, float], bool]]] = [
    ((SADDLE_QUADRANT,), lambda w1, w2, a: w1 * w2 * a < 0),
    ((SADDLE_QUADRANT, SADDLE_IGNORES_SIGN), lambda w1, w2, a: w1 * w2 < 0),
    ((SADDLE_QUADRANT, SADDLE_WRONG_DIAGONAL), lambda w1, w2, a: w1 * w2 * a > 0),
]
"""Sign tests: ``(mistakes, predicate)``, matched where the product of the weights is not 0."""


def _threshold_fits(said: list[bool], distance: list[float]) -> float | None:
    """The tolerance t for which "True exactly where distance <= t" reproduces `said`, or None."""
    inside = [d for s, d in zip(said, distance) if s]
    outside = [d for s, d in zip(said, distance) if not s]
    if not inside:
        return None
    t = max(inside)
    return t if not outside or t < min(outside) else None


def _saddle_explanations(args: list[tuple[float, float, float]], said: list[bool]) -> list[tuple[Mistake, ...]]:
    """Every known mistake that reproduces the student's answers on every starting point."""
    truth = [ref.ends_at_saddle(*p) for p in args]
    if len(set(said)) == 1:
        return [(SADDLE_CONSTANT,)]  # any line with a wide enough tolerance says the same: this says more
    found: list[tuple[Mistake, ...]] = []
    for mistakes, distance in SADDLE_LINES:
        d = [distance(*p) for p in args]
        if [di == 0 for di in d] == truth:
            continue  # on these inputs this line is the right one: matching it proves nothing
        t = _threshold_fits(said, d)
        if t is None or t > NEAR_LINE:  # a wide tolerance fits many rules by chance: it explains nothing
            continue
        loose = t > 0 and mistakes != (SADDLE_ORIGIN_ONLY,)  # "close to the saddle" is in that title already
        found.append(mistakes + ((SADDLE_TOLERANCE,) if loose else ()))
    for mistakes, test in SADDLE_SIGN_TESTS:
        if all(s == test(*p) for s, p in zip(said, args) if p[0] * p[1] != 0):
            found.append(mistakes)
    # The right line with a tolerance: every wrong answer a True near the line (absolute or relative tolerance).
    wrong = [(s, p) for s, t, p in zip(said, truth, args) if s != t]
    if wrong and all(s and 0 < _line_distance(*p) <= NEAR_LINE for s, p in wrong):
        found.append((SADDLE_TOLERANCE,))
    return found


def _point_case(case: dict[str, Any]) -> str:
    w1, w2, a = case["args"]
    return f"w1 = {w1:.6g}, w2 = {w2:.6g} and slope a = {a:.3g}"


SADDLE_KINDS = (
    "on the line that flows into the saddle",
    "at the saddle (0, 0) itself",
    "on the other diagonal",
    f"near the line into the saddle (within {NEAR_LINE}) but not on it",
    "with a zero weight",
    "elsewhere",
)
"""The situations a starting point stands for, as the feedback names them (in this order)."""


def _saddle_kind(w1: float, w2: float, a: float) -> str:
    """Which of :data:`SADDLE_KINDS` a starting point stands for."""
    on_line, on_origin, other_diagonal, near, zero_weight, elsewhere = SADDLE_KINDS
    if w1 == 0 and w2 == 0:
        return on_origin
    if _line_distance(w1, w2, a) == 0:
        return on_line
    if abs(w1) == abs(w2):
        return other_diagonal
    if _line_distance(w1, w2, a) <= NEAR_LINE:
        return near
    if w1 == 0 or w2 == 0:
        return zero_weight
    return elsewhere


def _saddle_where(args: list[tuple[float, float, float]], said: list[bool], truth: list[bool]) -> str:
    """On which kinds of starting point, and for which sign of the slope, the answers are wrong."""
    counts: dict[str, list[int]] = {kind: [0, 0] for kind in SADDLE_KINDS}
    for p, s, t in zip(args, said, truth):
        tally = counts[_saddle_kind(*p)]
        tally[0] += s != t
        tally[1] += 1
    parts = [f"{bad} of {n} {kind}" for kind, (bad, n) in counts.items() if bad]
    signs = {float(np.sign(p[2])) for p, s, t in zip(args, said, truth) if s != t}
    if len(signs) == 1:
        parts.append(f"only where the slope is {'positive' if signs == {1.0} else 'negative'}")
    return "; ".join(parts)


SADDLE_RUN = {"lr": 0.05, "n_ep": 3000, "x": np.linspace(0.0, 1.0, 10)}
"""The training run the feedback describes (noiseless data y = a·x)."""


def judge_saddle(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``ends_at_saddle`` on starting points on, near and off the line that flows into the saddle."""
    problem = structural_problem(request, payload, "ends_at_saddle", _point_case)
    if problem:
        return problem
    args, said = [], []
    for case, result in zip(request["cases"], payload["results"]):  # type: ignore[index]
        got = values(result.get("out"))
        if got is None or got.size != 1 or float(got.ravel()[0]) not in (0.0, 1.0):
            return fail(f"`ends_at_saddle` should return True or False; with {_point_case(case)} it did not.")
        args.append(tuple(float(v) for v in case["args"]))
        said.append(bool(got.ravel()[0]))
    truth = [ref.ends_at_saddle(*p) for p in args]
    total = len(args)
    if said == truth:
        return Verdict(
            1.0,
            f"`ends_at_saddle` is right on all {total} starting points: on, near and off the line into the saddle, "
            "for data of both signs of slope.",
        )
    wrong = [i for i in range(total) if said[i] != truth[i]]
    where = _saddle_where(args, said, truth)
    message = f"`ends_at_saddle` is wrong on {len(wrong)} of {total} starting points ({where})."
    mistakes = unique_mistake(_saddle_explanations(args, said))
    if mistakes:
        return fail(message, *mistakes)
    w1, w2, a = args[wrong[0]]
    x = SADDLE_RUN["x"]
    if truth[wrong[0]]:
        outcome = "ends at the saddle (0, 0)"
    else:
        s = float(np.mean(x * x))  # noiseless data y = a·x: the mean of x·y is a·s
        end = ref.descend_end(w1, w2, s, a * s, SADDLE_RUN["lr"], SADDLE_RUN["n_ep"])
        outcome = f"ends at ({end[0]:.3g}, {end[1]:.3g}), on the valley of minima, not at the saddle"
    return fail(
        f"{message} For example from w1 = {w1:.6g}, w2 = {w2:.6g} with slope a = {a:.3g}, your function says "
        f"{said[wrong[0]]}, but gradient descent (learning rate {SADDLE_RUN['lr']}, {SADDLE_RUN['n_ep']} epochs) "
        f"{outcome}. Look at the trajectories that end at (0, 0) in the landscape plot: what do their starting "
        "points have in common, and what changes when the slope's sign flips?"
    )


# -- max_stable_lr --------------------------------------------------------------------------------


def _minimum_case(case: dict[str, Any]) -> str:
    w1, w2 = case["args"][:2]
    return f"the minimum w1 = {w1:.4g}, w2 = {w2:.4g} ({len(case['args'][2])} samples)"


def _moments(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    return float(np.mean(x * x)), float(np.mean(x * y))


LR_ONE_OVER_LAMBDA = MISTAKES.register(
    "lr_one_over_lambda",
    "the value is half the right one (as 1/λ instead of 2/λ gives, or a curvature twice too large)",
    "The deviation is multiplied by (1 − ηλ) each step: for which η does |1 − ηλ| reach 1? And check the "
    "Hessian's factors of 2.",
)
LR_HALF_LOSS = MISTAKES.register(
    "lr_half_loss_curvature",
    "the value is twice the right one (the curvature of a loss with a 1/2, or half the largest eigenvalue)",
    "This loss has no factor 1/2: its second derivatives are twice those of half the squared error. "
    "And the limit is set by the largest eigenvalue itself.",
)
LR_DIAGONAL = MISTAKES.register(
    "lr_diagonal_only",
    "the value is what the Hessian's diagonal alone gives: its off-diagonal (mixed) term is missing or zero",
    "At a minimum the mixed derivative ∂²L/∂w1∂w2 is not zero: differentiate dL/dw1 with respect to w2 with the "
    "product rule (both factors depend on w2), and take the largest eigenvalue of the whole 2×2 matrix.",
)
LR_OFF_DIAGONAL = MISTAKES.register(
    "lr_wrong_off_diagonal",
    "the value fits a Hessian with the right diagonal but a wrong off-diagonal (mixed) term",
    "Differentiate dL/dw1 with respect to w2 once more, with the product rule, and check each term's sign and "
    "factor; then evaluate it at the minimum.",
)
LR_SUM = MISTAKES.register(
    "lr_sum_not_mean",
    "the value is n times too small (a sum over samples where the mean belongs)",
    "The loss is a mean over the samples, so its curvature is a mean too.",
)
LR_SMALLEST = MISTAKES.register(
    "lr_smallest_eigenvalue",
    "the value is based on the flattest direction, not the steepest (it is huge or infinite)",
    "Along the valley of minima the curvature is 0; the step size is limited by the steepest direction: the "
    "largest eigenvalue (np.linalg.eigvalsh sorts them in ascending order).",
)
LR_SQUARE_OF_MEAN = MISTAKES.register(
    "lr_square_of_mean_x",
    "the curvature uses the square of the mean input where the mean of the squared inputs belongs",
    "Differentiating the mean of squared residuals twice averages each sample's x·x: a mean of squares, not the "
    "square of a mean.",
)
LR_IGNORES_WEIGHTS = MISTAKES.register(
    "lr_ignores_the_weights",
    "the value is the same at every minimum of the same data: it ignores where on the valley the minimum lies",
    "The curvature across the valley depends on the weights at the minimum, not only on the data: the minima far "
    "from the origin are steeper.",
)
LR_SIGN = MISTAKES.register(
    "lr_wrong_sign",
    "the value has the right size but the wrong sign",
    "A learning rate is positive; look for a sign slip in the Hessian or in the eigenvalue you divide by.",
)


def _lr_variants(w1: float, w2: float, x: np.ndarray, y: np.ndarray) -> list[tuple[Mistake, float]]:
    """What each known wrong way to get the largest learning rate gives at one minimum."""
    s, _ = _moments(x, y)
    right = ref.max_stable_lr(w1, w2, x, y)

    def inverse(value: float) -> float:
        return float("inf") if value == 0 else 1 / value

    return [
        (LR_ONE_OVER_LAMBDA, 0.5 * right),
        (LR_HALF_LOSS, 2 * right),
        (LR_DIAGONAL, inverse(s * max(w1 * w1, w2 * w2))),  # 2 / the larger diagonal entry
        (LR_DIAGONAL, inverse(s * w2 * w2)),  # 2 / H[0, 0]
        (LR_DIAGONAL, inverse(s * w1 * w1)),  # 2 / H[1, 1]
        (LR_SUM, right / len(x)),
        (LR_SQUARE_OF_MEAN, inverse(float(np.mean(x)) ** 2 * (w1 * w1 + w2 * w2))),
        (LR_IGNORES_WEIGHTS, inverse(s)),
        (LR_SIGN, -right),
    ]


def _off_diagonal_factor(lr: float, w1: float, w2: float, x: np.ndarray) -> float | None:
    """The off-diagonal entry, as a multiple of the right one, of a Hessian with the right diagonal and 2/lr on top.

    With diagonal entries ``d1, d2``, the largest eigenvalue ``λ`` fixes the off-diagonal's size:
    ``b² = (λ − d1)(λ − d2)``.  None when no such Hessian has that largest eigenvalue.
    """
    s = float(np.mean(x * x))
    d1, d2, right = 2 * s * w2 * w2, 2 * s * w1 * w1, 2 * s * w1 * w2
    if not np.isfinite(lr) or lr <= 0 or right == 0:
        return None
    top = 2 / lr
    if top < max(d1, d2) * (1 - 1e-9):
        return None
    return float(np.sqrt(max((top - d1) * (top - d2), 0.0)) / abs(right))


def _lr_explanations(
    cases: list[dict[str, Any]], student: list[float], expected: list[float]
) -> tuple[Mistake, ...] | None:
    """The one known mistake that gives the student's value at every minimum, or None."""
    arrays = [_arrays(c) for c in cases]
    found: list[Mistake] = []
    if all(not np.isfinite(s) or abs(s) > 1e6 * e for s, e in zip(student, expected)):
        found.append(LR_SMALLEST)
    per_case = [_lr_variants(*a) for a in arrays]
    for k, (mistake, _) in enumerate(per_case[0]):
        outputs = [variants[k][1] for variants in per_case]
        if all(near(o, e, 1e-9) for o, e in zip(outputs, expected)):
            continue
        if all(near(s, o, MATCH_RTOL) for s, o in zip(student, outputs)):
            found.append(mistake)
    factors = [_off_diagonal_factor(s, a[0], a[1], a[2]) for s, a in zip(student, arrays)]
    if all(f is not None for f in factors):
        f0 = float(factors[0])  # type: ignore[arg-type]
        consistent = all(abs(f - f0) <= 1e-5 * (1 + f0) for f in factors)  # type: ignore[operator]
        if consistent and abs(f0 - 1) > 1e-4 and f0 > 1e-4:  # 0 is LR_DIAGONAL, 1 is right
            found.append(LR_OFF_DIAGONAL)
    return unique_mistake(found)


def _minimum_patterns(cases: list[dict[str, Any]]) -> list[tuple[str, list[bool]]]:
    """Kinds of minimum a mistake may show on only."""
    w = [(float(c["args"][0]), float(c["args"][1])) for c in cases]
    balanced = [near(abs(a), abs(b), 1e-6) for a, b in w]
    return [
        ("where |w1| = |w2| (balanced minima)", balanced),
        ("where |w1| ≠ |w2| (unbalanced minima)", [not b for b in balanced]),
        ("where the data's slope is positive", [a * b > 0 for a, b in w]),
        ("where the data's slope is negative", [a * b < 0 for a, b in w]),
        ("where |w1| > |w2|", [abs(a) > abs(b) and not bal for (a, b), bal in zip(w, balanced)]),
        ("where |w1| < |w2|", [abs(a) < abs(b) and not bal for (a, b), bal in zip(w, balanced)]),
    ]


def judge_max_lr(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``max_stable_lr`` against ``2 / λ_max`` and, in the message, against training runs."""
    problem = structural_problem(request, payload, "max_stable_lr", _minimum_case)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        got = values(result.get("out"))
        if got is None or got.size != 1:
            return fail(f"`max_stable_lr` should return one number; with {_minimum_case(case)} it did not.")
        student.append(float(got.ravel()[0]))
        expected.append(ref.max_stable_lr(*_arrays(case)))
    right = [near(s, e, LR_RTOL) for s, e in zip(student, expected)]
    if all(right):
        return Verdict(
            1.0,
            f"`max_stable_lr` is right at all {len(cases)} minima, and training runs agree: "
            "just below it they converge, just above it they do not.",
        )
    pattern = where_pattern([not r for r in right], _minimum_patterns(cases), "")
    where = f" ({pattern})" if pattern else ""
    message = f"`max_stable_lr` is wrong at {right.count(False)} of {len(cases)} minima{where}."
    mistakes = _lr_explanations(cases, student, expected)
    if mistakes:
        return fail(message, *mistakes)
    first = right.index(False)
    w1, w2, x, y = _arrays(cases[first])
    lr = student[first]
    if not np.isfinite(lr) or lr <= 0:
        return fail(
            f"{message} At {_minimum_case(cases[first])} it returned {lr:.4g}: a learning rate is a positive number."
        )
    size = f"your value is {how_far_off(lr, expected[first])}"
    if ref.converges_near(w1, w2, x, y, 1.02 * lr):
        evidence = (
            f"training from next to it with 1.02 × your value ({1.02 * lr:.4g}) still converges, so yours is too small"
        )
    elif not ref.converges_near(w1, w2, x, y, 0.98 * lr):
        evidence = (
            f"training from next to it with 0.98 × your value ({0.98 * lr:.4g}) does not converge, "
            "so yours is too large"
        )
    else:
        evidence = "your value is within 2% but not within 0.1%"
    return fail(
        f"{message} At {_minimum_case(cases[first])}, {size}: {evidence}. Compute the curvature (the Hessian) "
        "there and use its largest eigenvalue."
    )
