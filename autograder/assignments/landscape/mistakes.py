"""The mistakes ``02_learning_landscape`` names, and what each wrong version of a function returns.

Its gradient's slips are the shallow model's (:mod:`autograder.models.shallow_mistakes`); the mistakes here
are the landscape's own: wrong losses on a grid, grid layouts, the line into the saddle, the largest stable
learning rate.  :func:`saddle_explanations` and :func:`lr_explanations` find the mistakes that reproduce a
student's answers; :mod:`.judges` decides what to say.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...core.mistakes import MATCH_RTOL, Catalogue, Mistake, near, unique_mistake
from ...models import shallow_mistakes
from . import reference as ref

MISTAKES = Catalogue("02_learning_landscape")
"""The mistakes only this assignment names (its gradient shares the shallow model's)."""


# -- any grid output: loss_grid and loss_gradient ------------------------------------------------

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


# -- loss_gradient -------------------------------------------------------------------------------

PRODUCT_OF_MEANS = MISTAKES.register(
    "grad_product_of_means",
    "the mean of x and the mean of the residual are multiplied, where the mean of their product belongs",
    "A mean of products is not the product of the means: multiply each sample's input by its own residual, "
    "then average.",
)


def gradient_variants(
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


def line_distance(w1: float, w2: float, a: float) -> float:
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


def saddle_explanations(args: list[tuple[float, float, float]], said: list[bool]) -> list[tuple[Mistake, ...]]:
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
    if wrong and all(s and 0 < line_distance(*p) <= NEAR_LINE for s, p in wrong):
        found.append((SADDLE_TOLERANCE,))
    return found


# -- max_stable_lr --------------------------------------------------------------------------------


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


def lr_explanations(
    arrays: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], student: list[float], expected: list[float]
) -> tuple[Mistake, ...] | None:
    """The one known mistake that gives the student's value at every minimum ``(w1, w2, x, y)``, or None."""
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
