"""Judges of ``03_depth_and_init``: the deep narrow network's methods against :mod:`.reference`.

Same contract as every judge (:mod:`autograder.core.verdict`).  A typical mistake is named by computing what each
wrong variant would have returned on the grader's inputs, and only when every explanation that reproduces the
student's numbers on every case contains it (:func:`match`): where several mistakes give the same numbers (a zero
weight, depth 1, a symmetric start) none is named.  When no known mistake fits, the message says which
output is off (which predictions, which entries of the gradient), on which kind of input (the depth, the signs, the
zero weights, the number of samples) and by how much.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ...core import mistakes
from ...core.mistakes import LOST_PRECISION, Catalogue, Mistake
from ...core.verdict import PRECISION_RTOL, RTOL, TRAIN_RTOL, Verdict, close, fail, structural_problem, values
from . import reference as ref

MISTAKES = Catalogue("03_depth_and_init")
"""The mistakes this assignment names."""

Weights = np.ndarray
Slips = tuple[Mistake, ...]


# -- describing inputs and outputs ----------------------------------------------------------------


def describe(case: dict[str, Any]) -> str:
    """The inputs of a case in words: depth, weights, what is special about them, the number of samples."""
    w = np.asarray(case["init"], dtype=float)
    kinds = []
    if np.any(w < 0):
        kinds.append("negative weights" if np.sum(w < 0) > 1 else "a negative weight")
    if np.any(w == 0):
        kinds.append("a zero weight" if np.sum(w == 0) == 1 else "two zero weights")
    extra = f" ({', '.join(kinds)})" if kinds else ""
    return f"depth {w.size}, weights {np.round(w, 3).tolist()}{extra} and {len(case['args'][0])} sample(s)"


def _describe_samples(case: dict[str, Any]) -> str:
    return f"{len(case['args'][0])} sample(s)"


CaseKind = tuple[str, Callable[[dict[str, Any]], bool]]


def _w(case: dict[str, Any]) -> np.ndarray:
    return np.asarray(case["init"], dtype=float)


NETWORK_KINDS: list[CaseKind] = [
    ("of depth 1", lambda c: _w(c).size == 1),
    ("deeper than 1", lambda c: _w(c).size > 1),
    ("with a zero weight", lambda c: bool(np.any(_w(c) == 0))),
    ("with exactly one zero weight", lambda c: int(np.sum(_w(c) == 0)) == 1),
    ("with a negative weight", lambda c: bool(np.any(_w(c) < 0))),
    ("whose weights are all positive", lambda c: bool(np.all(_w(c) > 0))),
    ("where the product of the weights is negative", lambda c: float(np.prod(_w(c))) < 0),
    ("where the product of the weights is positive", lambda c: float(np.prod(_w(c))) > 0),
    ("with a single sample", lambda c: len(c["args"][0]) == 1),
    ("with more than one sample", lambda c: len(c["args"][0]) > 1),
]
"""Kinds of test case a mistake may show on only (the first that fits is named)."""

SAMPLE_KINDS: list[CaseKind] = NETWORK_KINDS[-2:]
"""The loss does not depend on the weights: only the number of samples tells its cases apart."""


def where_wrong(cases: list[dict[str, Any]], wrong: Sequence[bool], kinds: list[CaseKind] = NETWORK_KINDS) -> str:
    """On how many test cases an output is wrong, and on which kind of input when one kind fits exactly."""
    count = f"on {sum(wrong)} of {len(cases)} test cases"
    if all(wrong):
        return f"{count}, whatever the inputs" if len(cases) > 1 else count
    for phrase, holds in kinds:
        if [bool(holds(c)) for c in cases] == list(wrong):
            return f"{count}: exactly those {phrase}, and right on the others"
    return count


def how_far_off(student: np.ndarray, expected: np.ndarray) -> str:
    """How far an output is from the right one, in words, without giving the right value."""
    s, e = np.asarray(student, dtype=float).ravel(), np.asarray(expected, dtype=float).ravel()
    if not np.all(np.isfinite(s)):
        return "not a finite number (nan or inf)"
    size_e, size_s = float(np.linalg.norm(e)), float(np.linalg.norm(s))
    gap = float(np.linalg.norm(s - e))
    if size_e < 1e-12:
        return f"off by {gap:.3g} where it should be 0"
    if size_s < 1e-12:
        return "0 where it should not be"
    cosine = float(s @ e) / (size_s * size_e)
    ratio = size_s / size_e
    if cosine > 1 - 1e-9:
        return f"proportional to the right {'value' if e.size == 1 else 'values'} but {ratio:.4g} times as large"
    if cosine < -1 + 1e-9:
        if abs(ratio - 1) < 1e-6:
            return "the right size but of the wrong sign"
        return f"of the wrong sign and {ratio:.4g} times as large"
    if ratio > 1.05:
        direction = "too large"
    elif ratio < 0.95:
        direction = "too small"
    else:
        direction = "about the right size but not the right values"
    return f"off by {100 * gap / size_e:.3g}% of its size ({direction})"


def _names(indices: Sequence[int]) -> str:
    names = [f"w_{k + 1}" for k in indices[:6]]
    more = f" and {len(indices) - 6} more" if len(indices) > 6 else ""
    return (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]) + more


def which_entries(w: np.ndarray, bad: np.ndarray) -> str:
    """Which entries of a gradient are off, by what they have in common when that says something."""
    if w.size == 1:
        return "its only entry is"
    if np.all(bad):
        return "every entry is"
    first, last = np.arange(w.size) == 0, np.arange(w.size) == w.size - 1
    patterns = [
        ("only the entries of the zero weights are", w == 0),
        ("every entry but those of the zero weights is", w != 0),
        ("only the entries of the negative weights are", w < 0),
        ("only the entries of the positive weights are", w > 0),
        ("only the first entry (w_1) is", first),
        ("every entry but the first is", ~first),
        (f"only the last entry (w_{w.size}) is", last),
        ("every entry but the last is", ~last),
    ]
    for phrase, mask in patterns:
        if np.any(mask) and np.array_equal(mask, bad):
            return phrase
    return f"the entries for {_names(np.flatnonzero(bad).tolist())} are"


# -- matching the known mistakes ------------------------------------------------------------------


def match(
    student: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    outputs: Sequence[np.ndarray],
    explanations: Sequence[Slips],
    rtol: float = 1e-6,
) -> Slips | None:
    """The mistakes that every explanation reproducing the student's numbers on every case shares, or None.

    Like :func:`autograder.core.mistakes.match_variant` (and meant to replace it in the core), but a variant may
    be a combination of slips (a factor 2 *and* a sign), and the variants' outputs come precomputed, all
    variants of a case in one array.  A variant only counts where it differs from the right answer somewhere.
    Of the variants that fit, only the slips they all share are named: where two explanations give the same
    numbers and share nothing, nothing is named (a guess misleads more than silence).

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
    # Name only what every fitting explanation shares: (sign) and (sign, target for residual) both fit where
    # the prediction is 0, and the sign is certain; (no division) and (times w_k) both fit there too, and
    # neither is.
    shared = set.intersection(*({m.code for m in f} for f in found))
    named = tuple(m for m in found[0] if m.code in shared)
    return named or None


def _side_effect(case: dict[str, Any], result: dict[str, Any]) -> bool:
    after = result.get("state")
    if not isinstance(after, list) or not after or after[0] is None:
        return False
    return not np.array_equal(np.array(after[0], dtype=float), np.asarray(case["init"], dtype=float))


SIDE_EFFECT = MISTAKES.register(
    "deep_side_effect",
    "calling the method changed self.w",
    "forward, loss and dloss_dw only compute and return; train is the one place that updates the weights. "
    "`w = self.w` is not a copy: changing `w[k]` changes `self.w`.",
)


def _args(case: dict[str, Any]) -> list[np.ndarray]:
    return [np.array(a, dtype=float) for a in case["args"][:2]]


def _first_example(cases: list[dict[str, Any]], right: list[bool]) -> int:
    """The wrong case to show: the first with several samples and depth > 1, else the first wrong one."""
    wrong = [i for i, ok in enumerate(right) if not ok]
    telling = [i for i in wrong if len(cases[i]["args"][0]) > 1 and len(cases[i]["init"]) > 1]
    return (telling or wrong)[0]


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


def _forward_location(x: np.ndarray, student: np.ndarray, expected: np.ndarray) -> str:
    """Which inputs of one case the predictions are off at, when that says something."""
    bad = ~np.isclose(student, expected, rtol=RTOL, atol=RTOL * (1 + float(np.max(np.abs(expected)))))
    if 0 < bad.sum() < bad.size:
        if np.all(x[bad] < 0):
            return " Only the predictions for negative inputs x are off."
        if np.all(x[bad] > 0):
            return " Only the predictions for positive inputs x are off."
    return ""


def judge_forward(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``forward`` at depths 1 to 20."""
    problem = structural_problem(request, payload, "forward", describe)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        (x,) = _args(case)
        out = values(result.get("out"))
        if out is None:
            return fail(f"`forward` did not return numbers with {describe(case)}.")
        if out.shape != x.shape:
            return fail(
                f"`forward` returned shape {out.shape} for an input of shape {x.shape}: "
                "one prediction per input, shaped like x."
            )
        if _side_effect(case, result):
            return fail("`forward` is not a pure computation.", SIDE_EFFECT)
        student.append(out)
        expected.append(ref.forward(_w(case), x))
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        depths = f"{min(len(c['init']) for c in cases)} to {max(len(c['init']) for c in cases)}"
        return Verdict(
            1.0, f"`forward` is right at depths {depths}, negative weights included ({len(cases)} test cases)."
        )
    where = where_wrong(cases, [not ok for ok in right])
    outputs = []
    for case in cases:
        w, (x,) = _w(case), _args(case)
        outputs.append(np.stack([variant(w, x) for _, variant in FORWARD_MISTAKES]))
    found = match(student, expected, outputs, [(m,) for m, _ in FORWARD_MISTAKES])
    if found:
        return fail(f"`forward` is wrong {where}.", *found)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"`forward` is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    first = _first_example(cases, right)
    (x,) = _args(cases[first])
    return fail(
        f"`forward` is wrong {where}. For example with {describe(cases[first])}, its predictions are "
        f"{how_far_off(student[first], expected[first])}.{_forward_location(x, student[first], expected[first])} "
        "Check by hand: with weights [2, -3, 0.5] and x = [1, 2] the predictions are [-3, -6]."
    )


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


def judge_loss(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``loss(y_p, y_t)``: half the mean squared error."""
    problem = structural_problem(request, payload, "loss", _describe_samples)
    if problem:
        return problem
    cases, student, expected = request["cases"], [], []
    for case, result in zip(cases, payload["results"]):  # type: ignore[index]
        y_p, y_t = _args(case)
        out = values(result.get("out"))
        if out is None or out.size != 1:
            return fail(
                f"`loss` should return one number; with {len(y_t)} samples it returned "
                f"{'something else' if out is None else f'shape {out.shape}'}."
            )
        student.append(out.reshape(()))
        expected.append(np.asarray(ref.loss(y_t, y_p)))
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        most = max(len(c["args"][0]) for c in cases)
        return Verdict(1.0, f"`loss` is right ({len(cases)} test cases, 1 to {most} samples).")
    where = where_wrong(cases, [not ok for ok in right], SAMPLE_KINDS)
    outputs = [np.array([float(variant(*_args(c))) for _, variant in LOSS_MISTAKES]) for c in cases]
    found = match(student, expected, outputs, [(m,) for m, _ in LOSS_MISTAKES])
    if found:
        return fail(f"`loss` is wrong {where}.", *found)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"`loss` is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    first = _first_example(cases, right)
    return fail(
        f"`loss` is wrong {where}. For example with {_describe_samples(cases[first])}, it is "
        f"{how_far_off(student[first], expected[first])}. "
        "Check by hand: residuals [1, 2] give (1 + 4) / 2 / 2 = 1.25."
    )


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
    return match(student, expected, outputs, EXPLANATIONS, rtol)


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


def _gradients(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> tuple[list[np.ndarray], Verdict | None]:
    student = []
    for case, result in zip(cases, results):
        w, (x, _) = _w(case), _args(case)
        out = values(result.get("out"))
        if out is None:
            return [], fail(f"`dloss_dw` did not return numbers with {describe(case)}.")
        if out.size != w.size:
            if x.size in out.shape and x.size > 1:
                return [], fail("`dloss_dw` returned per-sample values.", PER_SAMPLE)
            return [], fail(
                f"`dloss_dw` should return one gradient per weight, shape ({w.size},), "
                f"with {describe(case)}; it returned shape {out.shape}."
            )
        if _side_effect(case, result):
            return [], fail("`dloss_dw` is not a pure computation.", SIDE_EFFECT)
        student.append(out.reshape(w.size))
    return student, None


def _non_finite(cases: list[dict[str, Any]], student: list[np.ndarray], expected: list[np.ndarray]) -> Verdict:
    """Explain nan or inf in the gradients: a division by a zero weight, a negative weight, or where it is."""
    bad = [~np.isfinite(s) for s in student]
    broken = [bool(np.any(b)) for b in bad]
    where = where_wrong(cases, broken)
    zeros = [_w(c) == 0 for c in cases]
    if any(np.any(z) for z in zeros) and all(np.array_equal(b, z) for b, z in zip(bad, zeros)):
        # nan exactly at the zero weights' own entries, in every case: 0/0, whatever else is wrong.
        rest = all(close(s[~b], e[~b]) for s, e, b in zip(student, expected, bad))
        also = "" if rest else " Its other entries are not all right either: compare them with finite differences."
        return fail(f"`dloss_dw` is not a number at the entries of the zero weights {where}.{also}", ZERO_DIVISION)
    negative = [bool(np.any(_w(c) < 0)) for c in cases]
    if any(negative) and not all(negative) and broken == negative:
        return fail(f"`dloss_dw` is not a number {where}.", NAN_NEGATIVE)
    first = broken.index(True)
    return fail(
        f"`dloss_dw` is not a number (nan or inf) {where}. For example with {describe(cases[first])}, "
        f"{which_entries(_w(cases[first]), bad[first])} nan or inf: {np.round(student[first], 4).tolist()}."
    )


def _slope_check(student: np.ndarray, expected: np.ndarray) -> str:
    """What finite differences of the loss (the right gradient) say about the student's gradient."""
    norm_s, norm_e = float(np.linalg.norm(student)), float(np.linalg.norm(expected))
    if norm_s == 0 or norm_e < 1e-9:
        return ""
    cosine = float(student @ expected) / (norm_s * norm_e)
    if cosine < 0:
        return "A small step against your gradient would raise the loss there, not lower it. "
    if cosine < 0.99:
        return "Your gradient does not point where the loss rises fastest there. "
    return ""


def _judge_gradients(request: dict[str, Any], payload: dict[str, Any] | None, hint: str, praise: str) -> Verdict:
    """The gradient judges' shared path: collect, compare, then name a mistake or say where and how much."""
    problem = structural_problem(request, payload, "dloss_dw", describe)
    if problem:
        return problem
    cases = request["cases"]
    student, verdict = _gradients(cases, payload["results"])  # type: ignore[index]
    if verdict:
        return verdict
    points = [(_w(c), *_args(c)) for c in cases]
    expected = [ref.gradients(w, x, y) for w, x, y in points]
    right = [close(s, e) for s, e in zip(student, expected)]
    if all(right):
        return Verdict(1.0, f"`dloss_dw` is {praise} ({len(cases)} test cases).")
    if not all(np.all(np.isfinite(s)) for s in student):
        return _non_finite(cases, student, expected)
    where = where_wrong(cases, [not ok for ok in right])
    found = match_gradient(points, student, expected)
    if found:
        return fail(f"`dloss_dw` is wrong {where}.", *found)
    if all(close(s, e, PRECISION_RTOL) for s, e in zip(student, expected)):
        return fail(f"`dloss_dw` is only approximately right: off in the later digits {where}.", LOST_PRECISION)
    first = _first_example(cases, right)
    s, e = student[first], expected[first]
    bad = ~np.isclose(s, e, rtol=RTOL, atol=RTOL * (1 + float(np.max(np.abs(e)))))
    return fail(
        f"`dloss_dw` is wrong {where}. For example with {describe(cases[first])}, "
        f"{which_entries(_w(cases[first]), bad)} off, and the gradient as a whole is {how_far_off(s, e)}. "
        f"{_slope_check(s, e)}{hint}"
    )


def judge_dloss_dw(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``dloss_dw`` at depths 1 to 20 with non-zero weights."""
    return _judge_gradients(
        request,
        payload,
        "Compare with finite differences of your loss (check_gradient_numerically).",
        "right at depths 1 to 20, negative weights included",
    )


def judge_zero_weight(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge ``dloss_dw`` where some weights are exactly 0."""
    return _judge_gradients(
        request,
        payload,
        "When w_k = 0, every gradient but the k-th contains w_k as a factor.",
        "right with zero weights (first, last, in the middle, two at once, depth 1)",
    )


# -- training ---------------------------------------------------------------------------------------


def _steps_say(case: dict[str, Any], path: np.ndarray, epoch: int, most: int = 12) -> str:
    """Name the gradient mistake the steps of a run reveal, from `epoch` on ("" when none is known).

    Each step ``path[i] -> path[i + 1]`` followed the student's gradient ``(path[i] - path[i + 1]) / lr`` at
    the weights ``path[i]`` their own run visited.
    """
    x, y = _args(case)
    lr = float(case["args"][2])
    points, implied = [], []
    with np.errstate(all="ignore"):
        for i in range(epoch, min(epoch + most, len(path) - 1)):
            g = (path[i] - path[i + 1]) / lr
            if not (np.all(np.isfinite(path[i])) and np.all(np.isfinite(g)) and np.max(np.abs(path[i])) < 1e6):
                break
            points.append((path[i], x, y))
            implied.append(g)
    if not points:
        return ""
    # A step is rounded to the weights' precision: match to a looser tolerance than the gradient test's.
    found = match_gradient(points, implied, rtol=1e-5)
    return f" Judging by the steps your run took: {' and '.join(m.title for m in found)}." if found else ""


def _fault(case: dict[str, Any], loss: np.ndarray, weights: np.ndarray) -> str:
    """Which method is at fault: each epoch is checked at the weights the student's own run started it from."""
    w, (x, y) = _w(case), _args(case)
    lr = float(case["args"][2])
    path = np.vstack([w, weights])
    if len(loss) == 0:
        return "It stopped before its first update: the fault is in dloss_dw (or forward, if it uses it)."
    with np.errstate(all="ignore"):
        for epoch in range(len(loss)):
            start = path[epoch]
            loss_ok = bool(np.isclose(loss[epoch], ref.loss(y, ref.forward(start, x)), rtol=TRAIN_RTOL, atol=1e-12))
            step = start - lr * ref.gradients(start, x, y)
            step_ok = bool(np.allclose(path[epoch + 1], step, rtol=TRAIN_RTOL, atol=1e-12))
            if not (loss_ok and step_ok):
                break
        else:
            return (
                "Every epoch is consistent with the weights it started from, but the run is not the reference's: "
                "is `train` unchanged, and does it start from the given weights?"
            )
    subject = "The very first loss" if epoch == 0 else f"The loss of epoch {epoch}"
    kept = (
        "" if epoch == 0 else " The epochs before it are right: does a method keep something from one call to the next?"
    )
    if not loss_ok and step_ok:
        return f"{subject} is wrong but its update is right: the fault is in forward or loss.{kept}"
    if not loss_ok:
        return (
            f"{subject} and its update are both wrong: look at forward first, and check that nothing but "
            f"`train` changes the weights.{kept}"
        )
    named = _steps_say(case, path, epoch)
    unless = "" if named else ", unless a method other than train changes self.w (they only compute)"
    return f"{subject} is right but its update is not: the fault is in dloss_dw{unless}.{named}{kept}"


def _how_far_run(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> str:
    """How far the end of a run is from the reference's, in words."""
    if not (np.all(np.isfinite(loss)) and np.all(np.isfinite(weights))):
        return "it stops being a number (nan or inf) on the way"
    gap = float(np.linalg.norm(weights[-1] - ref_weights[-1])) / float(np.linalg.norm(ref_weights[-1]))
    ratio = float(loss[-1]) / float(ref_loss[-1]) if ref_loss[-1] > 0 else float("inf")
    end_weights = "its weights end right" if gap < 1e-6 else f"its weights end off by {100 * gap:.3g}% of their size"
    end_loss = f"its loss {ratio:.4g} times the reference's" if abs(ratio - 1) >= 1e-3 else "its loss close to it"
    return f"{end_weights}, {end_loss}"


def judge_train(request: dict[str, Any], payload: dict[str, Any] | None) -> Verdict:
    """Judge whole training runs (loss and weight records) against the reference run."""
    problem = structural_problem(request, payload, "train", describe)
    if problem:
        return problem
    first: dict[str, Any] | None = None
    for case, result in zip(request["cases"], payload["results"]):  # type: ignore[index]
        w, (x, y) = _w(case), _args(case)
        lr, n_ep = case["args"][2], case["args"][3]
        ref_loss, ref_weights = ref.train(w, x, y, lr, n_ep)
        out = result.get("out", {})
        items = out.get("items", []) if isinstance(out, dict) and out.get("length") == 2 else []
        loss, weights = (values(items[0]), values(items[1])) if items else (None, None)
        if loss is None or weights is None:
            return fail("`train` did not return (loss_records, weight_records) as numbers.")
        if _stopped_early(loss, weights, ref_loss, ref_weights):
            verdict = fail(
                f"Training with {describe(case)}, learning rate {lr}: your run stopped at epoch {len(loss)} of "
                f"{len(ref_loss)} (a gradient that is not finite: it diverged), the reference's did not. "
                + _fault(case, loss, weights)
            )
            verdict.curves = _curves(loss, weights, ref_loss, ref_weights)
            return verdict
        if loss.shape != ref_loss.shape or weights.shape != ref_weights.shape:
            return fail(
                f"Training with {describe(case)}, learning rate {lr}: the records have shapes {loss.shape} "
                f"and {weights.shape}, expected {ref_loss.shape} and {ref_weights.shape}. "
                "Does the run stop early (a gradient that is not finite)? Is `train` still as given?"
            )
        ok_loss = mistakes.close(loss, ref_loss, TRAIN_RTOL, 1e-3 + float(np.max(ref_loss)))
        ok_w = mistakes.close(weights, ref_weights, TRAIN_RTOL, 1 + float(np.max(np.abs(ref_weights))))
        if not (ok_loss and ok_w):
            with np.errstate(all="ignore"):
                bad_loss = ~np.isclose(loss, ref_loss, rtol=TRAIN_RTOL, atol=1e-12)
                bad_w = ~np.all(np.isclose(weights, ref_weights, rtol=TRAIN_RTOL, atol=1e-12), axis=1)
            bad = np.flatnonzero(bad_loss | bad_w)
            epoch = int(bad[0]) if bad.size else 0
            verdict = fail(
                f"Training with {describe(case)}, learning rate {lr}: the "
                f"{'loss curve' if not ok_loss else 'weight trajectory'} departs from the reference at epoch "
                f"{epoch} ({_how_far_run(loss, weights, ref_loss, ref_weights)}). " + _fault(case, loss, weights)
            )
            verdict.curves = _curves(loss, weights, ref_loss, ref_weights)  # the run that went wrong
            return verdict
        first = first or _curves(loss, weights, ref_loss, ref_weights)
    return Verdict(
        1.0,
        f"The loss curves and weight trajectories of {len(request['cases'])} training runs match the reference.",
        curves=first,
    )


def _stopped_early(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> bool:
    """The given `train` stopped at a gradient that is not finite, before the reference's run ends."""
    return (
        loss.ndim == 1 and weights.ndim == 2 and len(loss) == len(weights) < len(ref_loss)
        and weights.shape[1] == ref_weights.shape[1]
    )  # fmt: skip


def _curves(loss: np.ndarray, weights: np.ndarray, ref_loss: np.ndarray, ref_weights: np.ndarray) -> dict[str, Any]:
    """A run's records, for the feedback plot (:mod:`.plot`)."""
    return {"loss": loss.tolist(), "weights": weights.tolist(), "ref_loss": ref_loss.tolist(),
            "ref_weights": ref_weights.tolist()}  # fmt: skip
