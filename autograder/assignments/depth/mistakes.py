"""The mistakes ``03_depth_and_init`` names, and what each wrong version of a method returns.

A wrong forward pass or loss is one of a short list of variants (:data:`FORWARD_MISTAKES`,
:data:`LOSS_MISTAKES`).  A wrong gradient is a scale slip times a structure slip (:data:`SCALES` ×
:data:`STRUCTURES`), every combination computed at once (:func:`gradient_variants`) and matched with
:func:`autograder.core.mistakes.match_shared` (:func:`match_gradient`).  :mod:`.judges` decides what to say.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ...core.mistakes import Catalogue, Mistake, Slips, match_shared
from . import reference as ref

MISTAKES = Catalogue("03_depth_and_init")
"""The mistakes this assignment names."""

Weights = np.ndarray
"""The weights of a deep narrow network, one per layer (shape ``(D,)``)."""


SIDE_EFFECT = MISTAKES.register(
    "deep_side_effect",
    "calling the method changed self.w",
    "forward, loss and dloss_dw only compute and return; train is the one place that updates the weights. "
    "`w = self.w` is not a copy: changing `w[k]` changes `self.w`.",
)


# -- forward --------------------------------------------------------------------------------------

_EVERY_LAYER = "Every one of the D layers scales the signal."

FORWARD_MISTAKES: list[tuple[Mistake, Callable[[Weights, np.ndarray], np.ndarray]]] = [
    (
        MISTAKES.register(
            "deep_forward_sum",
            "the forward pass adds the weights (your outputs equal sum(w)·x)",
            "Layers compose by multiplication: each layer scales what it receives.",
        ),
        lambda w, x: np.sum(w) * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_first_weight", "the forward pass uses only the first weight", _EVERY_LAYER
        ),
        lambda w, x: w[0] * x,
    ),
    (
        MISTAKES.register("deep_forward_last_weight", "the forward pass uses only the last weight", _EVERY_LAYER),
        lambda w, x: w[-1] * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_skips_first",
            "the forward pass leaves out the first weight",
            "Look at the bounds of your loop or slice: does it start at the first layer (index 0)?",
        ),
        lambda w, x: np.prod(w[1:]) * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_skips_last",
            "the forward pass leaves out the last weight",
            "Look at the bounds of your loop or slice: does it reach the last layer (index D − 1)?",
        ),
        lambda w, x: np.prod(w[:-1]) * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_power",
            "the forward pass raises the first weight to the power D",
            "The weights are not all equal in general: multiply all of them.",
        ),
        lambda w, x: w[0] ** w.size * x,
    ),
    (
        MISTAKES.register(
            "deep_forward_no_x",
            "the forward pass does not use x (every prediction is the product of the weights)",
            "The prediction for each input depends on that input.",
        ),
        lambda w, x: np.full_like(x, np.prod(w)),
    ),
    (
        MISTAKES.register(
            "deep_forward_abs",
            "the forward pass is right only when the product of the weights is positive",
            "Look for abs() or logarithms: weights, and their product, can be negative.",
        ),
        lambda w, x: np.abs(np.prod(w)) * x,
    ),
]


# -- loss -------------------------------------------------------------------------------------------

LOSS_MISTAKES: list[tuple[Mistake, Callable[[np.ndarray, np.ndarray], float]]] = [
    (
        MISTAKES.register(
            "deep_loss_full_mse",
            "the loss is twice the right value: the full mean squared error",
            "This network's loss is *half* the mean squared error, as its docstring says.",
        ),
        lambda yp, yt: np.mean((yt - yp) ** 2),
    ),
    (
        MISTAKES.register(
            "deep_loss_sum",
            "the loss is a sum over the samples where the mean belongs",
            "Average over the samples (and keep the factor 1/2).",
        ),
        lambda yp, yt: np.sum((yt - yp) ** 2) / 2,
    ),
    (
        MISTAKES.register(
            "deep_loss_full_sum",
            "the loss is the sum of squared errors, without the mean or the 1/2",
            "The loss is half the *mean* of the squared residuals.",
        ),
        lambda yp, yt: np.sum((yt - yp) ** 2),
    ),
    (
        MISTAKES.register(
            "deep_loss_quarter", "the loss is half the right value (halved twice)", "Take the factor 1/2 once."
        ),
        lambda yp, yt: np.mean((yt - yp) ** 2) / 4,
    ),
    (
        MISTAKES.register("deep_loss_abs", "the loss uses absolute values instead of squares", "Square the residuals."),
        lambda yp, yt: np.mean(np.abs(yt - yp)) / 2,
    ),
    (
        MISTAKES.register(
            "deep_loss_rmse",
            "the loss is a root-mean-square error",
            "No square root: half the mean of the squared residuals.",
        ),
        lambda yp, yt: np.sqrt(np.mean((yt - yp) ** 2)) / 2,
    ),
    (
        MISTAKES.register(
            "deep_loss_square_of_mean",
            "the loss squares the mean residual, where the mean of the squared residuals belongs",
            "Square each residual first, then average: positive and negative errors must not cancel.",
        ),
        lambda yp, yt: np.mean(yt - yp) ** 2 / 2,
    ),
]


# -- dloss_dw ---------------------------------------------------------------------------------------
#
# A wrong gradient is described as a scale slip (a sign, a factor, a sum) times a wrong structure (what stands
# where the product of the other weights or the mean of x times the residual belongs), or both: every
# combination of one scale and one structure is a variant.

_RESIDUAL_HINT = "The derivative of the squared error involves the error, the difference between target and prediction."
_OTHERS_HINT = "The k-th gradient contains the product of all weights but w_k: each layer before and after layer k."

SIGN = MISTAKES.register(
    "deep_grad_sign",
    "the gradient has the right size but the wrong sign",
    "The inner derivative of (y − ŷ) with respect to a weight carries a minus sign; a small step "
    "against your gradient should lower the loss.",
)
FACTOR_2 = MISTAKES.register(
    "deep_grad_factor_2",
    "the gradient is twice the right value (the gradient of the full squared error)",
    "This loss is *half* the mean squared error: the 1/2 cancels the 2 from the square.",
)
HALF = MISTAKES.register(
    "deep_grad_half",
    "the gradient is half the right value",
    "The 1/2 of the loss and the 2 from the square cancel: neither is left over.",
)
SUM_NOT_MEAN = MISTAKES.register(
    "deep_grad_sum_not_mean",
    "the gradient is n times too large (a sum where the mean belongs)",
    "The loss is a mean over the samples, so its gradient is a mean too.",
)
MEAN_TWICE = MISTAKES.register(
    "deep_grad_mean_twice",
    "the gradient is n times too small (divided by the number of samples twice)",
    "Average over the samples once.",
)
MISSING_X = MISTAKES.register(
    "deep_grad_missing_x",
    "the factor x is missing from the gradient",
    "ŷ = (product of the weights)·x: its derivative with respect to a weight keeps the x.",
)
PREDICTION_FOR_RESIDUAL = MISTAKES.register(
    "deep_grad_prediction_for_residual", "the prediction is used where the residual (y − ŷ) belongs", _RESIDUAL_HINT
)
TARGET_FOR_RESIDUAL = MISTAKES.register(
    "deep_grad_target_for_residual", "the target y is used where the residual (y − ŷ) belongs", _RESIDUAL_HINT
)
NO_DIVISION = MISTAKES.register(
    "deep_grad_no_division",
    "every weight gets the same gradient, with the product of *all* the weights",
    "The derivative of the product with respect to w_k leaves out w_k itself.",
)
TIMES_WEIGHT = MISTAKES.register(
    "deep_grad_times_weight",
    "the product is multiplied by w_k where it should leave w_k out",
    "The derivative of the product with respect to w_k is the product of the *other* weights.",
)
WRONG_WEIGHT = MISTAKES.register(
    "deep_grad_wrong_weight",
    "the product of the weights is divided by the first weight for every k",
    "Each gradient leaves out its *own* weight: the k-th one leaves out w_k.",
)
REVERSED = MISTAKES.register(
    "deep_grad_reversed",
    "the gradients come out in reverse order (each leaves out the mirrored weight)",
    "The k-th gradient leaves out w_k: check your indexing.",
)
SKIPS_FIRST = MISTAKES.register(
    "deep_grad_skips_first",
    "the product of the other weights also leaves out the first weight",
    "Look at the bounds of your loop: does it start at index 0?",
)
SKIPS_LAST = MISTAKES.register(
    "deep_grad_skips_last",
    "the product of the other weights also leaves out the last weight",
    "Look at the bounds of your loop: does it reach index D − 1?",
)
PREFIX_ONLY = MISTAKES.register(
    "deep_grad_layers_before_only",
    "each gradient has only the weights of the layers before w_k, not those after it",
    _OTHERS_HINT,
)
SUFFIX_ONLY = MISTAKES.register(
    "deep_grad_layers_after_only",
    "each gradient has only the weights of the layers after w_k, not those before it",
    _OTHERS_HINT + " If you set w_k to 1 to leave it out, put it back before the next k.",
)
SUM_OF_OTHERS = MISTAKES.register(
    "deep_grad_sum_of_others",
    "the gradient adds the other weights where their product belongs",
    "The network multiplies its weights, so the derivative with respect to one of them is a product too.",
)
SIGN_LOST = MISTAKES.register(
    "deep_grad_sign_lost",
    "the gradient has the right size but loses the sign of the weights (abs, or a product through logarithms)",
    "Weights can be negative: multiply them as they are (a logarithm needs abs() and forgets the sign).",
)
NOT_RESET = MISTAKES.register(
    "deep_grad_product_not_reset",
    "the product of the other weights carries over from one k to the next",
    "Start the product at 1 again for every k: initialise it inside the loop over k, not before it.",
)

SCALES: list[tuple[Slips, Callable[[int], float]]] = [
    ((), lambda n: 1.0),
    ((SIGN,), lambda n: -1.0),
    ((FACTOR_2,), lambda n: 2.0),
    ((HALF,), lambda n: 0.5),
    ((SUM_NOT_MEAN,), lambda n: float(n)),
    ((MEAN_TWICE,), lambda n: 1.0 / n),
    ((SIGN, FACTOR_2), lambda n: -2.0),
    ((SIGN, HALF), lambda n: -0.5),
    ((SIGN, SUM_NOT_MEAN), lambda n: -float(n)),
    ((FACTOR_2, SUM_NOT_MEAN), lambda n: 2.0 * n),
]
"""Slips that scale the whole gradient, alone and in the pairs students make together."""

STRUCTURES: list[Slips] = [
    (),
    (MISSING_X,),
    (PREDICTION_FOR_RESIDUAL,),
    (TARGET_FOR_RESIDUAL,),
    (NO_DIVISION,),
    (TIMES_WEIGHT,),
    (WRONG_WEIGHT,),
    (REVERSED,),
    (SKIPS_FIRST,),
    (SKIPS_LAST,),
    (PREFIX_ONLY,),
    (SUFFIX_ONLY,),
    (SUM_OF_OTHERS,),
    (SIGN_LOST,),
    (SIGN_LOST,),
    (NOT_RESET,),
]
"""Slips in what the gradient is made of, in the order :func:`_structures` computes them."""


def _others_products(rows: np.ndarray) -> np.ndarray:
    """:func:`~.reference.others_product` of each row of a 2-D array at once (prefix times suffix products)."""
    ones = np.ones((rows.shape[0], 1))
    before = np.hstack([ones, np.cumprod(rows, axis=1)[:, :-1]])
    after = np.hstack([np.cumprod(rows[:, ::-1], axis=1)[:, :-1][:, ::-1], ones])
    return before * after


def _structures(w: Weights, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Every wrong structure of the gradient on one case, one row each (the right one first).

    Each is a number made of x and y (the mean of x times the residual, or what stands in its place) times a
    vector made of the weights (the product of the others, or what stands in its place).
    """
    n, product = x.size, float(np.prod(w))
    sx, sy, sxx, sxy = float(np.sum(x)), float(np.sum(y)), float(x @ x), float(x @ y)
    m = (sxy - product * sxx) / n  # the mean of x times the residual
    without = np.array([w, w, w])
    without[1, 0] = without[2, -1] = 1.0  # the first, the last weight left out as well
    others, others_but_first, others_but_last = _others_products(without)
    before, after = np.cumprod(np.concatenate(([1.0], w[:-1]))), np.cumprod(np.concatenate(([1.0], w[::-1][:-1])))[::-1]
    mean_residual = (sy - product * sx) / n
    mean_x_prediction = product * sxx / n
    mean_x_target = sxy / n
    m_abs = (sxy - abs(product) * sxx) / n  # with the product through logarithms (its sign lost)
    coefficients = np.array([m, mean_residual, mean_x_prediction, mean_x_target, *[m] * 10, m_abs, m])
    vectors = np.empty((len(STRUCTURES), w.size))
    vectors[0:4] = others  # right; x missing; the prediction, the target where the residual belongs
    vectors[4] = product
    vectors[5] = product * w
    vectors[6] = others[0]
    vectors[7] = others[::-1]
    vectors[8] = others_but_first
    vectors[9] = others_but_last
    vectors[10] = before
    vectors[11] = after
    vectors[12] = np.sum(w) - w
    vectors[13:15] = np.abs(others)
    vectors[15] = np.cumprod(others)
    return -coefficients[:, None] * vectors


EXPLANATIONS: list[Slips] = [scale + structure for scale, _ in SCALES for structure in STRUCTURES]
"""The slips of every gradient variant, scale-major (the order of :func:`gradient_variants`)."""


def gradient_variants(w: Weights, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Every gradient variant on one case, shape ``(len(EXPLANATIONS), D)``."""
    factors = np.array([factor(x.size) for _, factor in SCALES])
    return (factors[:, None, None] * _structures(w, x, y)[None, :, :]).reshape(len(EXPLANATIONS), w.size)


def match_gradient(
    points: Sequence[tuple[Weights, np.ndarray, np.ndarray]],
    student: Sequence[np.ndarray],
    expected: Sequence[np.ndarray] | None = None,
    rtol: float = 1e-6,
) -> Slips | None:
    """The slips that alone explain the student's gradients at `points` ``(w, x, y)``, or None."""
    expected = expected if expected is not None else [ref.gradients(w, x, y) for w, x, y in points]
    outputs = [gradient_variants(w, x, y) for w, x, y in points]
    return match_shared(student, expected, outputs, EXPLANATIONS, rtol)


ZERO_DIVISION = MISTAKES.register(
    "deep_grad_zero_division",
    "the gradient is nan or inf when a weight is 0 (the product divided by w_k)",
    "prod(w) / w_k is 0/0 when w_k = 0. Compute the product of the other weights directly, e.g. the "
    "product of the weights with w_k replaced by 1.",
)
NAN_NEGATIVE = MISTAKES.register(
    "deep_grad_nan_negative",
    "the gradient is nan where a weight is negative (a logarithm, square root or fractional power of it)",
    "Weights can be negative: multiply them as they are.",
)
PER_SAMPLE = MISTAKES.register(
    "deep_grad_per_sample",
    "one gradient per sample was returned instead of the mean gradient",
    "dloss_dw returns D numbers, one per weight: average over the samples.",
)
