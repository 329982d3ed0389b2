"""Judges of ``02_learning_landscape``: compare collected data with :mod:`.reference`.

Same contract as every judge (:mod:`autograder.core.verdict`): ``(request, payload) -> Verdict``, a missing or
malformed payload scores 0, and a wrong answer is explained (a known mistake, or where and
by how much) without printing the formula.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...core.mistakes import Catalogue, Mistake, match_variant
from ...core.verdict import Verdict, close, fail, structural_problem, values
from ...models import shallow as reference
from ...models import shallow_mistakes
from . import reference as ref

MISTAKES = Catalogue("02_learning_landscape")
"""The mistakes only this assignment names (its gradient shares the shallow model's)."""

LR_RTOL = 1e-3
"""Relative tolerance on the largest learning rate (a numerical Hessian or a careful search gets there)."""


def _grid_case(case: dict[str, Any]) -> str:
    w1 = np.array(case["args"][0], dtype=float)
    return f"a grid of shape {w1.shape} and {len(case['args'][2])} samples"


def _arrays(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.array(a, dtype=float) for a in case["args"][:4])  # type: ignore[return-value]


# -- loss_grid ------------------------------------------------------------------------------------


def _loss_variant(transform: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def variant(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return transform((y - (w1 * w2)[..., None] * x))

    return variant


LOSS_MISTAKES: list[tuple[Mistake, Callable[..., np.ndarray]]] = [
    (
        MISTAKES.register(
            "grid_loss_half",
            "the values are half the mean squared error",
            "This assignment's loss is the plain mean of the squared residuals, without a factor 1/2.",
        ),
        _loss_variant(lambda r: np.mean(r**2, axis=-1) / 2),
    ),
    (
        MISTAKES.register(
            "grid_loss_sum",
            "the values are n times too large (a sum over the samples where the mean belongs)",
            "The loss is a mean over the samples: average along the samples' axis.",
        ),
        _loss_variant(lambda r: np.sum(r**2, axis=-1)),
    ),
    (
        MISTAKES.register(
            "grid_loss_rmse",
            "the values are the square root of the loss (a root-mean-square error)",
            "Return the mean of the squared residuals itself, not its square root.",
        ),
        _loss_variant(lambda r: np.sqrt(np.mean(r**2, axis=-1))),
    ),
    (
        MISTAKES.register(
            "grid_loss_abs",
            "the values are the mean absolute error",
            "Square the residuals instead of taking their absolute value.",
        ),
        _loss_variant(lambda r: np.mean(np.abs(r), axis=-1)),
    ),
    (
        MISTAKES.register(
            "grid_loss_no_square",
            "the residuals are averaged without being squared",
            "Square each residual before averaging over the samples.",
        ),
        _loss_variant(lambda r: np.mean(r, axis=-1)),
    ),
    (
        MISTAKES.register(
            "grid_loss_square_of_mean",
            "the mean residual is squared (square and mean in the wrong order)",
            "Square each residual first, then average.",
        ),
        _loss_variant(lambda r: np.mean(r, axis=-1) ** 2),
    ),
]


def _loss_sum_of_weights(w1: np.ndarray, w2: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.mean((y - (w1 + w2)[..., None] * x) ** 2, axis=-1)


LOSS_MISTAKES.append(
    (
        MISTAKES.register(
            "grid_loss_adds_weights",
            "the model adds the weights instead of multiplying them",
            "The prediction at grid point (i, j) is W1[i, j] · W2[i, j] · x.",
        ),
        _loss_sum_of_weights,
    )
)

TRANSPOSED = MISTAKES.register(
    "grid_transposed",
    "the result is transposed (rows and columns swapped)",
    "Entry [i, j] of the result belongs to W1[i, j] and W2[i, j]; check how your loops or axes index the grid.",
)


def _match(
    cases: list[dict[str, Any]],
    student: list[np.ndarray],
    expected: list[np.ndarray],
    variants: list[tuple[Mistake, Callable[..., Any]]],
) -> Mistake | None:
    """The first variant that differs from the right answer and matches the student on every case."""
    for mistake, variant in variants:
        outputs = [np.asarray(variant(*_arrays(c)), dtype=float) for c in cases]
        if all(close(o, e) for o, e in zip(outputs, expected)):
            continue
        if all(close(s, o, 1e-6) for s, o in zip(student, outputs)):
            return mistake
    return None


def _how_far(student: np.ndarray, expected: np.ndarray) -> str:
    scale = float(np.max(np.abs(expected))) or 1.0
    worst = int(np.argmax(np.abs(student - expected)))
    index = np.unravel_index(worst, expected.shape)
    return (
        f"the largest error is {100 * abs(float(student.flat[worst] - expected.flat[worst])) / scale:.3g}% "
        f"of the values' size, at index {tuple(int(i) for i in index)}"
    )


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
            if got.shape == want.shape[::-1] and close(got.T, want):
                return fail("`loss_grid` returned the right numbers in the wrong layout.", TRANSPOSED)
            return fail(
                f"`loss_grid` returned shape {got.shape} for {_grid_case(case)}: it should return one "
                "loss per grid point, an array shaped like W1."
            )
        student.append(got)
        expected.append(want)
    if all(close(s, e) for s, e in zip(student, expected)):
        return Verdict(1.0, f"`loss_grid` is right on all {len(cases)} grids.")
    wrong = sum(not close(s, e) for s, e in zip(student, expected))
    mistake = _match(cases, student, expected, LOSS_MISTAKES)
    if mistake:
        return fail(f"`loss_grid` is wrong on {wrong} of {len(cases)} grids.", mistake)
    if all(s.shape[0] == s.shape[1] for s in student) and all(close(s.T, e) for s, e in zip(student, expected)):
        return fail("`loss_grid` is wrong.", TRANSPOSED)
    first = next(i for i, (s, e) in enumerate(zip(student, expected)) if not close(s, e))
    return fail(
        f"`loss_grid` is wrong on {wrong} of {len(cases)} grids. With {_grid_case(cases[first])}, "
        f"{_how_far(student[first], expected[first])}. Check one grid point by hand: with W1 = [[2.0]], "
        "W2 = [[-1.0]], x = [1, 2], y = [0, 0] the loss is (4 + 16) / 2 = 10."
    )


# -- loss_gradient -------------------------------------------------------------------------------


def _pair(result: dict[str, Any], shape: tuple[int, ...]) -> tuple[np.ndarray | None, str]:
    out = result.get("out", {})
    if not isinstance(out, dict) or "items" not in out or out.get("length") != 2:
        return None, "`loss_gradient` must return a pair (dL_dW1, dL_dW2)."
    parts = [values(item) for item in out["items"]]
    if any(p is None for p in parts):
        return None, "`loss_gradient` returned something that is not numbers."
    if any(p.shape != shape for p in parts):  # type: ignore[union-attr]
        got = [p.shape for p in parts]  # type: ignore[union-attr]
        return None, f"each of the two gradients should have the grid's shape {shape}; they have shapes {got}."
    return np.stack(parts), ""  # type: ignore[arg-type]


def judge_gradient(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss_gradient`` at every point of the grader's grids; diagnose with the first assignment's table."""
    problem = structural_problem(request, payload, "loss_gradient", _grid_case)
    if problem:
        return problem
    cases = request["cases"]
    points: list[tuple[float, float, np.ndarray, np.ndarray]] = []
    student, expected = [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        w1, w2, x, y = _arrays(case)
        pair, why = _pair(result, w1.shape)
        if pair is None:
            return fail(why)
        want = np.stack(ref.gradient_grid(w1, w2, x, y))
        for k in np.ndindex(w1.shape):
            points.append((float(w1[k]), float(w2[k]), x, y))
            student.append(pair[(slice(None), *k)])
            expected.append(want[(slice(None), *k)])
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        return Verdict(1.0, f"`loss_gradient` is right at all {len(points)} grid points, negative weights included.")
    mistake = match_variant(points, student, shallow_mistakes.GRADIENT_MISTAKES, expected)
    message = f"`loss_gradient` is wrong at {right.count(False)} of {len(points)} grid points."
    if mistake:
        return fail(message, mistake)
    w1, w2, x, y = points[right.index(False)]
    fd = np.array(reference.finite_difference_gradients(w1, w2, x, y))
    return fail(
        f"{message} For example at w1 = {w1:.3g}, w2 = {w2:.3g} your gradient is "
        f"({student[right.index(False)][0]:.5g}, {student[right.index(False)][1]:.5g}) but a finite difference "
        f"of the loss gives ({fd[0]:.5g}, {fd[1]:.5g})."
    )


# -- ends_at_saddle -------------------------------------------------------------------------------


def _point_case(case: dict[str, Any]) -> str:
    w1, w2, a = case["args"]
    return f"w1 = {w1:.3g}, w2 = {w2:.3g} and slope a = {a:.3g}"


def judge_saddle(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``ends_at_saddle`` on starting points on and off the lines that flow into the saddle."""
    problem = structural_problem(request, payload, "ends_at_saddle", _point_case)
    if problem:
        return problem
    wrong = []
    for case, result in zip(request["cases"], payload["results"]):  # type: ignore[index]
        got = values(result.get("out"))
        if got is None or got.size != 1 or float(got.ravel()[0]) not in (0.0, 1.0):
            return fail(f"`ends_at_saddle` should return True or False; with {_point_case(case)} it did not.")
        if bool(got.ravel()[0]) != ref.ends_at_saddle(*case["args"]):
            wrong.append((case, bool(got.ravel()[0])))
    if not wrong:
        return Verdict(
            1.0,
            f"`ends_at_saddle` is right on all {len(request['cases'])} starting points, "
            "for data of both signs of slope.",
        )
    case, said = wrong[0]
    w1, w2, a = case["args"]
    x = np.linspace(0.0, 1.0, 10)
    end = ref.train_path((w1, w2), x, a * x, 0.05, 1500)[-1]
    truth = "ends at the saddle" if not said else f"ends at ({end[0]:.3g}, {end[1]:.3g}), a minimum, not the saddle"
    return fail(
        f"`ends_at_saddle` is wrong on {len(wrong)} of {len(request['cases'])} starting points. From "
        f"{_point_case(case)}, your function says {said}, but gradient descent (lr 0.05, 1500 epochs) {truth}. "
        "Look at the trajectories that end at (0, 0) in the landscape plot: what do their starting points "
        "have in common, and what changes when the slope's sign flips?"
    )


# -- max_stable_lr --------------------------------------------------------------------------------


def _minimum_case(case: dict[str, Any]) -> str:
    w1, w2 = case["args"][:2]
    return f"the minimum w1 = {w1:.3g}, w2 = {w2:.3g} ({len(case['args'][2])} samples)"


def _lr_variants() -> list[tuple[Mistake, Callable[..., float]]]:
    def s_of(x: np.ndarray) -> float:
        return float(np.mean(x * x))

    return [
        (
            MISTAKES.register(
                "lr_one_over_lambda",
                "the value is half the right one (1/λ instead of 2/λ)",
                "The deviation is multiplied by (1 − ηλ) each step: for which η does |1 − ηλ| reach 1?",
            ),
            lambda w1, w2, x, y: 0.5 * ref.max_stable_lr(w1, w2, x, y),
        ),
        (
            MISTAKES.register(
                "lr_half_loss_curvature",
                "the value is twice the right one (the curvature of a loss with a 1/2)",
                "This loss has no factor 1/2: its second derivatives are twice those of half the squared error.",
            ),
            lambda w1, w2, x, y: 2 * ref.max_stable_lr(w1, w2, x, y),
        ),
        (
            MISTAKES.register(
                "lr_diagonal_only",
                "the value uses one diagonal entry of the Hessian, not its largest eigenvalue",
                "Near a minimum the weights move along the Hessian's eigenvectors: take the largest eigenvalue "
                "of the whole 2×2 matrix, off-diagonal terms included.",
            ),
            lambda w1, w2, x, y: 2 / (2 * s_of(x) * max(w1 * w1, w2 * w2)),
        ),
        (
            MISTAKES.register(
                "lr_sum_not_mean",
                "the value is n times too small (a sum over samples where the mean belongs)",
                "The loss is a mean over the samples, so its curvature is a mean too.",
            ),
            lambda w1, w2, x, y: ref.max_stable_lr(w1, w2, x, y) / len(x),
        ),
        (
            MISTAKES.register(
                "lr_smallest_eigenvalue",
                "the value is based on the flattest direction, not the steepest",
                "Along the valley of minima the curvature is 0; the step size is limited by the steepest direction.",
            ),
            lambda w1, w2, x, y: float("inf"),
        ),
    ]


LR_VARIANTS = _lr_variants()
"""Wrong answers to the largest-stable-learning-rate exercise (registered once, at import)."""


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
    right = [np.isclose(s, e, rtol=LR_RTOL, atol=0) for s, e in zip(student, expected)]
    if all(right):
        return Verdict(
            1.0,
            f"`max_stable_lr` is right at all {len(cases)} minima, and training runs agree: "
            "just below it they converge, just above it they do not.",
        )
    message = f"`max_stable_lr` is wrong at {right.count(False)} of {len(cases)} minima."
    for mistake, variant in LR_VARIANTS:
        out = [variant(*_arrays(c)) for c in cases]
        if all(np.isclose(s, o, rtol=1e-6) or (np.isinf(s) and np.isinf(o)) for s, o in zip(student, out)):
            return fail(message, mistake)
    first = right.index(False)
    w1, w2, x, y = _arrays(cases[first])
    lr = student[first]
    if not np.isfinite(lr) or lr <= 0:
        return fail(
            f"{message} At {_minimum_case(cases[first])} it returned {lr}: a learning rate is a positive number."
        )
    if ref.converges_near(w1, w2, x, y, 1.02 * lr):
        evidence = (
            f"training from next to it with 1.02 × your value ({1.02 * lr:.4g}) still converges, so yours is too small"
        )
    elif not ref.converges_near(w1, w2, x, y, 0.98 * lr):
        evidence = f"training from next to it with 0.98 × your value ({0.98 * lr:.4g}) does not converge, so yours is too large"
    else:
        evidence = "your value is within 2% but not within 0.1%"
    return fail(
        f"{message} At {_minimum_case(cases[first])}, {evidence}. Compute the curvature (the Hessian) "
        "there and use its largest eigenvalue."
    )
