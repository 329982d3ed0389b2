"""Name the likely mistake behind a wrong answer, from outputs alone.

The grader never reads a student's source.  It knows the typical wrong ways to
write the forward pass and the gradient, computes what each of them would have
returned on the grader's inputs, and reports the one whose outputs match the
student's on every test case.  A match says *what* is wrong and the hint says
*where to look*, without giving the formula away.

Each mistake has a stable ``code`` (counted in the class report), a short
``title`` and a ``hint`` for the student.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from . import reference


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
ForwardVariant = Callable[[float, float, Array], Array]
GradientVariant = Callable[[float, float, Array, Array], tuple[float, float]]


def _grad_parts(w1: float, w2: float, x: Array, y: Array) -> tuple[Array, Array]:
    """Per-sample gradient terms, the building blocks of the wrong variants."""
    residual = y - w1 * w2 * x
    return -2 * w2 * x * residual, -2 * w1 * x * residual


def _scaled(factor: float) -> GradientVariant:
    def variant(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
        g1, g2 = reference.gradients(w1, w2, x, y)
        return factor * g1, factor * g2

    return variant


def _sum_not_mean(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    a, b = _grad_parts(w1, w2, x, y)
    return float(a.sum()), float(b.sum())


def _mean_twice(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    a, b = _grad_parts(w1, w2, x, y)
    return float(a.mean() / len(x)), float(b.mean() / len(x))


def _swapped_weights(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    r = y - w1 * w2 * x
    return float(np.mean(-2 * w1 * x * r)), float(np.mean(-2 * w2 * x * r))


def _swapped_order(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    g1, g2 = reference.gradients(w1, w2, x, y)
    return g2, g1


def _missing_x(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    r = y - w1 * w2 * x
    return float(np.mean(-2 * w2 * r)), float(np.mean(-2 * w1 * r))


def _prediction_for_residual(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    p = w1 * w2 * x
    return float(np.mean(-2 * w2 * x * p)), float(np.mean(-2 * w1 * x * p))


def _target_for_residual(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    return float(np.mean(-2 * w2 * x * y)), float(np.mean(-2 * w1 * x * y))


def _abs_weights(w1: float, w2: float, x: Array, y: Array) -> tuple[float, float]:
    return reference.gradients(abs(w1), abs(w2), x, y)


def _forward_only_w1(w1: float, w2: float, x: Array) -> Array:
    return w1 * x


def _forward_only_w2(w1: float, w2: float, x: Array) -> Array:
    return w2 * x


def _forward_sum(w1: float, w2: float, x: Array) -> Array:
    return (w1 + w2) * x


def _forward_squared(w1: float, w2: float, x: Array) -> Array:
    return (w1 * w2 * x) ** 2


def _forward_abs(w1: float, w2: float, x: Array) -> Array:
    return abs(w1 * w2) * x


def _forward_no_x(w1: float, w2: float, x: Array) -> Array:
    return np.full_like(x, w1 * w2)


FORWARD_MISTAKES: list[tuple[Mistake, ForwardVariant]] = [
    (
        Mistake(
            "forward_drops_w2",
            "the forward pass ignores w2 (your outputs equal w1·x)",
            "The network has two layers and each scales its input by its weight: both weights appear.",
        ),
        _forward_only_w1,
    ),
    (
        Mistake(
            "forward_drops_w1",
            "the forward pass ignores w1 (your outputs equal w2·x)",
            "The network has two layers and each scales its input by its weight: both weights appear.",
        ),
        _forward_only_w2,
    ),
    (
        Mistake(
            "forward_adds_weights",
            "the forward pass adds the weights (your outputs equal (w1 + w2)·x)",
            "Follow x through the network drawing: the hidden neuron scales x by w1, "
            "then the output scales that by w2. Layers compose by multiplication.",
        ),
        _forward_sum,
    ),
    (
        Mistake(
            "forward_squared",
            "the forward pass squares the prediction",
            "The square belongs to the loss, not to the model's output.",
        ),
        _forward_squared,
    ),
    (
        Mistake(
            "forward_abs",
            "the forward pass is right only when w1·w2 is positive",
            "Look for abs() or a square root of a square: negative weights are allowed.",
        ),
        _forward_abs,
    ),
    (
        Mistake(
            "forward_ignores_x",
            "the forward pass does not use x (every prediction is w1·w2)",
            "The prediction for each input depends on that input.",
        ),
        _forward_no_x,
    ),
]

GRADIENT_MISTAKES: list[tuple[Mistake, GradientVariant]] = [
    (
        Mistake(
            "grad_missing_factor_2",
            "both gradients are half of the right value: the factor 2 is missing",
            "Differentiate the square with the chain rule: what does the exponent of (y − w1·w2·x)² become?",
        ),
        _scaled(0.5),
    ),
    (
        Mistake(
            "grad_sign_flipped",
            "both gradients have the right size but the wrong sign",
            "The inner derivative of (y − w1·w2·x) with respect to w1 carries a minus sign. "
            "Check: a small step against your gradient should lower the loss.",
        ),
        _scaled(-1.0),
    ),
    (
        Mistake(
            "grad_sign_and_factor_2",
            "the gradients have the wrong sign and are half the right size",
            "Two things to check in the chain rule: the factor from the square and the sign of the inner derivative.",
        ),
        _scaled(-0.5),
    ),
    (
        Mistake(
            "grad_factor_2_twice",
            "both gradients are twice the right value",
            "The factor 2 from the square appears once, not twice.",
        ),
        _scaled(2.0),
    ),
    (
        Mistake(
            "grad_sum_not_mean",
            "the gradients are n times too large (a sum where the mean belongs)",
            "The loss is a mean over the samples, so its gradient is a mean too: use .mean(), not .sum().",
        ),
        _sum_not_mean,
    ),
    (
        Mistake(
            "grad_mean_twice",
            "the gradients are n times too small (divided by n twice)",
            "Average over the samples once.",
        ),
        _mean_twice,
    ),
    (
        Mistake(
            "grad_swapped_weights",
            "w1 and w2 are swapped inside the gradients",
            "The derivative of w1·w2·x with respect to w1 keeps the *other* weight, w2 (and vice versa).",
        ),
        _swapped_weights,
    ),
    (
        Mistake(
            "grad_swapped_order",
            "the two gradients are right but returned in the wrong order",
            "Return (dloss_dw1, dloss_dw2), in that order.",
        ),
        _swapped_order,
    ),
    (
        Mistake(
            "grad_missing_x",
            "the factor x is missing from the gradients",
            "The inner derivative of w1·w2·x with respect to w1 is w2·x: the input stays in.",
        ),
        _missing_x,
    ),
    (
        Mistake(
            "grad_prediction_for_residual",
            "the prediction is used where the residual (y − ŷ) belongs",
            "The outer derivative of the squared error is 2·(error), and the error is the difference "
            "between target and prediction.",
        ),
        _prediction_for_residual,
    ),
    (
        Mistake(
            "grad_target_for_residual",
            "the target y is used where the residual (y − ŷ) belongs",
            "The outer derivative of the squared error is 2·(error), and the error is the difference "
            "between target and prediction.",
        ),
        _target_for_residual,
    ),
    (
        Mistake(
            "grad_positive_weights_only",
            "the gradients are right only when the weights are positive",
            "Look for abs(), a square root of a square, or a sign taken from the wrong place: "
            "weights can be negative (in the seed run w1 changes sign).",
        ),
        _abs_weights,
    ),
]

MISTAKES: dict[str, Mistake] = {m.code: m for m, _ in FORWARD_MISTAKES + GRADIENT_MISTAKES}
"""Every mistake the grader can name, by code (the table-driven ones)."""


def _register(code: str, title: str, hint: str) -> Mistake:
    mistake = Mistake(code, title, hint)
    MISTAKES[code] = mistake
    return mistake


# Mistakes recognised from the shape of what came back, not from a variant's values.
PER_SAMPLE = _register(
    "grad_per_sample",
    "one gradient per sample was returned (arrays of length n) instead of the mean gradient",
    "dloss_dw returns two numbers: average the per-sample terms over the samples.",
)
POSITIVE_ONLY = MISTAKES["grad_positive_weights_only"]
SIDE_EFFECT = _register(
    "side_effect_on_weights",
    "calling the method changed self.w1 or self.w2",
    "forward and dloss_dw only compute and return; train is the one place that updates the weights.",
)
LOST_PRECISION = _register(
    "lost_precision",
    "the values are close but only to a few significant digits",
    "Look for float32, rounding, or a conversion through int or str; compute in float64.",
)
FORWARD_BIAS = _register(
    "forward_adds_bias",
    "the predictions are the right ones shifted by a constant",
    "This network has no bias term: with x = 0 the prediction is 0.",
)
NOT_IMPLEMENTED = _register(
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
    """The first known mistake whose outputs match the student's on every case.

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
    for mistake, variant in variants:
        outputs = []
        for w1, w2, x, y in cases:
            value = variant(w1, w2, x) if y is None else variant(w1, w2, x, y)  # type: ignore[call-arg]
            outputs.append(np.asarray(value, dtype=float))
        differs = any(not close(o, e, 1e-9, 1 + float(np.max(np.abs(e)))) for o, e in zip(outputs, expected))
        if not differs:
            continue
        if all(close(s, o, rtol, 1 + float(np.max(np.abs(o)))) for s, o in zip(student, outputs)):
            return mistake
    return None
